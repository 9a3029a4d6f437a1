/**
 * The step paths in their order of preference, and the one call that chooses among them:
 * the training step (solve asks with `run`) and the network's jets (the loss, the
 * evaluation and `predict` ask without); nothing else decides.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Mlp } from '../nn/mlp.js';
import { fusedJets } from './fused-jets.js';
import { tfjsOps } from './tfjs-ops.js';
import { wholeStep } from './whole-path.js';
import { wgslStep } from './wgsl-step.js';
import { KERNELS_OFF_BY_ENV, chooseStep, type StepChoice, type StepPath, type StepRun } from './registry.js';

/** Most preferred first; the last supports every network. */
export const STEP_PATHS: readonly StepPath[] = [wgslStep, wholeStep, fusedJets, tfjsOps];

export interface StepOptions {
  /** turn the kernel paths off, saying why (a run with `model.fused: false`); LAAF_FUSED=0 does it for the process */
  kernelsOff?: string;
  /** a whole training step is asked for (the whole-step path is a candidate) */
  run?: StepRun;
}

/** Reason given when a spec turns the kernels off. */
export const KERNELS_OFF_BY_SPEC = 'turned off (--no-fused, model.fused: false)';

/** The path that computes `model`'s jets up to derivative order `order` (or, with `opts.run`, the training step) on the current tfjs backend. */
export function stepFor(model: Mlp, order: number, opts: StepOptions = {}): StepChoice {
  const kernelsOff = opts.kernelsOff ?? (process.env['LAAF_FUSED'] === '0' ? KERNELS_OFF_BY_ENV : undefined);
  return chooseStep(STEP_PATHS, {
    net: model.describe(),
    order,
    backend: tf.getBackend(),
    ...(kernelsOff !== undefined ? { kernelsOff } : {}),
    ...(opts.run ? { run: opts.run } : {}),
  }, model);
}
