/**
 * Running a sweep's runs: each one is a separate `laaf solve` process with its own
 * run directory and seed; a pool keeps `jobs` of them busy. A run's output goes to
 * logs/<variant>/s<k>.log and its exit to logs/<variant>/s<k>.json, so a failure is
 * recorded (with the tail of its stderr) and the other runs go on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { packageRoot } from '../base/package-root.js';
import { writeFileAtomic } from '../io/files.js';
import { readSummary, RUN_FILES, type SummaryFile } from '../io/run-dir.js';
import type { Plan, PlannedRun } from './plan.js';

export type RunState = 'completed' | 'diverged' | 'interrupted' | 'failed' | 'running' | 'pending';

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

/** Where a run stands, from its files. completed and diverged runs are final (a rerun would repeat them). */
export function runState(sweepDir: string, run: PlannedRun): { state: RunState; summary?: SummaryFile; record?: RunRecord } {
  const summary = readSummary(runDirOf(sweepDir, run));
  const record = readRecord(sweepDir, run);
  const st = summary?.status;
  if (st === 'completed' || st === 'diverged') return { state: st, summary, ...(record ? { record } : {}) };
  const failed = record !== undefined && record.exit_code !== 0 && record.exit_code !== 3;
  if (st === 'interrupted') return { state: failed && record.exit_code !== 130 ? 'failed' : 'interrupted', summary, ...(record ? { record } : {}) };
  if (failed) return { state: 'failed', ...(summary ? { summary } : {}), record };
  if (summary) return { state: 'running', summary, ...(record ? { record } : {}) };
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
  const resumeIt = opts.resume === true && [RUN_FILES.checkpoint, RUN_FILES.spec, RUN_FILES.summary].every((f) => existsSync(join(runDir, f)));
  if (!resumeIt && existsSync(runDir)) {
    // An unfinished attempt: start again from scratch. Only ever inside this sweep's runs/.
    const abs = resolve(runDir);
    if (!abs.startsWith(resolve(sweepDir, 'runs') + sep)) throw new Error(`internal: refusing to remove ${abs}`);
    rmSync(abs, { recursive: true, force: true });
  }
  mkdirSync(dirname(runDir), { recursive: true });
  const args = [join(packageRoot(), 'bin', 'laaf.js'), 'solve'];
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
  const started = new Date();
  writeSync(log, `# ${started.toISOString()} laaf ${args.slice(1).map(shellQuote).join(' ')}\n`);
  let tail = '';
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: {
    ...process.env,
    ...(opts.threads !== undefined && process.env['LAAF_THREADS'] === undefined ? { LAAF_THREADS: String(opts.threads) } : {}),
  } });
  opts.track?.(child, true);
  child.stdout!.on('data', (b: Buffer) => writeSync(log, b));
  child.stderr!.on('data', (b: Buffer) => {
    writeSync(log, b);
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
  writeSync(log, `# ${finished.toISOString()} exit ${code ?? signal}\n`);
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
    stderr_tail: tail.trim(),
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
