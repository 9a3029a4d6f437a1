/**
 * Running a sweep's runs: each one is a separate `laaf solve` process with its own
 * run directory and seed; a pool keeps `jobs` of them busy. A run's output goes to
 * logs/<variant>/s<k>.log and its exit to logs/<variant>/s<k>.json, so a failure is
 * recorded (with the tail of its stderr) and the other runs go on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { packageRoot } from '../base/package-root.js';
import { isTrainSpecFile } from '../run/train.js';
import { writeAll, writeFileAtomic } from '../io/files.js';
import { LockedError, LOCK_FILE, liveOwner } from '../io/lock.js';
import { readSummary, RUN_FILES, type SummaryFile } from '../io/run-dir.js';
import type { Plan, PlannedRun } from './plan.js';

/** `not started`: a cluster task ran (its Slurm log exists) but the run never began (e.g. node missing: exit 127). */
export type RunState = 'completed' | 'diverged' | 'interrupted' | 'failed' | 'running' | 'not started' | 'pending';

export interface RunRecord {
  index: number;
  id: string;
  seed: number;
  exit_code: number | null;
  signal: string | null;
  started: string;
  finished: string;
  wall_s: number;
  /** the last lines of stderr (the error, for a failed run) */
  stderr_tail: string;
}

export function runDirOf(sweepDir: string, run: PlannedRun): string {
  return join(sweepDir, ...run.id.split('/'));
}

function logBase(sweepDir: string, run: PlannedRun): string {
  return join(sweepDir, 'logs', ...run.id.split('/').slice(1));
}

export function readRecord(sweepDir: string, run: PlannedRun): RunRecord | undefined {
  const f = `${logBase(sweepDir, run)}.json`;
  if (!existsSync(f)) return undefined;
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as RunRecord;
  } catch {
    return undefined;
  }
}

/** The newest Slurm log of array task `index` (logs/slurm-<job>_<index>.out, as sweep.sbatch names them), if any. */
export function slurmLogOf(sweepDir: string, index: number): string | undefined {
  const logs = join(sweepDir, 'logs');
  if (!existsSync(logs)) return undefined;
  const mine = readdirSync(logs).filter((f) => f.startsWith('slurm-') && f.endsWith(`_${index}.out`)).map((f) => join(logs, f));
  return mine.sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs).at(-1);
}

/** Where a run stands, from its files. completed and diverged runs are final (a rerun would repeat them). */
export function runState(sweepDir: string, run: PlannedRun): { state: RunState; summary?: SummaryFile; record?: RunRecord; slurmLog?: string } {
  const summary = readSummary(runDirOf(sweepDir, run));
  const record = readRecord(sweepDir, run);
  const st = summary?.status;
  if (st === 'completed' || st === 'diverged') return { state: st, summary, ...(record ? { record } : {}) };
  const failed = record !== undefined && record.exit_code !== 0 && record.exit_code !== 3;
  if (st === 'interrupted') return { state: failed && record.exit_code !== 130 ? 'failed' : 'interrupted', summary, ...(record ? { record } : {}) };
  if (failed) return { state: 'failed', ...(summary ? { summary } : {}), record };
  if (summary) return { state: 'running', summary, ...(record ? { record } : {}) };
  // A cluster task that left its Slurm log but neither a run nor a record never got as far as laaf.
  const slurmLog = record ? undefined : slurmLogOf(sweepDir, run.index);
  if (slurmLog) return { state: 'not started', slurmLog };
  return { state: 'pending', ...(record ? { record } : {}) };
}

export const isDone = (s: RunState) => s === 'completed' || s === 'diverged';

export interface ExecOptions {
  plots: boolean;
  backend?: string;
  /** `laaf solve --resume RUN_DIR` exists: continue an unfinished run from its checkpoint instead of starting it again */
  resume?: boolean;
  /** threads of each run's fused kernel (LAAF_THREADS), unless the environment sets it */
  threads?: number;
  /** called with every child while it runs (so a signal can be passed on) */
  track?: (child: ChildProcess, running: boolean) => void;
}

const TAIL = 4000;

