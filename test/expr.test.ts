/** The expression room: parsing, whitelist, derivative names, numbers vs tensors, gradients. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as math from 'mathjs';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import {
  ExprError,
  compileEquation,
  compileExpr,
  derivKey,
  derivName,
  evalConstant,
  numberOps,
  parseDerivativeName,
  splitEquation,
  type DerivRef,
  type Env,
  type Ops,
  type SymbolTable,
} from '../src/expr/index.js';
import { tensorOps } from '../src/expr/tensor-ops.js';
import { parse as bundledParse } from '../src/bundled/mathjs-parse.js';
import { repoRoot } from './helpers.js';
import '../src/backend/gradients.js';

await tf.setBackend('cpu');

// ---------------------------------------------------------------------------------------------
// helpers

const TABLE: SymbolTable = {
  inputs: ['x', 't'],
  outputs: ['u'],
  constants: ['nu', 'k'],
  parameters: ['lam'],
};

interface Point {
  x: number;
  t: number;
  /** values of output derivatives by derivKey */
  d: Record<string, number>;
}

const CONSTS: Record<string, number> = { nu: 0.01 / Math.PI, k: 3, lam: 1.5 };

function numberEnv(p: Point): Env<number> {
  return {
    input: (i) => (i === 0 ? p.x : p.t),
    symbol: (name) => {
      const v = CONSTS[name];
      if (v === undefined) throw new Error(`no constant ${name}`);
      return v;
    },
    deriv: (ref) => {
      const v = p.d[derivKey(ref)];
      if (v === undefined) throw new Error(`no deriv ${derivKey(ref)}`);
      return v;
    },
  };
}

const U = '0|';
const UX = '0|0';
const UT = '0|1';
const UXX = '0|0,0';
const UXT = '0|0,1';

function randomPoint(rand: () => number): Point {
  const f = (lo: number, hi: number): number => Math.fround(lo + (hi - lo) * rand());
  return {
    x: f(-1.5, 1.5),
    t: f(-1.5, 1.5),
    d: { [U]: f(-2, 2), [UX]: f(-2, 2), [UT]: f(-2, 2), [UXX]: f(-2, 2), [UXT]: f(-2, 2) },
  };
}

/** Small deterministic generator (mulberry32) so failures reproduce. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function close(actual: number, expected: number, rtol: number, atol: number, what: string): void {
  if (Number.isNaN(expected)) {
    assert.ok(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`);
    return;
  }
  assert.ok(
    Math.abs(actual - expected) <= atol + rtol * Math.abs(expected),
    `${what}: got ${actual}, expected ${expected}`,
  );
}

function throwsExpr(fn: () => unknown, offset: number | null, message?: RegExp): ExprError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ExprError, `expected ExprError, got ${String(e)}`);
    if (offset !== null) assert.equal(e.offset, offset, `offset for "${e.message}"`);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail('expected an ExprError');
}

/** Wraps numberOps and records what the compiled code asked for. */
function recordingOps(): { ops: Ops<number>; calls: string[]; constants: number[] } {
  const calls: string[] = [];
  const constants: number[] = [];
  const ops = { ...numberOps } as Ops<number>;
  for (const key of Object.keys(numberOps) as (keyof Ops<number>)[]) {
    const original = numberOps[key] as (...args: unknown[]) => number;
    (ops as unknown as Record<string, unknown>)[key] = (...args: unknown[]) => {
      calls.push(key === 'powInt' ? `powInt(${String(args[1])})` : key);
      if (key === 'constant') constants.push(args[0] as number);
      return original(...args);
    };
  }
  return { ops, calls, constants };
}

