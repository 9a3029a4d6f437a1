/** Small specs and parameter perturbations that several tests share. */
import type { MlpParams } from '../../src/nn/mlp.js';
import type { Rng } from '../../src/domain/rng.js';

/** u_xx = −π² sin(πx) on [0, 1] with u = 0 at both ends (exact: sin(πx)); add name:, model:, sampling:, training:. */
export const POISSON_1D = `inputs: { x: [0, 1] }
outputs: [u]
equations:
  pde: u_xx = -pi^2*sin(pi*x)
conditions:
  ends: { on: boundary, require: u = 0, points: 2 }
`;

/** A small Burgers spec's head (name `tiny`, inputs, constants, equation, conditions); add model:, sampling:, training:. */
export const TINY_BURGERS = `name: tiny
inputs: { x: [-1, 1], t: [0, 1] }
outputs: [u]
constants:
  nu: 0.01/pi
equations:
  burgers: u_t + u*u_x - nu*u_xx
conditions:
  initial: { on: t = 0, require: u = -sin(pi*x) }
  walls: { on: [x = -1, x = 1], require: u = 0 }
`;

/** Regression of sin(20x) on [-1, 1], a 1-8-8-1 L-LAAF tanh network; append model.rowdy / model.kronecker lines. */
export const HIGHFREQ_1D = `name: hf
inputs: { x: [-1, 1] }
outputs: [u]
data:
  fit: { target: sin(20*x), points: 50 }
model:
  hidden: [8, 8]
  activation: tanh
  adaptive: { mode: layer, n: 10 }
`;

/**
 * Move a network's parameters away from their initialisation, so that no check sits at a
 * symmetric point: weights × `gain` (more curvature; default 1), biases N(0, biasStd²), every
 * slope a·(1 ± 0.1…0.4); with `mixture`, also Rowdy/Kronecker α by ±0.02…0.08 and F/ω by
 * ×(1 ± 0.1…0.4). Values are rounded to float32, as the network holds them. Draws from `rng`
 * in this order: biases, slopes, α, F/ω.
 */
export function perturbParams(p: MlpParams, rng: Rng, o: { biasStd: number; gain?: number; mixture?: boolean }): MlpParams {
  const gain = o.gain ?? 1;
  const sign = () => (rng.uniform() < 0.5 ? -1 : 1);
  // a·(1 ± (0.1 … 0.4)): every entry moves at least 10 % away from its value
  const away = (a: number) => Math.fround(a * (1 + sign() * (0.1 + 0.3 * rng.uniform())));
  return {
    weights: p.weights.map((w) => w.map((row) => row.map((v) => Math.fround(gain * v)))),
    biases: p.biases.map((b) => b.map(() => Math.fround(o.biasStd * rng.normal()))),
    slopes: p.slopes.map((s) => s.map(away)),
    ...(o.mixture ? {
      alphas: p.alphas!.map((s) => s.map((a) => Math.fround(a + sign() * (0.02 + 0.06 * rng.uniform())))),
      freqs: p.freqs!.map((s) => s.map(away)),
    } : {}),
  };
}
