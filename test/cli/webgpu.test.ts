/**
 * `laaf solve --backend webgpu` end to end, on whatever adapter this machine has (CI
 * installs Mesa's lavapipe, a software Vulkan driver; slow, so the runs are short):
 * a problem from problems/ for 20 steps on webgpu (the WGSL step path, `wgsl-step`) against
 * wasm, a lost device (clear error, checkpoint kept) resumed to a history bit for bit equal
 * to the uninterrupted run's, and no adapter at all (clear error, exit 2, nothing written).
 * Where the machine has no adapter the others say so in one line and skip. (Every problem
 * of problems/ runs 20 Adam steps on the GPU step against the wasm path in-process, in
 * test/gpu-step.test.ts; the tfjs-webgpu fallback is measured by bench/webgpu.ts.)
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { repoRoot, tempDir } from '../helpers.js';
import { closeBackend } from '../../src/backend/select.js';
import { probeAdapter } from '../../src/backend/webgpu.js';

const adapter = await probeAdapter();
await closeBackend();
const skip = adapter ? false : 'no WebGPU adapter on this machine (install a Vulkan driver, or Mesa lavapipe for testing)';
if (adapter) console.log(`webgpu CLI tests run on: ${adapter.vendor} ${adapter.architecture} ${adapter.device} (${adapter.description})`);
else console.log(`webgpu CLI tests skipped: ${skip}`);

const dir = tempDir('laaf-webgpu-');
const PROBLEM = join(repoRoot(), 'problems', 'poisson-1d.yaml');
const STEPS = 20;
const SETTINGS = ['--max-steps', String(STEPS), '--no-plots', '-q', '--set', 'training.log_every=1', '--set', 'training.checkpoint_every=5'];

function laaf(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'laaf.js'), ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
type Row = Record<string, string>;
const history = (run: string): Row[] => parseCsv(readFileSync(join(dir, run, 'history.csv'), 'utf8'), { columns: true }) as Row[];
const summary = (run: string) => JSON.parse(readFileSync(join(dir, run, 'summary.json'), 'utf8'));
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-30, Math.abs(b));

/** The worst relative difference of every loss column of every step. */
function worstDifference(a: Row[], b: Row[]): { worst: number; where: string } {
  assert.equal(a.length, b.length);
  let worst = 0;
  let where = '';
  const cols = Object.keys(a[0]!).filter((c) => !['step', 'phase', 'elapsed_s', 'lr'].includes(c));
  for (let i = 0; i < a.length; i++) {
    for (const c of cols) {
      const d = rel(Number(a[i]![c]), Number(b[i]![c]));
      if (d > worst) [worst, where] = [d, `step ${a[i]!['step']} ${c}: ${a[i]![c]} vs ${b[i]![c]}`];
    }
  }
  return { worst, where };
}

let gpuRun: { runsPerStep: number } | undefined;

test('webgpu: poisson-1d for 20 steps on the WGSL step matches wasm; summary.json names the adapter, the path and the per-step GPU counts', { skip }, () => {
  const w = laaf(['solve', PROBLEM, '--backend', 'wasm', '--out', 'wasm', ...SETTINGS]);
  assert.equal(w.code, 0, w.stderr);
  const g = laaf(['solve', PROBLEM, '--backend', 'webgpu', '--out', 'gpu', ...SETTINGS]);
  assert.equal(g.code, 0, g.stderr);
  const s = summary('gpu');
  assert.equal(s.backend, 'webgpu');
  assert.deepEqual(s.adapter, adapter);
  assert.equal(s.step_path.ran, 'wgsl-step', JSON.stringify(s.step_path));
  assert.equal(s.gpu.steps, STEPS);
  assert.ok(s.gpu.dispatches_per_step >= 8 && s.gpu.bytes_read_per_step > 0, JSON.stringify(s.gpu));
  console.log(`webgpu per step, logging every step (WGSL step; the log rows' errors and slopes run tfjs kernels): ${s.gpu.kernel_calls_per_step} kernel calls, ${s.gpu.dispatches_per_step} dispatches, ${s.gpu.reads_per_step} reads, ${s.gpu.bytes_read_per_step} bytes read back`);
  // the test hook counts tfjs kernel runs and GPU step evaluations (one per Adam step)
  gpuRun = { runsPerStep: s.gpu.kernel_calls_per_step + 1 };
  // float32 on both; the GPU sums rows, points and terms in another order.
  const { worst, where } = worstDifference(history('gpu'), history('wasm'));
  console.log(`webgpu vs wasm, every loss term of ${STEPS + 1} steps: worst relative difference ${worst.toExponential(2)} at ${where} (tolerance 1e-4)`);
  assert.ok(worst < 1e-4, where);
});

