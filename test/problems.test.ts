/**
 * The problem library is checked against its own exact solutions: for every problem in
 * problems/ with `reference: { exact: ... }`, the exact solution is substituted for the
 * network and every equation, condition (faces, points, periodic pairs) and generated data
 * target is evaluated at the term's own sample points through the SAME compiled expressions
 * the trainer uses. Derivatives of the exact solution come from forward-mode Taylor jets
 * over float64 numbers (src/jet/expr-ops.ts, itself checked against finite differences in
 * expr-jets.test.ts), so the residuals are exact up to rounding: a typo in an equation, a
 * boundary value, a constant or the reference fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isTrainSpecFile } from '../src/run/train.js';
import { isSweepFile } from '../src/sweep/define.js';
import { join } from 'node:path';
import { loadSpec, parseSpec } from '../src/spec/load.js';
import type { Spec } from '../src/spec/schema.js';
import { buildProblem, samplePoints, type Problem, type Term } from '../src/problem/build.js';
import { compileExpr, numberOps, type Compiled, type DerivRef } from '../src/expr/index.js';
import { makePlan } from '../src/jet/plan.js';
import { jetOps } from '../src/jet/expr-ops.js';
import { Rng } from '../src/domain/rng.js';
import { laaf, repoRoot } from './helpers.js';

const PROBLEMS = join(repoRoot(), 'problems');
const PAPER = join(repoRoot(), 'configs', 'paper');

/** Specs in `dir` that carry an exact solution. */
function exactSpecs(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && !isTrainSpecFile(join(dir, f)) && !isSweepFile(join(dir, f))) // data-set specs (laaf train) have no equations; sweep files are not specs
    .filter((f) => {
      const { spec } = loadSpec(join(dir, f));
      return spec.reference !== undefined && 'exact' in spec.reference;
    })
    .sort();
}

export interface TermCheck {
  term: string;
  /** max |residual| over the term's points */
  maxResidual: number;
  /** max |value| of every output derivative the term reads, at those points (a scale) */
  scale: number;
  points: number;
}

/**
 * Substitute the exact solution of `spec` for the network and evaluate every term at its
 * sample points (the trainer's sampler, seeded). Parameters take their true values.
 */
export function checkExact(spec: Spec, baseDir = PROBLEMS): TermCheck[] {
  const problem = buildProblem(spec, { baseDir });
  const ref = spec.reference;
  if (!ref || !('exact' in ref)) throw new Error(`${spec.name}: no exact reference`);
  const symbols: Record<string, number> = { ...problem.constants };
  for (const p of problem.parameters) {
    if (p.trueValue === undefined) throw new Error(`${spec.name}: parameter ${p.name} has no true_value`);
    symbols[p.name] = p.trueValue;
  }
  const table = { inputs: problem.inputs, outputs: problem.outputs, constants: Object.keys(problem.constants), allowOutputs: false };
  const exact: Compiled[] = problem.outputs.map((o) =>
    compileExpr(typeof ref.exact === 'string' ? ref.exact : ref.exact[o]!, table));
  const d = problem.inputs.length;
  const plan = makePlan(d, problem.derivs.map((r) => r.channel).filter((c) => c.length > 0));
  const ops = jetOps(plan, numberOps);

  /** every output's jet at one point */
  const jetsAt = (X: Float64Array, i: number) =>
    exact.map((c) => c.evaluate(ops, {
      input: (j) => ops.input(j, X[i * d + j]!),
      symbol: (s) => ops.constant(symbols[s]!),
      deriv: () => { throw new Error('an exact solution cannot use outputs'); },
    }));
  const evalAt = (c: Compiled, X: Float64Array, i: number, jets: ReturnType<typeof jetsAt>) => {
    let scale = 0;
    const value = c.evaluate(numberOps, {
      input: (j) => X[i * d + j]!,
      symbol: (s) => symbols[s]!,
      deriv: (r: DerivRef) => {
        const v = jets[r.output]![plan.index(r.channel)] ?? 0;
        scale = Math.max(scale, Math.abs(v));
        return v;
      },
    });
    return { value, scale };
  };

  const points = samplePoints(problem, new Rng(spec.training.seed));
  return problem.terms.map((t: Term) => {
    const X = points.get(t.name)!;
    const n = X.length / d;
    let maxResidual = 0;
    let scale = 0;
    const note = (r: number, s: number) => {
      maxResidual = Math.max(maxResidual, Number.isNaN(r) ? Infinity : Math.abs(r));
      scale = Math.max(scale, s);
    };
    if (t.kind === 'periodic') {
      for (let i = 0; i < n / 2; i++) {
        const lo = jetsAt(X, i);
        const hi = jetsAt(X, i + n / 2);
        for (const m of t.match) {
          const a = evalAt(m, X, i, lo);
          const b = evalAt(m, X, i + n / 2, hi);
          note(a.value - b.value, Math.max(a.scale, b.scale));
        }
      }
    } else if (t.kind === 'data') {
      for (let i = 0; i < n; i++) {
        const jets = jetsAt(X, i);
        t.outputs.forEach((o, k) => note(t.targets[k]![i]! - jets[o]![0]!, Math.abs(jets[o]![0]!)));
      }
    } else {
      for (let i = 0; i < n; i++) {
        const { value, scale: s } = evalAt(t.residual, X, i, jetsAt(X, i));
        note(value, s);
      }
    }
    return { term: t.name, maxResidual, scale, points: n };
  });
}

