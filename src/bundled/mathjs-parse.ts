/**
 * mathjs's `parse`, alone (dist/mathjs-parse.cjs, from mathjs/number; see scripts/bundle-deps.mjs),
 * so that checking a spec does not pay for creating all of mathjs's functions. It gives the same
 * trees and syntax errors as `import { parse } from 'mathjs'` (checked in test/expr.test.ts).
 */
import type { parse as mathjsParse } from 'mathjs';
import { loadBundle } from './load.js';

export const parse = (loadBundle('mathjs-parse.cjs') as { parse: typeof mathjsParse }).parse;
