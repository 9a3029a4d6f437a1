/** Rowdy/Kronecker test helpers, shared by the kernel and WGSL tests. */
import * as tf from '@tensorflow/tfjs-core';
import type { Mlp } from '../../src/nn/mlp.js';
import { Rng } from '../../src/domain/rng.js';

/**
 * Move α and F (Rowdy) / α and ω (Kronecker) away from their init, where the sinusoids'
 * amplitudes are 0 (their F gradients vanish and the terms contribute nothing).
 * Rowdy: α_k ∈ ±[0.02, 0.08] (amplitudes n_R·α ≈ 0.2–0.8), F_k ∈ F_k⁰·[0.6, 1.4];
 * Kronecker: α ∈ α⁰ ± 0.4, ω ∈ ω⁰·[0.7, 1.3].
 */
export function perturbMixture(m: Mlp, seed: number): void {
  const rng = new Rng(seed);
  const rowdy = m.activationKind === 'rowdy';
  const draw = (v: tf.Variable, f: (x: number) => number) => v.assign(tf.tensor(Array.from(v.dataSync(), f), v.shape));
  for (const a of m.alphas) draw(a, (x) => (rowdy ? (rng.uniform() < 0.5 ? -1 : 1) * (0.02 + 0.06 * rng.uniform()) : x + 0.8 * (rng.uniform() - 0.5)));
  for (const f of m.freqs) draw(f, (x) => x * (rowdy ? 0.6 + 0.8 * rng.uniform() : 0.7 + 0.6 * rng.uniform()));
}