/** Relative tolerance on |residual| / max(1, scale): float64 rounding, with headroom. */
const TOL = 1e-9;

function failures(checks: TermCheck[]): string[] {
  return checks
    .filter((c) => !(c.maxResidual <= TOL * Math.max(1, c.scale)))
    .map((c) => `${c.term}: max |residual| ${c.maxResidual.toExponential(3)} (scale ${c.scale.toExponential(2)}, ${c.points} points)`);
}

const files = exactSpecs(PROBLEMS);

test('the library has the problems issue 4 asks for, each with an about line and header comment', () => {
  const all = readdirSync(PROBLEMS).filter((f) => f.endsWith('.yaml'));
  for (const name of ['burgers', 'klein-gordon', 'helmholtz', 'poisson-1d', 'poisson-2d', 'heat', 'wave',
    'allen-cahn', 'diffusion-reaction', 'schrodinger', 'kovasznay', 'convection']) {
    assert.ok(all.includes(`${name}.yaml`), `problems/${name}.yaml`);
  }
  for (const f of all) {
    const text = readFileSync(join(PROBLEMS, f), 'utf8');
    assert.ok(text.startsWith('#'), `${f} starts with a header comment`);
    assert.ok(/^about: \S/m.test(text), `${f} has an about: line`);
  }
  // Something to verify: every one of these carries an exact solution.
  for (const name of ['klein-gordon', 'helmholtz', 'poisson-1d', 'poisson-2d', 'heat', 'wave', 'diffusion-reaction',
    'schrodinger', 'kovasznay', 'convection']) {
    assert.ok(files.includes(`${name}.yaml`), `${name} has reference: { exact: ... }`);
  }
});

test('laaf validate accepts every spec in problems/ and configs/paper/; laaf problems lists them all', () => {
  // Sweep files (configs/paper/fashion-mnist.yaml) are checked by laaf sweep --plan, not validate; data-set specs
  // read their data, so they are validated where Debian's dataset-fashion-mnist is installed (CI installs it).
  const haveData = existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz');
  const specs = [
    ...readdirSync(PROBLEMS).filter((f) => f.endsWith('.yaml')).map((f) => join('problems', f)),
    ...readdirSync(PAPER).filter((f) => f.endsWith('.yaml')).map((f) => join('configs', 'paper', f)),
  ].filter((f) => !isSweepFile(join(repoRoot(), f)) && (haveData || !isTrainSpecFile(join(repoRoot(), f))));
  const v = laaf(['validate', ...specs], repoRoot());
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout.trim().split('\n').filter((l) => l.startsWith('ok ')).length, specs.length, v.stdout);
  const p = laaf(['problems'], repoRoot());
  assert.equal(p.code, 0, p.stderr);
  for (const f of readdirSync(PROBLEMS).filter((g) => g.endsWith('.yaml'))) {
    const line = p.stdout.split('\n').find((l) => l.startsWith(join('problems', f) + ' '));
    assert.ok(line && line.slice(join('problems', f).length).trim().length > 10, `laaf problems shows ${f} with its about line`);
  }
});

for (const f of files) {
  test(`${f}: the exact solution satisfies every equation and condition`, () => {
    const { spec } = loadSpec(join(PROBLEMS, f));
    const checks = checkExact(spec);
    assert.ok(checks.length > 0);
    assert.ok(checks.every((c) => c.points > 0), 'every term has points');
    assert.deepEqual(failures(checks), []);
  });
}

