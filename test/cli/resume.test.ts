/**
 * Surviving faults: a run killed with SIGKILL (once in the Adam phase, once in the
 * L-BFGS phase) and resumed ends with the same history and weights as an uninterrupted
 * run; SIGINT finishes the step, checkpoints and exits 130; a non-finite loss stops the
 * run with status `diverged`, exit 3, naming step and term, keeping the last checkpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { POISSON_1D, laaf, readCsv, repoRoot, tempDir, type CsvRow as Row } from '../helpers.js';

/** Adam with a step schedule, resampling and refinement, then L-BFGS: every kind of state a checkpoint holds. */
const SPEC = `name: resume
inputs: { x: [-1, 1], t: [0, 1] }
outputs: [u]
constants: { nu: 0.01/pi }
equations:
  burgers: u_t + u*u_x = nu*u_xx
conditions:
  initial: { on: t = 0, require: u = -sin(pi*x), points: 40 }
  walls:   { on: [x = -1, x = 1], require: u = 0, points: 20 }
model: { hidden: [10, 10], adaptive: { mode: layer, n: 5 }, slope_recovery: 1 }
sampling: { interior: 200 }
reference: { builtin: burgers-cole-hopf }
training:
  seed: 5
  adam: { lr: 0.01, steps: 160, schedule: { kind: step, every: 50, factor: 0.5 } }
  lbfgs: { max_iterations: 160, history: 10 }
  log_every: 10
  checkpoint_every: 20
  resample: { every: 40 }
  refine: { every: 60, candidates: 300, add: 20 }
output: { grid: { x: 21, t: 11 } }
`;

const withoutTime = (rows: Row[]) => rows.map(({ elapsed_s: _, ...rest }) => rest);
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

function start(args: string[], cwd: string): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'laaf.js'), ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b) => (stderr += String(b)));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
  return { child, done };
}

/** The checkpoint's phase and step, or undefined while there is none (it is replaced atomically, so always whole). */
function checkpointAt(dir: string): { phase: string; step: number } | undefined {
  const f = join(dir, 'checkpoint.json');
  if (!existsSync(f)) return undefined;
  const c = readJson(f);
  return { phase: c.train.phase, step: c.train.step };
}

async function until(cond: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

test('a run killed with SIGKILL in each phase and resumed matches an uninterrupted run', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'p.yaml'), SPEC);
  const full = laaf(['solve', 'p.yaml', '--out', 'full', '--quiet'], dir);
  assert.equal(full.code, 0, full.stderr);

  // Kill during Adam, after a checkpoint past the first resample and refinement.
  const a = start(['solve', 'p.yaml', '--out', 'cut', '--quiet'], dir);
  await until(() => (checkpointAt(join(dir, 'cut'))?.step ?? 0) >= 60 || a.child.exitCode !== null, 'an Adam checkpoint');
  a.child.kill('SIGKILL');
  const ra = await a.done;
  assert.equal(ra.signal, 'SIGKILL', 'the run was still training when killed');
  const c1 = checkpointAt(join(dir, 'cut'))!;
  assert.equal(c1.phase, 'adam');
  assert.equal(readJson(join(dir, 'cut', 'summary.json')).status, 'running');

  // Resume, and kill again during L-BFGS.
  const b = start(['solve', '--resume', 'cut', '--quiet'], dir);
  await until(() => { const c = checkpointAt(join(dir, 'cut')); return (c?.phase === 'lbfgs' && c.step >= 200) || b.child.exitCode !== null; }, 'an L-BFGS checkpoint');
  b.child.kill('SIGKILL');
  const rb = await b.done;
  assert.equal(rb.signal, 'SIGKILL', 'the resumed run was still training when killed');
  const c2 = checkpointAt(join(dir, 'cut'))!;
  assert.equal(c2.phase, 'lbfgs');
  // A kill may also cut a row in half: simulate one, the resume must drop it.
  writeFileSync(join(dir, 'cut', 'history.csv'), `${readFileSync(join(dir, 'cut', 'history.csv'), 'utf8')}${c2.step + 7},lbfgs,0.12`, { flag: 'w' });

  const r = laaf(['solve', '--resume', 'cut', '--quiet'], dir);
  assert.equal(r.code, 0, r.stderr);
  const hFull = readCsv(join(dir, 'full', 'history.csv'));
  const hCut = readCsv(join(dir, 'cut', 'history.csv'));
  assert.ok(hFull.some((h) => h['phase'] === 'lbfgs') && hFull.some((h) => h['phase'] === 'adam'));
  assert.deepEqual(withoutTime(hCut), withoutTime(hFull));
  const steps = hCut.map((h) => Number(h['step']));
  assert.deepEqual(steps, [...new Set(steps)].sort((p, q) => p - q), 'no step written twice');

  const sFull = readJson(join(dir, 'full', 'summary.json'));
  const sCut = readJson(join(dir, 'cut', 'summary.json'));
  assert.equal(sCut.status, 'completed');
  assert.deepEqual(sCut.resumed_from, [c1.step, c2.step]);
  assert.deepEqual(sCut.phases, sFull.phases);
  assert.equal(sCut.final.loss, sFull.final.loss);
  assert.equal(sCut.final.rel_l2, sFull.final.rel_l2);
  // The weights, bit for bit (base64 of the float32 bytes).
  assert.deepEqual(readJson(join(dir, 'cut', 'checkpoint.json')).train.variables, readJson(join(dir, 'full', 'checkpoint.json')).train.variables);
  assert.equal(readFileSync(join(dir, 'cut', 'solution.csv'), 'utf8'), readFileSync(join(dir, 'full', 'solution.csv'), 'utf8'));

  // A completed run has nothing to resume.
  const again = laaf(['solve', '--resume', 'cut'], dir);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /laaf: error: run cut has completed; there is nothing to resume/);
});

