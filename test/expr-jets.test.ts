/**
 * Expressions on jets (src/jet/expr-ops.ts) against float64 central finite differences:
 * every channel up to order 4 in two inputs, for every whitelisted function.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileExpr, numberOps, type Compiled } from '../src/expr/index.js';
import { makePlan } from '../src/jet/plan.js';
import { jetOps } from '../src/jet/expr-ops.js';
import { fdDerivative } from './helpers.js';

const TABLE = { inputs: ['x', 't'], outputs: [], constants: ['c'], allowOutputs: false };
const C = 0.7;

function value(c: Compiled, x: number, t: number): number {
  return c.evaluate(numberOps, { input: (i) => (i === 0 ? x : t), symbol: () => C, deriv: () => NaN });
}

/** ∂^(a+b)/∂x^a ∂t^b by Richardson-extrapolated central differences (float64, helpers/fd.ts). */
function deriv(f: (x: number, t: number) => number, x: number, t: number, a: number, b: number): number {
  const channel = [...Array<number>(a).fill(0), ...Array<number>(b).fill(1)];
  return fdDerivative(([u, v]) => [f(u!, v!)], [x, t], channel, [1, 1])[0]!;
}

const EXPRESSIONS = [
  'sin(2*x)*cos(t) + x^3*t',
  'exp(-x*t) / (1 + x^2)',
  'log(2 + x + t^2) * sqrt(3 + x*t)',
  'tanh(1.5*x - t) + sinh(x)*cosh(t)',
  'tan(0.5*x) + atan(x*t + 0.3)',
  'abs(x + 2) * (1 + t)^2.5',
  '(x + 2)^-2 * c + (x + t)^4',
  'x > 0 ? t*sin(x) : x^2',
  't*(1 - x^2)*exp(x) - sin(pi*x)',
];

test('jetOps over numbers matches finite differences up to order 4', () => {
  const requested = [[0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 1], [0, 1, 1, 1], [1, 1, 1, 1]];
  const plan = makePlan(2, requested);
  const ops = jetOps(plan, numberOps);
  const points = [[0.31, 0.42], [0.77, -0.2], [1.3, 0.9]];
  for (const text of EXPRESSIONS) {
    const c = compileExpr(text, TABLE);
    for (const [x, t] of points) {
      const jet = c.evaluate(ops, { input: (i) => ops.input(i, i === 0 ? x! : t!), symbol: () => ops.constant(C), deriv: () => ops.constant(NaN) });
      plan.channels.forEach((ch, k) => {
        const a = ch.filter((i) => i === 0).length;
        const b = ch.length - a;
        const want = deriv((u, v) => value(c, u, v), x!, t!, a, b);
        const got = jet[k] ?? 0;
        const tol = (ch.length <= 2 ? 1e-6 : 2e-4) * Math.max(1, Math.abs(want));
        assert.ok(Math.abs(got - want) <= tol, `${text} at (${x}, ${t}), channel [${ch.join(',')}]: jet ${got}, FD ${want}`);
      });
    }
  }
});

test('constants stay constant: no derivative channels are created', () => {
  const plan = makePlan(2, [[0, 1]]);
  const ops = jetOps(plan, numberOps);
  const c = compileExpr('c*2 + sin(c)', TABLE);
  const jet = c.evaluate(ops, { input: (i) => ops.input(i, 0), symbol: () => ops.constant(C), deriv: () => ops.constant(0) });
  assert.ok(Math.abs(jet[0]! - (2 * C + Math.sin(C))) < 1e-15);
  assert.ok(jet.slice(1).every((v) => v === null));
});