for (const f of exactSpecs(PAPER)) {
  test(`configs/paper/${f}: the exact solution satisfies every equation and condition`, () => {
    const { spec } = loadSpec(join(PAPER, f));
    assert.deepEqual(failures(checkExact(spec, PAPER)), []);
  });
}

// The check must be able to fail: each mutation below is a plausible typo.
const MUTATIONS: [file: string, set: string, broken: string][] = [
  ['klein-gordon.yaml', 'equations.klein_gordon=u_tt - u_xx + u^2 = -x*cos(t) + x^2*cos(t)', 'klein_gordon'],
  ['klein-gordon.yaml', 'conditions.velocity.require=u_x = 0', 'velocity'],
  ['helmholtz.yaml', 'equations.helmholtz=u_xx + u_yy + k^2*u = 2*pi*sin(pi*(x + y)) + (k^2 - 2*pi)*(x + y)*sin(pi*x)*sin(pi*y)', 'helmholtz'],
  ['helmholtz.yaml', 'reference.exact=(x - y)*sin(pi*x)*sin(pi*y)', 'helmholtz'],
  ['poisson-1d.yaml', 'conditions.right.require=u_x + u = 1 + 3*pi', 'right'],
  ['poisson-2d.yaml', 'conditions.top.require=u_y = 2*y', 'top'],
  ['heat.yaml', 'reference.exact=exp(-pi^2*kappa*t)*sin(pi*x) + 0.5*exp(-2*pi^2*kappa*t)*sin(2*pi*x)', 'heat'],
  ['wave.yaml', 'conditions.initial.require=u = sin(pi*x) + 0.5*sin(3*pi*x)', 'initial'],
  ['diffusion-reaction.yaml', 'constants.b=r*5/7', 'fisher'],
  ['schrodinger.yaml', 'equations.imag=u_t + 0.5*v_xx + (u^2 - v^2)*v = 0', 'imag'],
  ['kovasznay.yaml', 'conditions.pressure.require=p = (1 - exp(lam*x))/2', 'pressure'],
  ['kovasznay.yaml', 'equations.momentum_y=u*v_x + v*v_y + p_x = (v_xx + v_yy)/Re', 'momentum_y'],
  ['convection.yaml', 'conditions.periodic.match=[u_t]', ''],
];

test('a typo in a spec fails the exact-solution check (the check can fail)', () => {
  for (const [f, set, broken] of MUTATIONS) {
    const { spec } = loadSpec(join(PROBLEMS, f), { set: [set] });
    const bad = failures(checkExact(spec));
    if (broken) assert.ok(bad.some((b) => b.startsWith(`${broken}:`)), `${f} --set ${set}: expected ${broken} to fail, got ${JSON.stringify(bad)}`);
    else assert.deepEqual(bad, [], `${f} --set ${set} stays consistent`);
  }
});

test('a periodic match that the exact solution violates is caught', () => {
  const { spec } = parseSpec(`name: p
inputs: { x: [0, 1], t: [0, 1] }
outputs: [u]
equations: { e: u_t + u_x = 0 }
conditions: { per: { periodic: x, match: [u, u_x] } }
reference: { exact: sin(2*pi*(x - t)) + x }
`, 'inline.yaml');
  const bad = failures(checkExact(spec));
  assert.ok(bad.some((b) => b.startsWith('per:')), JSON.stringify(bad));
});

test('sine-Gordon inverse: the exact solution fits every lambda with lambda1 + lambda2 - lambda3 = 1, so only that sum is identifiable', () => {
  // u = 4 atan(exp(z)), z = x + y - 3, has sin(u) = u_zz = u_xx = u_yy, and lambda4 s = u_zz:
  // the residual is (1 - lambda1 - lambda2 + lambda3) u_zz. Data cannot tell these apart.
  const at = (l1: number, l2: number, l3: number) => {
    const set = [`parameters.lambda1.true_value=${l1}`, `parameters.lambda2.true_value=${l2}`, `parameters.lambda3.true_value=${l3}`];
    return failures(checkExact(loadSpec(join(PROBLEMS, 'sine-gordon-inverse.yaml'), { set }).spec));
  };
  assert.deepEqual(at(1, 1, 1), []);
  assert.deepEqual(at(0.5, 1, 0.5), []);
  assert.deepEqual(at(2 / 3, 2 / 3, 1 / 3), [], 'the point nearest the start (0.5, 0.5, 0.5) on that plane');
  assert.ok(at(1, 1, 0.5).some((b) => b.startsWith('sine_gordon:')), 'off the plane the residual is not zero');
});
