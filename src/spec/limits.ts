/**
 * Resource limits, checked from the spec before anything large is allocated or read
 * (README "Limits"). Sizes past them are user errors (exit 2) at the key that asks for them.
 *
 * The memory estimate is deliberately simple — a sum of a few products; it exists to refuse
 * sizes that cannot fit (a 10⁹-neuron layer, 10⁹ points), not to predict a run's footprint
 * closely. Measured (2D Burgers, hidden [100,100,100,100], 20 000 interior points, 10 Adam
 * steps, 2026-11-30): estimate 1.0 GiB; peak RSS 0.33 GiB with the fused kernel, 1.7 GiB on
 * tfjs ops (--no-fused). So a run at the limit (half the memory) fits on either path:
 *
 *   parameters  P · 8 B · (6 + 2·H)       P weights, biases and slopes; value, gradient, Adam's
 *                                          two moments, float64 copies; H L-BFGS pairs (0 without)
 *   a point set n · C · (d + Σ widths + m) · 4 B · 8
 *                                          n points, C jet channels, every layer's channels in
 *                                          float32, ×8 for what the backward pass keeps per layer
 *                                          (pre-activations, the activation's derivative tower,
 *                                          jet products)
 *   output grid G · (d + 3m) · 48 B        grid, reference, prediction, error (float64) and the
 *                                          rows and CSV text of solution.csv
 *
 * The total must stay under half the machine's memory (os.totalmem()). The message names the
 * key of the largest item — except that a network too wide to take even 1000 points is blamed
 * on model.hidden, whichever point count is largest.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import type { Spec } from './schema.js';
import { SpecError, type SpecPath } from './errors.js';

export const LIMITS = {
  /** bytes of a spec file or a sweep file */
  specFileBytes: 1 << 20,
  /**
   * bytes of a CSV file named by a spec (data, reference) or by `laaf predict --points`; parsing
   * holds every cell as a string: a 64 MiB file of 6.7 M short rows peaked at 3.6 GiB (2026-11-30)
   */
  dataFileBytes: 32 << 20,
  /** points of the evaluation grid (solution.csv is built in memory) */
  outputGridPoints: 1_000_000,
  /** share of os.totalmem() a run may plan to use */
  memoryShare: 0.5,
} as const;

/** Bytes per jet value kept by training, per channel and layer width: float32 × 8 (see above). */
const BYTES_PER_POINT_VALUE = 4 * 8;
const BYTES_PER_GRID_VALUE = 48;

