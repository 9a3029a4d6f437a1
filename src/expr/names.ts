/**
 * Derivative symbols: `u_xt` <-> {output: 0, channel: [0, 1]}, and the room's error type.
 *
 * A channel is a multiset of input indices, stored sorted (nondecreasing):
 * `u_xt` and `u_tx` are the same mixed derivative.
 */

/** A user-caused problem in an expression. `offset` is a 0-based index into the expression text. */
export class ExprError extends Error {
  constructor(
    message: string,
    public offset: number,
    public hint?: string,
  ) {
    super(message);
    this.name = 'ExprError';
  }
}

/**
 * The highest derivative order (total, e.g. u_xxt is 3) an expression may ask for: the fused
 * kernel evaluates jets up to order 4 and the activation towers are verified to order 4.
 */
export const MAX_DERIVATIVE_ORDER = 4;

export interface DerivRef {
  /** index into the output names */
  output: number;
  /** nondecreasing input indices, one per differentiation; [] is the value itself */
  channel: number[];
}

/** Stable key for maps and sets, e.g. "0|0,1". */
export function derivKey(r: DerivRef): string {
  return `${r.output}|${r.channel.join(',')}`;
}

/** Canonical name: 'u', 'u_x', 'u_xt'; underscore-separated ('u_x1_x2') when any input name is longer than one character. */
export function derivName(r: DerivRef, inputs: string[], outputs: string[]): string {
  const out = outputs[r.output];
  if (out === undefined) throw new RangeError(`derivName: no output with index ${r.output}`);
  if (r.channel.length === 0) return out;
  const names = [...r.channel].sort((a, b) => a - b).map((i) => {
    const name = inputs[i];
    if (name === undefined) throw new RangeError(`derivName: no input with index ${i}`);
    return name;
  });
  const separator = inputs.some((n) => n.length > 1) ? '_' : '';
  return `${out}_${names.join(separator)}`;
}

/**
 * 'u' -> {output:0, channel:[]}, 'u_x' -> [0], 'u_xt' and 'u_tx' -> [0,1], 'u_xx' -> [0,0].
 * With multi-letter input names the suffix is split into input names, optionally separated
 * by underscores ('u_x1x2' or 'u_x1_x2'). A suffix that cannot be split, or that can be split
 * in more than one way, throws an ExprError (offset 0, with a hint).
 * Returns null when `name` is neither an output nor `<output>_<suffix>`.
 */
export function parseDerivativeName(name: string, inputs: string[], outputs: string[]): DerivRef | null {
  const exact = outputs.indexOf(name);
  if (exact >= 0) return { output: exact, channel: [] };

  // Outputs that prefix the name as `<output>_`; try the longest first so that an output
  // named 'u_a' wins over 'u' for 'u_a_x'.
  const candidates = outputs
    .map((out, index) => ({ out, index }))
    .filter(({ out }) => name.length > out.length + 1 && name.startsWith(out + '_'))
    .sort((a, b) => b.out.length - a.out.length);
  if (candidates.length === 0) return null;

  let firstError: ExprError | undefined;
  for (const { out, index } of candidates) {
    const suffix = name.slice(out.length + 1);
    const result = segmentSuffix(suffix, inputs);
    if (result.kind === 'ok') return { output: index, channel: result.channel };
    firstError ??= suffixError(name, out, suffix, inputs, result);
  }
  throw firstError!;
}

type Segmentation =
  | { kind: 'ok'; channel: number[] }
  | { kind: 'none'; stuckAt: number }
  | { kind: 'ambiguous'; examples: number[][] };

/**
 * Split `suffix` into a sequence of input names, with an optional '_' between consecutive names.
 * Counts the distinct splittings (stopping at two) with a memoized walk over positions.
 */
function segmentSuffix(suffix: string, inputs: string[]): Segmentation {
  // ways[p]: number of splittings (capped at 2) of suffix.slice(p) that start with an input name.
  const ways = new Array<number>(suffix.length + 1).fill(-1);
  const countFrom = (p: number): number => {
    if (p === suffix.length) return 1;
    if (ways[p]! >= 0) return ways[p]!;
    let total = 0;
    for (const input of inputs) {
      if (input.length === 0 || !suffix.startsWith(input, p)) continue;
      const q = p + input.length;
      total += countAfterName(q);
      if (total >= 2) break;
    }
    ways[p] = Math.min(total, 2);
    return ways[p]!;
  };
  // After a name ends at q: the suffix ends, or the next name starts at q, or after one '_'.
  const countAfterName = (q: number): number => {
    if (q === suffix.length) return 1;
    let total = countFrom(q);
    if (suffix[q] === '_' && q + 1 < suffix.length) total += countFrom(q + 1);
    return Math.min(total, 2);
  };

  const total = countFrom(0);
  if (total === 1) return { kind: 'ok', channel: firstSplitting(suffix, inputs, countFrom, countAfterName) };
  if (total === 0) return { kind: 'none', stuckAt: furthestReachable(suffix, inputs) };
  return { kind: 'ambiguous', examples: twoSplittings(suffix, inputs) };
}

