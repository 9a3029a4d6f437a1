/**
 * The GPU step (src/gpu/step.ts with the term shader of src/step/wgsl-program.ts) against
 * the whole-step path on the CPU (src/step/whole.ts, the wasm kernel and executor): loss and
 * gradient at initialisation for every problem in problems/ that the WGSL path supports,
 * and GPU Adam against flat Adam. Runs on whatever WebGPU adapter the machine has (Mesa's
 * lavapipe in CI); without one it says so in one line and skips.
 *
 * Bounds (both float32; the GPU sums the rows, points and per-term means in float32 in
 * another order, and its tanh/exp/sin differ from the kernel's by a few ulp):
 *   |ΔJ| ≤ 1e-5·|J|,  ‖Δg‖∞ ≤ 1e-4·‖g‖∞;
 * then 20 Adam steps (GPU Adam vs flat Adam in the kernel) from the same start:
 *   |ΔJ| ≤ 1e-5·|J| after the 20th.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../src/backend/gradients.js';
import { repoRoot } from './helpers.js';
import { checkSpec, mlpConfig } from '../src/run/solve.js';
import { samplePoints } from '../src/problem/build.js';
import { Mlp } from '../src/nn/mlp.js';
import { Rng } from '../src/domain/rng.js';
import { PinnLoss } from '../src/train/loss.js';
import { WholeStep } from '../src/step/whole.js';
import { readFlat } from '../src/train/flat.js';
import { FlatAdam } from '../src/train/flat-adam.js';
import { GpuStepEngine } from '../src/gpu/step.js';
import { openTestDevice } from './helpers/gpu.js';
import { gpuStepSource, wgslStepUnsupported } from '../src/step/wgsl-source.js';

await tf.setBackend('cpu');

const { device, skip } = await openTestDevice('GPU step tests');

const LOSS_TOL = 1e-5;
const GRAD_TOL = 1e-4;
/** 20 Adam steps (lr 1e-3) on each path: the rounding differences above, carried through Adam's normalised steps */
const STEPS = 20;
const LR = 1e-3;
const TRAIN_TOL = 1e-5;
const PROBLEMS = join(repoRoot(), 'problems');
const files = readdirSync(PROBLEMS).filter((f) => f.endsWith('.yaml') && /^inputs:/m.test(readFileSync(join(PROBLEMS, f), 'utf8'))).sort();

function build(file: string, sets: string[] = []) {
  const { loaded, problem } = checkSpec(file, ['model.hidden=[4,4]', 'sampling.interior=64', ...sets]);
  const spec = loaded.spec;
  const rng = new Rng(spec.training.seed);
  const model = new Mlp(mlpConfig(spec, problem), rng.derive('model'));
  const points = samplePoints(problem, rng.derive('points'));
  const sr = typeof spec.model.slope_recovery === 'number' ? { weight: spec.model.slope_recovery, form: 'paper' as const } : spec.model.slope_recovery;
  const slope = spec.model.adaptive.mode === 'none' ? { ...sr, weight: 0 } : sr;
  return { problem, model, points, slope };
}

/**
 * Loss and gradient of the GPU step against the wasm whole-step path at the initial
 * parameters, then 20 Adam steps on each (GPU Adam vs flat Adam in the kernel); asserts the
 * bounds above and returns the relative differences.
 */
async function compareAt(b: ReturnType<typeof build>, f: string): Promise<{ dLoss: number; dGrad: number; dTrain: number; seconds: number }> {
  const t0 = performance.now();
  const loss = new PinnLoss(b.problem, b.model, b.points, b.slope);
  const flat = Float32Array.from(readFlat(loss.variables()));
  loss.dispose();
  const whole = new WholeStep(b.problem, b.model, b.points, b.slope);
  const grad = new Float64Array(whole.size);
  const ref = whole.evaluate(flat, grad);
  const src = gpuStepSource(b.problem, b.model, b.points, b.slope);
  const eng = new GpuStepEngine(device!, src.net, src.points);
  await eng.ready();
  assert.equal(eng.size, whole.size, f);
  eng.writeParams(flat);
  eng.evaluate(true, b.slope.weight);
  const got = await eng.read({ values: true, grad: true });
  // 20 Adam steps on both paths from the same start: the losses stay together
  const adam = new FlatAdam(whole.sizes);
  const x = flat.slice();
  const g = new Float64Array(whole.size);
  for (let t = 1; t <= STEPS; t++) {
    whole.evaluate(x, g);
    adam.apply(x, g, LR, whole.memoryEnd);
    eng.evaluate(true, b.slope.weight);
    eng.adam(LR, 0.9, 0.999, 1e-8, t);
  }
  const after20 = whole.evaluate(x, null).total;
  eng.evaluate(false, b.slope.weight);
  const gpu20 = (await eng.read({ values: true })).values!.total;
  eng.destroy();
  const dTrain = Math.abs(gpu20 - after20) / Math.abs(after20);
  assert.ok(dTrain <= TRAIN_TOL, `${f}: after ${STEPS} Adam steps loss ${gpu20} vs ${after20} (rel ${dTrain.toExponential(2)})`);
  let gmax = 0;
  let dmax = 0;
  for (let i = 0; i < grad.length; i++) {
    gmax = Math.max(gmax, Math.abs(grad[i]!));
    dmax = Math.max(dmax, Math.abs(got.grad![i]! - grad[i]!));
  }
  const dLoss = Math.abs(got.values!.total - ref.total) / Math.abs(ref.total);
  const dGrad = dmax / gmax;
  got.values!.terms.forEach((t, k) => assert.ok(Math.abs(t - ref.terms[k]!) <= LOSS_TOL * Math.abs(ref.terms[k]!) + 1e-12, `${f} term ${k}: ${t} vs ${ref.terms[k]}`));
  assert.ok(dLoss <= LOSS_TOL, `${f}: loss ${got.values!.total} vs ${ref.total} (rel ${dLoss.toExponential(2)})`);
  assert.ok(dGrad <= GRAD_TOL, `${f}: gradient max |Δ| ${dmax.toExponential(2)} of ‖g‖∞ ${gmax.toExponential(2)} (rel ${dGrad.toExponential(2)})`);
  return { dLoss, dGrad, dTrain, seconds: (performance.now() - t0) / 1000 };
}

