/**
 * Sweeps that report failure, through the CLI: --collect exits 4 while runs have not
 * completed (never started ones say so, pointing at their Slurm log) and 0 once all
 * have; the job script, run as Slurm would run it, checks node (LAAF_NODE) and sets
 * LAAF_THREADS from SLURM_CPUS_PER_TASK; an --index task passes SIGTERM to its run and
 * records how it ended; a second sweep on a running sweep directory is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { laaf, repoRoot, tempDir } from '../helpers.js';

const BURGERS = join(repoRoot(), 'problems', 'burgers.yaml');
const bin = join(repoRoot(), 'bin', 'laaf.js');

function sweepFile(dir: string, steps: number, seeds = 2): string {
  const f = join(dir, 'sw.yaml');
  writeFileSync(f, `name: sw
spec: ${BURGERS}
set:
  model.hidden: [6]
  sampling.interior: 60
  conditions.initial.points: 20
  conditions.walls.points: 10
  training.adam.steps: ${steps}
  training.log_every: 5
  training.checkpoint_every: 10
  output.grid: { x: 11, t: 6 }
seeds: ${seeds}
`);
  return f;
}

const readCsv = (file: string) => parseCsv(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];

async function until(cond: () => boolean, what: string, ms = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('--collect exits 4 until every run completed; a task that never started says so and points at its Slurm log', () => {
  const dir = tempDir();
  const f = sweepFile(dir, 10);
  const one = laaf(['sweep', f, '--index', '0', '--out', 'S', '--no-plots'], dir);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /runs\/base\/s1 \(seed \d+\): completed/);

  // Run 1 pending (never submitted): not complete.
  const c1 = laaf(['sweep', f, '--collect', '--out', 'S', '--no-plots'], dir);
  assert.equal(c1.code, 4, c1.stderr + c1.stdout);
  assert.match(c1.stdout, /1 run not finished/);

  // The job script, run as Slurm runs an array task, on a node without node: exit 127, its log names the cause.
  const s = laaf(['sweep', f, '--slurm', '--out', 'S', '--no-plots'], dir);
  assert.equal(s.code, 0, s.stderr);
  const script = join(dir, 'S', 'sweep.sbatch');
  const text = readFileSync(script, 'utf8');
  assert.match(text, /^# LAAF_NODE: /m);
  assert.match(text, /^export LAAF_THREADS=\$\{LAAF_THREADS:-\$\{SLURM_CPUS_PER_TASK:-1\}\}$/m);
  const log = join(dir, 'S', 'logs', 'slurm-4242_1.out');
  const task = spawnSync('bash', ['-c', `bash "${script}" > "${log}" 2>&1`], {
    cwd: dir, env: { PATH: process.env['PATH']!, SLURM_ARRAY_TASK_ID: '1', SLURM_CPUS_PER_TASK: '1', LAAF_NODE: '/nonexistent/node' },
  });
  assert.equal(task.status, 127);
  const c2 = laaf(['sweep', f, '--collect', '--out', 'S', '--no-plots'], dir);
  assert.equal(c2.code, 4);
  const rows = readCsv(join(dir, 'S', 'sweep.csv'));
  assert.deepEqual(rows.map((r) => r['status']), ['completed', 'not started']);
  assert.match(rows[1]!['error']!, /^never started: see logs\/slurm-4242_1\.out: laaf: node not found at \/nonexistent\/node .*set LAAF_NODE/);

  // The same task with the node that wrote the script: it runs, with the allocation's CPUs as threads.
  const ok = spawnSync('bash', ['-c', `bash "${script}" > "${join(dir, 'S', 'logs', 'slurm-4243_1.out')}" 2>&1`], {
    cwd: dir, env: { PATH: process.env['PATH']!, SLURM_ARRAY_TASK_ID: '1', SLURM_CPUS_PER_TASK: '1' },
  });
  assert.equal(ok.status, 0, readFileSync(join(dir, 'S', 'logs', 'slurm-4243_1.out'), 'utf8'));
  const summary = JSON.parse(readFileSync(join(dir, 'S', 'runs', 'base', 's2', 'summary.json'), 'utf8'));
  assert.equal(summary.network.fused ? summary.network.threads : 1, 1, 'LAAF_THREADS from SLURM_CPUS_PER_TASK');
  const c3 = laaf(['sweep', f, '--collect', '--out', 'S', '--no-plots'], dir);
  assert.equal(c3.code, 0, c3.stdout);
});

test('--collect exits 4 for a diverged run, and its message appears once in sweep.csv', () => {
  const dir = tempDir();
  const f = sweepFile(dir, 10, 1);
  const r = laaf(['sweep', f, '--set', 'training.adam.lr=1e30', '--out', 'D', '--no-plots', '-q'], dir);
  assert.equal(r.code, 4, r.stderr);
  const c = laaf(['sweep', f, '--set', 'training.adam.lr=1e30', '--collect', '--out', 'D', '--no-plots', '-q'], dir);
  assert.equal(c.code, 4);
  const [row] = readCsv(join(dir, 'D', 'sweep.csv'));
  assert.equal(row!['status'], 'diverged');
  assert.equal(row!['error']!.match(/loss is \S+ at step \d+/g)?.length, 1, row!['error']);
});

test('an --index task passes SIGTERM to its run, which saves; the task records it (logs/*.json, result line, exit 130)', async () => {
  const dir = tempDir();
  const f = sweepFile(dir, 100_000, 1);
  const task = spawn(process.execPath, [bin, 'sweep', f, '--index', '0', '--out', 'X', '--no-plots'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  task.stdout.on('data', (b) => (out += String(b)));
  task.stderr.on('data', (b) => (out += String(b)));
  const run = join(dir, 'X', 'runs', 'base', 's1');
  await until(() => existsSync(join(run, 'checkpoint.json')), 'the first checkpoint');
  // Only the task gets the signal (as from scancel --batch); its run is a separate process.
  const code = new Promise((r) => task.on('close', (c) => r(c)));
  task.kill('SIGTERM');
  assert.equal(await code, 130, out);
  const rec = JSON.parse(readFileSync(join(dir, 'X', 'logs', 'base', 's1.json'), 'utf8'));
  assert.equal(rec.exit_code, 130);
  const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
  assert.equal(summary.status, 'interrupted');
  assert.equal(summary.checkpoint_step, summary.steps, 'a checkpoint at the step where it stopped');
  assert.match(out, /runs\/base\/s1 \(seed \d+\): interrupted/);
  const rows = readCsv((laaf(['sweep', f, '--collect', '--out', 'X', '--no-plots'], dir), join(dir, 'X', 'sweep.csv')));
  assert.equal(rows[0]!['status'], 'interrupted');
  assert.notEqual(rows[0]!['steps'], '');
});

test('a second sweep into a sweep directory that a running sweep holds is refused with exit 2', async () => {
  const dir = tempDir();
  const f = sweepFile(dir, 100_000, 1);
  const first = spawn(process.execPath, [bin, 'sweep', f, '--out', 'L', '--no-plots', '-q', '--jobs', '1'], { cwd: dir, stdio: 'ignore' });
  const run = join(dir, 'L', 'runs', 'base', 's1');
  await until(() => existsSync(join(run, 'checkpoint.json')), 'the first checkpoint');
  const again = laaf(['sweep', f, '--out', 'L', '--no-plots', '-q'], dir);
  assert.equal(again.code, 2, again.stderr);
  assert.match(again.stderr, new RegExp(`^laaf: error: L is in use by laaf \\(pid ${first.pid} `));
  const task = laaf(['sweep', f, '--index', '0', '--out', 'L', '--no-plots', '-q'], dir);
  assert.equal(task.code, 2, task.stderr);
  assert.match(task.stderr, /is in use by laaf/);
  const code = new Promise((r) => first.on('close', (c) => r(c)));
  first.kill('SIGTERM');
  assert.equal(await code, 130);
  assert.deepEqual(readdirSync(join(dir, 'L')).filter((n) => n.startsWith('.')), [], 'lock released');
  assert.equal(JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8')).status, 'interrupted');
});

test('a sweep on a terminal shows runs done / running / failed and an ETA', (t) => {
  if (spawnSync('script', ['--version']).status !== 0) {
    t.skip('no `script` to give laaf a terminal');
    return;
  }
  const dir = tempDir();
  const f = sweepFile(dir, 10, 2);
  const r = spawnSync('script', ['-qec', `${process.execPath} ${bin} sweep ${f} --out T --no-plots --jobs 1`, '/dev/null'], { cwd: dir, encoding: 'utf8', env: { ...process.env, COLUMNS: '200' } });
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /0\/2 runs done \| 1 running \| 0 failed \| ETA –/);
  assert.match(r.stdout, /1\/2 runs done \| 1 running \| 0 failed \| ETA \d+ s/);
  assert.match(r.stdout, /2\/2 runs done \| 0 running \| 0 failed/);
  assert.match(r.stdout, /\[2\/2\] runs\/base\/s2 \(seed \d+\): completed/);
});
