/** The backends a user may name (--backend); apart from select.ts so that the CLI can list them without loading tfjs. */
export type BackendChoice = 'auto' | 'wasm' | 'cpu' | 'tensorflow';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'wasm', 'cpu', 'tensorflow'];
