/**
 * The `wgsl-step` step path: the whole training step on the GPU through WebGPU
 * (ARCHITECTURE.md, "The WGSL step path"). First in the registry; it supports a training
 * step on the webgpu backend when the network and problem are in WGSL (wgsl-source.ts says
 * why not otherwise: Rowdy/Kronecker, activations without WGSL jets,
 * derivative order > 4), and then the training step falls back to the tfjs-webgpu kernels
 * (`tfjs-ops`), the reason recorded in summary.json `step_path.why_not`.
 *
 * GpuWholeStep is the host side: the engine (gpu/step.ts) lives in the GPU worker with the
 * device, and each call here is one synchronous request to it (backend/webgpu.ts
 * gpuStepCall). As a FlatStep it serves L-BFGS and the final evaluations (parameters up,
 * loss and gradient back); as a ResidentStep it runs the Adam phase with the parameters,
 * gradient and moments on the device: one request and 9 dispatches per Adam step, nothing
 * read back unless the trainer logs or checkpoints.
 */
import type { Problem } from '../problem/build.js';
import type { Mlp } from '../nn/mlp.js';
import { gpuStepCall, webgpuLimits } from '../backend/webgpu.js';
import { bufferLimitProblem, type GpuRead, type GpuStepCommand } from '../gpu/step.js';
import { gpuNetSpec, gpuPointSource, gpuStepSource, wgslStepUnsupported } from './wgsl-source.js';
import { supported, unsupported, type FlatStep, type MomentState, type ResidentStep, type StepPath } from './registry.js';
import { splitFlat, type SlopeOptions, type StepValues } from './whole.js';

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

export class GpuWholeStep implements FlatStep, ResidentStep {
  readonly sizes: number[];
  readonly size: number;
  readonly precision = 'float32' as const;
  memoryEnd = 0;
  readonly resident: ResidentStep = this;
  /** Adam updates applied so far (the bias corrections' t) */
  private t = 0;
  private readonly nTerms: number;

  constructor(readonly problem: Problem, readonly model: Mlp, points: Map<string, Float64Array>, readonly slope: SlopeOptions) {
    this.sizes = [...model.trainableVariables().map((v) => v.size), ...problem.parameters.map(() => 1)];
    this.size = this.sizes.reduce((p, q) => p + q, 0);
    this.nTerms = problem.terms.length;
    this.call([{ do: 'init', source: gpuStepSource(problem, model, points, slope) }]);
  }

  private call(cmds: GpuStepCommand[], floats = 0): GpuRead {
    return gpuStepCall(cmds, 4 * floats);
  }

  newFlat(n = this.size): Float32Array {
    return new Float32Array(n);
  }

  split<A extends Float32Array | Float64Array>(flat: A): A[] {
    return splitFlat(flat, this.sizes);
  }

  setPoints(points: Map<string, Float64Array>): void {
    this.call([{ do: 'points', points: gpuPointSource(this.problem, gpuNetSpec(this.problem, this.model, this.slope), points) }]);
  }

  /** The values as WholeStep reports them (S only when slope recovery is on in the loss or this phase). */
  private values(v: NonNullable<GpuRead['values']>, slopeWeight: number): StepValues {
    return { total: v.total, terms: v.terms, slope: this.slope.weight > 0 || slopeWeight > 0 ? v.slope : 0 };
  }

  evaluate(flat: Float32Array | Float64Array, grad: Float64Array | null, slopeWeight = this.slope.weight): StepValues {
    const r = this.call([
      { do: 'params', flat: flat instanceof Float32Array ? flat : Float32Array.from(flat) },
      { do: 'evaluate', grad: grad !== null, slopeWeight },
      { do: 'read', values: true, grad: grad !== null },
    ], this.nTerms + 2 + (grad ? this.size : 0));
    if (grad) grad.set(r.grad!);
    return this.values(r.values!, slopeWeight);
  }

  // ----------------------------------------------------------------- ResidentStep

