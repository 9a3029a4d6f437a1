/**
 * CPU time per whole-step Adam step, for comparing two builds or the two step forms on a
 * busy machine, where wall-clock medians move by several × between runs: process CPU time
 * (all threads) per step, float32 and float64 interleaved in one process, median over
 * rounds. Burgers-shaped as bench/whole-step.ts (N-LAAF n = 10 + slope recovery, 400
 * boundary points).
 *
 *   node dist/bench/step-cpu.js WIDTH DEPTH POINTS [ROUNDS] [STEPS] [--dist DIR] [--forms]
 *
 * --dist: another build's dist/ directory (e.g. an older commit built elsewhere), run on
 * the same spec. --forms: also the three-call step (LAAF_STEP_FUSED=0), interleaved with
 * the one-call step in the same process.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './root.js';

const forms = process.argv.includes('--forms');
const args = process.argv.slice(2).filter((a) => a !== '--forms');
const di = args.indexOf('--dist');
const dist = di >= 0 ? args[di + 1]! : join(ROOT, 'dist');
const [width, depth, points, rounds, steps] = args.filter((_, i) => di < 0 || (i !== di && i !== di + 1)).map(Number);
if (!width || !depth || !points) {
  process.stderr.write('usage: node dist/bench/step-cpu.js WIDTH DEPTH POINTS [ROUNDS] [STEPS] [--dist DIR]\n');
  process.exit(2);
}
const R = rounds || 5;
const S = steps || 5;
const from = async (p: string) => import(pathToFileURL(join(dist, p)).href);
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
const stepper = (precision: 'float32' | 'float64') => {
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
// a case: precision and step form (LAAF_STEP_FUSED, read by WholeStep.evaluate per call)
type Case = ['float32' | 'float64', '0' | '1'];
const cases: Case[] = [['float32', '1'], ['float64', '1'], ...(forms ? [['float32', '0'], ['float64', '0']] as Case[] : [])];
const runs = { float32: stepper('float32'), float64: stepper('float64') };
const cpu = cases.map(() => [] as number[]);
const run = (k: number, n: number) => {
  const [precision, fused] = cases[k]!;
  process.env.LAAF_STEP_FUSED = fused;
  for (let i = 0; i < n; i++) runs[precision]();
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
const m = cpu.map(med);
const line = (f32: number, f64: number) => `float32 ${f32.toFixed(2)}, float64 ${f64.toFixed(2)} (f64 / f32 ${(f64 / f32).toFixed(2)}×)`;
process.stdout.write(`${width}×${depth}, ${points} points, LAAF_THREADS=${process.env.LAAF_THREADS ?? '(default)'}, ${dist}: CPU ms per step ` +
  `${forms ? 'one call: ' : ''}${line(m[0]!, m[1]!)}${forms ? `; three calls: ${line(m[2]!, m[3]!)}` : ''}; median of ${R} rounds of ${S} steps\n`);
