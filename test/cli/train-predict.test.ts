/**
 * `laaf predict`: a trained run evaluated on a grid and at points from a CSV file, with
 * derivatives through the jets; bad inputs are user errors (exit 2) that write nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { POISSON_1D, laaf, readCsv, tempDir } from '../helpers.js';
import { predictRun, parseGrid } from '../../src/run/predict.js';
import { UserError } from '../../src/spec/errors.js';


const dir = tempDir();
writeFileSync(join(dir, 'p.yaml'), `name: poisson
${POISSON_1D}reference: { exact: sin(pi*x) }
model: { hidden: [16, 16], adaptive: { mode: layer, n: 2 } }
sampling: { interior: 50 }
training: { adam: { lr: 0.01, steps: 150 }, lbfgs: { max_iterations: 150 }, log_every: 50 }
output: { grid: { x: 51 } }
`);
const trained = laaf(['solve', 'p.yaml', '--out', 'run', '--quiet'], dir);

test('predict on a grid: values equal solution.csv, derivatives match finite differences and the exact solution', async () => {
  assert.equal(trained.code, 0, trained.stderr);
  const r = await predictRun({ runDir: join(dir, 'run'), grid: 'x=51', derivatives: ['u_x', 'u_xx'], out: join(dir, 'grid.csv') });
  assert.deepEqual(r.columns, ['x', 'u', 'u_x', 'u_xx']);
  assert.equal(r.rows, 51);
  const pred = readCsv(join(dir, 'grid.csv'));
  const sol = readCsv(join(dir, 'run', 'solution.csv'));
  assert.deepEqual(pred.map((p) => [p['x'], p['u']]), sol.map((s) => [s['x'], s['u']]));

  const x = pred.map((p) => Number(p['x']));
  const u = pred.map((p) => Number(p['u']));
  const ux = pred.map((p) => Number(p['u_x']));
  const uxx = pred.map((p) => Number(p['u_xx']));
  const h = x[1]! - x[0]!;
  for (let i = 1; i < 50; i++) {
    // Central differences of the float32 network (h = 0.02): O(h²) ≈ 1e-3 relative to u_x ~ π.
    assert.ok(Math.abs((u[i + 1]! - u[i - 1]!) / (2 * h) - ux[i]!) < 0.02, `u_x at ${x[i]}`);
    assert.ok(Math.abs((ux[i + 1]! - ux[i - 1]!) / (2 * h) - uxx[i]!) < 0.3, `u_xx at ${x[i]}`);
  }
  // The model learned u = sin(πx): its derivatives are close to π cos(πx) and −π² sin(πx).
  for (let i = 0; i <= 50; i += 5) {
    assert.ok(Math.abs(ux[i]! - Math.PI * Math.cos(Math.PI * x[i]!)) < 0.1, `u_x(${x[i]}) = ${ux[i]}`);
    assert.ok(Math.abs(uxx[i]! + Math.PI ** 2 * Math.sin(Math.PI * x[i]!)) < 0.5, `u_xx(${x[i]}) = ${uxx[i]}`);
  }
});

test('predict at points from a CSV (other columns ignored), through the CLI', () => {
  assert.equal(trained.code, 0, trained.stderr);
  writeFileSync(join(dir, 'pts.csv'), 'id,x\n1,0.25\n2,0.5\n3,0.75\n');
  const r = laaf(['predict', 'run', '--points', 'pts.csv', '--derivatives', 'u_x', '--out', 'pts-out.csv'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /3 points × 3 columns \(x, u, u_x\) from the model at step \d+ → pts-out.csv/);
  const rows = readCsv(join(dir, 'pts-out.csv'));
  assert.deepEqual(rows.map((p) => Number(p['x'])), [0.25, 0.5, 0.75]);
  for (const p of rows) assert.ok(Math.abs(Number(p['u']) - Math.sin(Math.PI * Number(p['x']))) < 0.02, JSON.stringify(p));
  assert.ok(Math.abs(Number(rows[1]!['u_x'])) < 0.1, 'u_x(0.5) ≈ 0');
});

test('predict input mistakes are user errors (exit 2) and write nothing', async () => {
  assert.equal(trained.code, 0, trained.stderr);
  writeFileSync(join(dir, 'bad.csv'), 'x\n0.1\nabc\n');
  const bad = laaf(['predict', 'run', '--points', 'bad.csv', '--out', 'never.csv'], dir);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^laaf: error: bad\.csv:3:1: 'abc' in column 'x' is not a finite number/);
  writeFileSync(join(dir, 'nox.csv'), 't\n0.1\n');
  const nox = laaf(['predict', 'run', '--points', 'nox.csv', '--out', 'never.csv'], dir);
  assert.equal(nox.code, 2);
  assert.match(nox.stderr, /nox\.csv:1:1: no column 'x' in the header/);
  assert.ok(!existsSync(join(dir, 'never.csv')));

  const run = join(dir, 'run');
  const rejects = async (opts: Partial<Parameters<typeof predictRun>[0]>, pattern: RegExp) => {
    await assert.rejects(predictRun({ runDir: run, out: join(dir, 'never.csv'), ...opts }), (e: unknown) => e instanceof UserError && pattern.test(e.message));
  };
  await rejects({ grid: 'x=5', derivatives: ['v_x'] }, /'v_x' is not an output or a derivative of one/);
  await rejects({ grid: 'x=5', derivatives: ['u_xxxxx'] }, /order 5; at most 4/);
  await rejects({}, /give either --points FILE.csv or --grid SPEC/);
  await rejects({ grid: 'x=5', points: 'pts.csv' }, /give either/);
  await rejects({ grid: 'x=5', out: join(dir, 'no-such-folder', 'p.csv') }, /does not exist/);
  await rejects({ runDir: dir, grid: 'x=5' }, /not a laaf run directory/);
  assert.ok(!existsSync(join(dir, 'never.csv')));

  assert.deepEqual(parseGrid('t=3, x=5', ['x', 't']), [5, 3]);
  assert.throws(() => parseGrid('x=5', ['x', 't']), /no count for t/);
  assert.throws(() => parseGrid('x=5,y=2', ['x']), /'y' is not an input/);
  assert.throws(() => parseGrid('x=0', ['x']), /whole number >= 1/);
  assert.throws(() => parseGrid('x=2.5', ['x']), /whole number >= 1/);
  assert.throws(() => parseGrid('x', ['x']), /not NAME=COUNT/);
});
