/** zod's `z` (dist/zod.cjs; see scripts/bundle-deps.mjs): the same `z` as `import { z } from 'zod'`. */
import type { z as zod } from 'zod';
import { loadBundle } from './load.js';

export const z = (loadBundle('zod.cjs') as { z: typeof zod }).z;

/** The types of `z` that the schema uses (a namespace of types only, so it merges with the value). */
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace z {
  export type input<T> = zod.input<T>;
  export type output<T> = zod.output<T>;
}
