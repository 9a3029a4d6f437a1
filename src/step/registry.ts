/**
 * Step paths: the ways a training step (or the network's part of it) can run, each
 * registered by name with a `supports` check, tried in a fixed order of preference
 * (paths.ts). The first path that supports the query runs; the others' reasons are kept,
 * so a run can say what ran and why each preferred path did not (summary.json `step_path`
 * and `network`). ARCHITECTURE.md, "Step paths", says how to add one.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { JetPlan } from '../jet/plan.js';
import type { Mlp, NetworkDescription } from '../nn/mlp.js';
import type { Spec } from '../spec/schema.js';
import type { Problem } from '../problem/build.js';
import type { SlopeOptions, StepValues } from './whole.js';

/** What a path is asked about. */
export interface StepQuery {
  /** the network, as plain numbers and names */
  net: NetworkDescription;
  /** highest derivative order of the jets the step needs (0: values only) */
  order: number;
  /** the tfjs backend in use (tf.getBackend()) */
  backend: string;
  /** set when kernel paths are turned off for this run: why (`model.fused: false`, LAAF_FUSED=0) */
  kernelsOff?: string;
  /** set when a whole training step is asked for (solve), not only the network's jets (evaluation, predict) */
  run?: StepRun;
}

/** What a path for the whole training step needs: the run's spec and problem, its points and slope recovery. */
export interface StepRun {
  spec: Spec;
  problem: Problem;
  points: Map<string, Float64Array>;
  slope: SlopeOptions;
}

/** `kernelsOff` when LAAF_FUSED=0 turned the kernels off for the process (not the spec). */
export const KERNELS_OFF_BY_ENV = 'LAAF_FUSED=0';

export type Support = { ok: true } | { ok: false; reason: string };

export const supported: Support = { ok: true };
export function unsupported(reason: string): Support {
  return { ok: false, reason };
}

/** What a chosen path gives the loss and the evaluation: the network's jets, differentiable by tfjs. */
export interface StepImpl {
  /** one [N, outputs] tensor per plan channel (same contract as Mlp.forwardJet) */
  forwardJet(plan: JetPlan, X: tf.Tensor2D): tf.Tensor2D[];
  /** values only (same contract as Mlp.forward) */
  forward(X: tf.Tensor2D): tf.Tensor2D;
  /** facts about the last run for summary.json (e.g. a kernel's threads) */
  details?(): Record<string, number>;
  /** a path for the whole training step: the loss and its gradient on a flat parameter buffer (the trainer uses it when present) */
  whole?: FlatStep;
}

/**
 * The whole training step on a flat parameter buffer in PinnLoss.variables() order: the
 * wasm kernel's (WholeStep, whole.ts) or the GPU's (GpuWholeStep, wgsl-step.ts).
 */
export interface FlatStep {
  readonly sizes: number[];
  readonly size: number;
  readonly precision: 'float32' | 'float64';
  /** first free byte of the kernel's memory after an evaluation (flat Adam's scratch; CPU only) */
  memoryEnd: number;
  newFlat(n?: number): Float32Array | Float64Array;
  split<A extends Float32Array | Float64Array>(flat: A): A[];
  setPoints(points: Map<string, Float64Array>): void;
  /** J and its parts at `flat`; with `grad`, ∂J/∂flat written there; `slopeWeight` replaces W_a */
  evaluate(flat: Float32Array | Float64Array, grad: Float64Array | null, slopeWeight?: number): StepValues;
  /** set when the parameters can live on a device: the Adam phase then runs there (train/trainer.ts) */
  resident?: ResidentStep;
}

/** Adam's state per variable: the shape of train/adam-optimizer.ts AdamState (train/ imports step/, not the reverse). */
export interface MomentState { t: number; m: Float32Array[]; v: Float32Array[] }

/** A flat step whose parameters, gradient and Adam moments live on a device between steps. */
export interface ResidentStep {
  /** parameters to and from the device */
  upload(flat: Float32Array): void;
  download(flat: Float32Array): void;
  /** J and its gradient at the device's parameters (W_a as configured); the values only when `read` (else null, nothing read back) */
  evaluateResident(read: boolean): StepValues | null;
  /** J without gradient at the device's parameters, read back */
  valuesResident(): StepValues;
  /** one Adam update on the device with the gradient of the last evaluate */
  adamApply(lr: number): void;
  adamState(): MomentState;
  adamLoad(s: MomentState): void;
}

export interface StepPath {
  /** recorded in summary.json: `fused-jets`, `tfjs-ops`, ... */
  readonly name: string;
  /** true when the path runs one of laaf's own kernels (summary.json `fused`; off with model.fused: false) */
  readonly kernel: boolean;
  /** true for a path of the whole training step: asked only when the query has `run` */
  readonly wholeStep?: boolean;
  /** set for a path of some tfjs backends only (wgsl-step: webgpu): on others it is no candidate, so it is not listed as declined */
  readonly backends?: readonly string[];
  supports(q: StepQuery): Support;
  /** the implementation for this network; called only after `supports` said ok to `q` (chooseStep always passes it) */
  create(model: Mlp, q?: StepQuery): StepImpl;
}

/** The path that runs, and why each one before it in the order did not. */
export interface StepChoice {
  path: StepPath;
  impl: StepImpl;
  declined: { path: string; reason: string }[];
}

/**
 * The first of `paths` (in order) that supports `q`. The last path must support everything.
 * Whole-step paths are candidates only when `q.run` asks for a training step, and a path with
 * `backends` only on those backends.
 */
export function chooseStep(paths: readonly StepPath[], q: StepQuery, model: Mlp): StepChoice {
  const declined: StepChoice['declined'] = [];
  for (const path of paths) {
    if (path.wholeStep && q.run === undefined) continue;
    if (path.backends && !path.backends.includes(q.backend)) continue;
    const s = path.supports(q);
    if (s.ok) return { path, impl: path.create(model, q), declined };
    declined.push({ path: path.name, reason: s.reason });
  }
  throw new Error(`internal: no step path supports this network (${declined.map((d) => `${d.path}: ${d.reason}`).join('; ')})`);
}
