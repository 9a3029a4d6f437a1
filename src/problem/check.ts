/**
 * Checking a spec without training (`laaf validate`, and the first thing solve and sweep do):
 * load it, then build its problem, which compiles every expression. Loads no tfjs.
 */
import { dirname } from 'node:path';
import { loadSpec, toUserError, type LoadedSpec } from '../spec/load.js';
import { SpecError } from '../spec/errors.js';
import { buildProblem, type Problem } from './build.js';

/** Load and check a spec (and its expressions) without training. Throws UserError. */
export function checkSpec(specFile: string, set: string[] = [], baseDir?: string): { loaded: LoadedSpec; problem: Problem } {
  const loaded = loadSpec(specFile, { set });
  try {
    return { loaded, problem: buildProblem(loaded.spec, { baseDir: baseDir ?? dirname(specFile) }) };
  } catch (e) {
    if (e instanceof SpecError) throw toUserError(e, loaded);
    throw e;
  }
}