test('GPU step: loss and gradient equal the wasm whole-step path at initialisation, and 20 Adam steps stay together, every supported problem', { skip, timeout: 900_000 }, async () => {
  let worst = { f: '', dLoss: 0, dGrad: 0 };
  let worstTrain = 0;
  const ran: string[] = [];
  const declined: string[] = [];
  for (const f of files) {
    const b = build(join(PROBLEMS, f));
    const why = wgslStepUnsupported(b.problem, b.model.describe(), b.points);
    if (why !== null) {
      declined.push(`${f}: ${why}`);
      continue;
    }
    const { dLoss, dGrad, dTrain, seconds } = await compareAt(b, f);
    worstTrain = Math.max(worstTrain, dTrain);
    if (dGrad >= worst.dGrad) worst = { f, dLoss, dGrad };
    ran.push(f);
    console.log(`${f}: loss rel ${dLoss.toExponential(2)}, gradient rel ${dGrad.toExponential(2)}, loss after ${STEPS} Adam steps rel ${dTrain.toExponential(2)} (${seconds.toFixed(1)} s)`);
  }
  console.log(`GPU step vs whole-step: ${ran.length} problems; worst gradient ${worst.dGrad.toExponential(2)} of ‖g‖∞ (${worst.f}, loss rel ${worst.dLoss.toExponential(2)}); bounds ${LOSS_TOL}, ${GRAD_TOL}; after ${STEPS} Adam steps worst loss rel ${worstTrain.toExponential(2)} (bound ${TRAIN_TOL}); declined: ${declined.join('; ') || 'none'}`);
  assert.ok(ran.length >= 10, `too few problems ran: ${ran.join(', ')}`);
});

test('GPU step: many chunks of the weight-gradient sums (burgers, 3000 interior points) equal the wasm whole-step path', { skip }, async () => {
  const b = build(join(PROBLEMS, 'burgers.yaml'), ['sampling.interior=3000']);
  const loss = new PinnLoss(b.problem, b.model, b.points, b.slope);
  const flat = Float32Array.from(readFlat(loss.variables()));
  loss.dispose();
  const whole = new WholeStep(b.problem, b.model, b.points, b.slope);
  const grad = new Float64Array(whole.size);
  const ref = whole.evaluate(flat, grad);
  const src = gpuStepSource(b.problem, b.model, b.points, b.slope);
  assert.ok(src.points.N > 10 * 256, `${src.points.N} points`);
  const eng = new GpuStepEngine(device!, src.net, src.points);
  await eng.ready();
  eng.writeParams(flat);
  eng.evaluate(true, b.slope.weight);
  const got = await eng.read({ values: true, grad: true });
  eng.destroy();
  let gmax = 0;
  let dmax = 0;
  for (let i = 0; i < grad.length; i++) {
    gmax = Math.max(gmax, Math.abs(grad[i]!));
    dmax = Math.max(dmax, Math.abs(got.grad![i]! - grad[i]!));
  }
  const dLoss = Math.abs(got.values!.total - ref.total) / Math.abs(ref.total);
  console.log(`GPU step vs whole-step at ${src.points.N} points: loss rel ${dLoss.toExponential(2)}, gradient rel ${(dmax / gmax).toExponential(2)} (bounds ${LOSS_TOL}, ${GRAD_TOL})`);
  assert.ok(dLoss <= LOSS_TOL);
  assert.ok(dmax / gmax <= GRAD_TOL);
});

test('GPU step: elu, relu, leaky_relu nets (burgers: N-LAAF, 4×4) equal the wasm whole-step path, and 20 Adam steps stay together', { skip }, async () => {
  for (const activation of ['elu', 'relu', 'leaky_relu']) {
    const b = build(join(PROBLEMS, 'burgers.yaml'), [`model.activation=${activation}`]);
    assert.equal(wgslStepUnsupported(b.problem, b.model.describe(), b.points), null, activation);
    const r = await compareAt(b, activation);
    console.log(`burgers ${activation}: loss rel ${r.dLoss.toExponential(2)}, gradient rel ${r.dGrad.toExponential(2)}, loss after ${STEPS} Adam steps rel ${r.dTrain.toExponential(2)} (bounds ${LOSS_TOL}, ${GRAD_TOL}, ${TRAIN_TOL}; ${r.seconds.toFixed(1)} s)`);
  }
});
