/**
 * The step paths in their order of preference, and the one call that chooses among them
 * for a network (the loss, the evaluation and `predict` ask here; nothing else decides).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Mlp } from '../nn/mlp.js';
import { fusedJets } from './fused-jets.js';
import { tfjsOps } from './tfjs-ops.js';
import { chooseStep, type StepChoice, type StepPath } from './registry.js';

/** Most preferred first; the last supports every network. */
export const STEP_PATHS: readonly StepPath[] = [fusedJets, tfjsOps];

export interface StepOptions {
  /** turn the kernel paths off, saying why (a run with `model.fused: false`); LAAF_FUSED=0 does it for the process */
  kernelsOff?: string;
}

/** Reason given when a spec turns the kernels off. */
export const KERNELS_OFF_BY_SPEC = 'turned off (--no-fused, model.fused: false)';

/** The path that computes `model`'s jets up to derivative order `order` on the current tfjs backend. */
export function stepFor(model: Mlp, order: number, opts: StepOptions = {}): StepChoice {
  const kernelsOff = opts.kernelsOff ?? (process.env['LAAF_FUSED'] === '0' ? 'LAAF_FUSED=0' : undefined);
  return chooseStep(STEP_PATHS, {
    net: model.describe(),
    order,
    backend: tf.getBackend(),
    ...(kernelsOff !== undefined ? { kernelsOff } : {}),
  }, model);
}
