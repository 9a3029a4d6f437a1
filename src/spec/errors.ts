/**
 * Errors a user can cause. They are reported as `laaf: error: FILE:LINE:COL: what — hint`
 * with exit code 2 (ARCHITECTURE.md, "Conventions"). Rooms downstream of spec/ point at the spec by *path*
 * (and an offset inside a string value); the CLI turns the path into a file position.
 */
export type SpecPath = readonly (string | number)[];

/** A mistake located in the spec: `path` names the value, `offset` a character inside a string value. */
export class SpecError extends Error {
  constructor(
    message: string,
    readonly path: SpecPath,
    readonly hint?: string,
    readonly offset?: number,
    /** point at the key of the last path element rather than its value */
    readonly atKey = false,
  ) {
    super(message);
    this.name = 'SpecError';
  }
}

/** Several independent mistakes in one spec; reported together (it is also the first of them). */
export class SpecErrors extends SpecError {
  constructor(readonly errors: SpecError[]) {
    const first = errors[0]!;
    super(first.message, first.path, first.hint, first.offset, first.atKey);
    this.name = 'SpecErrors';
  }
}

/**
 * Collects independent SpecErrors: `attempt(f)` runs one independent check and keeps its
 * SpecError instead of stopping; `throwIfAny()` throws them together.
 */
export class SpecErrorCollector {
  readonly errors: SpecError[] = [];

  attempt<T>(f: () => T): T | undefined {
    try {
      return f();
    } catch (e) {
      if (e instanceof SpecErrors) this.errors.push(...e.errors);
      else if (e instanceof SpecError) this.errors.push(e);
      else throw e;
      return undefined;
    }
  }

  throwIfAny(): void {
    if (this.errors.length === 1) throw this.errors[0]!;
    if (this.errors.length > 1) throw new SpecErrors(this.errors);
  }
}

/** A user mistake with a known position already (YAML syntax, data files) or none (flags). */
export class UserError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly where?: { file: string; line?: number; col?: number },
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Several user mistakes, each with its position, in file order; the CLI prints one line each. */
export class UserErrors extends UserError {
  constructor(readonly errors: UserError[]) {
    const first = errors[0]!;
    super(first.message, first.hint, first.where);
    this.name = 'UserErrors';
  }
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The closest candidate within distance 2, as a hint, or undefined. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best === undefined ? undefined : `did you mean '${best}'?`;
}

/** "1 input", "3 inputs": a count with its noun, for messages. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
