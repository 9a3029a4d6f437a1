/**
 * The `whole-step` step path, first in the registry (paths.ts) and asked only for a
 * training step (StepQuery.run): when it supports the spec, loss, gradient, Adam and
 * L-BFGS evaluations run in the WebAssembly kernel (whole.ts), float32 or float64;
 * otherwise the registry's next path (fused-jets, then tfjs-ops) computes the network's
 * jets with the loss and optimizers in tfjs, float32. summary.json `step_path` records
 * what ran and why each earlier path did not. float64 exists only on the whole-step path:
 * asking for it where that path cannot run is a spec error at training.precision.
 */
import type { Spec } from '../spec/schema.js';
import { SpecError } from '../spec/errors.js';
import type { Problem } from '../problem/build.js';
import { makePlan } from '../jet/plan.js';
import { KERNEL_ACTIVATIONS, KERNEL_MAX_ORDER } from '../kernel/fused.js';
import { kernel, kernelLoadError } from '../kernel/runtime.js';
import { KERNELS_OFF_BY_ENV, supported, unsupported, type StepPath } from './registry.js';
import { WholeStep } from './whole.js';

export type { StepPathRecord } from '../io/run-dir.js';

/**
 * Why the whole-step path cannot run this spec (null: it can). Decided from the spec and
 * problem alone (so that `laaf validate` can say it), with the process switches
 * (LAAF_WHOLE_STEP=0, LAAF_FUSED=0, `kernelsOff`: why a run turned the kernels off) and the
 * kernel's availability.
 */
export function wholeStepBlocker(spec: Spec, problem: Problem, kernelsOff?: string): string | null {
  const m = spec.model;
  if (!spec.training.whole_step) return 'turned off (training.whole_step: false)';
  if (kernelsOff !== undefined) return kernelsOff;
  if (!m.fused) return 'turned off (--no-fused, model.fused: false)';
  if (process.env['LAAF_FUSED'] === '0') return 'turned off (LAAF_FUSED=0)';
  if (process.env['LAAF_WHOLE_STEP'] === '0') return 'turned off (LAAF_WHOLE_STEP=0)';
  if (!m.kronecker && !KERNEL_ACTIVATIONS.includes(m.activation)) return `activation ${m.activation} is not in the kernel`;
  for (const fn of m.kronecker ? m.kronecker.functions : []) if (!KERNEL_ACTIVATIONS.includes(fn)) return `Kronecker function ${fn} is not in the kernel`;
  const plan = makePlan(problem.inputs.length, problem.derivs.map((d) => d.channel));
  if (plan.maxOrder > KERNEL_MAX_ORDER) return `derivative order ${plan.maxOrder} > ${KERNEL_MAX_ORDER}`;
  if (kernel() === null) return `kernel not available: ${kernelLoadError()}`;
  return null;
}

/** The `whole-step` path: first in STEP_PATHS, a candidate only for a training step (StepQuery.run); its product is StepImpl.whole. */
export const wholeStep: StepPath = {
  name: 'whole-step',
  kernel: true,
  wholeStep: true,
  supports(q) {
    if (q.run === undefined) return unsupported('no training step asked for');
    // the webgpu backend was asked for by name: its GPU step path runs the network there
    if (q.backend === 'webgpu') return unsupported('backend webgpu: the network runs on the GPU path');
    // LAAF_FUSED=0 is checked (and worded) by wholeStepBlocker itself
    const why = wholeStepBlocker(q.run.spec, q.run.problem, q.kernelsOff === KERNELS_OFF_BY_ENV ? undefined : q.kernelsOff);
    return why === null ? supported : unsupported(why);
  },
  create(model, q) {
    if (q?.run === undefined) throw new Error('internal: the whole-step path needs a training step (StepQuery.run)');
    const { spec, problem, points, slope } = q.run;
    // the jets alone (never asked in training: evaluation and predict ask the registry without `run`)
    return { forwardJet: (plan, X) => model.forwardJet(plan, X), forward: (X) => model.forward(X), whole: new WholeStep(problem, model, points, slope, spec.training.precision) };
  },
};

/** Why float64 cannot run this spec (null: it can): only the whole-step path has it. */
export function float64Blocker(spec: Spec, problem: Problem): string | null {
  if (spec.model.rowdy) return 'Rowdy activations are not in the float64 network kernel (assembly/net64.ts)';
  if (spec.model.kronecker) return 'Kronecker activations are not in the float64 network kernel (assembly/net64.ts)';
  return wholeStepBlocker(spec, problem);
}

/** Throws a SpecError at training.precision when float64 is asked for and cannot run. */
export function checkPrecision(spec: Spec, problem: Problem): void {
  if (spec.training.precision !== 'float64') return;
  const why = float64Blocker(spec, problem);
  if (why !== null) throw new SpecError(`float64 runs only on the whole-step path, which cannot run this spec: ${why}`, ['training', 'precision'], 'use precision: float32 (the fused-jets and tfjs paths are float32)', undefined, true);
}