  upload(flat: Float32Array): void {
    this.call([{ do: 'params', flat }]);
  }

  download(flat: Float32Array): void {
    flat.set(this.call([{ do: 'read', params: true }], this.size).params!);
  }

  evaluateResident(read: boolean): StepValues | null {
    const cmds: GpuStepCommand[] = [{ do: 'evaluate', grad: true, slopeWeight: this.slope.weight }];
    if (read) cmds.push({ do: 'read', values: true });
    const r = this.call(cmds, this.nTerms + 2);
    return r.values ? this.values(r.values, this.slope.weight) : null;
  }

  valuesResident(): StepValues {
    const r = this.call([{ do: 'evaluate', grad: false, slopeWeight: this.slope.weight }, { do: 'read', values: true }], this.nTerms + 2);
    return this.values(r.values!, this.slope.weight);
  }

  adamApply(lr: number): void {
    this.t++;
    // (the engine rounds the scalars as flat-adam.ts does: float32 of lr, β, 1 − β, ε, 1 − β^t from the float64 β)
    this.call([{ do: 'adam', lr, beta1: BETA1, beta2: BETA2, epsilon: EPSILON, t: this.t }]);
  }

  adamState(): MomentState {
    const r = this.call([{ do: 'read', moments: true }], 2 * this.size);
    const split = (a: Float32Array) => this.split(a).map((x) => x.slice());
    return { t: this.t, m: split(r.m!), v: split(r.v!) };
  }

  adamLoad(s: MomentState): void {
    if (s.m.length !== this.sizes.length || s.v.length !== this.sizes.length) throw new Error('Adam state does not match the variables');
    const m = new Float32Array(this.size);
    const v = new Float32Array(this.size);
    let off = 0;
    this.sizes.forEach((n, i) => {
      if (s.m[i]!.length !== n || s.v[i]!.length !== n) throw new Error(`Adam state: variable ${i} has the wrong size`);
      m.set(s.m[i]!, off);
      v.set(s.v[i]!, off);
      off += n;
    });
    this.t = s.t;
    this.call([{ do: 'moments', m, v }]);
  }
}

/** Process switch: LAAF_WGSL_STEP=0 turns the GPU step off (the tfjs-webgpu kernels then run). */
export const wgslStep: StepPath = {
  name: 'wgsl-step',
  kernel: true,
  wholeStep: true,
  backends: ['webgpu'],
  supports(q) {
    if (q.run === undefined) return unsupported('no training step asked for');
    if (q.backend !== 'webgpu') return unsupported(`backend ${q.backend}: the WGSL step runs on the webgpu backend`);
    if (q.kernelsOff !== undefined) return unsupported(q.kernelsOff);
    if (!q.run.spec.training.whole_step) return unsupported('turned off (training.whole_step: false)');
    if (process.env['LAAF_WGSL_STEP'] === '0') return unsupported('turned off (LAAF_WGSL_STEP=0)');
    if (q.run.spec.training.precision !== 'float32') return unsupported('float64: WGSL has no float64');
    const why = wgslStepUnsupported(q.run.problem, q.net, q.run.points);
    if (why !== null) return unsupported(why);
    // (the running device's limits; none known when the backend is not running, e.g. in unit tests)
    const limits = webgpuLimits();
    if (limits) {
      const { problem, points, slope } = q.run;
      const net = gpuNetSpec(problem, q.net, slope);
      const big = bufferLimitProblem(net, gpuPointSource(problem, net, points), limits);
      if (big !== null) return unsupported(big);
    }
    return supported;
  },
  create(model, q) {
    if (q?.run === undefined) throw new Error('internal: the wgsl-step path needs a training step (StepQuery.run)');
    const { problem, points, slope } = q.run;
    return { forwardJet: (plan, X) => model.forwardJet(plan, X), forward: (X) => model.forward(X), whole: new GpuWholeStep(problem, model, points, slope) };
  },
};