export function formatBytes(b: number): string {
  if (b >= 2 ** 40) return `${(b / 2 ** 40).toPrecision(3)} TiB`;
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toPrecision(3)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toPrecision(3)} MiB`;
  return `${Math.ceil(b / 1024)} KiB`;
}

// ---------------------------------------------------------------------------- files

/** A file that cannot be used, with the reason in words. */
export class FileReadError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = 'FileReadError';
  }
}

/**
 * A regular file of at most `maxBytes`, as UTF-8 text. Refuses directories, devices and pipes
 * (checked before opening, so a FIFO never blocks) and never reads more than maxBytes + 1 bytes.
 * `what` names the file in messages ("data file d.csv", "the spec file").
 */
export function readTextFile(path: string, maxBytes: number, what: string): string {
  const reason = (e: unknown): never => {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FileReadError(`${what} does not exist`, 'check the path (relative paths in a spec start at the spec\'s folder)');
    if (code === 'EACCES' || code === 'EPERM') throw new FileReadError(`${what} cannot be read: permission denied`);
    if (code === 'ENOTDIR') throw new FileReadError(`${what} does not exist (a part of the path is a file)`);
    throw new FileReadError(`${what} cannot be read: ${code ?? String(e)}`);
  };
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    return reason(e);
  }
  if (st.isDirectory()) throw new FileReadError(`${what} is a directory, not a file`);
  if (!st.isFile()) throw new FileReadError(`${what} is not a regular file`, 'give a file on disk (devices and pipes are not read)');
  const tooBig = (size: string) => new FileReadError(`${what} is ${size}; at most ${formatBytes(maxBytes)} is read`, 'see "Limits" in the README');
  if (st.size > maxBytes) throw tooBig(formatBytes(st.size));
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    return reason(e);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new FileReadError(`${what} is not a regular file`);
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    for (let got = 1; got > 0 && n < buf.length;) {
      got = readSync(fd, buf, n, buf.length - n, null);
      n += got;
    }
    if (n > maxBytes) throw tooBig('larger');
    return buf.toString('utf8', 0, n);
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------- memory

/** The jet channels a network carries for these requested derivatives: their closure under sub-multisets. */
export function channelCount(requested: readonly (readonly number[])[]): number {
  const keys = new Set<string>(['']);
  for (const c of requested) {
    const sorted = [...c].sort((a, b) => a - b);
    for (let mask = 0; mask < 1 << sorted.length; mask++) keys.add(sorted.filter((_, i) => mask & (1 << i)).join(','));
  }
  return keys.size;
}

export interface MemoryItem {
  path: SpecPath;
  what: string;
  bytes: number;
  /** the network's item: bytes per training point (C channels × widths) */
  perPoint?: number;
}

/** The estimate above, item by item (each with the spec key that sets its size). */
export function memoryItems(spec: Spec, shape: { inputs: number; outputs: number; channels: number }): MemoryItem[] {
  const { inputs: d, outputs: m, channels: C } = shape;
  const hidden = spec.model.hidden;
  const widths = [d, ...hidden, m];
  let params = 0;
  for (let k = 0; k + 1 < widths.length; k++) params += (widths[k]! + 1) * widths[k + 1]!;
  const rowdyTerms = spec.model.rowdy ? 2 * spec.model.rowdy.K : spec.model.kronecker ? 2 * spec.model.kronecker.functions.length : 0;
  params += hidden.reduce((p, w) => p + w, 0) * (1 + rowdyTerms);
  const history = spec.training.lbfgs?.history ?? 0;
  const perPoint = C * widths.reduce((p, w) => p + w, 0) * BYTES_PER_POINT_VALUE;
  const items: MemoryItem[] = [{ path: ['model', 'hidden'], what: `${params.toExponential(2)} network parameters`, bytes: params * 8 * (6 + 2 * history), perPoint }];

  const points = (path: SpecPath, n: number, what: string) => items.push({ path, what: `${n} ${what}`, bytes: n * perPoint });
  const refine = spec.training.refine;
  const grown = refine ? refine.add * Math.floor(spec.training.adam.steps / refine.every) : 0;
  if (Object.keys(spec.equations).length > 0) points(['sampling', 'interior'], spec.sampling.interior + grown, 'interior points');
  if (refine) points(['training', 'refine', 'candidates'], refine.candidates, 'refinement candidates');
  for (const [name, c] of Object.entries(spec.conditions)) {
    if (c.at !== undefined) continue;
    const n = (c.points ?? spec.sampling.boundary) * (c.periodic !== undefined ? 2 : 1);
    points(c.points !== undefined ? ['conditions', name, 'points'] : ['sampling', 'boundary'], n, `points of condition '${name}'`);
  }
  for (const [name, t] of Object.entries(spec.data)) {
    if (t.points !== undefined) points(['data', name, 'points'], t.points, `points of data '${name}'`);
  }
  const g = gridPoints(spec, d);
  items.push({ path: ['output', 'grid'], what: `${g} output grid points`, bytes: g * (d + 3 * m) * BYTES_PER_GRID_VALUE });
  return items;
}

/** Points of the evaluation grid: the product of output.grid's counts and the defaults for the others. */
export function gridPoints(spec: Spec, d: number): number {
  const counts = Object.values(spec.output.grid ?? {});
  const fallback = defaultGridCount(d);
  return counts.reduce((p, c) => p * c, 1) * fallback ** Math.max(0, d - counts.length);
}

/** Default grid points per input: 201 in 1D, 101 in 2D, 21 in 3D, 7 beyond. */
export function defaultGridCount(d: number): number {
  return d === 1 ? 201 : d === 2 ? 101 : d === 3 ? 21 : 7;
}

/** The memory a run may plan to use, and the machine's total. */
export function memoryBudget(): { bytes: number; total: number } {
  const total = totalmem();
  return { bytes: total * LIMITS.memoryShare, total };
}

/**
 * SpecErrors for sizes past the limits: the output grid cap and the memory estimate (blamed
 * on the key of its largest item). Allocates nothing in proportion to the sizes it checks.
 */
export function checkResources(spec: Spec, shape: { inputs: number; outputs: number; channels: number }): SpecError[] {
  const errors: SpecError[] = [];
  const g = gridPoints(spec, shape.inputs);
  if (g > LIMITS.outputGridPoints) {
    errors.push(new SpecError(`the output grid has ${g.toExponential(2)} points; at most ${LIMITS.outputGridPoints} are written to solution.csv`, ['output', 'grid'],
      'use fewer points per input (laaf predict --grid evaluates larger grids in blocks)'));
  }
  const items = memoryItems(spec, shape);
  const total = items.reduce((p, i) => p + i.bytes, 0);
  const budget = memoryBudget();
  if (total > budget.bytes) {
    const net = items[0]!;
    const tooWide = net.bytes + 1000 * net.perPoint! > budget.bytes;
    const worst = tooWide ? { ...net, what: `${net.what} and ${formatBytes(net.perPoint!)} per training point` } : items.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    if (!(worst.path[0] === 'output' && errors.length > 0)) {
      errors.push(new SpecError(`this run needs about ${formatBytes(total)} of memory (${worst.what}: ${formatBytes(worst.bytes)}); this machine has ${formatBytes(budget.total)} and laaf plans for at most ${LIMITS.memoryShare * 100}% of it`,
        worst.path, 'reduce this size (see "Limits" in the README)'));
    }
  }
  return errors;
}
