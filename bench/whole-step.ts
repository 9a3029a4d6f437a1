/**
 * `npm run bench` rows for the whole-step path (src/step/): ms per Adam step in float32
 * and float64 beside the fused-jets path and PyTorch in the same run, on Burgers
 * (problems/burgers.yaml, N-LAAF n = 10 + slope recovery) at the matrix sizes and on
 * problems/poisson-1d.yaml.
 *
 * A whole-step case runs in its own child process (this file with --child): the real
 * pipeline (spec → problem → Mlp → WholeStep), then per step one loss-and-gradient call
 * and the flat Adam update in the kernel, as the trainer does; median of the timed steps.
 * The fused and PyTorch cases run through bench.ts's own runner (passed in).
 *
 *   node dist/bench/bench.js --only whole-step [--quick]   (this section alone)
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './root.js';

export interface WholeCase {
  problem: 'burgers' | 'poisson-1d';
  width: number;
  depth: number;
  points: number;
  boundary: number;
  precision: 'float32' | 'float64';
  /** 'fused': the fused-jets path (PinnLoss + tfjs Adam, wasm backend) on the same problem, for poisson-1d */
  path?: 'whole' | 'fused';
  threads?: number;
  steps: number;
  warmup: number;
}

/** What bench.ts's runner takes for its fused and torch cases (a subset of its Case). */
export interface PeerCase {
  path: string;
  kind: 'laaf' | 'torch';
  backend?: 'wasm' | 'cpu';
  fused?: boolean;
  threads?: number;
  width: number;
  depth: number;
  points: number;
  boundary: number;
  adaptive: 'neuron' | 'none';
  steps: number;
  warmup: number;
}
/** Least wall time a whole-step child warms up for, whatever its step count. */
const WARMUP_MS = 1000;

export interface PeerResult { ms: number | null; maxRssMb: number | null; note?: string }