test('webgpu: a lost device stops the run with a clear error and keeps its checkpoint; --resume finishes it as an uninterrupted run', { skip }, () => {
  assert.ok(gpuRun, 'needs the run of the previous test');
  // Lose the device in step 12 (the test hook destroys it after this many kernel runs and evaluations).
  const loseAfter = Math.round(gpuRun.runsPerStep * 12.5);
  const r = laaf(['solve', PROBLEM, '--backend', 'webgpu', '--out', 'lost', ...SETTINGS], { LAAF_WEBGPU_LOSE_AFTER: String(loseAfter) });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /laaf: error: the GPU device was lost \(destroyed.*checkpoint\.json keeps step 10; continue with laaf solve --resume /);
  assert.ok(existsSync(join(dir, 'lost', 'checkpoint.json')));
  const c = laaf(['solve', '--resume', 'lost', '--no-plots', '-q']);
  assert.equal(c.code, 0, c.stderr);
  assert.deepEqual(summary('lost').resumed_from, [10]);
  const { worst, where } = worstDifference(history('lost'), history('gpu'));
  console.log(`webgpu lost at step 12 and resumed from 10 vs uninterrupted: worst relative difference ${worst.toExponential(2)}${where ? ` at ${where}` : ''} (bit for bit expected)`);
  assert.equal(summary('lost').step_path.ran, 'wgsl-step');
  assert.equal(worst, 0, where);
  assert.equal(readFileSync(join(dir, 'lost', 'solution.csv'), 'utf8'), readFileSync(join(dir, 'gpu', 'solution.csv'), 'utf8'));
});

test('webgpu: Adam then L-BFGS on the WGSL step (L-BFGS evaluates through the GPU step) matches wasm', { skip }, () => {
  const set = ['--no-plots', '-q', '--set', 'training.log_every=1', '--set', 'training.adam.steps=5', '--set', 'training.lbfgs.max_iterations=8'];
  const w = laaf(['solve', PROBLEM, '--backend', 'wasm', '--out', 'lbfgs-wasm', ...set]);
  assert.equal(w.code, 0, w.stderr);
  const g = laaf(['solve', PROBLEM, '--backend', 'webgpu', '--out', 'lbfgs-gpu', ...set]);
  assert.equal(g.code, 0, g.stderr);
  assert.equal(summary('lbfgs-gpu').step_path.ran, 'wgsl-step');
  const h = history('lbfgs-gpu');
  assert.ok(h.some((r) => r['phase'] === 'lbfgs'), 'an L-BFGS phase ran');
  const { worst, where } = worstDifference(h, history('lbfgs-wasm'));
  console.log(`webgpu vs wasm, 5 Adam steps + 8 L-BFGS iterations: worst relative difference ${worst.toExponential(2)} at ${where} (tolerance 1e-3: L-BFGS steps amplify float32 rounding differences more than Adam's)`);
  assert.ok(worst < 1e-3, where);
});

test('webgpu without an adapter: exit 2 naming what to install, nothing written', () => {
  // Point the Vulkan loader at a driver list that does not exist.
  const r = laaf(['solve', PROBLEM, '--backend', 'webgpu', '--out', 'none', ...SETTINGS], { VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json' });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /laaf: error: no WebGPU adapter found .* — install a GPU driver with Vulkan support.*lavapipe/);
  assert.ok(!existsSync(join(dir, 'none')));
});

test('webgpu with training.precision float64: exit 2 at the key (the GPU path is float32), nothing written', { skip }, () => {
  const r = laaf(['solve', PROBLEM, '--backend', 'webgpu', '--out', 'f64', ...SETTINGS, '--set', 'training.precision=float64']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /laaf: error: --set training\.precision=float64: float64 runs only on the whole-step path, which cannot run here: backend webgpu/);
  assert.ok(!existsSync(join(dir, 'f64')));
});

after(() => closeBackend());
