/**
 * Third-party modules that laaf loads from one file each, bundled at build time into dist/ by
 * scripts/bundle-deps.mjs (see there why): the start-up path of every command (`laaf
 * validate` above all) would otherwise load hundreds of small files. This folder imports
 * nothing of laaf's; the rest of src/ imports the bundled modules from here.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** `require` of dist/NAME, from dist/src/bundled (compiled) or src/bundled (tsx). */
export function loadBundle(name: string): unknown {
  const tried: string[] = [];
  for (const rel of [`../../${name}`, `../../dist/${name}`]) {
    const file = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(file)) return require(file);
    tried.push(file);
  }
  throw new Error(`${tried[0]} is missing — run npm run build`);
}
