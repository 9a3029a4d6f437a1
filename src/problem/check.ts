/**
 * Checking a spec without training (`laaf validate`, and the first thing solve and sweep do):
 * load it, then build its problem, which compiles every expression. Loads no tfjs.
 */
import { dirname } from 'node:path';
import { loadSpec, toUserError, type LoadedSpec } from '../spec/load.js';
import { SpecError } from '../spec/errors.js';
import { isHistoryName } from '../io/run-dir.js';
import { buildProblem, type Problem } from './build.js';

/** Load and check a spec (and its expressions) without training. Throws UserError. */
export function checkSpec(specFile: string, set: string[] = [], baseDir?: string): { loaded: LoadedSpec; problem: Problem } {
  const loaded = loadSpec(specFile, { set });
  return {
    loaded,
    problem: specErrorsOf(loaded, () => {
      const problem = buildProblem(loaded.spec, { baseDir: baseDir ?? dirname(specFile) });
      // A loss term is a history.csv column of its own name: it may not take one of laaf's.
      for (const t of problem.terms) {
        if (!isHistoryName(t.name)) continue;
        const section = (['equations', 'conditions', 'data'] as const).find((k) => t.name in loaded.spec[k])!;
        throw new SpecError(`'${t.name}' is the name of one of laaf's history.csv columns`, [section, t.name], 'rename this term', undefined, true);
      }
      return problem;
    }),
  };
}

/** Run `f`; SpecErrors become UserErrors located in the loaded spec. */
export function specErrorsOf<T>(loaded: LoadedSpec, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SpecError) throw toUserError(e, loaded);
    throw e;
  }
}