async function child(c: WholeCase): Promise<void> {
  if (c.threads !== undefined) process.env.LAAF_THREADS = String(c.threads);
  const { loadSpec } = await import('../src/spec/load.js');
  const { buildProblem, samplePoints } = await import('../src/problem/build.js');
  const { mlpConfig } = await import('../src/run/solve.js');
  const { Mlp } = await import('../src/nn/mlp.js');
  const { Rng } = await import('../src/domain/rng.js');
  const { WholeStep } = await import('../src/step/whole.js');
  const { FlatAdam } = await import('../src/train/flat-adam.js');
  const { readFlat } = await import('../src/train/flat.js');
  const { fusedStats } = await import('../src/kernel/fused.js');
  const { selectBackend } = await import('../src/backend/select.js');
  // (the model's variables live in tfjs; the whole-step path itself makes no tfjs call per step)
  await selectBackend('wasm');
  const hidden = `model.hidden=[${new Array(c.depth).fill(c.width).join(',')}]`;
  let set: string[];
  if (c.problem === 'burgers') {
    const half = Math.round(c.boundary / 2);
    set = [`sampling.interior=${c.points}`, `conditions.initial.points=${half}`, `conditions.walls.points=${c.boundary - half}`,
      hidden, 'model.adaptive.mode=neuron', 'model.adaptive.n=10', 'model.slope_recovery=1'];
  } else set = c.width > 0 ? [hidden] : [];
  const spec = loadSpec(join(ROOT, 'problems', `${c.problem}.yaml`), { set }).spec;
  const problem = buildProblem(spec, { baseDir: join(ROOT, 'problems') });
  const rng = new Rng(1234);
  const model = new Mlp(mlpConfig(spec, problem), rng.derive('model'));
  const points = samplePoints(problem, rng.derive('points'));
  const sr = spec.model.slope_recovery;
  const slope = typeof sr === 'number' ? { weight: sr, form: 'paper' as const } : sr;
  const lossSlope = spec.model.adaptive.mode === 'none' ? { ...slope, weight: 0 } : slope;
  if (c.path === 'fused') return fusedChild(c, problem, model, points, lossSlope);
  const whole = new WholeStep(problem, model, points, lossSlope, c.precision);
  const adam = new FlatAdam(whole.sizes, c.precision === 'float64');
  const flat = whole.newFlat();
  flat.set(readFlat(model.trainableVariables()));
  const grad = new Float64Array(whole.size);
  let last = NaN;
  const step = () => {
    last = whole.evaluate(flat, grad).total;
    adam.apply(flat, grad, 8e-4, whole.memoryEnd);
  };
  // Warm up for c.warmup steps and at least WARMUP_MS: V8 first runs wasm as baseline
  // (Liftoff) code and swaps in the optimised tier in the background, so at 2 ms a step
  // a two-step warm-up timed the baseline code (measured: 3.7 ms median after 2 steps,
  // 1.9–2.3 ms after 5 steps and more, 4×20 / 2000 points, 2 threads). A training run
  // spends all but its first second in the optimised tier.
  const w0 = performance.now();
  for (let i = 0; i < c.warmup || performance.now() - w0 < WARMUP_MS; i++) step();
  const times: number[] = [];
  for (let i = 0; i < c.steps; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  process.stdout.write(`${JSON.stringify({ ms: times[Math.floor(times.length / 2)], maxRssMb: process.resourceUsage().maxRSS / 1024, loss: last, points: whole.pointCount, threads: fusedStats().threads })}\n`);
}

/** The fused-jets path on the same problem: PinnLoss, tf.variableGrads, AdamOptimizer (as bench.ts's child). */
async function fusedChild(c: WholeCase, problem: import('../src/problem/build.js').Problem, model: import('../src/nn/mlp.js').Mlp,
  points: Map<string, Float64Array>, slope: { weight: number; form: 'paper' | 'script' }): Promise<void> {
  const tf = await import('@tensorflow/tfjs-core');
  const { PinnLoss } = await import('../src/train/loss.js');
  const { AdamOptimizer } = await import('../src/train/adam-optimizer.js');
  const loss = new PinnLoss(problem, model, points, slope);
  const vars = loss.variables();
  const adam = new AdamOptimizer(vars);
  const step = () => tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => loss.compute().total, vars);
    value.dataSync();
    adam.apply(vars.map((v) => grads[v.name]!), 8e-4);
  });
  const w0 = performance.now();
  for (let i = 0; i < c.warmup || performance.now() - w0 < WARMUP_MS; i++) step(); // as child()
  const times: number[] = [];
  for (let i = 0; i < c.steps; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  process.stdout.write(`${JSON.stringify({ ms: times[Math.floor(times.length / 2)], maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
}

function runWhole(c: WholeCase): PeerResult {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify(c)], { encoding: 'utf8', timeout: 1_800_000, cwd: ROOT });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    const j = JSON.parse(line) as { ms: number; maxRssMb: number };
    return { ms: j.ms, maxRssMb: j.maxRssMb };
  } catch {
    return { ms: null, maxRssMb: null, note: `failed: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}` };
  }
}

const fmt = (v: number | null, d = 1) => (v === null ? '—' : v.toFixed(d));
const ratio = (a: number | null, b: number | null) => (a === null || b === null ? '—' : `${(a / b).toFixed(2)}×`);

/** The whole-step section of `npm run bench`. */
export async function wholeStepSection(o: { say: (s?: string) => void; run: (c: PeerCase) => PeerResult; torch: boolean; quick: boolean }): Promise<void> {
  const { say, run, torch, quick } = o;
  const threads = availableParallelism();
  const steps = quick ? 3 : 8;
  say('## Whole-step path (src/step/): loss, gradient and Adam in the kernel, float32 and float64');
  say();
  say(`Burgers, N-LAAF (n = 10) + slope recovery, 400 boundary points; ms per Adam step (median of ${steps}; PyTorch 3 steps, 1 thread, nested autograd, float32);` +
    ` laaf on ${threads} threads. "torch / whole32" is the speed-up over PyTorch; "f64 / f32" the float64 path's cost.`);
  say();
  say('| width | depth | points | whole-step f32 ms | whole-step f64 ms | fused-jets ms | torch ms | torch / whole32 | fused / whole32 | f64 / f32 |');
  say('|---|---|---|---|---|---|---|---|---|---|');
  const sizes: [number, number, number][] = quick
    ? [[20, 4, 2000], [20, 6, 10000]]
    : [[20, 4, 2000], [20, 6, 10000], [20, 4, 10000], [20, 8, 10000], [50, 4, 2000], [50, 8, 10000], [20, 4, 40000]];
  for (const [width, depth, points] of sizes) {
    const common = { width, depth, points, boundary: 400, warmup: 2, steps };
    const w32 = runWhole({ ...common, problem: 'burgers', precision: 'float32' });
    const w64 = runWhole({ ...common, problem: 'burgers', precision: 'float64' });
    const f = run({ ...common, kind: 'laaf', path: 'fused', backend: 'wasm', fused: true, adaptive: 'neuron' });
    const t = torch ? run({ ...common, kind: 'torch', path: 'torch', threads: 1, adaptive: 'neuron', warmup: 1, steps: 3 }) : { ms: null, maxRssMb: null };
    const notes = [w32.note, w64.note, f.note, t.note].filter(Boolean).join(' ');
    say(`| ${width} | ${depth} | ${points} | ${fmt(w32.ms, 2)} | ${fmt(w64.ms, 2)} | ${fmt(f.ms, 2)} | ${fmt(t.ms)} | ${ratio(t.ms, w32.ms)} | ${ratio(f.ms, w32.ms)} | ${ratio(w64.ms, w32.ms)} |${notes ? ` ${notes}` : ''}`);
  }
  say();
  // poisson-1d as the spec has it (3×30, 500 interior points, one input)
  const pc = { problem: 'poisson-1d' as const, width: 0, depth: 0, points: 0, boundary: 0, warmup: 3, steps: quick ? 5 : 20 };
  const p32 = runWhole({ ...pc, precision: 'float32' });
  const p64 = runWhole({ ...pc, precision: 'float64' });
  const pf = runWhole({ ...pc, precision: 'float32', path: 'fused' });
  say(`problems/poisson-1d.yaml as specified (3×30, 500 interior points): whole-step float32 ${fmt(p32.ms, 2)} ms/step, float64 ${fmt(p64.ms, 2)},` +
    ` fused-jets ${fmt(pf.ms, 2)} (fused / whole32 ${ratio(pf.ms, p32.ms)}, f64 / f32 ${ratio(p64.ms, p32.ms)}).${[p32.note, p64.note, pf.note].filter(Boolean).join(' ')}`);
  say();
}

const ci = process.argv.indexOf('--child');
if (ci >= 0 && process.argv[1] === fileURLToPath(import.meta.url)) await child(JSON.parse(process.argv[ci + 1]!) as WholeCase);
