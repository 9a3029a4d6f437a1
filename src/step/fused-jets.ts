/**
 * The `fused-jets` step path: the network's jets and their gradient in the fused SIMD
 * kernel (src/kernel/fused.ts) as one tfjs op; the loss and the optimizers stay in tfjs.
 */
import type { Mlp } from '../nn/mlp.js';
import { fusedForward, fusedForwardJet, fusedStats, fusedUnsupported, type NetworkTensors } from '../kernel/fused.js';
import { supported, unsupported, type StepPath } from './registry.js';

/** The model's tensors as the op takes them (read at each call: Mlp.load and dispose replace them). */
function tensorsOf(model: Mlp, withMixture: boolean): NetworkTensors {
  return {
    weights: model.weights,
    biases: model.biases,
    slopes: model.slopes,
    mixture: withMixture ? model.cfg.hidden.map((_, k) => model.mixtureCoefficients(k)) : [],
  };
}

export const fusedJets: StepPath = {
  name: 'fused-jets',
  kernel: true,
  supports(q) {
    if (q.kernelsOff !== undefined) return unsupported(q.kernelsOff);
    const why = fusedUnsupported(q.net, q.order, q.backend);
    return why === null ? supported : unsupported(why);
  },
  create(model) {
    const net = model.describe();
    const mixed = net.mixture !== null;
    return {
      forwardJet: (plan, X) => fusedForwardJet(net, tensorsOf(model, mixed), plan, X),
      forward: (X) => fusedForward(net, tensorsOf(model, mixed), X),
      details: () => ({ threads: fusedStats().threads }),
    };
  },
};
