/**
 * Writing results without ever leaving a half-written file: whole files go to a
 * temporary name in the same directory and are renamed into place; CSV logs are
 * appended row by row (a crash loses at most the row being written, never earlier rows).
 */
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'csv-stringify/sync';

export function writeFileAtomic(path: string, content: string): void {
  const tmp = join(dirname(path), `.${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export function csvText(header: string[], rows: (string | number)[][]): string {
  return stringify([header, ...rows], { cast: { number: formatNumber } });
}

/** Full precision, compact: integers as such, others with 9 significant digits (float32 carries ~7). */
export function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  if (!Number.isFinite(v)) return String(v);
  return v.toPrecision(9).replace(/(\.\d*?)0+(e|$)/, '$1$2').replace(/\.(e|$)/, '$1');
}

/** A CSV file that grows by appending rows; the header is written when the file is new. */
export class CsvLog {
  constructor(readonly path: string, readonly header: string[]) {
    if (!existsSync(path)) appendFileSync(path, stringify([header]));
  }

  append(row: (string | number)[]): void {
    if (row.length !== this.header.length) throw new Error(`internal: ${this.path} row has ${row.length} fields, header ${this.header.length}`);
    appendFileSync(this.path, stringify([row], { cast: { number: formatNumber } }));
  }
}

/** Create a run directory; refuses a non-empty existing one so no earlier result is overwritten. */
export function createRunDir(dir: string): void {
  assertRunDirFree(dir);
  mkdirSync(dir, { recursive: true });
}

/** Throws RunDirExistsError when `dir` exists and is not empty. */
export function assertRunDirFree(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new RunDirExistsError(dir);
}

export class RunDirExistsError extends Error {
  constructor(readonly dir: string) {
    super(`run directory ${dir} exists and is not empty`);
  }
}