// Expressions with their meaning in plain JS Math.
const CASES: [string, (p: Point) => number][] = [
  ['x + t*2 - 3/x', (p) => p.x + p.t * 2 - 3 / p.x],
  ['-x^2', (p) => -(p.x * p.x)],
  ['x^3 + (-x)^3 + t^0', (p) => p.x ** 3 + (-p.x) ** 3 + 1],
  ['x^-2', (p) => 1 / (p.x * p.x)],
  ['abs(x)^0.5 + abs(t)^1.5', (p) => Math.abs(p.x) ** 0.5 + Math.abs(p.t) ** 1.5],
  ['abs(x)^t', (p) => Math.abs(p.x) ** p.t],
  ['sin(x)*cos(t) + tan(x/4)', (p) => Math.sin(p.x) * Math.cos(p.t) + Math.tan(p.x / 4)],
  ['exp(-x^2) + log(1 + x^2) + sqrt(abs(t))', (p) => Math.exp(-p.x * p.x) + Math.log(1 + p.x * p.x) + Math.sqrt(Math.abs(p.t))],
  ['tanh(x) + sinh(t) - cosh(x) + atan(x*t)', (p) => Math.tanh(p.x) + Math.sinh(p.t) - Math.cosh(p.x) + Math.atan(p.x * p.t)],
  ['2x + 3 pi t + e', (p) => 2 * p.x + 3 * Math.PI * p.t + Math.E],
  ['(x < t) + 2*(x <= t) + 4*(x > t) + 8*(x >= t)', (p) => +(p.x < p.t) + 2 * +(p.x <= p.t) + 4 * +(p.x > p.t) + 8 * +(p.x >= p.t)],
  ['(x == x) + 2*(x != t) + 4*(x == t)', (p) => 1 + 2 * +(p.x !== p.t) + 4 * +(p.x === p.t)],
  ['x > 0 and t > 0', (p) => +(p.x > 0 && p.t > 0)],
  ['x > 0 or t > 0', (p) => +(p.x > 0 || p.t > 0)],
  ['not (x > 0)', (p) => +!(p.x > 0)],
  ['-1/2 < x < 1/2', (p) => +(-0.5 < p.x && p.x < 0.5)],
  ['x <= 0 ? 0.2*sin(6*x) : 1 + 0.1*x*cos(18*x)', (p) => (p.x <= 0 ? 0.2 * Math.sin(6 * p.x) : 1 + 0.1 * p.x * Math.cos(18 * p.x))],
  ['x > 0 and not (t > 0) ? x : t', (p) => (p.x > 0 && !(p.t > 0) ? p.x : p.t)],
  ['u_t + u*u_x - nu*u_xx', (p) => p.d[UT]! + p.d[U]! * p.d[UX]! - CONSTS.nu! * p.d[UXX]!],
  ['lam*u_tx + k*u^2 + +x', (p) => CONSTS.lam! * p.d[UXT]! + CONSTS.k! * p.d[U]! ** 2 + p.x],
  ['D(u, x, x) - u_xx + D(u, t, x)', (p) => p.d[UXT]!],
];

// ---------------------------------------------------------------------------------------------

describe('numeric evaluation with numberOps', () => {
  test('arithmetic, functions, powers, comparisons, logic and conditionals match JS Math', () => {
    const rand = mulberry32(7);
    for (const [text, expected] of CASES) {
      const compiled = compileExpr(text, TABLE);
      for (let i = 0; i < 50; i++) {
        const p = randomPoint(rand);
        close(compiled.evaluate(numberOps, numberEnv(p)), expected(p), 1e-12, 1e-12, `${text} at x=${p.x}, t=${p.t}`);
      }
    }
  });

  test('comparisons at equality and the branch boundary', () => {
    const at = (text: string, x: number, t: number): number =>
      compileExpr(text, TABLE).evaluate(numberOps, numberEnv({ x, t, d: {} }));
    assert.equal(at('x <= t', 1, 1), 1);
    assert.equal(at('x < t', 1, 1), 0);
    assert.equal(at('x >= t', 1, 1), 1);
    assert.equal(at('x == t', 1, 1), 1);
    assert.equal(at('x != t', 1, 1), 0);
    assert.equal(at('x <= 0 ? 5 : 7', 0, 0), 5);
    assert.equal(at('x ? 5 : 7', 0, 0), 7);
    assert.equal(at('x ? 5 : 7', 0.25, 0), 5);
    assert.equal(at('not x', 0, 0), 1);
    assert.equal(at('x and t', 2, 0), 0);
    assert.equal(at('x or t', 2, 0), 1);
  });

  test('metadata: derivs deduplicated in first-use order, inputs and symbols used', () => {
    const c = compileEquation('u_t + u*u_x = nu*u_xx + u_x*lam + u_tx', TABLE);
    assert.deepEqual(c.derivs, [
      { output: 0, channel: [1] },
      { output: 0, channel: [] },
      { output: 0, channel: [0] },
      { output: 0, channel: [0, 0] },
      { output: 0, channel: [0, 1] },
    ]);
    assert.deepEqual(c.inputsUsed, []);
    assert.deepEqual(c.symbolsUsed, ['nu', 'lam']);
    const d = compileExpr('t*sin(pi*x) + D(u, x)', TABLE);
    assert.deepEqual(d.inputsUsed, [0, 1]);
    assert.deepEqual(d.derivs, [{ output: 0, channel: [0] }]);
  });

  test('symbol precedence: inputs, then derivative names, then constants, then pi and e', () => {
    const table: SymbolTable = { inputs: ['e'], outputs: ['u'], constants: ['pi', 'u_0'] };
    const c = compileExpr('e + pi + u_0', table);
    assert.deepEqual(c.inputsUsed, [0]);
    assert.deepEqual(c.symbolsUsed, ['pi', 'u_0']);
    const v = c.evaluate(numberOps, {
      input: () => 10,
      symbol: (n) => (n === 'pi' ? 100 : 1000),
      deriv: () => assert.fail('no derivs here'),
    });
    assert.equal(v, 1110);
  });
});

