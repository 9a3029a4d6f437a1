/**
 * The base activations laaf knows, in ONE order: spec/schema.ts accepts these names,
 * nn/activations.ts implements their derivative towers, and an activation's id in the
 * fused kernel is its index here (kernel/layout.ts; assembly/kernel.ts's ACT_* constants,
 * checked by test/kernel-layout.test.ts). Add a new activation at the end.
 */
export const ACTIVATIONS = [
  'tanh', 'sin', 'cos', 'sigmoid', 'softplus', 'silu', 'gelu', 'elu', 'relu', 'leaky_relu',
] as const;

export type BaseActivation = (typeof ACTIVATIONS)[number];
