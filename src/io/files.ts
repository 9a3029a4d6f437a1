/**
 * Writing results without ever leaving a half-written file: whole files go to a
 * temporary name in the same directory and are renamed into place; CSV logs are
 * appended row by row (a crash loses at most the row being written, never earlier rows).
 */
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, truncateSync, writeSync } from 'node:fs';
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

/**
 * A CSV file that grows by appending rows; the header is written when the file is new.
 * A log reopened to continue a run (`reopen`) never rewrites what is there: rows whose
 * first cell (the step) is not past the last complete row are skipped, so steps redone
 * after a checkpoint are not written twice.
 */
export class CsvLog {
  /** rows keyed at or below this (first cell) are already in the file */
  private skipUpTo = -Infinity;

  constructor(readonly path: string, readonly header: string[]) {
    if (!existsSync(path)) appendFileSync(path, stringify([header]));
  }

  /**
   * Open an existing log to append to. Its header must equal `header`. An incomplete
   * last line (the process was killed while writing it) is removed — it is not a row.
   * Throws CsvLogError when the file's header differs.
   */
  static reopen(path: string, header: string[]): CsvLog {
    if (!existsSync(path)) return new CsvLog(path, header);
    let text = readFileSync(path, 'utf8');
    const end = text.lastIndexOf('\n') + 1;
    if (end < text.length) {
      truncateSync(path, Buffer.byteLength(text.slice(0, end)));
      text = text.slice(0, end);
    }
    const lines = text.split('\n').filter((l) => l.length > 0);
    if (lines.length === 0) {
      appendFileSync(path, stringify([header]));
      return new CsvLog(path, header);
    }
    if (lines[0] !== stringify([header]).trimEnd()) throw new CsvLogError(`${path} has other columns than this run writes`);
    const log = new CsvLog(path, header);
    if (lines.length > 1) {
      const key = Number(lines[lines.length - 1]!.split(',')[0]);
      if (Number.isFinite(key)) log.skipUpTo = key;
    }
    return log;
  }

  /** First cell of the last row already in the file when it was reopened (-Infinity if none). */
  get lastKey(): number {
    return this.skipUpTo;
  }

  append(row: (string | number)[]): void {
    if (row.length !== this.header.length) throw new Error(`internal: ${this.path} row has ${row.length} fields, header ${this.header.length}`);
    if (typeof row[0] === 'number' && row[0] <= this.skipUpTo) return;
    appendFileSync(this.path, stringify([row], { cast: { number: formatNumber } }));
  }
}

export class CsvLogError extends Error {}

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

/**
 * A file written in pieces (a CSV too large to hold as one string): the pieces go to a
 * temporary name in the same directory; `commit` fsyncs and renames it into place, `abort`
 * removes it. Under its own name the file is either absent, the old one, or complete.
 */
export class AtomicFileWriter {
  private readonly tmp: string;
  private fd: number | undefined;

  constructor(readonly path: string) {
    this.tmp = join(dirname(path), `.${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
    this.fd = openSync(this.tmp, 'w');
  }

  write(text: string): void {
    const buf = Buffer.from(text, 'utf8');
    for (let at = 0; at < buf.length;) at += writeSync(this.fd!, buf, at, buf.length - at);
  }

  commit(): void {
    fsyncSync(this.fd!);
    closeSync(this.fd!);
    this.fd = undefined;
    try {
      renameSync(this.tmp, this.path);
    } catch (e) {
      rmSync(this.tmp, { force: true });
      throw e;
    }
  }

  abort(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.tmp, { force: true });
  }
}