/** Run one planned run as `laaf solve ...` in its own process; resolves when it exits. */
export async function executeRun(plan: Plan, sweepDir: string, run: PlannedRun, opts: ExecOptions): Promise<RunRecord> {
  const runDir = runDirOf(sweepDir, run);
  const base = logBase(sweepDir, run);
  mkdirSync(dirname(base), { recursive: true });
  // `laaf solve --resume RUN_DIR` continues from the run's checkpoint (its spec, seed and backend are in the directory).
  // Another laaf (a second sweep, an array task started twice) is working on this run: leave it alone.
  const owner = existsSync(join(runDir, LOCK_FILE)) ? liveOwner(runDir) : undefined;
  if (owner) throw new LockedError(runDir, owner, join(runDir, LOCK_FILE));
  const resumeIt = opts.resume === true && [RUN_FILES.checkpoint, RUN_FILES.spec, RUN_FILES.summary].every((f) => existsSync(join(runDir, f)));
  if (!resumeIt && existsSync(runDir)) {
    // An unfinished attempt: start again from scratch. Only ever inside this sweep's runs/.
    const abs = resolve(runDir);
    if (!abs.startsWith(resolve(sweepDir, 'runs') + sep)) throw new Error(`internal: refusing to remove ${abs}`);
    rmSync(abs, { recursive: true, force: true });
  }
  mkdirSync(dirname(runDir), { recursive: true });
  const args = [join(packageRoot(), 'bin', 'laaf.js'), isTrainSpecFile(plan.specFile) ? 'train' : 'solve']; // data-set specs run with laaf train
  if (resumeIt) {
    args.push('--resume', resolve(runDir));
  } else {
    args.push(resolve(plan.specFile), '--out', resolve(runDir));
    for (const s of run.sets) args.push('--set', s);
    if (opts.backend) args.push('--backend', opts.backend);
  }
  args.push('--quiet');
  if (!opts.plots) args.push('--no-plots');

  const log = openSync(`${base}.log`, 'a');
  // The log is a copy of the run's output: when it cannot be written (a full disk), the run goes on
  // and its record says so, instead of the sweep failing on an uncaught error.
  let logError = '';
  const toLog = (b: string | Buffer) => {
    if (logError) return;
    try {
      writeAll(log, typeof b === 'string' ? Buffer.from(b, 'utf8') : b);
    } catch (e) {
      logError = `writing ${base}.log failed: ${(e as Error).message}`;
    }
  };
  const started = new Date();
  toLog(`# ${started.toISOString()} laaf ${args.slice(1).map(shellQuote).join(' ')}\n`);
  let tail = '';
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: {
    ...process.env,
    ...(opts.threads !== undefined && process.env['LAAF_THREADS'] === undefined ? { LAAF_THREADS: String(opts.threads) } : {}),
  } });
  opts.track?.(child, true);
  child.stdout!.on('data', (b: Buffer) => toLog(b));
  child.stderr!.on('data', (b: Buffer) => {
    toLog(b);
    tail = (tail + b.toString('utf8')).slice(-TAIL);
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res) => {
    child.on('error', (e) => {
      tail += `\n${e.message}`;
      res([null, null]);
    });
    child.on('close', (c, s) => res([c, s]));
  });
  opts.track?.(child, false);
  const finished = new Date();
  toLog(`# ${finished.toISOString()} exit ${code ?? signal}\n`);
  closeSync(log);
  const record: RunRecord = {
    index: run.index,
    id: run.id,
    seed: run.seed,
    exit_code: code,
    signal,
    started: started.toISOString(),
    finished: finished.toISOString(),
    wall_s: (finished.getTime() - started.getTime()) / 1000,
    stderr_tail: (logError ? `${tail}\n${logError}` : tail).trim(),
  };
  writeFileAtomic(`${base}.json`, `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/** Run `work` on every item with at most `jobs` at a time; stops taking new items once `stopped()` says so. */
export async function pool<T>(items: T[], jobs: number, work: (item: T) => Promise<void>, stopped: () => boolean): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !stopped()) {
      const item = items[next++]!;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./=:,+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