/** Reconstruct the unique splitting, following positions that have a completion. */
function firstSplitting(
  suffix: string,
  inputs: string[],
  countFrom: (p: number) => number,
  countAfterName: (q: number) => number,
): number[] {
  const channel: number[] = [];
  let p = 0;
  while (p < suffix.length) {
    let advanced = false;
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i]!;
      if (input.length === 0 || !suffix.startsWith(input, p)) continue;
      const q = p + input.length;
      if (countAfterName(q) === 0) continue;
      channel.push(i);
      if (q === suffix.length) p = q;
      else if (countFrom(q) > 0) p = q;
      else p = q + 1; // skip the '_' separator
      advanced = true;
      break;
    }
    if (!advanced) break; // cannot happen when the count was 1
  }
  return channel.sort((a, b) => a - b);
}

/** Two different splittings, for the ambiguity message (plain depth-first search, stops at two). */
function twoSplittings(suffix: string, inputs: string[]): number[][] {
  const found: number[][] = [];
  const walk = (p: number, acc: number[]): void => {
    if (found.length >= 2) return;
    if (p === suffix.length) {
      found.push([...acc]);
      return;
    }
    for (let i = 0; i < inputs.length && found.length < 2; i++) {
      const input = inputs[i]!;
      if (input.length === 0 || !suffix.startsWith(input, p)) continue;
      const q = p + input.length;
      acc.push(i);
      walk(q, acc);
      if (q < suffix.length && suffix[q] === '_') walk(q + 1, acc);
      acc.pop();
    }
  };
  walk(0, []);
  return found;
}

/** The furthest position in `suffix` where a new input name could start. */
function furthestReachable(suffix: string, inputs: string[]): number {
  const reachable = new Array<boolean>(suffix.length + 1).fill(false);
  reachable[0] = true;
  let furthest = 0;
  for (let p = 0; p < suffix.length; p++) {
    if (!reachable[p]) continue;
    furthest = Math.max(furthest, p);
    for (const input of inputs) {
      if (input.length === 0 || !suffix.startsWith(input, p)) continue;
      const q = p + input.length;
      if (q < suffix.length) {
        reachable[q] = true;
        if (suffix[q] === '_') reachable[q + 1] = true;
      }
    }
  }
  return furthest;
}

function suffixError(
  name: string,
  out: string,
  suffix: string,
  inputs: string[],
  result: Exclude<Segmentation, { kind: 'ok' }>,
): ExprError {
  const inputList = inputs.length > 0 ? inputs.join(', ') : '(none)';
  if (result.kind === 'none') {
    const rest = suffix.slice(result.stuckAt);
    const allSingle = inputs.every((n) => n.length === 1);
    let unknown = allSingle ? rest.slice(0, 1) : rest.split('_')[0] || rest;
    if (unknown === '_' || unknown === '') unknown = rest;
    return new ExprError(
      `unknown input '${unknown}' in derivative ${name} (inputs: ${inputList})`,
      0,
      `a derivative is written ${out}_<inputs>, e.g. ${exampleName(out, inputs)}; or D(${out}, <input>, ...)`,
    );
  }
  const shown = result.examples
    .map((ch) => `${out}_${ch.map((i) => inputs[i]).join('_')}`)
    .join(' or ');
  return new ExprError(
    `ambiguous derivative ${name}: it can be read as ${shown}`,
    0,
    `separate the input names with underscores (e.g. ${shown.split(' or ')[0]}) or write D(${out}, <input>, ...)`,
  );
}

function exampleName(out: string, inputs: string[]): string {
  if (inputs.length === 0) return out;
  const first = inputs[0]!;
  return inputs.some((n) => n.length > 1) ? `${out}_${first}_${first}` : `${out}_${first}${first}`;
}
