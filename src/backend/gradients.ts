/**
 * Registers tfjs-core's gradient functions (bundled at build time into
 * dist/tfjs-gradients.cjs by scripts/bundle-gradients.mjs; see there why).
 * Import this module for its side effect before any tfjs gradient is taken.
 */
import '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../base/package-root.js';

const bundle = join(packageRoot(), 'dist', 'tfjs-gradients.cjs');
if (!existsSync(bundle)) throw new Error(`${bundle} is missing — run npm run build`);
createRequire(import.meta.url)(bundle);
