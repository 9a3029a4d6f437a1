/**
 * What the GPU step (gpu/step.ts) is built from, for one problem, network and point set:
 * the network's plain description, the step program compiled to the WGSL term shader
 * (wgsl-program.ts), the points in the layout the tfjs loss and the whole-step path use
 * (problem/layout.ts), and why a run cannot use it.
 */
import type { Problem } from '../problem/build.js';
import type { Mlp, NetworkDescription } from '../nn/mlp.js';
import { layoutPoints } from '../problem/layout.js';
import { makePlan } from '../jet/plan.js';
import { WGSL_ACTIVATIONS, WGSL_MAX_ORDER } from '../gpu/jets.js';
import { flatLayout, type GpuNetSpec, type GpuStepSource } from '../gpu/step.js';
import { compileStep } from './program.js';
import { termSource, wgslProgramUnsupported } from './wgsl-program.js';
import type { SlopeOptions } from './whole.js';

/** Why the GPU step cannot run this network and problem on these points (null: it can). */
export function wgslStepUnsupported(problem: Problem, net: NetworkDescription, points: Map<string, Float64Array>): string | null {
  if (net.mixture) return `${net.mixture.kind === 'rowdy' ? 'Rowdy' : 'Kronecker'} activations are not in the GPU step (their WGSL jets are, gpu/jets.ts)`;
  if (!WGSL_ACTIVATIONS.includes(net.activation)) return `activation ${net.activation} has no WGSL jets`;
  if (net.hidden.length === 0) return 'no hidden layer';
  const plan = makePlan(problem.inputs.length, problem.derivs.map((d) => d.channel));
  if (plan.maxOrder > WGSL_MAX_ORDER) return `derivative order ${plan.maxOrder} > ${WGSL_MAX_ORDER}`;
  return wgslProgramUnsupported(compileStep(problem, layoutPoints(problem, points).blocks));
}

export function gpuNetSpec(problem: Problem, model: Mlp | NetworkDescription, slope: SlopeOptions): GpuNetSpec {
  const d = 'describe' in model ? model.describe() : model;
  return {
    sizes: [d.inputs, ...d.hidden, d.outputs], activation: d.activation, adaptive: d.adaptive,
    scales: [...d.scales], inputScaling: d.inputScaling, slope: { ...slope },
    bounds: problem.parameters.map((p) => p.bounds ?? null),
  };
}

/** The GPU step's whole source for these points. */
export function gpuStepSource(problem: Problem, model: Mlp, points: Map<string, Float64Array>, slope: SlopeOptions): GpuStepSource {
  const net = gpuNetSpec(problem, model, slope);
  return { net, points: gpuPointSource(problem, net, points) };
}

/** The point-dependent part (new points: resampling, refinement). */
export function gpuPointSource(problem: Problem, net: GpuNetSpec, points: Map<string, Float64Array>): GpuStepSource['points'] {
  const lay = layoutPoints(problem, points);
  const program = compileStep(problem, lay.blocks);
  return termSource(program, Float32Array.from(lay.X), lay.N, net.bounds, flatLayout(net).params);
}