describe('tensorOps', () => {
  test('results equal numberOps elementwise on random inputs (float32 tolerance)', () => {
    const rand = mulberry32(11);
    const n = 257;
    const points = Array.from({ length: n }, () => randomPoint(rand));
    const column = (f: (p: Point) => number): tf.Tensor => tf.tensor2d(points.map(f), [n, 1]);
    for (const [text] of CASES) {
      const compiled = compileExpr(text, TABLE);
      const got = tf.tidy(() => {
        const out = compiled.evaluate(tensorOps, {
          input: (i) => column((p) => (i === 0 ? p.x : p.t)),
          symbol: (name) => tf.scalar(CONSTS[name]!),
          deriv: (ref) => column((p) => p.d[derivKey(ref)]!),
        });
        return tf.broadcastTo(out, [n, 1]).dataSync();
      });
      points.forEach((p, i) => {
        close(got[i]!, compiled.evaluate(numberOps, numberEnv(p)), 2e-5, 2e-5, `${text} at x=${p.x}, t=${p.t}`);
      });
    }
  });

  test('a folded constant evaluates to a scalar tensor', () => {
    const c = compileExpr('0.01/pi', { inputs: [], outputs: [], constants: [] });
    const v = tf.tidy(() => {
      const r = c.evaluate(tensorOps, { input: () => assert.fail(), symbol: () => assert.fail(), deriv: () => assert.fail() });
      assert.deepEqual(r.shape, []);
      return r.dataSync()[0]!;
    });
    close(v, 0.01 / Math.PI, 1e-6, 0, '0.01/pi');
  });

  test('powInt: integer powers by multiplication, exact for negative bases, k = 0 and k < 0', () => {
    const a = tf.tensor1d([-2, -0.5, 0.75, 3]);
    for (const k of [0, 1, 2, 3, 5, 8, -1, -3]) {
      const got = tf.tidy(() => tensorOps.powInt(a, k).dataSync());
      [-2, -0.5, 0.75, 3].forEach((v, i) => close(got[i]!, v ** k, 1e-6, 1e-7, `${v}^${k}`));
    }
    a.dispose();
  });

  test('tf.grad through a compiled residual: Burgers with a tf.variable feeding the derivatives', async () => {
    const n = 16;
    const rand = mulberry32(3);
    const w0 = Array.from({ length: n }, () => Math.fround(rand() * 2 - 1));
    const w = tf.variable(tf.tensor1d(w0));
    const residual = compileEquation('u_t + u*u_x = nu*u_xx', TABLE);
    // u = w, u_x = 2w, u_t = w^2, u_xx = sin(w)
    const build = (v: tf.Tensor): Record<string, tf.Tensor> => ({
      [U]: v,
      [UX]: tf.mul(tf.scalar(2), v),
      [UT]: tf.square(v),
      [UXX]: tf.sin(v),
    });
    const g = tf.tidy(() =>
      tf
        .grad((v: tf.Tensor) => {
          const d = build(v);
          const r = residual.evaluate(tensorOps, {
            input: () => assert.fail('no inputs read'),
            symbol: (name) => tf.scalar(CONSTS[name]!),
            deriv: (ref) => d[derivKey(ref)]!,
          });
          return tf.mean(tf.square(r));
        })(w)
        .dataSync(),
    );
    const nu = CONSTS.nu!;
    w0.forEach((v, i) => {
      const r = v * v + v * 2 * v - nu * Math.sin(v);
      const dr = 2 * v + 4 * v - nu * Math.cos(v);
      close(g[i]!, (2 * r * dr) / n, 1e-4, 1e-6, `d loss / d w[${i}]`);
    });
    w.dispose();
  });

  test('tf.grad through conditionals, comparisons, logic, powInt and fractional powers matches float64 finite differences', async () => {
    const text = 'x > 0 and not (u < -0.5) ? u^3 - u^-2 + abs(u)^1.5 : sqrt(u^2 + 1) * (u >= t) + tanh(u)';
    const compiled = compileExpr(text, TABLE);
    const xs = [-0.7, 0.3, 0.9, -0.2, 0.5, 0.4];
    const ts = [0.1, -0.3, 0.2, 0.6, -0.8, 0.0];
    const us = [0.8, -0.9, 1.3, -0.4, 0.6, -0.3];
    const f64 = (i: number, u: number): number =>
      compiled.evaluate(numberOps, numberEnv({ x: xs[i]!, t: ts[i]!, d: { [U]: u } }));
    const g = tf.tidy(() => {
      const x = tf.tensor1d(xs);
      const t = tf.tensor1d(ts);
      return tf
        .grad((u: tf.Tensor) =>
          tf.sum(
            compiled.evaluate(tensorOps, {
              input: (i) => (i === 0 ? x : t),
              symbol: () => assert.fail('no constants'),
              deriv: () => u,
            }),
          ),
        )(tf.tensor1d(us))
        .dataSync();
    });
    const h = 1e-6;
    us.forEach((u, i) => {
      const fd = (f64(i, u + h) - f64(i, u - h)) / (2 * h);
      close(g[i]!, fd, 1e-4, 1e-5, `gradient at point ${i}`);
    });
  });

  test('gradient of u^3 at a negative base is 3u^2 (powInt, not tf.pow)', async () => {
    const c = compileExpr('u^3', TABLE);
    const g = tf.tidy(() =>
      tf.grad((u: tf.Tensor) => tf.sum(c.evaluate(tensorOps, { input: () => u, symbol: () => u, deriv: () => u })))(
        tf.tensor1d([-2, -1, 0.5]),
      ).dataSync(),
    );
    assert.deepEqual(Array.from(g), [12, 3, 0.75]);
  });
});

