/** The IDX reader (src/data/idx.ts) on small generated files, gzipped and raw, and on every malformation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { IdxError, encodeIdx, readIdx } from '../src/data/idx.js';
import { tempDir } from './helpers.js';

const dir = tempDir('laaf-idx-');
const put = (name: string, bytes: Uint8Array) => {
  const f = join(dir, name);
  writeFileSync(f, bytes);
  return f;
};

test('uint8 images, raw and gzipped, read back exactly', () => {
  const values = Array.from({ length: 3 * 4 * 5 }, (_, i) => (i * 37) % 256);
  const bytes = encodeIdx([3, 4, 5], values, 0x08);
  // The header by hand: 00 00 08 03, then 3, 4, 5 as big-endian uint32.
  assert.deepEqual(Array.from(bytes.subarray(0, 16)), [0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5]);
  for (const f of [put('a.idx', bytes), put('a.idx.gz', gzipSync(bytes))]) {
    const r = readIdx(f);
    assert.deepEqual(r.shape, [3, 4, 5]);
    assert.equal(r.type, 'uint8');
    assert.deepEqual(Array.from(r.data), values);
  }
});

test('every element type reads back (big-endian)', () => {
  const cases: [number, number[]][] = [
    [0x09, [-128, -1, 0, 127]], [0x0b, [-32768, -2, 1, 32767]], [0x0c, [-2147483648, -3, 5, 2147483647]],
    [0x0d, [-1.5, 0.25, 3, 1e10]], [0x0e, [Math.PI, -Math.E, 1e-300, 0]],
  ];
  for (const [code, v] of cases) {
    const r = readIdx(put(`t${code}.idx`, encodeIdx([4], v, code)));
    assert.deepEqual(Array.from(r.data), v, `type 0x${code.toString(16)}`);
  }
});

function fails(bytes: Uint8Array, offset: number, pattern: RegExp, gz = false): void {
  const f = put(`bad-${Math.random().toString(36).slice(2)}.idx${gz ? '.gz' : ''}`, gz ? gzipSync(bytes) : bytes);
  assert.throws(() => readIdx(f), (e: unknown) => {
    assert.ok(e instanceof IdxError, String(e));
    assert.equal(e.offset, offset, e.message);
    assert.match(e.message, pattern);
    assert.ok(e.message.startsWith(`${f}: byte ${offset}: `), e.message);
    return true;
  });
}

test('malformed files: wrong magic, unknown type, size mismatch, truncation — each with its byte offset', () => {
  const good = encodeIdx([2, 3], [1, 2, 3, 4, 5, 6], 0x08);
  const wrongMagic = good.slice();
  wrongMagic[0] = 0x1a;
  fails(wrongMagic, 0, /wrong magic number 0x1a000802/);
  const wrongMagic2 = good.slice();
  wrongMagic2[1] = 7;
  fails(wrongMagic2, 1, /wrong magic/);
  const badType = good.slice();
  badType[2] = 0x0a;
  fails(badType, 2, /unknown element type 0x0a/);
  fails(good.subarray(0, 3), 3, /truncated: 3 bytes/);
  fails(good.subarray(0, 10), 10, /truncated header: 2 dimensions need 12 bytes/);
  fails(good.subarray(0, 16), 16, /truncated: dimensions 2×3 of uint8 need 18 bytes, the file ends after 16/);
  fails(good.subarray(0, 16), 16, /truncated/, true); // the same inside gzip: offsets count decompressed bytes
  fails(new Uint8Array([...good, 9, 9]), 18, /dimensions 2×3 of uint8 end at byte 18, but the file has 2 more bytes/);
  const zeroDims = good.slice(0, 4);
  zeroDims[3] = 0;
  fails(zeroDims, 3, /zero dimensions/);
  // A broken gzip stream.
  const gz = gzipSync(good);
  const f = put('broken.idx.gz', gz.subarray(0, gz.length - 6));
  assert.throws(() => readIdx(f), /byte 0: not a valid gzip stream/);
});
