import { ExprError } from '../expr/index.js';
import { SpecError, type SpecPath } from '../spec/errors.js';

/** Run a compile step; an ExprError becomes a SpecError at the same character of the spec string. */
export function located<T>(path: SpecPath, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ExprError) throw new SpecError(e.message, path, e.hint, e.offset);
    throw e;
  }
}