describe('derivative names', () => {
  const io = { inputs: ['x', 't'], outputs: ['u', 'v'] };
  const parse = (name: string): DerivRef | null => parseDerivativeName(name, io.inputs, io.outputs);

  test('u, u_x, u_xx, u_xt == u_tx, other outputs', () => {
    assert.deepEqual(parse('u'), { output: 0, channel: [] });
    assert.deepEqual(parse('u_x'), { output: 0, channel: [0] });
    assert.deepEqual(parse('u_xx'), { output: 0, channel: [0, 0] });
    assert.deepEqual(parse('u_xt'), { output: 0, channel: [0, 1] });
    assert.deepEqual(parse('u_tx'), { output: 0, channel: [0, 1] });
    assert.deepEqual(parse('v_ttx'), { output: 1, channel: [0, 1, 1] });
    assert.deepEqual(parse('u_x_t'), { output: 0, channel: [0, 1] });
  });

  test('names that are not derivatives give null', () => {
    assert.equal(parse('w'), null);
    assert.equal(parse('nu'), null);
    assert.equal(parse('ux'), null);
    assert.equal(parse('x'), null);
  });

  test('multi-letter input names, with or without underscores', () => {
    const ins = ['x1', 'x2', 'time'];
    const p = (name: string): DerivRef | null => parseDerivativeName(name, ins, ['u']);
    assert.deepEqual(p('u_x1'), { output: 0, channel: [0] });
    assert.deepEqual(p('u_x1_x2'), { output: 0, channel: [0, 1] });
    assert.deepEqual(p('u_x2_x1'), { output: 0, channel: [0, 1] });
    assert.deepEqual(p('u_x2x1'), { output: 0, channel: [0, 1] });
    assert.deepEqual(p('u_timex1x1'), { output: 0, channel: [0, 0, 2] });
    assert.equal(derivName({ output: 0, channel: [2, 0, 0] }, ins, ['u']), 'u_x1_x1_time');
    assert.equal(derivName({ output: 0, channel: [1, 0] }, ['x', 't'], ['u']), 'u_xt');
    assert.equal(derivName({ output: 0, channel: [] }, ['x', 't'], ['u']), 'u');
    const e = throwsExpr(() => p('u_x1x3'), 0, /unknown input 'x3' in derivative u_x1x3 \(inputs: x1, x2, time\)/);
    assert.ok(e.hint);
  });

  test('round trip: derivName then parseDerivativeName', () => {
    for (const ins of [['x', 't'], ['x1', 'x2'], ['r', 'theta', 'z']]) {
      for (const channel of [[], [0], [1], [0, 1], [1, 1], [0, 0, 1]]) {
        const ref = { output: 0, channel };
        assert.deepEqual(parseDerivativeName(derivName(ref, ins, ['u']), ins, ['u']), ref);
      }
    }
  });

  test('derivKey is stable', () => {
    assert.equal(derivKey({ output: 0, channel: [0, 1] }), '0|0,1');
    assert.equal(derivKey({ output: 2, channel: [] }), '2|');
  });

  test('unknown input in a derivative name', () => {
    const e = throwsExpr(() => parse('u_z'), 0, /^unknown input 'z' in derivative u_z \(inputs: x, t\)$/);
    assert.match(e.hint ?? '', /u_xx/);
    throwsExpr(() => parse('u_xz'), 0, /unknown input 'z'/);
  });

  test('ambiguous segmentation is an error', () => {
    throwsExpr(() => parseDerivativeName('u_xxx', ['x', 'xx'], ['u']), 0, /ambiguous derivative u_xxx/);
    const e = throwsExpr(() => parseDerivativeName('u_ab', ['a', 'b', 'ab'], ['u']), 0, /ambiguous/);
    assert.match(e.hint ?? '', /underscore/);
    // underscores resolve it
    assert.deepEqual(parseDerivativeName('u_a_b', ['a', 'b', 'ab'], ['u']), { output: 0, channel: [0, 1] });
    throwsExpr(() => parseDerivativeName('u_ab_a', ['a', 'b', 'ab'], ['u']), 0, /ambiguous/);
  });

  test('D(u, x, x) means u_xx; D(u_x, t) means u_xt', () => {
    assert.deepEqual(compileExpr('D(u, x, x)', TABLE).derivs, [{ output: 0, channel: [0, 0] }]);
    assert.deepEqual(compileExpr('D(u, t, x) + u_xt', TABLE).derivs, [{ output: 0, channel: [0, 1] }]);
    assert.deepEqual(compileExpr('D(u_x, t)', TABLE).derivs, [{ output: 0, channel: [0, 1] }]);
  });

  test('D errors point at the offending argument', () => {
    throwsExpr(() => compileExpr('u + D(u, x, z)', TABLE), 12, /'z' is not an input \(inputs: x, t\)/);
    throwsExpr(() => compileExpr('x + D(u)', TABLE), 4, /D needs an output and at least one input/);
    throwsExpr(() => compileExpr('D(x, x)', TABLE), 2, /'x' is not an output/);
    throwsExpr(() => compileExpr('D(u, 2*x)', TABLE), 0, /input names only/);
  });

  test('derivative names inside expressions: unknown input errors carry the offset of the name', () => {
    throwsExpr(() => compileExpr('u_z + x', TABLE), 0, /^unknown input 'z' in derivative u_z \(inputs: x, t\)$/);
    throwsExpr(() => compileExpr('t*u_xz', TABLE), 2, /unknown input 'z' in derivative u_xz/);
  });
});

