/**
 * CPU time per whole-step Adam step (evaluate + flat Adam), for comparing builds or the two
 * step forms on a busy machine, where wall-clock medians move by several × between runs:
 * process CPU time (all threads) per step, every case interleaved round by round in ONE
 * process (so all see the same machine), median over rounds. Burgers-shaped as
 * bench/whole-step.ts (N-LAAF n = 10 + slope recovery, 400 boundary points).
 *
 *   node dist/bench/step-cpu.js WIDTH DEPTH POINTS [ROUNDS] [STEPS] [--dist DIR]... [--forms]
 *
 * --dist (repeatable): a build's dist/ directory (default: this one), e.g. an older commit
 * built elsewhere (its package root must hold its node_modules). --forms: also the
 * three-call step (LAAF_STEP_FUSED=0) beside the one-call step.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './root.js';

const argv = process.argv.slice(2);
const forms = argv.includes('--forms');
const dists: string[] = [];
const nums: number[] = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--dist') dists.push(argv[++i]!);
  else if (argv[i] !== '--forms') nums.push(Number(argv[i]));
}
const [width, depth, points, rounds, steps] = nums;
if (!width || !depth || !points) {
  process.stderr.write('usage: node dist/bench/step-cpu.js WIDTH DEPTH POINTS [ROUNDS] [STEPS] [--dist DIR]... [--forms]\n');
  process.exit(2);
}
if (dists.length === 0) dists.push(join(ROOT, 'dist'));
const R = rounds || 5;
const S = steps || 5;
type Precision = 'float32' | 'float64';
type Step = () => void;

/** One build's steppers (float32 and float64) on the bench's Burgers spec. */
async function build(dist: string): Promise<Record<Precision, Step>> {
  const from = async (p: string): Promise<any> => import(pathToFileURL(join(dist, p)).href);
  const { loadSpec } = await from('src/spec/load.js');
  const { buildProblem, samplePoints } = await from('src/problem/build.js');
  const { mlpConfig } = await from('src/run/solve.js');
  const { Mlp } = await from('src/nn/mlp.js');
  const { Rng } = await from('src/domain/rng.js');
  const { WholeStep } = await from('src/step/whole.js');
  const { FlatAdam } = await from('src/train/flat-adam.js');
  const { readFlat } = await from('src/train/flat.js');
  const { selectBackend } = await from('src/backend/select.js');
  await selectBackend('wasm');
  const set = [`sampling.interior=${points}`, 'conditions.initial.points=200', 'conditions.walls.points=200',
    `model.hidden=[${new Array(depth).fill(width).join(',')}]`, 'model.adaptive.mode=neuron', 'model.adaptive.n=10', 'model.slope_recovery=1'];
  const spec = loadSpec(join(ROOT, 'problems', 'burgers.yaml'), { set }).spec;
  const problem = buildProblem(spec, { baseDir: join(ROOT, 'problems') });
  const rng = new Rng(1234);
  const model = new Mlp(mlpConfig(spec, problem), rng.derive('model'));
  const pts = samplePoints(problem, rng.derive('points'));
  const stepper = (precision: Precision): Step => {
    const whole = new WholeStep(problem, model, pts, { weight: 1, form: 'paper' }, precision);
    const adam = new FlatAdam(whole.sizes, precision === 'float64');
    const flat = whole.newFlat();
    flat.set(readFlat(model.trainableVariables()));
    const grad = new Float64Array(whole.size);
    return () => {
      whole.evaluate(flat, grad);
      adam.apply(flat, grad, 8e-4, whole.memoryEnd);
    };
  };
  return { float32: stepper('float32'), float64: stepper('float64') };
}

const builds: Record<Precision, Step>[] = [];
for (const d of dists) builds.push(await build(d));
// a case: build, precision, step form (LAAF_STEP_FUSED, read by WholeStep.evaluate per call)
const cases: { b: number; precision: Precision; fused: '0' | '1' }[] = [];
builds.forEach((_, b) => {
  for (const fused of forms ? ['1', '0'] as const : ['1'] as const) for (const precision of ['float32', 'float64'] as const) cases.push({ b, precision, fused });
});
const cpu = cases.map(() => [] as number[]);
const run = (k: number, n: number) => {
  const c = cases[k]!;
  process.env.LAAF_STEP_FUSED = c.fused;
  for (let i = 0; i < n; i++) builds[c.b]![c.precision]();
};
cases.forEach((_, k) => run(k, 2));
for (let r = 0; r < R; r++) {
  cases.forEach((_, k) => {
    const c0 = process.cpuUsage();
    run(k, S);
    const c = process.cpuUsage(c0);
    cpu[k]!.push((c.user + c.system) / 1000 / S);
  });
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
process.stdout.write(`${width}×${depth}, ${points} interior points, LAAF_THREADS=${process.env.LAAF_THREADS ?? '(default)'}; CPU ms per step, median of ${R} rounds of ${S} steps:\n`);
cases.forEach((c, k) => {
  process.stdout.write(`  ${dists[c.b]} ${c.precision}${forms ? (c.fused === '1' ? ' one call' : ' three calls') : ''}: ${med(cpu[k]!).toFixed(2)}\n`);
});
