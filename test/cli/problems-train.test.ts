/**
 * Every problem in the library with equations trains: a CI-sized run through the CLI
 * (small net, few points, a couple of hundred Adam steps) must lower the loss and the
 * relative L2 error against the problem's reference. Full-budget numbers are in RESULTS.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSpec } from '../../src/spec/load.js';
import { isTrainSpecFile } from '../../src/spec/train-file.js';
import { csvColumn as column, laaf, repoRoot, tempDir } from '../helpers.js';

const PROBLEMS = join(repoRoot(), 'problems');

/** The final `summary.json` of a run, as far as these checks read it. */
interface Summary { final: { parameters?: Record<string, { value: number }> } }

/**
 * problem -> steps, learning rate, the required ratio final/initial rel-L2, extra overrides,
 * and an extra check of the run's summary. Runs are seeded and deterministic on one backend;
 * the ratios leave a margin of about 1.5x over what was measured when they were set (the
 * last four, set 2026-11-30: burgers 0.35, burgers-inverse 0.72, sine-gordon-inverse 0.037,
 * varying-coefficient 0.41).
 */
interface Case { steps: number; lr: number; ratio: number; sets?: string[]; check?: (s: Summary) => void }
const CASES: Record<string, Case> = {
  'klein-gordon': { steps: 150, lr: 0.005, ratio: 0.5 },
  helmholtz: { steps: 300, lr: 0.003, ratio: 0.7 },
  'poisson-1d': { steps: 300, lr: 0.005, ratio: 0.8, sets: ['model.hidden=[30,30,30]'] },
  'poisson-2d': { steps: 150, lr: 0.005, ratio: 0.8 },
  heat: { steps: 150, lr: 0.005, ratio: 0.5 },
  wave: { steps: 300, lr: 0.005, ratio: 0.6 },
  'allen-cahn': { steps: 200, lr: 0.005, ratio: 0.8 },
  'diffusion-reaction': { steps: 150, lr: 0.005, ratio: 0.5 },
  schrodinger: { steps: 150, lr: 0.005, ratio: 0.9 },
  kovasznay: { steps: 250, lr: 0.005, ratio: 0.85 },
  convection: { steps: 150, lr: 0.005, ratio: 0.9 },
  burgers: { steps: 150, lr: 0.005, ratio: 0.6 },
  // At this size nu is not recovered (it drifts from 0.02 upwards); the fit of u is what is checked.
  'burgers-inverse': { steps: 150, lr: 0.005, ratio: 0.9, sets: ['data.obs.points=256'] },
  'sine-gordon-inverse': {
    steps: 150, lr: 0.005, ratio: 0.1, sets: ['data.obs.points=128'],
    // Only lambda1 + lambda2 - lambda3 is identifiable (problems/sine-gordon-inverse.yaml): it starts
    // at 0.5 (every lambda at 0.5) and must end nearer its true value 1 than half that distance (1.103 measured).
    check: (s) => {
      const p = s.final.parameters!;
      const off = Math.abs(p['lambda1']!.value + p['lambda2']!.value - p['lambda3']!.value - 1);
      assert.ok(off < 0.25, `lambda1 + lambda2 - lambda3 = ${1 + off} or ${1 - off}: not nearer 1`);
    },
  },
  'varying-coefficient': { steps: 150, lr: 0.005, ratio: 0.6 },
};

/** `--set` overrides that shrink a problem to a few seconds. */
function small(problem: string, { steps, lr, sets: extra = [] }: Case): string[] {
  const { spec } = loadSpec(join(PROBLEMS, `${problem}.yaml`));
  const sets = [
    'model.hidden=[20,20]',
    'sampling.interior=256',
    `training.adam.steps=${steps}`,
    `training.adam.lr=${lr}`,
    'training.lbfgs.max_iterations=0',
    `training.log_every=${steps}`,
    `output.grid={${Object.keys(spec.inputs).map((i) => `${i}: 21`).join(', ')}}`,
  ];
  for (const [name, c] of Object.entries(spec.conditions)) {
    if (c.on !== undefined || c.periodic !== undefined) sets.push(`conditions.${name}.points=${Math.min(c.points ?? 64, 64)}`);
  }
  return [...sets, ...extra].flatMap((s) => ['--set', s]);
}

test('every problem in problems/ with equations has a training case here, and no case is for anything else', () => {
  const withEquations = readdirSync(PROBLEMS)
    .filter((f) => f.endsWith('.yaml') && !isTrainSpecFile(join(PROBLEMS, f))) // data-set specs (laaf train) have no equations
    .map((f) => f.slice(0, -'.yaml'.length))
    .filter((name) => Object.keys(loadSpec(join(PROBLEMS, `${name}.yaml`)).spec.equations).length > 0)
    .sort();
  assert.deepEqual(Object.keys(CASES).sort(), withEquations);
});

for (const [problem, c] of Object.entries(CASES)) {
  const { steps, ratio } = c;
  test(`${problem}: a short run lowers the error`, () => {
    const dir = tempDir();
    const r = laaf(['solve', join(PROBLEMS, `${problem}.yaml`), '--out', 'run', '--quiet', ...small(problem, c)], dir);
    assert.equal(r.code, 0, r.stderr);
    const hist = join(dir, 'run', 'history.csv');
    const err = column(hist, 'rel_l2');
    const loss = column(hist, 'loss');
    assert.deepEqual(column(hist, 'step'), [0, steps]);
    assert.ok(err.every(Number.isFinite) && loss.every(Number.isFinite), `finite: ${err} ${loss}`);
    assert.ok(loss[1]! < loss[0]!, `loss ${loss[0]} -> ${loss[1]}`);
    assert.ok(err[1]! < ratio * err[0]!, `rel-L2 ${err[0]} -> ${err[1]} (needs < ${ratio} x)`);
    const summary = JSON.parse(readFileSync(join(dir, 'run', 'summary.json'), 'utf8'));
    assert.equal(summary.status, 'completed');
    c.check?.(summary as Summary);
  });
}