describe('equations', () => {
  test('splitEquation splits at a single top-level =', () => {
    assert.deepEqual(splitEquation('u_t + u*u_x = nu*u_xx'), {
      lhs: 'u_t + u*u_x',
      rhs: 'nu*u_xx',
      lhsOffset: 0,
      rhsOffset: 14,
      eqOffset: 12,
    });
    const s = splitEquation('  u =   -sin(pi*x)')!;
    assert.equal(s.lhs, 'u');
    assert.equal(s.rhs, '-sin(pi*x)');
    assert.equal(s.rhsOffset, 8);
    assert.equal(splitEquation('t = 0')!.rhs, '0');
  });

  test('==, <=, >=, != are not equation signs', () => {
    for (const text of ['x == 0', 'x <= 0', 'x >= 0', 'x != 0', 'x <= 0 ? 1 : 2', 'u_t + u']) {
      assert.equal(splitEquation(text), null, text);
    }
    assert.equal(splitEquation('u = x <= 0 ? 1 : 2')!.rhs, 'x <= 0 ? 1 : 2');
    assert.equal(splitEquation('u = x == 0 ? 1 : 2')!.lhs, 'u');
  });

  test('residual = lhs - rhs; without = the text is the residual', () => {
    const p: Point = { x: 0.3, t: 0.7, d: { [U]: 0.5, [UX]: -1.25, [UT]: 2, [UXX]: 4 } };
    const eq = compileEquation('u_t + u*u_x = nu*u_xx', TABLE);
    assert.equal(eq.lhsText, 'u_t + u*u_x');
    assert.equal(eq.rhsText, 'nu*u_xx');
    close(eq.evaluate(numberOps, numberEnv(p)), 2 + 0.5 * -1.25 - CONSTS.nu! * 4, 1e-15, 0, 'residual');
    const plain = compileEquation('u_t + u*u_x - nu*u_xx', TABLE);
    assert.equal(plain.rhsText, '0');
    close(plain.evaluate(numberOps, numberEnv(p)), eq.evaluate(numberOps, numberEnv(p)), 1e-15, 0, 'no =');
    const ic = compileEquation('u = -sin(pi*x)', TABLE);
    close(ic.evaluate(numberOps, numberEnv(p)), 0.5 + Math.sin(Math.PI * 0.3), 1e-15, 0, 'initial condition');
    const face = compileEquation('t = 0', { ...TABLE, allowOutputs: false });
    assert.equal(face.evaluate(numberOps, numberEnv({ ...p, t: 0.25 })), 0.25);
    assert.deepEqual(face.inputsUsed, [1]);
  });

  test('error offsets inside the right-hand side are relative to the whole text', () => {
    throwsExpr(() => compileEquation('u_t = nuu*u_xx', TABLE), 6, /unknown symbol 'nuu'/);
    throwsExpr(() => compileEquation('u_t + u*u_x = nu*u_xz', TABLE), 17, /unknown input 'z'/);
    throwsExpr(() => compileEquation('u_t = (nu*u_xx', TABLE), 14, /syntax error/);
    throwsExpr(() => compileEquation('  y = u', TABLE), 2, /unknown symbol 'y'/);
  });

  test('malformed equations', () => {
    throwsExpr(() => compileEquation('u = 0 = 1', TABLE), 6, /exactly one '='/);
    throwsExpr(() => compileEquation(' = 1', TABLE), 1, /nothing left/);
    throwsExpr(() => compileEquation('u = ', TABLE), 2, /nothing right/);
    throwsExpr(() => compileEquation('a = 1; b = 2', TABLE), 5, /only one expression/);
  });
});

