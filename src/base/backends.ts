/** The backends a spec (training.backend) or --backend may name; in base/ so that the CLI lists them without loading the schema or tfjs. */
export const BACKEND_NAMES = ['auto', 'wasm', 'cpu', 'tensorflow', 'webgpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
