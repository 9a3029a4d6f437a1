/**
 * The run-directory contract (src/io/run-dir.ts):
 * 1. the history columns of every shape (adaptive mode × Rowdy/Kronecker × reference,
 *    terms named like laaf's own columns) read back from the header as they were written;
 * 2. every column `solve` writes (a few short in-process runs) is the contract's, every
 *    measured column is accepted by a sweep `--threshold`, and `plot` draws each of them
 *    (each column gets its own values, found again in the plot specs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  COLUMN_KINDS, columnRises, historyColumns, isHistoryName, measureColumns, readHistoryColumns, RUN_FILES, type HistoryShape,
} from '../src/io/run-dir.js';
import { historyShape, solve, checkSpec } from '../src/run/solve.js';
import { planSweep } from '../src/sweep/sweep.js';
import { readRun } from '../src/plot/read.js';
import { runPlotSpecs } from '../src/plot/run-plots.js';
import { repoRoot, tempDir } from './helpers.js';

const MODES = ['none', 'global', 'layer', 'neuron'] as const;
const ACTIVATIONS = ['plain', 'rowdy', 'kronecker'] as const;

test('history columns: every shape reads back from its header as written (terms told by position, even named like columns)', () => {
  const termSets = [[], ['pde'], ['pde', 'walls', 'initial'], ['na_1x', 'rel_l2x', 'loss2', 'kron_1_ampx', 'step_', 'na_0_mean_']];
  let shapes = 0;
  for (const adaptive of MODES) {
    for (const activation of ACTIVATIONS) {
      for (const terms of termSets) {
        for (const errorOutputs of [undefined, ['u'], ['u', 'v', 'p']]) {
          for (const layers of [1, 3]) {
            const shape: HistoryShape = { terms, adaptive, layers, activation, ...(errorOutputs ? { errorOutputs } : {}) };
            const cols = historyColumns(shape);
            const names = cols.map((c) => c.name);
            assert.equal(new Set(names).size, names.length, `unique names: ${names.join(',')}`);
            assert.deepEqual(readHistoryColumns(names), cols, JSON.stringify(shape));
            assert.ok(cols.every((c) => c.kind !== 'other'));
            shapes++;
          }
        }
      }
    }
  }
  assert.equal(shapes, 4 * 3 * 4 * 3 * 2);
  // The bookkeeping columns are the only ones neither drawn nor usable as thresholds.
  const all = historyColumns({ terms: ['pde'], adaptive: 'neuron', layers: 2, activation: 'kronecker', errorOutputs: ['u', 'v'] });
  assert.deepEqual(all.filter((c) => !COLUMN_KINDS[c.kind].measure).map((c) => c.name), ['step', 'phase', 'elapsed_s', 'lr']);
  assert.ok(all.every((c) => COLUMN_KINDS[c.kind].measure === (COLUMN_KINDS[c.kind].panel !== null)));
  assert.deepEqual(readHistoryColumns(['step', 'loss', 'slope_recovery', 'mystery']).at(-1), { name: 'mystery', kind: 'other' });
  // Thresholds read a rising column (test accuracy) at or above, every other one at or below.
  assert.ok(columnRises('test_accuracy'));
  for (const name of ['loss', 'rel_l2', 'test_loss', 'objective', 'na_1', 'mystery']) assert.ok(!columnRises(name), name);
  // A term may not take a column's name (solve would write two columns of that name): the spec is refused.
  for (const name of ['loss', 'rel_l2', 'na', 'na_1', 'na_2_max', 'rowdy_1_amp', 'kron_3_lead', 'rel_l2_u', 'step', 'slope_recovery']) assert.ok(isHistoryName(name), name);
  for (const name of ['pde', 'walls', 'na_1x', 'loss2', 'rel_l2x']) assert.ok(!isHistoryName(name), name);
});

test('a loss term named like a history column is a spec error at its key (exit 2 material), not a duplicate column', () => {
  const dir = tempDir();
  const file = join(dir, 'clash.yaml');
  writeFileSync(file, 'name: clash\ninputs: { x: [0, 1] }\noutputs: [u]\nequations:\n  rel_l2: u_xx = 0\nconditions:\n  ends: { on: boundary, require: u = 0 }\n');
  assert.throws(() => checkSpec(file), (e: Error & { where?: { line?: number; col?: number } }) => {
    assert.match(e.message, /'rel_l2' is the name of one of laaf's history.csv columns/);
    assert.deepEqual([e.where?.line, e.where?.col], [5, 3]);
    return true;
  });
});

/** Short runs whose history.csv has every kind of column between them. */
const RUNS: { name: string; spec: string; set: string[] }[] = [
  { name: 'layer', spec: 'poisson-1d.yaml', set: ['model.adaptive.mode=layer'] },
  { name: 'neuron-rowdy', spec: 'poisson-1d.yaml', set: ['model.adaptive.mode=neuron', 'model.rowdy={K: 3, family: sin}'] },
  { name: 'global-kronecker', spec: 'poisson-1d.yaml', set: ['model.adaptive.mode=global', 'model.kronecker={functions: [tanh, sin]}'] },
  { name: 'three-outputs', spec: 'kovasznay.yaml', set: ['model.adaptive.mode=layer'] },
];
const SMALL = ['model.hidden=[5,5]', 'sampling.interior=40', 'training.log_every=1'];

test('every column solve writes is the contract\'s, is accepted by --threshold, and is drawn by plot', async () => {
  const dir = tempDir();
  for (const r of RUNS) {
    const specFile = join(repoRoot(), 'problems', r.spec);
    const set = [...r.set, ...SMALL];
    const out = join(dir, r.name);
    await solve({ specFile, set, out, maxSteps: 2, backend: 'cpu' });
    const header = readFileSync(join(out, RUN_FILES.history), 'utf8').split('\n')[0]!.split(',');
    const { loaded, problem } = checkSpec(specFile, set);
    const cols = historyColumns(historyShape(loaded.spec, problem));
    assert.deepEqual(header, cols.map((c) => c.name), `${r.name}: history.csv header`);
    const measures = measureColumns(cols);

    // --threshold: the sweep plan accepts every measured column of these runs.
    const plan = planSweep(specFile, { set, threshold: measures.map((c) => `${c}=1e-3`) });
    assert.deepEqual(Object.keys(plan.thresholds), measures, r.name);

    // plot: give each measured column values of its own (positive, distinct), and find them in the specs.
    const rows = [0, 1, 2].map((step) => cols.map((c, k) => {
      if (c.kind === 'step') return step;
      if (c.kind === 'phase') return 'adam';
      return COLUMN_KINDS[c.kind].measure ? 0.5 + k / 64 + step / 8192 : 0.25;
    }));
    writeFileSync(join(out, RUN_FILES.history), `${[header.join(','), ...rows.map((row) => row.join(','))].join('\n')}\n`);
    const specs = JSON.stringify(runPlotSpecs(readRun(out)));
    for (const [k, c] of cols.entries()) {
      if (!COLUMN_KINDS[c.kind].measure) continue;
      for (const step of [0, 1, 2]) {
        const v = 0.5 + k / 64 + step / 8192;
        assert.ok(specs.includes(`:${v}`), `${r.name}: column ${c.name} (${c.kind}) is not drawn (value ${v} not in the plot specs)`);
      }
    }
  }
});
