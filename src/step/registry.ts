/**
 * The registry of step paths: which code computes a training step's loss, gradient and
 * update, in order of preference.
 *
 *   whole-step   loss, gradient, Adam and L-BFGS evaluations in the WebAssembly kernel
 *                (src/step/); float32 or float64
 *   fused-jets   the network's jets in the fused kernel (src/kernel/fused.ts), residuals,
 *                loss and optimizers in tfjs ops; float32
 *   tfjs         everything in tfjs ops; float32
 *
 * The first path that supports the spec runs; summary.json records it and why each path
 * before it did not. float64 exists only on the whole-step path: asking for it where that
 * path cannot run is a spec error at training.precision.
 */
import type { Spec } from '../spec/schema.js';
import type { Problem } from '../problem/build.js';
import { makePlan } from '../jet/plan.js';
import { KERNEL_ACTIVATIONS, KERNEL_MAX_ORDER } from '../kernel/fused.js';
import { kernel, kernelLoadError } from '../kernel/runtime.js';

export type StepPathName = 'whole-step' | 'fused-jets' | 'tfjs';
export const STEP_PATHS: readonly StepPathName[] = ['whole-step', 'fused-jets', 'tfjs'];

export interface StepPathRecord {
  /** the path that ran */
  ran: StepPathName;
  precision: 'float32' | 'float64';
  /** for each path before it: why it did not run */
  why_not: Partial<Record<StepPathName, string>>;
}

/**
 * Why the whole-step path cannot run this spec (null: it can). Decided from the spec and
 * problem alone (so that `laaf validate` can say it), with the process switch
 * LAAF_WHOLE_STEP=0 and the kernel's availability.
 */
export function wholeStepBlocker(spec: Spec, problem: Problem): string | null {
  const m = spec.model;
  if (!spec.training.whole_step) return 'turned off (training.whole_step: false)';
  if (!m.fused) return 'turned off (--no-fused, model.fused: false)';
  if (process.env.LAAF_WHOLE_STEP === '0') return 'turned off (LAAF_WHOLE_STEP=0)';
  if (!m.kronecker && !KERNEL_ACTIVATIONS.includes(m.activation)) return `activation ${m.activation} is not in the kernel`;
  for (const fn of m.kronecker ? m.kronecker.functions : []) if (!KERNEL_ACTIVATIONS.includes(fn)) return `Kronecker function ${fn} is not in the kernel`;
  const plan = makePlan(problem.inputs.length, problem.derivs.map((d) => d.channel));
  if (plan.maxOrder > KERNEL_MAX_ORDER) return `derivative order ${plan.maxOrder} > ${KERNEL_MAX_ORDER}`;
  if (kernel() === null) return `kernel not available: ${kernelLoadError()}`;
  return null;
}

/** Why float64 cannot run this spec (null: it can): only the whole-step path has it. */
export function float64Blocker(spec: Spec, problem: Problem): string | null {
  if (spec.model.rowdy) return 'Rowdy activations are not in the float64 network kernel (assembly/net64.ts)';
  if (spec.model.kronecker) return 'Kronecker activations are not in the float64 network kernel (assembly/net64.ts)';
  return wholeStepBlocker(spec, problem);
}
