/**
 * IDX files (the MNIST / Fashion-MNIST format), gzipped or raw:
 *   bytes 0-1  zero, byte 2 the element type, byte 3 the number of dimensions d;
 *   then d big-endian uint32 sizes; then the elements, big-endian, row-major.
 * Types: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64.
 * Every malformation is an IdxError naming the byte offset where the file stops
 * making sense (of the decompressed bytes for a .gz file).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface IdxArray {
  /** sizes of the dimensions, outermost first: [N, 28, 28] for an image file */
  shape: number[];
  /** the elements, row-major: the bytes themselves for uint8, else float64 (exact for every IDX type) */
  data: Uint8Array | Float64Array;
  /** the element type's name: uint8, int8, int16, int32, float32, float64 */
  type: string;
}

export class IdxError extends Error {
  constructor(readonly file: string, readonly offset: number, what: string) {
    super(`${file}: byte ${offset}: ${what}`);
    this.name = 'IdxError';
  }
}

const TYPES: Record<number, { name: string; size: number; read: (v: DataView, o: number) => number }> = {
  0x08: { name: 'uint8', size: 1, read: (v, o) => v.getUint8(o) },
  0x09: { name: 'int8', size: 1, read: (v, o) => v.getInt8(o) },
  0x0b: { name: 'int16', size: 2, read: (v, o) => v.getInt16(o, false) },
  0x0c: { name: 'int32', size: 4, read: (v, o) => v.getInt32(o, false) },
  0x0d: { name: 'float32', size: 4, read: (v, o) => v.getFloat32(o, false) },
  0x0e: { name: 'float64', size: 8, read: (v, o) => v.getFloat64(o, false) },
};

/** Read an IDX file; gzip is recognised by its magic bytes (1f 8b), not by the name. */
export function readIdx(file: string): IdxArray {
  let bytes: Uint8Array = readFileSync(file);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new IdxError(file, 0, `not a valid gzip stream (${(e as Error).message})`);
    }
  }
  return parseIdx(bytes, file);
}

/** Parse the bytes of an IDX file (already decompressed). */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4) throw new IdxError(file, bytes.length, `truncated: ${bytes.length} bytes, an IDX header has at least 4`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new IdxError(file, bytes[0] !== 0 ? 0 : 1, `wrong magic number 0x${hex(bytes, 0, 4)}: an IDX file starts with two zero bytes`);
  }
  const type = TYPES[bytes[2]!];
  if (!type) throw new IdxError(file, 2, `unknown element type 0x${bytes[2]!.toString(16).padStart(2, '0')} (known: 08 uint8, 09 int8, 0B int16, 0C int32, 0D float32, 0E float64)`);
  const d = bytes[3]!;
  if (d === 0) throw new IdxError(file, 3, 'zero dimensions');
  const headerEnd = 4 + 4 * d;
  if (bytes.length < headerEnd) throw new IdxError(file, bytes.length, `truncated header: ${d} dimensions need ${headerEnd} bytes, the file has ${bytes.length}`);
  const shape: number[] = [];
  for (let k = 0; k < d; k++) shape.push(view.getUint32(4 + 4 * k, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = headerEnd + count * type.size;
  if (bytes.length < expected) {
    throw new IdxError(file, bytes.length, `truncated: dimensions ${shape.join('×')} of ${type.name} need ${expected} bytes, the file ends after ${bytes.length}`);
  }
  if (bytes.length > expected) {
    throw new IdxError(file, expected, `dimensions ${shape.join('×')} of ${type.name} end at byte ${expected}, but the file has ${bytes.length - expected} more bytes`);
  }
  if (type.name === 'uint8') return { shape, data: bytes.slice(headerEnd, expected), type: type.name };
  const data = new Float64Array(count);
  for (let i = 0; i < count; i++) data[i] = type.read(view, headerEnd + i * type.size);
  return { shape, data, type: type.name };
}

/** Encode an array as IDX bytes (tests, tools): uint8 when every value is an integer in 0..255, else float64. */
export function encodeIdx(shape: number[], values: ArrayLike<number>, typeCode?: number): Uint8Array {
  const code = typeCode ?? (Array.from(values).every((v) => Number.isInteger(v) && v >= 0 && v <= 255) ? 0x08 : 0x0e);
  const type = TYPES[code]!;
  const head = 4 + 4 * shape.length;
  const out = new Uint8Array(head + values.length * type.size);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = shape.length;
  shape.forEach((s, k) => view.setUint32(4 + 4 * k, s, false));
  for (let i = 0; i < values.length; i++) {
    const o = head + i * type.size;
    const v = values[i]!;
    switch (code) {
      case 0x08: view.setUint8(o, v); break;
      case 0x09: view.setInt8(o, v); break;
      case 0x0b: view.setInt16(o, v, false); break;
      case 0x0c: view.setInt32(o, v, false); break;
      case 0x0d: view.setFloat32(o, v, false); break;
      default: view.setFloat64(o, v, false);
    }
  }
  return out;
}

function hex(b: Uint8Array, from: number, to: number): string {
  return Array.from(b.subarray(from, to), (x) => x.toString(16).padStart(2, '0')).join('');
}
