/**
 * mathjs's `parse`, alone: bundled at build time into dist/mathjs-parse.cjs by
 * scripts/bundle-mathjs.mjs (see there why), so that checking a spec does not pay for
 * loading all of mathjs. It gives the same trees as `import { parse } from 'mathjs'`
 * (checked in test/expr.test.ts).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { parse as mathjsParse } from 'mathjs';

/** dist/mathjs-parse.cjs from dist/src/expr (compiled) or src/expr (tsx). */
function bundlePath(): string {
  const tried: string[] = [];
  for (const rel of ['../../mathjs-parse.cjs', '../../dist/mathjs-parse.cjs']) {
    const file = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(file)) return file;
    tried.push(file);
  }
  throw new Error(`${tried[0]} is missing — run npm run build`);
}

export const parse: typeof mathjsParse = (createRequire(import.meta.url)(bundlePath()) as { parse: typeof mathjsParse }).parse;
