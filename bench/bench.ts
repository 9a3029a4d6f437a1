/**
 * `npm run bench`: ms per Adam step of a Burgers PINN on every available path, beside
 * the PyTorch peer (../shared/bench/torch_burgers_step.py) run in the same invocation.
 *
 * Each case runs in its own child process (so peak memory — max RSS — is the case's own):
 * the child builds problems/burgers.yaml with the case's sizes through the real pipeline
 * (spec → problem → Mlp → PinnLoss → AdamOptimizer), takes `warmup` steps, then times
 * `steps` steps (one step = loss + gradients by tf.variableGrads + the Adam update + reading
 * the loss, as the trainer does) and reports the median.
 *
 * Paths: fused (the SIMD kernel, src/kernel/, on the wasm backend, all threads and 1 thread),
 * wasm composite (tfjs-wasm ops, the kernel off), cpu composite, cpu fused, torch (1 and 2
 * threads) when python3 can import torch, tensorflow when @tensorflow/tfjs-node is installed.
 *
 *   node dist/bench/bench.js [--quick] [--no-matrix] [--write FILE] [--steps N]
 *
 * The machine is shared: absolute times move with the load; compare ratios within one run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wholeStepSection } from './whole-step.js';
import { webgpuSection } from './webgpu.js';
import { ROOT, TORCH_SCRIPT } from './root.js';

interface Case {
  path: string; // display name
  kind: 'laaf' | 'torch';
  backend?: 'wasm' | 'cpu' | 'tensorflow';
  fused?: boolean;
  threads?: number; // kernel threads (laaf) or torch threads
  width: number;
  depth: number;
  points: number;
  boundary: number;
  adaptive: 'neuron' | 'none';
  steps: number;
  warmup: number;
}

interface Result { ms: number | null; maxRssMb: number | null; note?: string }


// ---------------------------------------------------------------------------------- child

async function runChild(c: Case): Promise<void> {
  if (c.threads !== undefined) process.env.LAAF_THREADS = String(c.threads);
  const tf = await import('@tensorflow/tfjs-core');
  const { selectBackend } = await import('../src/backend/select.js');
  const { loadSpec } = await import('../src/spec/load.js');
  const { buildProblem, samplePoints } = await import('../src/problem/build.js');
  const { mlpConfig } = await import('../src/run/solve.js');
  const { Mlp } = await import('../src/nn/mlp.js');
  const { PinnLoss } = await import('../src/train/loss.js');
  const { AdamOptimizer } = await import('../src/train/adam-optimizer.js');
  const { Rng } = await import('../src/domain/rng.js');

  await selectBackend(c.backend ?? 'wasm');
  const half = Math.round(c.boundary / 2);
  const set = [
    `sampling.interior=${c.points}`,
    `conditions.initial.points=${half}`,
    `conditions.walls.points=${c.boundary - half}`,
    `model.hidden=[${new Array(c.depth).fill(c.width).join(',')}]`,
    `model.adaptive.mode=${c.adaptive}`,
    `model.slope_recovery=${c.adaptive === 'none' ? 0 : 1}`,
  ];
  const spec = loadSpec(join(ROOT, 'problems', 'burgers.yaml'), { set }).spec;
  const problem = buildProblem(spec, { baseDir: join(ROOT, 'problems') });
  const rng = new Rng(1234);
  const model = new Mlp(mlpConfig(spec, problem), rng.derive('model'));
  const points = samplePoints(problem, rng.derive('points'));
  const loss = new PinnLoss(problem, model, points, { weight: c.adaptive === 'none' ? 0 : 1, form: 'paper' }, c.fused ? {} : { kernelsOff: 'bench: composite' });
  const vars = loss.variables();
  const adam = new AdamOptimizer(vars);
  let last = NaN;
  const step = () => {
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => loss.compute().total, vars);
      last = value.dataSync()[0]!;
      adam.apply(vars.map((v) => grads[v.name]!), 8e-4);
    });
  };
  for (let i = 0; i < c.warmup; i++) step();
  const times: number[] = [];
  for (let i = 0; i < c.steps; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)]!;
  const fusedUsed = (await import('../src/kernel/fused.js').catch(() => null))?.fusedStats?.() ?? null;
  process.stdout.write(`${JSON.stringify({ ms, maxRssMb: process.resourceUsage().maxRSS / 1024, loss: last, pointCount: loss.pointCount, fused: fusedUsed })}\n`);
}

// ---------------------------------------------------------------------------------- parent

function run(c: Case): Result {
  if (c.kind === 'torch') {
    const args = ['--width', c.width, '--depth', c.depth, '--points', c.points, '--boundary', c.boundary,
      '--steps', c.steps, '--threads', c.threads ?? 1, '--adaptive', c.adaptive, '--n', 10].map(String);
    const py = `import resource, runpy, sys\nsys.argv = [${JSON.stringify(TORCH_SCRIPT)}] + ${JSON.stringify(args)}\n` +
      `runpy.run_path(sys.argv[0], run_name='__main__')\nprint('maxrss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n`;
    const r = spawnSync(PYTHON, ['-c', py], { encoding: 'utf8', timeout: 1_800_000 });
    const m = /ms_per_step=([\d.]+)/.exec(r.stdout ?? '');
    const k = /maxrss_kb (\d+)/.exec(r.stdout ?? '');
    if (!m) return { ms: null, maxRssMb: null, note: `torch failed: ${(r.stderr ?? '').trim().split('\n').pop()}` };
    return { ms: Number(m[1]), maxRssMb: k ? Number(k[1]) / 1024 : null };
  }
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify(c)], { encoding: 'utf8', timeout: 1_800_000, cwd: ROOT });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    const j = JSON.parse(line) as { ms: number; maxRssMb: number };
    return { ms: j.ms, maxRssMb: j.maxRssMb };
  } catch {
    return { ms: null, maxRssMb: null, note: `failed: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}` };
  }
}

let PYTHON = 'python3';

/** torch's version, from the first of LAAF_PYTHON, /usr/bin/python3 (Debian's python3-torch), python3 that imports it. */
function torchAvailable(): string | null {
  if (!existsSync(TORCH_SCRIPT)) return null;
  for (const py of [process.env.LAAF_PYTHON, '/usr/bin/python3', 'python3']) {
    if (!py) continue;
    const r = spawnSync(py, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) {
      PYTHON = py;
      return r.stdout.trim();
    }
  }
  return null;
}

