/**
 * WebGPU rows of `npm run bench`: ms per Adam step of the Burgers PINN on `--backend
 * webgpu`, with the kernel calls, compute dispatches and bytes read back per step, on two
 * paths through the real pipeline (spec → problem → Mlp → PinnLoss):
 *  - `wgsl-step` (what training runs when it supports the spec): the GPU step of
 *    src/step/wgsl-step.ts with parameters, gradient and Adam moments resident on the
 *    device, K steps submitted back to back and one loss read at the end (which waits for
 *    the GPU): ms = (time of the K steps + that read) / K; the counts are those of the K
 *    steps alone (the read is what a logged step adds: 4·(terms + 2) bytes);
 *  - `tfjs` (the fallback, LAAF_WGSL_STEP=0): tfjs-backend-webgpu kernels in the GPU
 *    worker, the step bench.ts times (loss + gradients by tf.variableGrads + Adam +
 *    reading the loss), median of the steps.
 *
 *   node dist/bench/webgpu.js [--steps N] [--nvidia] [--write FILE]
 *
 * On a software adapter (Mesa's lavapipe) the times are a CPU emulating a GPU: they show
 * that the path runs and how many dispatches it makes, not GPU speed; the default cases
 * are small for that reason. --nvidia runs the prepared GPU comparison (not yet run on a
 * GPU): Burgers 6×20 with 10k + 400 points and the matrix up to 50×8 × 200k points, each
 * beside PyTorch on CUDA (../shared/bench/torch_burgers_step.py --device cuda).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, TORCH_SCRIPT } from './root.js';

interface GpuCase { width: number; depth: number; points: number; boundary: number; steps: number; warmup: number; path: 'wgsl' | 'tfjs' }
interface GpuResult {
  ms: number | null;
  kernels?: number;
  dispatches?: number;
  bytesRead?: number;
  adapter?: { vendor: string; architecture: string; device: string; description: string };
  note?: string;
}


async function child(c: GpuCase): Promise<void> {
  const tf = await import('@tensorflow/tfjs-core');
  const { selectBackend, closeBackend, backendCounters } = await import('../src/backend/select.js');
  const { loadSpec } = await import('../src/spec/load.js');
  const { buildProblem, samplePoints } = await import('../src/problem/build.js');
  const { mlpConfig } = await import('../src/run/solve.js');
  const { Mlp } = await import('../src/nn/mlp.js');
  const { PinnLoss } = await import('../src/train/loss.js');
  const { AdamOptimizer } = await import('../src/train/adam-optimizer.js');
  const { Rng } = await import('../src/domain/rng.js');
  const info = await selectBackend('webgpu');
  const half = Math.round(c.boundary / 2);
  const set = [
    `sampling.interior=${c.points}`, `conditions.initial.points=${half}`, `conditions.walls.points=${c.boundary - half}`,
    `model.hidden=[${new Array(c.depth).fill(c.width).join(',')}]`, 'model.adaptive.mode=neuron', 'model.slope_recovery=1',
  ];
  const spec = loadSpec(join(ROOT, 'problems', 'burgers.yaml'), { set }).spec;
  const problem = buildProblem(spec, { baseDir: join(ROOT, 'problems') });
  const rng = new Rng(1234);
  const model = new Mlp(mlpConfig(spec, problem), rng.derive('model'));
  const points = samplePoints(problem, rng.derive('points'));
  const loss = new PinnLoss(problem, model, points, { weight: 1, form: 'paper' });
  const vars = loss.variables();
  if (c.path === 'wgsl') {
    const { GpuWholeStep } = await import('../src/step/wgsl-step.js');
    const { readFlat } = await import('../src/train/flat.js');
    const g = new GpuWholeStep(problem, model, points, { weight: 1, form: 'paper' });
    g.upload(Float32Array.from(readFlat(vars)));
    const steps = (k: number) => {
      for (let i = 0; i < k; i++) {
        g.evaluateResident(false);
        g.adamApply(8e-4);
      }
    };
    steps(c.warmup);
    g.valuesResident();
    const before = (await backendCounters())!;
    const t0 = performance.now();
    steps(c.steps);
    const mid = (await backendCounters())!;
    g.valuesResident();
    const ms = (performance.now() - t0) / c.steps;
    const per = (k: 'kernels' | 'dispatches' | 'bytesRead') => (mid[k] - before[k]) / c.steps;
    process.stdout.write(`${JSON.stringify({ ms, kernels: per('kernels'), dispatches: per('dispatches'), bytesRead: per('bytesRead'), adapter: info.adapter } satisfies GpuResult)}\n`);
    await closeBackend();
    return;
  }
  const adam = new AdamOptimizer(vars);
  const step = () => tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => loss.compute().total, vars);
    value.dataSync();
    adam.apply(vars.map((v) => grads[v.name]!), 8e-4);
  });
  for (let i = 0; i < c.warmup; i++) step();
  const before = (await backendCounters())!;
  const times: number[] = [];
  for (let i = 0; i < c.steps; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  const after = (await backendCounters())!;
  times.sort((a, b) => a - b);
  const per = (k: 'kernels' | 'dispatches' | 'bytesRead') => (after[k] - before[k]) / c.steps;
  process.stdout.write(`${JSON.stringify({ ms: times[Math.floor(times.length / 2)] ?? null, kernels: per('kernels'), dispatches: per('dispatches'), bytesRead: per('bytesRead'), adapter: info.adapter } satisfies GpuResult)}\n`);
  await closeBackend();
}

function run(c: GpuCase): GpuResult {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify(c)], { encoding: 'utf8', timeout: 3_600_000, cwd: ROOT });
  try {
    return JSON.parse((r.stdout ?? '').trim().split('\n').pop() ?? '') as GpuResult;
  } catch {
    const err = (r.stderr ?? '').split('\n').filter((l) => l.startsWith('laaf: error') || /Error/.test(l)).slice(-1)[0];
    return { ms: null, note: err ?? `failed (exit ${r.status})` };
  }
}

function torchCuda(c: GpuCase): number | null {
  if (!existsSync(TORCH_SCRIPT)) return null;
  const args = ['--width', c.width, '--depth', c.depth, '--points', c.points, '--boundary', c.boundary, '--steps', Math.max(c.steps, 10),
    '--adaptive', 'neuron', '--n', 10, '--device', 'cuda'].map(String);
  const r = spawnSync(process.env.LAAF_PYTHON ?? 'python3', [TORCH_SCRIPT, ...args], { encoding: 'utf8', timeout: 3_600_000 });
  const m = /ms_per_step=([\d.]+)/.exec(r.stdout ?? '');
  return m ? Number(m[1]) : null;
}

const fmt = (v: number | null | undefined, d = 1) => (v === null || v === undefined ? '—' : v.toFixed(d));

/**
 * The webgpu section of `npm run bench` (lines of Markdown). No adapter: one line saying so.
 * `nvidia`: the prepared GPU comparison with PyTorch CUDA.
 */
