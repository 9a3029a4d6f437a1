/**
 * checkpoint.json: everything needed to continue a run, as JSON. Typed arrays are
 * stored exactly, as base64 of their little-endian bytes ({"$f32": "..."} or
 * {"$f64": "..."}), so restored weights, moments and points are bit-identical.
 * Written atomically (temporary file + rename): a kill leaves the previous checkpoint.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './files.js';
import { RUN_FILES } from './run-dir.js';

export const CHECKPOINT_FILE = RUN_FILES.checkpoint;
const FORMAT = 'laaf-checkpoint';
const VERSION = 1;

export function writeCheckpoint(dir: string, content: object): void {
  writeFileAtomic(join(dir, CHECKPOINT_FILE), JSON.stringify({ format: FORMAT, version: VERSION, ...encode(content) as object }));
}

export class CheckpointError extends Error {}

/** The checkpoint in `dir`, decoded; throws CheckpointError when missing or unreadable. */
export function readCheckpoint(dir: string): Record<string, unknown> {
  const path = join(dir, CHECKPOINT_FILE);
  if (!existsSync(path)) throw new CheckpointError(`${path} does not exist`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CheckpointError(`${path} is not valid JSON (${(e as Error).message})`);
  }
  const obj = raw as { format?: unknown; version?: unknown };
  if (typeof raw !== 'object' || raw === null || obj.format !== FORMAT) throw new CheckpointError(`${path} is not a laaf checkpoint`);
  if (obj.version !== VERSION) throw new CheckpointError(`${path} has format version ${String(obj.version)}, this laaf reads ${VERSION}`);
  return decode(raw) as Record<string, unknown>;
}

function encode(v: unknown): unknown {
  if (v instanceof Float32Array) return { $f32: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (v instanceof Float64Array) return { $f64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (Array.isArray(v)) return v.map(encode);
  if (typeof v === 'number' && !Number.isFinite(v)) return { $num: String(v) };
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, encode(x)]));
  return v;
}

function decode(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o['$f32'] === 'string') return typed(o['$f32'], 4, (b) => new Float32Array(b));
    if (typeof o['$f64'] === 'string') return typed(o['$f64'], 8, (b) => new Float64Array(b));
    if (typeof o['$num'] === 'string') return Number(o['$num']);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, decode(x)]));
  }
  return v;
}

function typed<T>(b64: string, size: number, make: (b: ArrayBuffer) => T): T {
  const buf = Buffer.from(b64, 'base64');
  if (buf.length % size !== 0) throw new CheckpointError('checkpoint array has a broken length');
  // Copy into a fresh, aligned ArrayBuffer.
  const ab = new ArrayBuffer(buf.length);
  new Uint8Array(ab).set(buf);
  return make(ab);
}
