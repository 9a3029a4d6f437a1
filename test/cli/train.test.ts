/**
 * `laaf train` end to end: a CI-sized training run (Fashion-MNIST when Debian's
 * dataset-fashion-mnist is installed, else a generated image data set), resume after
 * SIGKILL bit for bit, bad data files (exit 2, FILE:LINE:COL, byte offsets, nothing
 * written), and a sweep over a data-set spec.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { GENERATED, generatedDir, laaf, lineColOf, repoRoot, tempDir, until, writeImages } from '../helpers.js';

const FMNIST = '/usr/share/datasets/fashion-mnist';
// LAAF_TEST_GENERATED=1 takes the generated-data path even where the package is installed.
const haveFashion = !process.env['LAAF_TEST_GENERATED'] && existsSync(join(FMNIST, 'train-images-idx3-ubyte.gz'));

type Row = Record<string, string>;
const readCsv = (file: string): Row[] => parseCsv(readFileSync(file, 'utf8'), { columns: true }) as Row[];
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

test('a CI-sized training run beats chance by a wide margin (Fashion-MNIST when installed, else generated images)', () => {
  const dir = tempDir('laaf-train-ci-');
  let spec: string;
  let chance: number;
  let margin: number;
  if (haveFashion) {
    // 1280 training images, 3 epochs (60 steps) of the MLP: about 60 % on 500 test images; chance is 10 %.
    spec = join(repoRoot(), 'problems', 'fashion-mnist-mlp.yaml');
    chance = 0.1;
    margin = 0.4;
  } else {
    writeImages(dir, 'train', 320, 1);
    writeImages(dir, 'test', 160, 2, 4, 10, 8, false);
    writeFileSync(join(dir, 'gen.yaml'), GENERATED());
    spec = join(dir, 'gen.yaml');
    chance = 0.25;
    margin = 0.5;
  }
  const sets = haveFashion ? ['--set', 'dataset.train.limit=1280', '--set', 'dataset.test.limit=500', '--set', 'training.epochs=3'] : [];
  const r = laaf(['train', spec, '--out', 'run', '--quiet', ...sets], dir);
  assert.equal(r.code, 0, r.stderr);
  const s = readJson(join(dir, 'run', 'summary.json'));
  assert.equal(s.status, 'completed');
  assert.equal(s.kind, 'train');
  const acc = s.final.terms.test_accuracy as number;
  assert.ok(acc > chance + margin, `test accuracy ${acc} is not above chance ${chance} + ${margin} (${haveFashion ? 'Fashion-MNIST' : 'generated data'})`);
  const h = readCsv(join(dir, 'run', 'history.csv'));
  // One test evaluation per epoch, at the epoch's last step.
  const epochRows = h.filter((row) => row['test_accuracy'] !== '');
  assert.equal(epochRows.length, haveFashion ? 3 : 6);
  assert.ok(Number(h.at(-1)!['loss']) < Number(h[0]!['loss']), 'the training loss fell');
  for (const f of ['spec.resolved.yaml', 'checkpoint.json', 'plots/loss.svg']) assert.ok(existsSync(join(dir, 'run', f)), f);
});


test('a run killed with SIGKILL and resumed ends with the same history and weights as an uninterrupted one', async () => {
  const dir = generatedDir();
  writeFileSync(join(dir, 'gen.yaml'), GENERATED().replace('epochs: 6', 'epochs: 12'));
  const full = laaf(['train', 'gen.yaml', '--out', 'full', '--quiet', '--no-plots'], dir);
  assert.equal(full.code, 0, full.stderr);
  const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'laaf.js'), 'train', 'gen.yaml', '--out', 'cut', '--quiet', '--no-plots'], { cwd: dir, stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_c, sig) => res(sig)));
  const ckpt = join(dir, 'cut', 'checkpoint.json');
  await until(() => (existsSync(ckpt) && readJson(ckpt).train.epoch >= 2) || child.exitCode !== null, 'a checkpoint after epoch 2');
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL', 'the run was still training when killed');
  const resumed = laaf(['train', '--resume', 'cut', '--quiet', '--no-plots'], dir);
  assert.equal(resumed.code, 0, resumed.stderr);
  const strip = (rows: Row[]) => rows.map(({ elapsed_s: _, ...rest }) => rest);
  assert.deepEqual(strip(readCsv(join(dir, 'cut', 'history.csv'))), strip(readCsv(join(dir, 'full', 'history.csv'))));
  assert.deepEqual(readJson(join(dir, 'cut', 'checkpoint.json')).train.weights, readJson(join(dir, 'full', 'checkpoint.json')).train.weights);
  const s = readJson(join(dir, 'cut', 'summary.json'));
  assert.equal(s.status, 'completed');
  assert.equal(s.resumed_from.length, 1);
});

test('SIGTERM mid-epoch stops with exit 130 and a checkpoint; the resumed run matches an uninterrupted one', async () => {
  const dir = generatedDir();
  writeFileSync(join(dir, 'gen.yaml'), GENERATED().replace('epochs: 6', 'epochs: 12'));
  const full = laaf(['train', 'gen.yaml', '--out', 'full', '--quiet', '--no-plots'], dir);
  assert.equal(full.code, 0, full.stderr);
  const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'laaf.js'), 'train', 'gen.yaml', '--out', 'cut', '--quiet', '--no-plots'], { cwd: dir, stdio: 'ignore' });
  const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  const hist = join(dir, 'cut', 'history.csv');
  await until(() => (existsSync(hist) && readFileSync(hist, 'utf8').split('\n').length > 8) || child.exitCode !== null, 'some history');
  child.kill('SIGTERM');
  assert.equal(await exited, 130);
  assert.equal(readJson(join(dir, 'cut', 'summary.json')).status, 'interrupted');
  const resumed = laaf(['train', '--resume', 'cut', '--quiet', '--no-plots'], dir);
  assert.equal(resumed.code, 0, resumed.stderr);
  const strip = (rows: Row[]) => rows.map(({ elapsed_s: _, ...rest }) => rest);
  assert.deepEqual(strip(readCsv(join(dir, 'cut', 'history.csv'))), strip(readCsv(join(dir, 'full', 'history.csv'))));
  assert.deepEqual(readJson(join(dir, 'cut', 'checkpoint.json')).train.weights, readJson(join(dir, 'full', 'checkpoint.json')).train.weights);
});

function badRun(dir: string, specText: string): { stderr: string; spec: string } {
  writeFileSync(join(dir, 'bad.yaml'), specText);
  const r = laaf(['train', 'bad.yaml', '--out', 'never'], dir);
  assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
  assert.ok(!existsSync(join(dir, 'never')), 'nothing written');
  return { stderr: r.stderr, spec: specText };
}

test('bad data: missing files, malformed IDX, labels outside the classes — exit 2 at the spec key, nothing written', () => {
  const dir = generatedDir();
  // A missing file of the default Fashion-MNIST location names the Debian package.
  let spec = GENERATED().replace('train-images.idx.gz', `${FMNIST}/no-such-file.gz`);
  let r = badRun(dir, spec);
  let at = lineColOf(spec, `${FMNIST}/no-such-file.gz`);
  assert.match(r.stderr, new RegExp(`^laaf: error: bad.yaml:${at.line}:${at.col}: data file ${FMNIST}/no-such-file.gz does not exist — .*dataset-fashion-mnist`));
  spec = GENERATED().replace('test-labels.idx', 'nowhere.idx');
  r = badRun(dir, spec);
  at = lineColOf(spec, 'nowhere.idx');
  assert.match(r.stderr, new RegExp(`bad.yaml:${at.line}:${at.col}: data file .*nowhere.idx does not exist — paths are relative to the spec file`));

  // Malformed IDX: wrong magic, truncated, dimensions that do not match the size.
  const good = readFileSync(join(dir, 'test-images.idx'));
  const wrong = Buffer.from(good);
  wrong[0] = 0x50;
  writeFileSync(join(dir, 'magic.idx'), wrong);
  writeFileSync(join(dir, 'short.idx'), good.subarray(0, 1000));
  writeFileSync(join(dir, 'long.idx'), Buffer.concat([good, Buffer.from([1, 2, 3])]));
  for (const [file, what] of [['magic.idx', /byte 0: wrong magic number 0x50000803/], ['short.idx', /byte 1000: truncated: dimensions 160×10×8 of uint8 need 12816 bytes/], ['long.idx', /byte 12816: dimensions 160×10×8 of uint8 end at byte 12816, but the file has 3 more bytes/]] as const) {
    spec = GENERATED().replace('test-images.idx', file);
    r = badRun(dir, spec);
    at = lineColOf(spec, file);
    assert.match(r.stderr, new RegExp(`^laaf: error: bad.yaml:${at.line}:${at.col}: .*${file}: `), r.stderr);
    assert.match(r.stderr, what);
  }
  // Labels outside the class count.
  spec = GENERATED().replace('train: {', 'classes: 3\n  train: {');
  r = badRun(dir, spec);
  assert.match(r.stderr, /label 3 of sample \d+ in train is outside the 3 classes \(0\.\.2\)/);
  at = lineColOf(spec, 'train-labels.idx.gz');
  assert.match(r.stderr, new RegExp(`bad.yaml:${at.line}:${at.col}:`));
  // Test labels past the classes the training labels define.
  writeImages(dir, 'wide', 50, 4, 6, 10, 8, false);
  spec = GENERATED().replace('test-labels.idx', 'wide-labels.idx').replace('test-images.idx', 'wide-images.idx');
  r = badRun(dir, spec);
  assert.match(r.stderr, /label [45] of sample \d+ in test is outside the 4 classes/);
  // A layer that does not fit and an unknown key, at their positions.
  spec = GENERATED().replace('{ conv: 4, size: 3 }', '{ conv: 4, size: 30 }');
  r = badRun(dir, spec);
  at = lineColOf(spec, '{ conv: 4, size: 30 }');
  assert.match(r.stderr, new RegExp(`bad.yaml:${at.line}:${at.col}: layer 1: a 30×30 convolution does not fit the 10×8 input`));
  spec = GENERATED().replace('epochs: 6', 'epoch: 6');
  r = badRun(dir, spec);
  at = lineColOf(spec, 'epoch: 6');
  assert.match(r.stderr, new RegExp(`bad.yaml:${at.line}:${at.col}: unknown key 'epoch' in training — did you mean 'epochs'\\?`));
});

test('laaf sweep runs a data-set spec unchanged and tabulates test accuracy, and the steps to an accuracy (at or above)', () => {
  const dir = generatedDir();
  writeFileSync(join(dir, 'gen.yaml'), GENERATED().replace('epochs: 6', 'epochs: 2'));
  const r = laaf(['sweep', 'gen.yaml', '--grid', 'model.adaptive.mode=none,layer', '--seeds', '1', '--jobs', '1', '--out', 'sw', '--no-plots', '--quiet',
    '--threshold', 'test_accuracy=0.3,1.01', '--threshold', 'loss=0.9'], dir);
  assert.equal(r.code, 0, r.stderr);
  const rows = readCsv(join(dir, 'sw', 'sweep.csv'));
  assert.equal(rows.length, 2);
  for (const row of rows) {
    assert.equal(row['status'], 'completed');
    assert.ok(Number(row['test_accuracy']) > 0, JSON.stringify(row));
    // A rising column's threshold is the first logged step at or above it; a falling one's at or below.
    const h = readCsv(join(dir, 'sw', ...row['run']!.split('/'), 'history.csv'));
    const firstAt = (col: string, ok: (v: number) => boolean) => h.find((x) => x[col] !== '' && ok(Number(x[col])))?.['step'] ?? '';
    assert.equal(row['steps_to_test_accuracy>=0.3'], firstAt('test_accuracy', (v) => v >= 0.3), JSON.stringify(row));
    assert.notEqual(row['steps_to_test_accuracy>=0.3'], '', 'the generated classes are learned past 30 % within 2 epochs');
    assert.equal(row['steps_to_test_accuracy>=1.01'], '', 'never reached');
    assert.equal(row['steps_to_loss<=0.9'], firstAt('loss', (v) => v <= 0.9));
  }
});

test('a CSV regression data set: two targets learned with MSE, a held-out split, no accuracy; a missing target column is exit 2 at the key', () => {
  const dir = tempDir('laaf-train-csv-');
  // y1 = sin(2·x1) + x2/2, y2 = x1·x2 on 400 rows of x1, x2 ∈ [-1, 1] (a fixed grid walk, no randomness needed).
  const rows = ['x1,x2,y1,y2'];
  for (let i = 0; i < 400; i++) {
    const x1 = -1 + 2 * ((i * 37) % 400) / 399;
    const x2 = -1 + 2 * ((i * 113) % 400) / 399;
    rows.push(`${x1},${x2},${Math.sin(2 * x1) + x2 / 2},${x1 * x2}`);
  }
  writeFileSync(join(dir, 'data.csv'), `${rows.join('\n')}\n`);
  const spec = `name: csv-regression
dataset:
  task: regression
  train: { csv: data.csv, target: [y1, y2] }
  test: { split: 0.25 }
  scaling: none
model:
  hidden: [32, 32]
  activation: tanh
  adaptive: { mode: layer, n: 1 }
  slope_recovery: 1
training:
  epochs: 40
  batch: 30
  optimizer: adam
  adam: { lr: 0.01 }
  log_every: 10
`;
  writeFileSync(join(dir, 'reg.yaml'), spec);
  const r = laaf(['train', 'reg.yaml', '--out', 'run', '--quiet'], dir);
  assert.equal(r.code, 0, r.stderr);
  const s = readJson(join(dir, 'run', 'summary.json'));
  assert.equal(s.status, 'completed');
  const h = readCsv(join(dir, 'run', 'history.csv'));
  const tested = h.filter((row) => row['test_loss'] !== '');
  assert.equal(tested.length, 40, 'one test evaluation per epoch');
  assert.ok(tested.every((row) => row['test_accuracy'] === undefined || row['test_accuracy'] === ''), 'regression has no accuracy');
  // Predicting the mean would give an MSE of about Var(y) ≈ 0.3 (y1) and 0.11 (y2), ~0.2 averaged; require a tenth of it.
  const last = Number(tested.at(-1)!['test_loss']);
  assert.ok(last < 0.02, `held-out MSE ${last} is not below 0.02`);
  assert.ok(last < Number(tested[0]!['test_loss']) / 5, 'the held-out MSE fell at least 5×');
  // A target column the file does not have: exit 2 at the spec key, nothing written.
  writeFileSync(join(dir, 'bad.yaml'), spec.replace('target: [y1, y2]', 'target: [y1, y3]'));
  const bad = laaf(['train', 'bad.yaml', '--out', 'badrun'], dir);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /^laaf: error: .*bad\.yaml:4:\d+: .*data\.csv has no column 'y3' — its header has x1, x2, y1, y2/m);
  assert.ok(!existsSync(join(dir, 'badrun')), 'nothing written');
});
