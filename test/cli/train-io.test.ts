/**
 * `laaf train`'s run directory under stress, as `laaf solve`'s (test/cli/io.test.ts):
 * both go through run/lifecycle.ts. A second writer is refused with exit 2 naming the
 * owner; a killed owner's lock and temporary files are cleaned up on resume; bad --out
 * places are exit 2 at once; a full disk (a small tmpfs, where mounting is allowed) is
 * an exit 2 naming the device and the intact checkpoint, and --resume then completes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATED, badOutPlaces, canMountTmpfs, generatedDir, laaf, mountTmpfs, readCsv, repoRoot, until } from '../helpers.js';

const bin = join(repoRoot(), 'bin', 'laaf.js');
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const withoutTime = (rows: Record<string, string>[]) => rows.map(({ elapsed_s: _, ...rest }) => rest);

test('one writer per train run directory: a second train --resume is refused while the first trains; a killed owner\'s lock and temporary files are cleaned up on resume', async () => {
  const dir = generatedDir();
  writeFileSync(join(dir, 'gen.yaml'), GENERATED().replace('epochs: 6', 'epochs: 100000'));
  const first = spawn(process.execPath, [bin, 'train', 'gen.yaml', '--out', 'run', '--quiet', '--no-plots'], { cwd: dir, stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((r) => first.on('exit', (_c, sig) => r(sig)));
  const run = join(dir, 'run');
  await until(() => existsSync(join(run, 'checkpoint.json')) || first.exitCode !== null, 'a checkpoint', 120_000);
  // A bounded wait: a second writer that is wrongly accepted would train as long as the first.
  const second = laaf(['train', '--resume', 'run', '--quiet', '--no-plots'], dir, 60_000);
  if (second.code !== 2) first.kill('SIGKILL');
  assert.equal(second.code, 2, second.stderr);
  assert.match(second.stderr, new RegExp(`^laaf: error: run is in use by laaf \\(pid ${first.pid} on \\S+, since \\S+: train gen\\.yaml --out run`));
  assert.match(second.stderr, /wait for it to finish, or stop it/);
  // The same --out for a new run: refused (not empty).
  const third = laaf(['train', 'gen.yaml', '--out', 'run', '--quiet'], dir);
  assert.equal(third.code, 2, third.stderr);
  assert.match(third.stderr, /^laaf: error: .*run.* — choose another --out/);

  // Killed with SIGKILL: no chance to remove its lock. A temporary file as a kill mid-write leaves it.
  first.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL', 'the run was still training when killed');
  assert.ok(existsSync(join(run, '.laaf.lock')));
  writeFileSync(join(run, '.1764479000000-999-abc.tmp'), '{"format":"laaf-checkp');
  // The kill itself may have landed mid-write and left one more: all of them are to go.
  const temps = readdirSync(run).filter((f) => f.endsWith('.tmp')).length;
  assert.ok(temps >= 1);
  const at = readJson(join(run, 'checkpoint.json')).train.step as number;
  const capped = laaf(['train', '--resume', 'run', '--max-steps', String(at + 20), '--quiet', '--no-plots'], dir);
  assert.equal(capped.code, 0, capped.stderr);
  assert.match(capped.stderr, new RegExp(`laaf: taking over the stale lock of run \\(pid ${first.pid} on \\S+ is no longer running\\)`));
  assert.match(capped.stderr, new RegExp(`removed ${temps} unfinished temporary files? from run`));
  assert.deepEqual(readdirSync(run).filter((f) => f.startsWith('.')), []);
  const steps = readCsv(join(run, 'history.csv')).map((r) => Number(r['step']));
  assert.deepEqual(steps, [...new Set(steps)].sort((a, b) => a - b), 'each step once, in order');
  assert.equal(steps.at(-1), at + 20);
});

test('bad --out places for laaf train: exit 2 at once with the reason, nothing written', () => {
  const dir = generatedDir();
  const cases = badOutPlaces(dir);
  const before = readdirSync(dir).sort();
  for (const [out, want] of cases) {
    const t0 = Date.now();
    const r = laaf(['train', 'gen.yaml', '--out', out, '--quiet'], dir, 30_000);
    assert.equal(r.code, 2, `--out '${out}': ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^laaf: error: .*${want.source}`), `--out '${out}'`);
    assert.ok(Date.now() - t0 < 20_000);
  }
  assert.deepEqual(readdirSync(dir).sort(), before);
});

test('laaf train on a full disk at several sizes: exit 2 naming device and checkpoint, only complete files, --resume then matches an uninterrupted run', (t) => {
  const dir = generatedDir();
  if (!canMountTmpfs(join(dir, 'probe'))) {
    t.skip('cannot mount a tmpfs here (not root or no CAP_SYS_ADMIN); test/io-files.test.ts covers the writer through its seam');
    return;
  }
  const full = laaf(['train', 'gen.yaml', '--out', 'ref', '--quiet', '--no-plots'], dir);
  assert.equal(full.code, 0, full.stderr);
  const refHistory = withoutTime(readCsv(join(dir, 'ref', 'history.csv')));
  const refWeights = readJson(join(dir, 'ref', 'checkpoint.json')).train.weights;

  const mnt = join(dir, 'disk');
  const seen = new Set<string>();
  let resumed = 0;
  // The run writes spec.resolved.yaml (~1 KB), history.csv (~3 KB), summary.json (~1 KB) and
  // checkpoint.json (~11 KB, and its temporary copy while it is replaced): 8k–24k fail before
  // the first checkpoint is down, 28k–32k at the second.
  for (const size of ['8k', '16k', '20k', '28k', '32k']) {
    assert.ok(mountTmpfs(mnt, size));
    try {
      const run = join(mnt, 'r');
      const r = laaf(['train', 'gen.yaml', '--out', run, '--quiet', '--no-plots'], dir);
      assert.equal(r.code, 2, `${size}: ${r.stderr}`);
      const m = /^laaf: error: no space left on (\S+) \(tmpfs\) writing (\S+); (the last checkpoint at step (\d+) is intact|no checkpoint had been written yet)/.exec(r.stderr);
      assert.ok(m, `${size}: ${r.stderr}`);
      assert.equal(m[1], mnt);
      seen.add(m[2]!.split('/').at(-1)!);
      assert.doesNotMatch(r.stderr, /internal error/);
      if (m[4] !== undefined) assert.match(r.stderr, new RegExp(`continue with: laaf train --resume ${run}`));
      // Every file there is complete; no temporary files, no lock.
      const files = existsSync(run) ? readdirSync(run) : [];
      assert.deepEqual(files.filter((f) => f.startsWith('.')), [], `${size}: ${files}`);
      if (files.includes('checkpoint.json')) assert.equal(readJson(join(run, 'checkpoint.json')).train.step, Number(m[4]), size);
      if (files.includes('summary.json')) {
        const s = readJson(join(run, 'summary.json'));
        if (!/still says "running"/.test(r.stderr)) {
          assert.equal(s.status, 'failed', size);
          assert.equal(s.kind, 'train', size);
        }
      }
      if (files.includes('history.csv')) {
        const text = readFileSync(join(run, 'history.csv'), 'utf8');
        // Empty when not even its header fitted (appendWhole cut the short write back); never a part row.
        assert.ok(text === '' || text.endsWith('\n'), `${size}: history.csv ends mid-row`);
        const rows = withoutTime(readCsv(join(run, 'history.csv')));
        assert.deepEqual(rows, refHistory.slice(0, rows.length), `${size}: history rows are whole and right`);
      }

      // With room again, --resume finishes the run as if nothing had happened.
      spawnSync('mount', ['-o', 'remount,size=4m', mnt]);
      if (m[4] !== undefined) {
        const res = laaf(['train', '--resume', run, '--quiet', '--no-plots'], dir);
        assert.equal(res.code, 0, `${size}: ${res.stderr}`);
        assert.deepEqual(withoutTime(readCsv(join(run, 'history.csv'))), refHistory, size);
        assert.deepEqual(readJson(join(run, 'checkpoint.json')).train.weights, refWeights, size);
        assert.equal(readJson(join(run, 'summary.json')).status, 'completed');
        resumed++;
      }
    } finally {
      spawnSync('umount', [mnt]);
    }
  }
  assert.ok(seen.has('checkpoint.json') && resumed > 0, `${[...seen].join(' ')}; ${resumed} resumed`);
});
