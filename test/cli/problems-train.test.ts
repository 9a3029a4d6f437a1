/**
 * Every problem in the library trains: a CI-sized run through the CLI (small net, few
 * points, a couple of hundred Adam steps) must lower the relative L2 error against the
 * problem's reference. Full-budget numbers are in RESULTS.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSpec } from '../../src/spec/load.js';
import { csvColumn as column, laaf, repoRoot, tempDir } from '../helpers.js';

const PROBLEMS = join(repoRoot(), 'problems');

/**
 * problem -> steps, learning rate, the required ratio final/initial rel-L2, extra overrides.
 * Runs are seeded and deterministic on one backend; the ratios leave a margin of about 1.5x
 * over what was measured when they were set.
 */
interface Case { steps: number; lr: number; ratio: number; sets?: string[] }
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

test('every problem in the library with equations has a training case here', () => {
  const mine = ['klein-gordon', 'helmholtz', 'poisson-1d', 'poisson-2d', 'heat', 'wave', 'allen-cahn',
    'diffusion-reaction', 'schrodinger', 'kovasznay', 'convection'];
  assert.deepEqual(Object.keys(CASES).sort(), mine.sort());
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
  });
}