describe('constant folding', () => {
  const none: SymbolTable = { inputs: [], outputs: [], constants: [] };
  const failingEnv: Env<number> = {
    input: () => assert.fail('input read'),
    symbol: () => assert.fail('symbol read'),
    deriv: () => assert.fail('deriv read'),
  };

  test('0.01/pi, 2^3, functions of numbers fold to one constant', () => {
    for (const [text, value] of [
      ['0.01/pi', 0.01 / Math.PI],
      ['2^3', 8],
      ['-2^-1', -0.5],
      ['sin(pi/6) + e', Math.sin(Math.PI / 6) + Math.E],
      ['1 < 2 ? 3 : 4', 3],
    ] as const) {
      const c = compileExpr(text, none);
      assert.equal(c.constantValue, value, text);
      const rec = recordingOps();
      assert.equal(c.evaluate(rec.ops, failingEnv), value, text);
      assert.deepEqual(rec.calls, ['constant'], text);
    }
  });

  test('constant subtrees inside larger expressions fold', () => {
    const c = compileExpr('x*(2^3 + pi) - 0.01/pi*t', TABLE);
    assert.equal(c.constantValue, undefined);
    const rec = recordingOps();
    c.evaluate(rec.ops, numberEnv({ x: 1, t: 1, d: {} }));
    assert.deepEqual(rec.constants, [8 + Math.PI, 0.01 / Math.PI]);
    assert.deepEqual(rec.calls, ['constant', 'mul', 'constant', 'mul', 'sub']);
  });

  test('integer exponents (literal or folded) use powInt, others pow', () => {
    const calls = (text: string): string[] => {
      const rec = recordingOps();
      compileExpr(text, TABLE).evaluate(rec.ops, numberEnv({ x: 0.5, t: 2, d: {} }));
      return rec.calls.filter((c) => c.startsWith('pow'));
    };
    assert.deepEqual(calls('x^2'), ['powInt(2)']);
    assert.deepEqual(calls('(2*x)^(1+2)'), ['powInt(3)']);
    assert.deepEqual(calls('x^-1'), ['powInt(-1)']);
    assert.deepEqual(calls('x^(4/2)'), ['powInt(2)']);
    assert.deepEqual(calls('x^2.5'), ['pow']);
    assert.deepEqual(calls('x^t'), ['pow']);
    assert.deepEqual(calls('x^k'), ['pow']); // a named constant is not known at compile time
  });

  test('evalConstant with named values', () => {
    assert.equal(evalConstant('0.01/pi', {}), 0.01 / Math.PI);
    assert.equal(evalConstant('2*a + b^2', { a: 1.5, b: 3 }), 12);
    assert.equal(evalConstant('sqrt(c) * e', { c: 4 }), 2 * Math.E);
    throwsExpr(() => evalConstant('2*x', {}), 2, /unknown symbol 'x'/);
    throwsExpr(() => evalConstant('constructor', {}), 0, /unknown symbol 'constructor'/);
    throwsExpr(() => evalConstant('1 +', {}), 3, /syntax error/);
  });
});

