/**
 * Writing results without ever leaving a half-written file: whole files go to a
 * temporary name in the same directory, are written completely and synced, and only
 * then renamed into place (a short or failed write removes the temporary file and
 * leaves the earlier file as it was); CSV logs are appended whole rows at a time, and
 * a row that could not be written completely is cut off again.
 * A full disk (ENOSPC, EDQUOT) is reported as DiskFullError, naming the file system.
 */
import { accessSync, closeSync, constants, existsSync, fstatSync, fsyncSync, ftruncateSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, truncateSync, writeSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { stringify } from 'csv-stringify/sync';

/**
 * The file-system calls the writers make, so tests can make them fail or write short
 * (a disk that fills up part way through a write) without a full disk.
 */
export const fsOps = {
  writeSync: (fd: number, buf: Uint8Array, offset: number, length: number): number => writeSync(fd, buf, offset, length),
  fsyncSync: (fd: number): void => fsyncSync(fd),
};

/** Temporary files of writeFileAtomic: `.<ms>-<pid>-<random>.tmp` in the target's directory. */
export const TMP_FILE = /^\.\d+-\d+-[a-z0-9]*\.tmp$/;

/** A disk (or quota) that is full. `device` names the file system the file is on. */
export class DiskFullError extends Error {
  constructor(readonly file: string, readonly device: string, readonly code: string) {
    super(`${code === 'EDQUOT' ? 'disk quota exceeded' : 'no space left'} on ${device} writing ${file}`);
  }
}

/** Wrap ENOSPC / EDQUOT as DiskFullError; other errors pass through. */
export function diskFull(e: unknown, file: string): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' ? new DiskFullError(file, mountOf(file), code) : e;
}

/** The mount point and file-system type holding `file`, from /proc/self/mounts (undefined where that is not readable). */
export function mountInfo(file: string): { at: string; type: string } | undefined {
  const abs = resolve(file);
  let best: { at: string; type: string } | undefined;
  try {
    for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
      const [, at0, type] = line.split(' ');
      if (!at0 || !type) continue;
      const at = at0.replace(/\\040/g, ' ');
      const inside = at === '/' || abs === at || abs.startsWith(`${at}/`);
      if (inside && (!best || at.length >= best.at.length)) best = { at, type };
    }
  } catch {
    return undefined;
  }
  return best;
}

/** "MOUNT (TYPE)" of the file system holding `file`, or the file's folder where mounts are not known. */
export function mountOf(file: string): string {
  const m = mountInfo(file);
  return m ? `${m.at} (${m.type})` : dirname(resolve(file));
}

/** Write all of `buf` at the file offset, looping over short writes; a write that makes no progress is an error. */
export function writeAll(fd: number, buf: Uint8Array): void {
  let off = 0;
  while (off < buf.length) {
    const n = fsOps.writeSync(fd, buf, off, buf.length - off);
    if (!(n > 0)) throw Object.assign(new Error(`write made no progress after ${off} of ${buf.length} bytes`), { code: 'EIO' });
    off += n;
  }
}

export function writeFileAtomic(path: string, content: string): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeAll(fd, Buffer.from(content, 'utf8'));
      fsOps.fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw diskFull(e, path);
  }
  syncDir(dir);
}

/** fsync a directory so a rename in it survives a power cut (best effort: not every file system allows it). */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // EISDIR/EINVAL/EPERM on some platforms and file systems: nothing more can be done
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Append `text` to `path` whole or not at all: a write that fails part way is cut off again. */
export function appendWhole(path: string, text: string): void {
  const fd = openSync(path, 'a');
  let size = -1;
  try {
    size = fstatSync(fd).size;
    writeAll(fd, Buffer.from(text, 'utf8'));
  } catch (e) {
    if (size >= 0) {
      try {
        ftruncateSync(fd, size);
      } catch {
        // the row stays cut; CsvLog.reopen removes an incomplete last line
      }
    }
    throw diskFull(e, path);
  } finally {
    closeSync(fd);
  }
}

/** Remove temporary files a killed writer left in `dir`; returns their names. Call only while holding the directory's lock. */
export function removeTempFiles(dir: string): string[] {
  const gone = readdirSync(dir).filter((f) => TMP_FILE.test(f));
  for (const f of gone) rmSync(join(dir, f), { force: true });
  return gone;
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
    if (!existsSync(path)) appendWhole(path, stringify([header]));
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
      appendWhole(path, stringify([header]));
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
    appendWhole(this.path, stringify([row], { cast: { number: formatNumber } }));
  }
}

export class CsvLogError extends Error {}

