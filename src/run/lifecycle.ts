/**
 * The run directory's lifecycle, for `laaf solve` and `laaf train` alike: a new run's
 * `--out` is checked before any work (usable path, free directory); a resumed run takes
 * the directory's lock (io/lock.ts) first and removes the temporary files a kill
 * mid-write left; a new run takes the lock once its directory exists. Errors of the
 * directory (taken, locked, unusable, disk full) become UserErrors (exit 2) with their
 * hints; a disk that fills while the run writes is reported with the intact checkpoint,
 * and summary.json says "failed" when that still fits.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, count } from '../spec/errors.js';
import { RunWriter } from '../io/run-writer.js';
import { RUN_FILES, type FailedSummary } from '../io/run-dir.js';
import { DiskFullError, OutDirError, RunDirExistsError, assertRunDirFree, checkOutDir, removeTempFiles } from '../io/files.js';
import { DirLock, LockedError, LOCK_FILE } from '../io/lock.js';

/** The command that writes the directory, for the hints ("continue with: laaf solve --resume DIR"). */
export type RunCommand = 'solve' | 'train';

/** What the failed summary.json of a full disk records besides status, message and checkpoint. */
export type FailedBase = Omit<FailedSummary, 'status' | 'message' | 'checkpoint_step'>;

export class RunDirectory {
  private lock?: DirLock;
  private writer?: RunWriter;

  private constructor(
    readonly dir: string,
    readonly command: RunCommand,
    /** the step of the last checkpoint on disk (a resumed run starts with its own) */
    public checkpointStep: number | undefined,
    private readonly notice: (message: string) => void,
  ) {}

  /** A new run: `--out` is usable and the directory free. Nothing is written yet (checked again when it is created). */
  static forNew(dir: string, command: RunCommand, notice: (message: string) => void = () => {}): RunDirectory {
    runDirError(() => {
      checkOutDir(dir);
      assertRunDirFree(dir);
    });
    return new RunDirectory(dir, command, undefined, notice);
  }

  /** A run to continue from its checkpoint at `checkpointStep`: take the lock, then remove leftover temporary files. */
  static forResume(dir: string, command: RunCommand, checkpointStep: number, notice: (message: string) => void = () => {}): RunDirectory {
    const rd = new RunDirectory(dir, command, checkpointStep, notice);
    rd.lock = runDirError(() => DirLock.acquire(dir, notice));
    try {
      const left = removeTempFiles(dir);
      if (left.length) notice(`removed ${count(left.length, 'unfinished temporary file')} from ${dir} (left by a kill during a write)`);
    } catch (e) {
      rd.release();
      throw e;
    }
    return rd;
  }

  /** The directory's writer: a new run creates its directory and then takes the lock; a resumed run reopens its files. */
  open(): RunWriter {
    const resumed = this.lock !== undefined;
    const writer = runDirError(() => new RunWriter(this.dir, resumed));
    if (!resumed) {
      const lock = runDirError(() => DirLock.acquire(this.dir, this.notice));
      // Another process may have filled the directory between the check and the lock.
      if (readdirSync(this.dir).some((f) => f !== LOCK_FILE)) {
        lock.release();
        runDirError(() => {
          throw new RunDirExistsError(this.dir);
        });
      }
      this.lock = lock;
    }
    this.writer = writer;
    return writer;
  }

  /** A checkpoint was written at `step`. */
  checkpointed(step: number): void {
    this.checkpointStep = step;
  }

  /**
   * What to throw for error `e` of the run: a full disk after the directory was opened
   * becomes the user's report (see diskFullError); anything else is thrown as it is.
   */
  failure(e: unknown, base: Omit<FailedBase, 'run_dir'>): unknown {
    if (e instanceof DiskFullError && this.writer) return diskFullError(e, this.writer, { ...base, run_dir: this.dir }, this.checkpointStep, this.command);
    return e;
  }

  /** Give the lock back (idempotent). */
  release(): void {
    this.lock?.release();
    this.lock = undefined;
  }
}

/**
 * A full disk while the run writes: every file in the run directory is still a
 * complete earlier version (atomic replacement, whole CSV rows). Record the failure in
 * summary.json if that still fits, and say where to continue from.
 */
function diskFullError(e: DiskFullError, writer: RunWriter, base: FailedBase, checkpointStep: number | undefined, command: RunCommand): UserError {
  const kept = checkpointStep !== undefined
    ? `the last checkpoint at step ${checkpointStep} is intact`
    : 'no checkpoint had been written yet';
  let summaryNote = '';
  try {
    writer.writeSummary({ status: 'failed', message: e.message, ...base, ...(checkpointStep !== undefined ? { checkpoint_step: checkpointStep } : {}) });
  } catch {
    summaryNote = existsSync(join(writer.dir, RUN_FILES.summary))
      ? '; summary.json could not be updated either and still says "running"'
      : '; summary.json could not be written either';
  }
  const hint = checkpointStep !== undefined
    ? `free some space, then continue with: laaf ${command} --resume ${writer.dir}`
    : 'free some space (or choose another --out) and start the run again';
  return new UserError(`${e.message}; ${kept}${summaryNote}`, hint);
}

/** The run directory's own errors as the user's: exit 2 with a hint. */
export function runDirError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RunDirExistsError) throw new UserError(e.message, 'choose another --out, or remove that directory');
    if (e instanceof OutDirError) throw new UserError(e.message, 'choose another --out');
    if (e instanceof LockedError) {
      throw new UserError(e.message, e.owner
        ? 'wait for it to finish, or stop it (Ctrl-C / kill PID: it saves a checkpoint) and then resume'
        : `if no laaf is running there, remove ${e.lockFile}`);
    }
    if (e instanceof DiskFullError) throw new UserError(e.message, 'free some space, or choose another --out');
    throw e;
  }
}