describe('rejected constructs', () => {
  // [text, offset of the offending token, message]
  const cases: [string, number, RegExp][] = [
    ['u_t + u*u_x - nuu*u_xx', 14, /unknown symbol 'nuu'/],
    ['nu*nuu + x', 3, /unknown symbol 'nuu'/],
    ['sin(x) + sin', 9, /unknown symbol 'sin'/],
    ['x + nu + x*y', 11, /unknown symbol 'y'/],
    ['"abc"', 0, /string/],
    ["x + 'abc'", 4, /string/],
    ['x + 5 cm', 6, /unknown symbol 'cm'/],
    ['x + a.b', 5, /property access/],
    ['x + a["b"]', 5, /property access/],
    ['x.constructor', 1, /property access/],
    ['[1,2][1]', 0, /property access|arrays/],
    ['x*[1,2]', 2, /arrays/],
    ['{a: 1}', 0, /objects/],
    ['x = 1', 2, /'=' is not allowed/],
    ['f(x) = x', 0, /defining functions/],
    ['a = 1; b = 2', 5, /only one expression/],
    ['x\nt', 1, /only one expression/],
    ['x + 1:3', 5, /ranges/],
    ['import({}, {override:true})', 0, /^function 'import' is not allowed$/],
    ['x + evaluate("1+1")', 4, /function 'evaluate' is not allowed/],
    ['createUnit("foo")', 0, /function 'createUnit' is not allowed/],
    ['parse("x")', 0, /function 'parse' is not allowed/],
    ['eval("x")', 0, /function 'eval' is not allowed/],
    ['t + Function("return 1")', 4, /function 'Function' is not allowed/],
    ['cos.constructor("return process")()', 34, /syntax error/],
    ['sin(x, t)', 0, /sin takes exactly one argument, got 2/],
    ['x + exp()', 4, /exp takes exactly one argument, got 0/],
    ['x(1 - x)', 0, /'x' is not a function/],
    ['x % 2', 2, /operator '%'/],
    ['x mod 2', 2, /operator 'mod'/],
    ['x!', 1, /operator '!'/],
    ['x .* t', 2, /operator '\.\*'/],
    ['true', 0, /'true' is not allowed/],
    ['x + (t', 6, /syntax error/],
    ['1 +* 2', 3, /syntax error/],
    ['   ', 0, /empty expression/],
  ];

  for (const [text, offset, message] of cases) {
    test(`${JSON.stringify(text)} -> offset ${offset}`, () => {
      const e = throwsExpr(() => compileExpr(text, TABLE), offset, message);
      assert.ok(e.hint && e.hint.length > 0, 'has a hint');
    });
  }

  test('did-you-mean hints', () => {
    assert.match(throwsExpr(() => compileExpr('u_t - nuu*u_xx', TABLE), 6).hint ?? '', /did you mean 'nu'/);
    assert.match(throwsExpr(() => compileExpr('Sin(x)', TABLE), 0).hint ?? '', /did you mean 'sin'/);
    assert.match(throwsExpr(() => compileExpr('x + sinn(t)', TABLE), 4).hint ?? '', /'sin'/);
    const far = throwsExpr(() => compileExpr('x + zzzzz', TABLE), 4).hint ?? '';
    assert.doesNotMatch(far, /did you mean/);
    assert.match(far, /inputs x, t/);
  });

  test('outputs are rejected where they are not allowed', () => {
    const table = { ...TABLE, allowOutputs: false };
    throwsExpr(() => compileExpr('x + u', table), 4, /^cannot use the unknown u here$/);
    throwsExpr(() => compileExpr('2*u_x', table), 2, /cannot use the unknown u_x here/);
    throwsExpr(() => compileExpr('t + D(u, x)', table), 6, /cannot use the unknown u here/);
    // but everything else still works
    assert.equal(compileExpr('x + nu', table).evaluate(numberOps, numberEnv({ x: 1, t: 0, d: {} })), 1 + CONSTS.nu!);
  });

  test('a name that looks like a derivative but is a constant is the constant', () => {
    const c = compileExpr('u_max*u', { inputs: ['x'], outputs: ['u'], constants: ['u_max'] });
    assert.deepEqual(c.symbolsUsed, ['u_max']);
    assert.deepEqual(c.derivs, [{ output: 0, channel: [] }]);
  });
});

