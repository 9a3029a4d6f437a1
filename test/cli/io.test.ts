/**
 * The run directory under stress, through the CLI: a full disk (a small tmpfs, where
 * mounting is allowed) at several sizes is an exit 2 naming the device and the intact
 * checkpoint, leaves only complete files, and `--resume` afterwards ends equal to an
 * uninterrupted run; a second writer is refused while the first trains; a killed
 * owner's lock and temporary files are cleaned up on resume; bad --out places exit 2 at
 * once; closed pipes, problem paths, plurals and the divergence hint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { badOutPlaces, laaf, mountTmpfs, repoRoot, tempDir } from '../helpers.js';

const SPEC = `name: small
inputs: { x: [-1, 1], t: [0, 1] }
outputs: [u]
constants: { nu: 0.01/pi }
equations:
  burgers: u_t + u*u_x = nu*u_xx
conditions:
  initial: { on: t = 0, require: u = -sin(pi*x), points: 40 }
  walls:   { on: [x = -1, x = 1], require: u = 0, points: 20 }
model: { hidden: [10, 10], adaptive: { mode: layer, n: 5 } }
sampling: { interior: 200 }
reference: { builtin: burgers-cole-hopf }
training:
  seed: 5
  adam: { lr: 0.01, steps: STEPS }
  log_every: 10
  checkpoint_every: 20
output: { grid: { x: 41, t: 41 } }
`;

type Row = Record<string, string>;
const readCsv = (file: string): Row[] => parseCsv(readFileSync(file, 'utf8'), { columns: true }) as Row[];
const withoutTime = (rows: Row[]) => rows.map(({ elapsed_s: _, ...rest }) => rest);
const bin = join(repoRoot(), 'bin', 'laaf.js');

test('a full disk at several sizes: exit 2 naming device and checkpoint, only complete files, --resume then matches an uninterrupted run', (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'small.yaml'), SPEC.replace('STEPS', '100'));
  const probe = join(dir, 'probe');
  if (!mountTmpfs(probe, '16k')) {
    t.skip('cannot mount a tmpfs here (not root or no CAP_SYS_ADMIN); test/io-files.test.ts covers the writer through its seam');
    return;
  }
  spawnSync('umount', [probe]);
  const full = laaf(['solve', 'small.yaml', '--out', 'ref', '--no-plots', '-q'], dir);
  assert.equal(full.code, 0, full.stderr);
  const refHistory = withoutTime(readCsv(join(dir, 'ref', 'history.csv')));
  const refSolution = readFileSync(join(dir, 'ref', 'solution.csv'), 'utf8');

  const mnt = join(dir, 'disk');
  const seen = new Set<string>();
  // 12k: not even summary.json fits; 20k–36k: the checkpoint does not; 60k: only solution.csv does not.
  for (const size of ['12k', '20k', '28k', '36k', '60k']) {
    assert.ok(mountTmpfs(mnt, size));
    try {
      const run = join(mnt, 'r');
      const r = laaf(['solve', 'small.yaml', '--out', run, '--no-plots', '-q'], dir);
      assert.equal(r.code, 2, `${size}: ${r.stderr}`);
      const m = /^laaf: error: no space left on (\S+) \(tmpfs\) writing (\S+); (the last checkpoint at step (\d+) is intact|no checkpoint had been written yet)/.exec(r.stderr);
      assert.ok(m, `${size}: ${r.stderr}`);
      assert.equal(m[1], mnt);
      seen.add(m[2]!.split('/').at(-1)!);
      assert.doesNotMatch(r.stderr, /internal error/);
      // Every file there is complete; no temporary files, no lock.
      const files = existsSync(run) ? readdirSync(run) : [];
      assert.deepEqual(files.filter((f) => f.startsWith('.')), [], `${size}: ${files}`);
      if (files.includes('checkpoint.json')) JSON.parse(readFileSync(join(run, 'checkpoint.json'), 'utf8'));
      if (files.includes('summary.json')) {
        const s = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
        if (!/still says "running"/.test(r.stderr)) assert.equal(s.status, 'failed', size);
      }
      if (files.includes('history.csv')) {
        const text = readFileSync(join(run, 'history.csv'), 'utf8');
        assert.ok(text.endsWith('\n'), `${size}: history.csv ends mid-row`);
        const rows = readCsv(join(run, 'history.csv'));
        assert.deepEqual(withoutTime(rows), refHistory.slice(0, rows.length), `${size}: history rows are whole and right`);
      }
      assert.ok(!files.includes('solution.csv'), `${size}: a solution.csv that did not fit is not there`);

      // With room again, --resume finishes the run as if nothing had happened.
      spawnSync('mount', ['-o', 'remount,size=4m', mnt]);
      if (m[4] !== undefined) {
        const res = laaf(['solve', '--resume', run, '--no-plots', '-q'], dir);
        assert.equal(res.code, 0, `${size}: ${res.stderr}`);
        assert.deepEqual(withoutTime(readCsv(join(run, 'history.csv'))), refHistory, size);
        assert.equal(readFileSync(join(run, 'solution.csv'), 'utf8'), refSolution, size);
        assert.equal(JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8')).status, 'completed');
      }
    } finally {
      spawnSync('umount', [mnt]);
    }
  }
  assert.ok(seen.has('checkpoint.json') && seen.has('solution.csv'), [...seen].join(' '));
});

test('one writer per run directory: a second solve --resume is refused while the first trains; a killed owner\'s lock and temporary files are cleaned up on resume', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'long.yaml'), SPEC.replace('STEPS', '100000'));
  const first = spawn(process.execPath, [bin, 'solve', 'long.yaml', '--out', 'run', '--no-plots', '-q'], { cwd: dir, stdio: 'ignore' });
  const run = join(dir, 'run');
  const t0 = Date.now();
  while (!existsSync(join(run, 'checkpoint.json'))) {
    assert.ok(Date.now() - t0 < 120_000, 'no checkpoint');
    await new Promise((r) => setTimeout(r, 50));
  }
  const second = laaf(['solve', '--resume', 'run', '--no-plots', '-q'], dir);
  assert.equal(second.code, 2, second.stderr);
  assert.match(second.stderr, new RegExp(`^laaf: error: run is in use by laaf \\(pid ${first.pid} on \\S+, since \\S+: solve long\\.yaml`));
  // The same --out for a new run: refused as before (not empty).
  const third = laaf(['solve', 'long.yaml', '--out', 'run', '-q'], dir);
  assert.equal(third.code, 2);

  // Killed with SIGKILL: no chance to remove its lock. A temporary file as a kill mid-write leaves it.
  const exited = new Promise((r) => first.on('exit', r));
  first.kill('SIGKILL');
  await exited;
  assert.ok(existsSync(join(run, '.laaf.lock')));
  writeFileSync(join(run, '.1764479000000-999-abc.tmp'), '{"format":"laaf-checkp');
  // The kill itself may have landed mid-write and left one more: all of them are to go.
  const temps = readdirSync(run).filter((f) => f.endsWith('.tmp')).length;
  assert.ok(temps >= 1);
  const at = JSON.parse(readFileSync(join(run, 'checkpoint.json'), 'utf8')).train.step as number;
  const capped = laaf(['solve', '--resume', 'run', '--max-steps', String(at + 20), '--no-plots', '-q'], dir);
  assert.equal(capped.code, 0, capped.stderr);
  assert.match(capped.stderr, new RegExp(`laaf: taking over the stale lock of run \\(pid ${first.pid} on \\S+ is no longer running\\)`));
  assert.match(capped.stderr, new RegExp(`removed ${temps} unfinished temporary files? from run`));
  assert.deepEqual(readdirSync(run).filter((f) => f.startsWith('.')), []);
  const steps = readCsv(join(run, 'history.csv')).map((r) => Number(r['step']));
  assert.deepEqual(steps, [...new Set(steps)].sort((a, b) => a - b), 'each step once, in order');
});

test('bad --out places exit 2 at once with the reason, before any work', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'small.yaml'), SPEC.replace('STEPS', '10'));
  const cases = badOutPlaces(dir);
  for (const [out, want] of cases) {
    const t0 = Date.now();
    const r = laaf(['solve', 'small.yaml', '--out', out, '-q'], dir, 30_000);
    assert.equal(r.code, 2, `--out '${out}': ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^laaf: error: .*${want.source}`), `--out '${out}'`);
    assert.ok(Date.now() - t0 < 20_000);
  }
  assert.deepEqual(readdirSync(dir).sort(), ['afile', 'dangling', 'small.yaml']);
});

test('a closed pipe ends laaf quietly with exit 0 (laaf problems | head -1, laaf validate ... | head -1)', async () => {
  const dir = tempDir();
  const spec = join(repoRoot(), 'problems', 'burgers.yaml');
  for (const args of [['problems'], ['validate', ...Array<string>(400).fill(spec)]]) {
    const child = spawn(process.execPath, [bin, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += String(b)));
    // Read the first chunk, then close our end, as `head -1` does.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise((r) => child.on('close', (c) => r(c)));
    assert.equal(code, 0, `${args[0]}: ${stderr}`);
    assert.equal(stderr, '', args[0]);
  }
});

test('laaf problems prints paths that work from any folder; counts have their plurals', () => {
  const dir = tempDir();
  const r = laaf(['problems'], dir);
  assert.equal(r.code, 0, r.stderr);
  const paths = r.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]!);
  assert.ok(paths.length > 5);
  for (const p of paths) assert.ok(existsSync(join(dir, p)) || existsSync(p), p);
  const v = laaf(['validate', paths.find((p) => p.endsWith('poisson-1d.yaml')) ?? paths[0]!], dir);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /: \d+ inputs?, \d+ outputs?, \d+ loss terms?\n$/);
  assert.doesNotMatch(v.stdout, /\b1 (inputs|outputs|loss terms)\b/);
  const h = laaf(['sweep', '--help'], dir);
  const jobs = h.stdout.slice(h.stdout.indexOf('--jobs'), h.stdout.indexOf('--plan'));
  assert.equal((jobs.match(/default/g) ?? []).length, 1, jobs);
});

test('a loss that is not finite before any step (sqrt of a negative) is not blamed on the learning rate', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'nan.yaml'), `name: nan
inputs: { x: [0, 1] }
outputs: [u]
equations:
  e: u_xx = sqrt(x - 2)
conditions:
  ends: { on: [x = 0, x = 1], require: u = 0 }
model: { hidden: [5] }
sampling: { interior: 20 }
training: { adam: { steps: 10 }, log_every: 5 }
`);
  const r = laaf(['solve', 'nan.yaml', '--out', 'run', '--no-plots', '-q'], dir);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /laaf: training diverged: loss is NaN at step 0 \(term 'e'\) — the loss is not finite before any training step/);
  assert.doesNotMatch(r.stderr, /learning rate/);
});

test('the progress bar on a terminal shows the phase and ends at the last step with the final numbers', (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'two.yaml'), SPEC.replace('STEPS', '20').replace('log_every: 10', 'log_every: 10\n  lbfgs: { max_iterations: 500, tolerance_change: 1e-3 }'));
  const has = spawnSync('script', ['--version']);
  if (has.status !== 0) {
    t.skip('no `script` to give laaf a terminal');
    return;
  }
  const cmd = `${process.execPath} ${bin} solve two.yaml --out run --no-plots`;
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: dir, encoding: 'utf8', env: { ...process.env, COLUMNS: '200' } });
  assert.equal(r.status, 0, r.stdout);
  const s = JSON.parse(readFileSync(join(dir, 'run', 'summary.json'), 'utf8'));
  assert.ok(s.steps < 520, 'L-BFGS stopped early (tolerance), so the plan was not reached');
  assert.match(r.stdout, /Adam +\S* \d+\/520 steps/);
  assert.match(r.stdout, /L-BFGS +\S* \d+\/520 steps/);
  // The last frame: the real final step as the total, with the final loss and rel-L2.
  const frames = r.stdout.split(/\r|\n/).filter((l) => / steps \| loss /.test(l));
  const last = frames.at(-1)!;
  assert.match(last, new RegExp(`L-BFGS +\\S* ${s.steps}/${s.steps} steps \\| loss ${s.final.loss.toExponential(3).replace('+', '\\+')} \\| rel-L2 ${s.final.rel_l2.toExponential(3).replace('+', '\\+')}`), last);
  rmSync(join(dir, 'run'), { recursive: true });
});