export function webgpuSection(opts: { steps?: number; nvidia?: boolean } = {}): string[] {
  const out: string[] = ['## WebGPU (`--backend webgpu`: the WGSL step, and the tfjs-backend-webgpu fallback)', ''];
  const probe = spawnSync(process.execPath, [join(ROOT, 'scripts', 'webgpu-adapter.mjs')], { encoding: 'utf8' });
  if (probe.status !== 0) return [...out, 'No WebGPU adapter on this machine: no webgpu rows (install a Vulkan driver, or Mesa lavapipe for testing).', ''];
  const adapter = JSON.parse(probe.stdout) as { vendor: string; architecture: string; device: string; description: string };
  out.push(`Adapter: ${adapter.description} (vendor ${adapter.vendor}, architecture ${adapter.architecture}, device ${adapter.device}).`);
  if (adapter.architecture === 'software') out.push('A software rasteriser (a CPU emulating a GPU): these times say that the path runs and how many dispatches it makes, not what a GPU does.');
  const steps = opts.steps ?? (opts.nvidia ? 20 : 2);
  out.push(`N-LAAF (n = 10) + slope recovery, tanh, Burgers; ms per Adam step over ${steps} steps after a warm-up (wgsl: K steps back to back + one loss read, / K; tfjs: median); per step: tfjs kernel calls to the GPU thread, compute dispatches, bytes read back (an unlogged step).`);
  out.push('');
  const cases: GpuCase[] = [];
  if (opts.nvidia) {
    // the Burgers size on both paths; the matrix on the WGSL step
    cases.push({ width: 20, depth: 6, points: 10000, boundary: 400, steps, warmup: 3, path: 'wgsl' });
    cases.push({ width: 20, depth: 6, points: 10000, boundary: 400, steps, warmup: 3, path: 'tfjs' });
    for (const width of [20, 50]) for (const depth of [4, 8]) for (const points of [2000, 10000, 40000, 200000]) cases.push({ width, depth, points, boundary: 400, steps, warmup: 2, path: 'wgsl' });
  } else {
    for (const path of ['wgsl', 'tfjs'] as const) {
      cases.push({ width: 20, depth: 2, points: 500, boundary: 100, steps, warmup: 1, path });
      cases.push({ width: 20, depth: 6, points: 2000, boundary: 400, steps, warmup: 1, path });
    }
  }
  out.push(`| path | width | depth | points | webgpu ms | kernel calls | dispatches | bytes read |${opts.nvidia ? ' torch cuda ms | torch / webgpu |' : ''}`);
  out.push(`|---|---|---|---|---|---|---|---|${opts.nvidia ? '---|---|' : ''}`);
  for (const c of cases) {
    const r = run(c);
    let row = `| ${c.path === 'wgsl' ? 'wgsl-step' : 'tfjs kernels'} | ${c.width} | ${c.depth} | ${c.points} + ${c.boundary} | ${fmt(r.ms)} | ${fmt(r.kernels, 0)} | ${fmt(r.dispatches, 0)} | ${fmt(r.bytesRead, 0)} |`;
    if (opts.nvidia) {
      const t = torchCuda(c);
      row += ` ${fmt(t)} | ${t !== null && r.ms ? `${(t / r.ms).toFixed(2)}×` : '—'} |`;
    }
    out.push(row + (r.note ? ` ${r.note}` : ''));
    process.stderr.write(`${row}\n`);
  }
  out.push('');
  return out;
}

const argv = process.argv.slice(2);
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const ci = argv.indexOf('--child');
  if (ci >= 0) {
    await child(JSON.parse(argv[ci + 1]!) as GpuCase);
  } else {
    const si = argv.indexOf('--steps');
    const lines = webgpuSection({ nvidia: argv.includes('--nvidia'), ...(si >= 0 ? { steps: Number(argv[si + 1]) } : {}) });
    process.stdout.write(`Run: ${new Date().toISOString()}\n\n${lines.join('\n')}\n`);
    const wi = argv.indexOf('--write');
    if (wi >= 0) writeFileSync(argv[wi + 1]!, `Run: ${new Date().toISOString()}\n\n${lines.join('\n')}\n`);
  }
}