describe('injection attempts', () => {
  const attempts = [
    'import({}, {override:true})',
    'import({sin: 1}, {override: true})',
    'evaluate("1+1")',
    'createUnit("laafinjectedunit")',
    'x.constructor',
    'cos.constructor("return process")()',
    'sin.constructor("return process")',
    '[1,2][1]',
    'f(x) = x',
    '"abc"',
    'a = 1; b = 2',
    'x = import({}, {override:true})',
    'u = evaluate("u")',
    'process.exit(1)',
    'globalThis.x = 1',
    'x["constructor"]["constructor"]("return 1")',
  ];

  test('all rejected with ExprError, by compileExpr and compileEquation, without executing anything', () => {
    const globalsBefore = Object.getOwnPropertyNames(globalThis).sort();
    for (const text of attempts) {
      assert.throws(() => compileExpr(text, TABLE), ExprError, text);
      assert.throws(() => compileEquation(text, TABLE), ExprError, text);
      assert.throws(() => evalConstant(text, { x: 1 }), ExprError, text);
    }
    assert.deepEqual(Object.getOwnPropertyNames(globalThis).sort(), globalsBefore);
    // mathjs' default instance is untouched: no unit was created, sin was not overridden
    assert.equal(math.Unit.isValuelessUnit('laafinjectedunit'), false);
    assert.equal(math.sin(0), 0);
    assert.equal(compileExpr('sin(0.5)', TABLE).constantValue, Math.sin(0.5));
  });
});

describe('the bundled parser (src/bundled/mathjs-parse.ts, from mathjs/number)', () => {
  // Every expression text of the shipped specs, the texts above, and constructs the parser must treat alike.
  const specTexts = (): string[] => {
    const out: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') out.push(...v.split('=').map((s) => s.trim()).filter((s) => s.length > 0));
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    for (const dir of [join(repoRoot(), 'problems'), join(repoRoot(), 'configs', 'paper')]) {
      for (const f of readdirSync(dir).filter((g) => g.endsWith('.yaml'))) {
        const doc = YAML.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;
        for (const key of ['constants', 'equations', 'conditions', 'data', 'reference', 'parameters']) walk(doc[key]);
      }
    }
    return out;
  };
  const texts = [
    'u_t + u*u_x - nu*u_xx', 'x <= 0 ? 0.2*sin(6*x) : 1 + 0.1*x*cos(18*x)', '2x + 3 y', '1e-3*x^2^3', '-x^2',
    'a < b and not (c >= d or e != f)', 'x == 1 ? 1 : x > 2 ? 2 : 3', '0.5*pi^2*sin(pi*x)', '1.5e400', '.5', 'x % 2',
    'mod(x, 2)', '3!', 'x\'', 'x to cm', '2 cm', '[1, 2]', '{a: 1}', 'f(x) = x', 'a = 1; b = 2', '"abc"', 'x[1]',
    'D(u, x)', '1:3', 'x ? y', 'sin(', '(x + 1', 'x +', '2 +* 3', '', '#', 'a.b.c', 'e', 'i', 'Infinity', 'NaN',
    ...specTexts(),
  ];
  test('gives the trees and the syntax errors of mathjs itself', () => {
    assert.ok(texts.length > 60, `${texts.length} texts`);
    for (const text of texts) {
      const outcome = (p: (t: string) => unknown) => {
        try {
          return JSON.stringify(p(text));
        } catch (e) {
          return `throws ${e instanceof Error ? e.message : String(e)} (char ${(e as { char?: unknown }).char})`;
        }
      };
      assert.equal(outcome(bundledParse), outcome(math.parse), text);
    }
  });
});
