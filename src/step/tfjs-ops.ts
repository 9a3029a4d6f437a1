/** The `tfjs-ops` step path: the network's jets as tfjs ops (Mlp.forwardJet); runs everywhere, the last resort. */
import { supported, type StepPath } from './registry.js';

export const tfjsOps: StepPath = {
  name: 'tfjs-ops',
  kernel: false,
  supports: () => supported,
  create: (model) => model,
};