function tensorflowAvailable(): boolean {
  for (const p of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) if (existsSync(join(ROOT, 'node_modules', p))) return true;
  return false;
}

const fmt = (v: number | null, d = 1) => (v === null ? '—' : v.toFixed(d));
const ratio = (a: number | null, b: number | null) => (a === null || b === null ? '—' : `${(a / b).toFixed(2)}×`);

async function main(argv: string[]): Promise<void> {
  const ci = argv.indexOf('--child');
  if (ci >= 0) return runChild(JSON.parse(argv[ci + 1]!) as Case);
  const quick = argv.includes('--quick');
  const matrix = !argv.includes('--no-matrix');
  const wi = argv.indexOf('--write');
  const oi = argv.indexOf('--only');
  const only = oi >= 0 ? argv[oi + 1]! : null;
  const writeTo = wi >= 0 ? argv[wi + 1]! : (quick || only ? null : join(ROOT, 'BENCHMARKS.md'));
  const si = argv.indexOf('--steps');
  const steps = si >= 0 ? Number(argv[si + 1]) : quick ? 5 : 20;
  const torch = torchAvailable();
  const threads = availableParallelism();
  const lines: string[] = [];
  const say = (s = '') => {
    lines.push(s);
    process.stdout.write(`${s}\n`);
  };

  await wholeStepSection({ say, run, torch: torch !== null, quick });
  if (only === 'whole-step') return;
  const base = { width: 20, depth: 6, points: 10000, boundary: 400, warmup: 3 };
  say(`## Burgers 6×20, ${base.points} interior + ${base.boundary} boundary points, channels x, t, xx`);
  say();
  say(`Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${threads} threads available; node ${process.version}; torch ${torch ?? 'not installed'}.`);
  say(`ms per Adam step, median of ${steps} timed steps after 3 warm-up steps; "× fused" = this path's time / the fused kernel's.`);
  say();
  const paths: Case[] = [];
  for (const adaptive of ['neuron', 'none'] as const) {
    const common = { ...base, adaptive, kind: 'laaf' as const, steps };
    paths.push({ ...common, path: `fused kernel, wasm backend, ${threads} threads`, backend: 'wasm', fused: true });
    if (threads > 1) paths.push({ ...common, path: 'fused kernel, wasm backend, 1 thread', backend: 'wasm', fused: true, threads: 1 });
    paths.push({ ...common, path: 'wasm composite (tfjs ops)', backend: 'wasm', fused: false });
    paths.push({ ...common, path: `fused kernel, cpu backend, ${threads} threads`, backend: 'cpu', fused: true });
    paths.push({ ...common, path: 'cpu composite (tfjs ops)', backend: 'cpu', fused: false, steps: quick ? 2 : 4, warmup: 1 });
    if (tensorflowAvailable()) paths.push({ ...common, path: 'tensorflow composite', backend: 'tensorflow', fused: false });
    if (torch) {
      paths.push({ ...common, kind: 'torch', path: 'PyTorch, nested autograd, 1 thread', threads: 1 });
      if (threads > 1) paths.push({ ...common, kind: 'torch', path: `PyTorch, nested autograd, ${threads} threads`, threads });
    }
  }
  for (const adaptive of ['neuron', 'none'] as const) {
    say(`### ${adaptive === 'neuron' ? 'N-LAAF (n = 10) + slope recovery' : 'fixed tanh'}`);
    say();
    say('| path | ms/step | × fused | peak RSS MB |');
    say('|---|---|---|---|');
    const cases = paths.filter((p) => p.adaptive === adaptive);
    const results = cases.map((c) => ({ c, r: run(c) }));
    const fusedMs = results[0]!.r.ms;
    for (const { c, r } of results) say(`| ${c.path} | ${fmt(r.ms)} | ${ratio(r.ms, fusedMs)} | ${fmt(r.maxRssMb, 0)} |${r.note ? ` ${r.note}` : ''}`);
    say();
    const find = (prefix: string) => results.find((x) => x.c.path.startsWith(prefix))?.r.ms ?? null;
    const best = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
    const torchBest = best(find('PyTorch, nested autograd, 1'), find(`PyTorch, nested autograd, ${threads}`));
    say(`Fused kernel: ${ratio(find('wasm composite'), fusedMs)} faster than the wasm composite path, ` +
      `${ratio(torchBest, fusedMs)} faster than PyTorch's best thread count (targets: 10× and 2×, goal 3×).`);
    say();
  }

  if (matrix) {
    say('## Matrix: N-LAAF (n = 10) + slope recovery, tanh, 400 boundary points');
    say();
    say(`ms per Adam step (median; fused ${quick ? 3 : 8} steps, the others 3) and peak RSS (MB); fused on ${threads} threads, torch on 1 thread.` +
      (quick ? ' --quick skips the wasm composite path at 40k points.' : ''));
    say();
    say('| width | depth | points | fused ms | fused MB | wasm composite ms | composite MB | torch ms | torch MB | composite / fused | torch / fused |');
    say('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const width of [20, 50]) for (const depth of [4, 8]) for (const points of [2000, 10000, 40000]) {
      const common = { width, depth, points, boundary: 400, adaptive: 'neuron' as const, warmup: 1, steps: 3 };
      const f = run({ ...common, kind: 'laaf', path: 'fused', backend: 'wasm', fused: true, warmup: 2, steps: quick ? 3 : 8 });
      const w = quick && points > 10000 ? { ms: null, maxRssMb: null } : run({ ...common, kind: 'laaf', path: 'wasm', backend: 'wasm', fused: false });
      const t1 = torch ? run({ ...common, kind: 'torch', path: 'torch', threads: 1 }) : { ms: null, maxRssMb: null };
      say(`| ${width} | ${depth} | ${points} | ${fmt(f.ms)} | ${fmt(f.maxRssMb, 0)} | ${fmt(w.ms)} | ${fmt(w.maxRssMb, 0)} | ${fmt(t1.ms)} | ${fmt(t1.maxRssMb, 0)} | ${ratio(w.ms, f.ms)} | ${ratio(t1.ms, f.ms)} |`);
    }
    say();
  }
  for (const l of webgpuSection()) say(l);
  if (writeTo) {
    const head = [
      '# Benchmarks',
      '',
      'Written by `npm run bench` (bench/bench.ts). The machine is shared with other jobs, so',
      'absolute times move from run to run; the ratios within one run are what to compare.',
      '',
      `Run: ${new Date().toISOString()}.`,
      '',
    ];
    // Notes kept by hand after the marker survive a new run.
    const MARK = '<!-- notes below are kept by npm run bench -->';
    const old = existsSync(writeTo) ? readFileSync(writeTo, 'utf8') : '';
    const kept = old.includes(MARK) ? old.slice(old.indexOf(MARK)) : `${MARK}\n`;
    writeFileSync(writeTo, `${[...head, ...lines].join('\n')}\n${kept}`);
    process.stdout.write(`wrote ${writeTo}\n`);
  }
}

await main(process.argv.slice(2));
if (!process.argv.includes('--child')) await (await import('./deep.js')).runFromBench(process.argv.slice(2)); // data-set networks (bench/deep.ts)
