/**
 * Sweeps, in process: planning (variants, zips, seeds, labels) and statistics.
 * End to end through the CLI: test/cli/sweep.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, tempDir } from './helpers.js';
import { loadSweepFile, applyFlags, sweepOfSpec } from '../src/sweep/define.js';
import { expandPlan, deriveSeed } from '../src/sweep/plan.js';
import { stats } from '../src/sweep/collect.js';

const BURGERS = join(repoRoot(), 'problems', 'burgers.yaml');

test('a sweep file expands into variants (grid blocks, zips, labels) × derived seeds, seed by seed', () => {
  const dir = tempDir();
  const f = join(dir, 's.yaml');
  writeFileSync(f, `spec: ${BURGERS}
set: { training.adam.steps: 10 }
grid:
  - model.adaptive.mode: [none]
  - model.adaptive.n: [1, 5, 10]
    zip:
      label: [GAAF, L-LAAF, N-LAAF]
      model.adaptive.mode: [global, layer, neuron]
      model.slope_recovery: [0, 1, 1]
seeds: 3
`);
  const plan = expandPlan(loadSweepFile(f));
  assert.equal(plan.name, 's');
  assert.equal(plan.variants.length, 1 + 3 * 3);
  assert.deepEqual(plan.variants.slice(0, 3).map((v) => v.label), ['mode=none', 'GAAF, n=1', 'L-LAAF, n=1']);
  assert.equal(plan.variants[9]!.label, 'N-LAAF, n=10');
  assert.deepEqual(plan.variants[9]!.overrides, ['model.adaptive.n=10', 'model.adaptive.mode=neuron', 'model.slope_recovery=1']);
  assert.equal(plan.runs.length, 30);
  // Seed-major order: all variants with seed 1, then seed 2, ...; the first seed is the spec's own.
  assert.deepEqual(plan.seeds, [1234, deriveSeed(1234, 2), deriveSeed(1234, 3)]);
  assert.equal(new Set(plan.seeds).size, 3);
  assert.deepEqual(plan.runs.slice(0, 10).map((r) => r.seedIndex), Array(10).fill(1));
  assert.equal(plan.runs[10]!.id, 'runs/mode-none/s2');
  assert.deepEqual(plan.runs[13]!.sets, ['training.adam.steps=10', 'model.adaptive.n=1', 'model.adaptive.mode=neuron', 'model.slope_recovery=1', `training.seed=${plan.seeds[1]}`]);
  assert.equal(new Set(plan.runs.map((r) => r.id)).size, 30, 'every run its own directory');
  assert.deepEqual(plan.paths, ['model.adaptive.mode', 'model.adaptive.n', 'model.slope_recovery']);

  // The same from flags on a plain spec: --grid is a product, all --zip flags one axis.
  const flags = applyFlags(sweepOfSpec(BURGERS, 'burgers'), {
    grid: ['model.adaptive.n=1,5', 'model.hidden=[4,4],[8,8]'], zip: ['model.adaptive.mode=layer,neuron', 'model.slope_recovery=0,1'], seeds: '7,8',
  });
  const p2 = expandPlan(flags);
  assert.equal(p2.name, 'burgers-sweep');
  assert.equal(p2.variants.length, 8);
  assert.deepEqual(p2.seeds, [7, 8]);
  assert.deepEqual(p2.variants[0]!.overrides, ['model.adaptive.n=1', 'model.hidden=[4,4]', 'model.adaptive.mode=layer', 'model.slope_recovery=0']);
});

test('statistics: mean, sample std (n − 1), min, max', () => {
  const s = stats([1, 2, 3, 6])!;
  assert.equal(s.mean, 3);
  assert.ok(Math.abs(s.std! - Math.sqrt(14 / 3)) < 1e-12);
  assert.equal(s.min, 1);
  assert.equal(s.max, 6);
  assert.equal(stats([2])!.std, undefined);
  assert.equal(stats([]), undefined);
});
