/**
 * A tiny PNG encoder and colour maps, for heatmaps: a 2D field becomes one
 * embedded image (a few tens of kB) instead of thousands of SVG rectangles.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import * as vega from 'vega';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** RGB pixels (row-major, top row first, 3 bytes per pixel) → PNG bytes. */
export function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  if (rgb.length !== width * height * 3) throw new Error(`internal: ${rgb.length} bytes for ${width}x${height} RGB`);
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0; // filter: none
    Buffer.from(rgb.buffer, rgb.byteOffset + y * width * 3, width * 3).copy(raw, y * (width * 3 + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** The inverse of encodePng, for PNGs it wrote (8-bit RGB, one IDAT stream, filter 0): [width, height, rgb]. */
export function decodePng(png: Buffer): [number, number, Buffer] {
  if (png.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('internal: not a PNG');
  const w = png.readUInt32BE(16);
  const h = png.readUInt32BE(20);
  let at = 8;
  const idat: Buffer[] = [];
  while (at < png.length) {
    const len = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rgb = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) raw.copy(rgb, y * w * 3, y * (w * 3 + 1) + 1, (y + 1) * (w * 3 + 1));
  return [w, h, rgb];
}

/** 256 RGB entries of a vega colour scheme (the same one vega-lite draws the legend with). */
export function colorTable(scheme: string): Uint8Array {
  const interp = (vega as unknown as { scheme(name: string): ((t: number) => string) | undefined }).scheme(scheme);
  if (typeof interp !== 'function') throw new Error(`internal: unknown colour scheme ${scheme}`);
  const table = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const m = /rgb\((\d+),\s*(\d+),\s*(\d+)\)/.exec(interp(i / 255));
    if (!m) throw new Error(`internal: colour ${interp(i / 255)}`);
    table.set([Number(m[1]), Number(m[2]), Number(m[3])], i * 3);
  }
  return table;
}

/**
 * A field sampled on a tensor grid (xs × ys, value(i, j) at xs[i], ys[j]) painted into
 * a width × height image covering [xs[0], xs.at(-1)] × [ys[0], ys.at(-1)] exactly,
 * bilinearly interpolated; `unit(v)` places a value on the colour scheme (0: its
 * first colour, 1: its last; clipped to [0, 1]). Values that are not finite are black.
 */
export function fieldImage(
  xs: number[], ys: number[], value: (i: number, j: number) => number,
  width: number, height: number, unit: (v: number) => number, scheme: string,
): string {
  const table = colorTable(scheme);
  const rgb = new Uint8Array(width * height * 3);
  const locate = (grid: number[], v: number): [number, number] => {
    if (grid.length === 1) return [0, 0];
    let k = 0;
    while (k < grid.length - 2 && grid[k + 1]! < v) k++;
    const f = (v - grid[k]!) / (grid[k + 1]! - grid[k]!);
    return [k, Math.min(1, Math.max(0, f))];
  };
  const xLoc = Array.from({ length: width }, (_, px) => locate(xs, xs[0]! + ((px + 0.5) / width) * (xs.at(-1)! - xs[0]!)));
  for (let py = 0; py < height; py++) {
    const y = ys.at(-1)! - ((py + 0.5) / height) * (ys.at(-1)! - ys[0]!); // top row = largest y
    const [j, fy] = locate(ys, y);
    const j1 = Math.min(j + 1, ys.length - 1);
    for (let px = 0; px < width; px++) {
      const [i, fx] = xLoc[px]!;
      const i1 = Math.min(i + 1, xs.length - 1);
      const v = (1 - fx) * (1 - fy) * value(i, j) + fx * (1 - fy) * value(i1, j) + (1 - fx) * fy * value(i, j1) + fx * fy * value(i1, j1);
      const u = Number.isFinite(v) ? unit(v) : NaN;
      if (Number.isNaN(u)) continue; // black
      const c = Math.round(255 * Math.min(1, Math.max(0, u)));
      rgb.set(table.subarray(c * 3, c * 3 + 3), (py * width + px) * 3);
    }
  }
  return `data:image/png;base64,${encodePng(width, height, rgb).toString('base64')}`;
}