/** Create a run directory; refuses a non-empty existing one so no earlier result is overwritten. */
export function createRunDir(dir: string): void {
  assertRunDirFree(dir);
  makeDirs(dir);
}

/** A directory laaf cannot write results into; the message gives the reason. */
export class OutDirError extends Error {}

/** File systems that hold no ordinary files (mkdir there fails oddly, or hangs in Node's recursive mkdir). */
const PSEUDO_FS = new Set(['proc', 'sysfs', 'devtmpfs', 'devpts', 'cgroup', 'cgroup2', 'debugfs', 'tracefs', 'securityfs', 'configfs', 'pstore', 'bpf', 'mqueue', 'hugetlbfs', 'fusectl', 'binfmt_misc', 'autofs']);

/**
 * Check that `dir` is, or can be made, a directory laaf can write files into, without
 * creating anything: an empty path, an existing file, a path below a file, a dangling
 * symbolic link, a read-only or unwritable place, a pseudo file system (/proc, /sys)
 * each throw OutDirError with the reason. (A non-empty existing directory is the
 * caller's concern.)
 */
export function checkOutDir(dir: string): void {
  if (dir.trim() === '') throw new OutDirError('the directory path is empty');
  const link = lstatOrUndefined(dir);
  if (link) {
    if (link.isSymbolicLink() && !existsSync(dir)) throw new OutDirError(`${dir} is a symbolic link to ${readlinkSync(dir)}, which does not exist`);
    if (!statSync(dir).isDirectory()) throw new OutDirError(`${dir} exists and is not a directory`);
    writable(dir, dir);
    return;
  }
  // The nearest folder above that exists: is it a folder, and may we create in it?
  let up = resolve(dir);
  for (;;) {
    const parent = dirname(up);
    const st = lstatOrUndefined(parent);
    if (st) {
      if (st.isSymbolicLink() && !existsSync(parent)) throw new OutDirError(`cannot create ${dir}: ${parent} is a symbolic link to ${readlinkSync(parent)}, which does not exist`);
      if (!statSync(parent).isDirectory()) throw new OutDirError(`cannot create ${dir}: ${parent} is a file, not a directory`);
      writable(parent, dir);
      return;
    }
    if (parent === up) return;
    up = parent;
  }
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') throw new OutDirError(`cannot use ${p}: a part of that path is a file, not a directory`);
    throw new OutDirError(`cannot use ${p}: ${(e as Error).message}`);
  }
}

function writable(folder: string, dir: string): void {
  const m = mountInfo(folder);
  if (m && PSEUDO_FS.has(m.type)) throw new OutDirError(`cannot write into ${dir}: ${m.at} is the ${m.type} pseudo file system, which holds no ordinary files`);
  try {
    accessSync(folder, constants.W_OK | constants.X_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EROFS') throw new OutDirError(`cannot write into ${dir}: ${m ? m.at : folder} is a read-only file system`);
    if (code === 'EACCES' || code === 'EPERM') throw new OutDirError(`cannot write into ${dir}: permission denied in ${folder}`);
    throw new OutDirError(`cannot write into ${dir}: ${(e as Error).message}`);
  }
}

/** mkdir -p one level at a time (Node's recursive mkdir can hang on /proc), errors as OutDirError. */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let p = resolve(dir); !existsSync(p); p = dirname(p)) {
    missing.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const p of missing) {
    try {
      mkdirSync(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && statSync(p).isDirectory()) continue;
      if (code === 'ENOSPC' || code === 'EDQUOT') throw diskFull(e, p);
      throw new OutDirError(`cannot create ${p}: ${(e as Error).message.replace(/^\w+: /, '')}`);
    }
  }
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
 * temporary name (TMP_FILE) in the same directory; `commit` fsyncs and renames it into place,
 * `abort` removes it. Under its own name the file is either absent, the old one, or complete.
 * A full disk is a DiskFullError, as in writeFileAtomic.
 */
export class AtomicFileWriter {
  private readonly tmp: string;
  private fd: number | undefined;

  constructor(readonly path: string) {
    this.tmp = join(dirname(path), `.${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
    this.fd = openSync(this.tmp, 'w');
  }

  write(text: string): void {
    try {
      writeAll(this.fd!, Buffer.from(text, 'utf8'));
    } catch (e) {
      this.abort();
      throw diskFull(e, this.path);
    }
  }

  commit(): void {
    try {
      fsOps.fsyncSync(this.fd!);
      closeSync(this.fd!);
      this.fd = undefined;
      renameSync(this.tmp, this.path);
    } catch (e) {
      this.abort();
      throw diskFull(e, this.path);
    }
    syncDir(dirname(this.path));
  }

  abort(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.tmp, { force: true });
  }
}