test('SIGINT finishes the step, writes a checkpoint and summary (interrupted), exits 130; the run resumes', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'p.yaml'), SPEC);
  const a = start(['solve', 'p.yaml', '--out', 'run', '--quiet'], dir);
  await until(() => (checkpointAt(join(dir, 'run'))?.step ?? 0) >= 40 || a.child.exitCode !== null, 'a checkpoint');
  a.child.kill('SIGINT');
  const r = await a.done;
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /stopping after this step/);
  const s = readJson(join(dir, 'run', 'summary.json'));
  assert.equal(s.status, 'interrupted');
  const hist = readCsv(join(dir, 'run', 'history.csv'));
  assert.equal(Number(hist.at(-1)!['step']), s.steps, 'the last row is the step it stopped at');
  assert.equal(s.checkpoint_step, s.steps, 'a checkpoint at the step it stopped at');
  assert.equal(checkpointAt(join(dir, 'run'))!.step, s.steps);
  assert.ok(s.steps < 320);
  assert.ok(existsSync(join(dir, 'run', 'solution.csv')));

  const res = laaf(['solve', '--resume', 'run', '--quiet'], dir);
  assert.equal(res.code, 0, res.stderr);
  const s2 = readJson(join(dir, 'run', 'summary.json'));
  assert.equal(s2.status, 'completed');
  assert.deepEqual(s2.resumed_from, [s.steps]);
  // Uninterrupted, the same rows — apart from the one the interruption added.
  const full = laaf(['solve', 'p.yaml', '--out', 'full', '--quiet'], dir);
  assert.equal(full.code, 0, full.stderr);
  const h = withoutTime(readCsv(join(dir, 'run', 'history.csv')));
  const hf = withoutTime(readCsv(join(dir, 'full', 'history.csv')));
  assert.deepEqual(h.filter((row) => !(Number(row['step']) === s.steps && Number(row['step']) % 10 !== 0)), hf);
  assert.equal(s2.final.loss, readJson(join(dir, 'full', 'summary.json')).final.loss);
});

test('a non-finite loss: status diverged, exit 3, step and term named, last finite checkpoint kept', () => {
  const dir = tempDir();
  // A huge learning rate: the first update sends the output weights to ~1e30 and the loss overflows float32.
  writeFileSync(join(dir, 'p.yaml'), `name: boom
${POISSON_1D}model: { hidden: [8] }
sampling: { interior: 32 }
training: { adam: { lr: 1.0e+30, steps: 50 }, log_every: 10, checkpoint_every: 1 }
`);
  const r = laaf(['solve', 'p.yaml', '--out', 'run'], dir);
  assert.equal(r.code, 3, r.stderr);
  const s = readJson(join(dir, 'run', 'summary.json'));
  assert.equal(s.status, 'diverged');
  assert.match(s.message, new RegExp(`^loss is (NaN|Infinity) at step ${s.steps} \\(terms? '(pde|ends)'`));
  assert.match(r.stderr, /laaf: training diverged: loss is \S+ at step \d+ \(term/);
  assert.ok(s.steps >= 1 && s.steps < 50);
  // The checkpoint is the last step with a finite loss, and holds finite weights.
  const c = readJson(join(dir, 'run', 'checkpoint.json'));
  assert.equal(c.train.step, s.steps - 1);
  assert.equal(s.checkpoint_step, s.steps - 1);
  for (const v of c.train.variables) {
    const b = Buffer.from(v.$f32, 'base64'); // small Buffers share a pool: take this one's bytes alone
    const a = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    assert.ok(a.length > 0);
    assert.ok(a.every(Number.isFinite));
  }
  const hist = readCsv(join(dir, 'run', 'history.csv'));
  assert.ok(hist.every((h) => Number.isFinite(Number(h['loss']))), 'no non-finite row in history.csv');

  // A residual that divides by zero at a grid point is caught at step 0, and names the term.
  writeFileSync(join(dir, 'q.yaml'), `name: div0
inputs: { x: [0, 1] }
outputs: [u]
equations:
  good: u_xx = 0
  bad: u = 1/(x - 0.5)
sampling: { method: grid, interior: 11 }
training: { adam: { steps: 10 } }
`);
  const q = laaf(['solve', 'q.yaml', '--out', 'q', '--quiet'], dir);
  assert.equal(q.code, 3, q.stderr);
  const sq = readJson(join(dir, 'q', 'summary.json'));
  assert.equal(sq.status, 'diverged');
  assert.equal(sq.steps, 0);
  assert.match(sq.message, /at step 0 \(term 'bad'\)/);
  assert.ok(!existsSync(join(dir, 'q', 'checkpoint.json')), 'no checkpoint of a non-finite state');
});

test('resume refuses what it cannot continue (exit 2, nothing written)', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'p.yaml'), SPEC);
  const missing = laaf(['solve', '--resume', 'nowhere'], dir);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /laaf: error: run directory nowhere does not exist/);
  const both = laaf(['solve', 'p.yaml', '--resume', 'nowhere'], dir);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--resume continues a run as it was specified/);
  const neither = laaf(['solve'], dir);
  assert.equal(neither.code, 2);
  assert.match(neither.stderr, /missing SPEC/);
  const notRun = laaf(['solve', '--resume', '.'], dir);
  assert.equal(notRun.code, 2);
  assert.match(notRun.stderr, /is not a laaf run directory/);
});
