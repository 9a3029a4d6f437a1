/**
 * A sweep end to end: plan, sweep directory, runs (a local pool, or one run by
 * index for a cluster's job array), tables and pictures.
 *
 *   <dir>/plan.json          the runs: id, variant, seed, overrides (checked on every start)
 *   <dir>/runs/<variant>/s<k>/  one `laaf solve` run directory each
 *   <dir>/logs/<variant>/s<k>.log|.json   each run's output, and its exit (error tail)
 *   <dir>/sweep.csv, summary.csv, plots/convergence.svg, plots/final.svg
 *   <dir>/sweep.sbatch       with --slurm
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { OutDirError, TMP_FILE, checkOutDir, makeDirs, removeTempFiles, writeFileAtomic } from '../io/files.js';
import { DirLock, LOCK_FILE, LockedError, liveOwner } from '../io/lock.js';
import { loadSpec, loadSpecWith } from '../spec/load.js';
import { trainSpecSchema } from '../spec/train-schema.js';
import { isTrainSpecFile } from '../run/train.js';
import { UserError, count } from '../spec/errors.js';
import { laafVersion } from '../run/versions.js';
import { packageRoot } from '../base/package-root.js';
import { writeSweepPlots } from '../plot/sweep-plots.js';
import { applyFlags, isSweepFile, loadSweepFile, sweepOfSpec, type FlagInput } from './define.js';
import { expandPlan, type Plan, type PlannedRun } from './plan.js';
import { executeRun, isDone, pool, runDirOf, runState, shellQuote, type ExecOptions, type RunRecord } from './execute.js';
import { buildTables, writeTables, type Tables } from './collect.js';

/** A sweep file, or a problem spec with flags, → the checked plan. Throws UserError; writes nothing. */
export function planSweep(file: string, flags: FlagInput): Plan {
  const def = isSweepFile(file) ? loadSweepFile(file) : sweepOfSpec(file, (isTrainSpecFile(file) ? loadSpecWith(file, trainSpecSchema, { set: flags.set ?? [] }) : loadSpec(file, { set: flags.set ?? [] })).spec.name);
  return expandPlan(applyFlags(def, flags));
}

export function defaultSweepDir(plan: Plan): string {
  return join('runs', plan.name);
}

interface PlanFile {
  laaf: string;
  name: string;
  about?: string;
  sweep_file?: string;
  spec_file: string;
  spec_sha256: string;
  base_seed: number;
  set: string[];
  seeds: number[];
  thresholds: Record<string, number[]>;
  variants: { label: string; slug: string; overrides: string[] }[];
  runs: { index: number; id: string; variant: string; seed: number; sets: string[] }[];
  plots?: { band: string };
}

function planFile(plan: Plan): PlanFile {
  return {
    laaf: laafVersion(),
    name: plan.name,
    ...(plan.about ? { about: plan.about } : {}),
    ...(plan.sweepFile ? { sweep_file: resolve(plan.sweepFile) } : {}),
    spec_file: resolve(plan.specFile),
    spec_sha256: createHash('sha256').update(readFileSync(plan.specFile)).digest('hex'),
    base_seed: plan.baseSeed,
    set: plan.set,
    seeds: plan.seeds,
    thresholds: plan.thresholds,
    variants: plan.variants.map((v) => ({ label: v.label, slug: v.slug, overrides: v.overrides })),
    runs: plan.runs.map((r) => ({ index: r.index, id: r.id, variant: plan.variants[r.variant]!.label, seed: r.seed, sets: r.sets })),
    ...(plan.plots ? { plots: plan.plots } : {}),
  };
}

/**
 * Refuse a sweep directory that holds another sweep: a run there with the same id
 * but other overrides or seed. (New runs — more seeds, more variants — are fine.)
 */
export function checkSweepDir(plan: Plan, dir: string): void {
  const f = join(dir, 'plan.json');
  try {
    checkOutDir(dir);
  } catch (e) {
    if (e instanceof OutDirError) throw new UserError(`sweep directory: ${e.message}`, 'choose another --out');
    throw e;
  }
  if (!existsSync(f)) {
    if (existsSync(dir) && readdirSync(dir).some((n) => n !== LOCK_FILE && !TMP_FILE.test(n))) {
      throw new UserError(`${dir} exists and is not a laaf sweep directory (no plan.json)`, 'choose another --out');
    }
    return;
  }
  let old: PlanFile;
  try {
    old = JSON.parse(readFileSync(f, 'utf8')) as PlanFile;
  } catch {
    throw new UserError(`${f}: not a laaf sweep plan`, 'choose another --out, or remove that directory');
  }
  const now = new Map(plan.runs.map((r) => [r.id, r]));
  for (const r of old.runs ?? []) {
    const n = now.get(r.id);
    if (n && (n.seed !== r.seed || n.sets.join('\n') !== r.sets.join('\n'))) {
      throw new UserError(`${dir} holds a different sweep: its run ${r.id} was made with --set ${r.sets.join(' --set ')}`,
        'choose another --out, or remove that directory');
    }
  }
}

/**
 * Create the sweep directory (after every check) and write plan.json. With `lock`
 * (the local pool) the directory is locked for this process, which is returned; without
 * (an array task, --slurm) it is refused only while a local pool holds it.
 */
export function openSweepDir(plan: Plan, dir: string, lock = false): DirLock | undefined {
  checkSweepDir(plan, dir);
  try {
    makeDirs(dir);
  } catch (e) {
    if (e instanceof OutDirError) throw new UserError(`sweep directory: ${e.message}`, 'choose another --out');
    throw e;
  }
  let held: DirLock | undefined;
  try {
    if (lock) {
      held = DirLock.acquire(dir, (m) => process.stderr.write(`laaf: ${m}\n`));
      removeTempFiles(dir);
    } else {
      const owner = liveOwner(dir);
      if (owner) throw new LockedError(dir, owner, join(dir, LOCK_FILE));
    }
  } catch (e) {
    if (e instanceof LockedError) throw new UserError(e.message, 'wait for that sweep to finish (or stop it with Ctrl-C), then start this again: finished runs are kept');
    throw e;
  }
  makeDirs(join(dir, 'runs'));
  makeDirs(join(dir, 'logs'));
  writeFileAtomic(join(dir, 'plan.json'), `${JSON.stringify(planFile(plan), null, 2)}\n`);
  return held;
}

export interface SweepRunOptions extends ExecOptions {
  jobs: number;
  quiet: boolean;
  stopped?: () => boolean;
  /** one line per event (default: stdout) */
  print?: (line: string) => void;
  /** called when a run starts or ends (a terminal shows a bar from it) */
  progress?: (p: SweepProgress) => void;
}

/** Runs of this session: done (any outcome), running, failed (failed or diverged); ETA in seconds (undefined until a run has ended). */
export interface SweepProgress { total: number; done: number; running: number; failed: number; etaS?: number }

export interface SweepOutcome { tables: Tables; ran: number; failed: number; stopped: boolean }

/** Run every run that is not done yet, `jobs` at a time, then write the tables and pictures. */
export async function runSweep(plan: Plan, dir: string, opts: SweepRunOptions): Promise<SweepOutcome> {
  const lock = openSweepDir(plan, dir, true);
  try {
    return await runPool(plan, dir, opts);
  } finally {
    lock?.release();
  }
}

async function runPool(plan: Plan, dir: string, opts: SweepRunOptions): Promise<SweepOutcome> {
  const print = opts.quiet ? () => {} : (opts.print ?? ((l: string) => process.stdout.write(`${l}\n`)));
  const todo = plan.runs.filter((r) => !isDone(runState(dir, r).state));
  const already = plan.runs.length - todo.length;
  print(`laaf sweep ${plan.name}: ${count(plan.variants.length, 'variant')} x ${count(plan.seeds.length, 'seed')} = ${count(plan.runs.length, 'run')}` +
    `${already ? ` (${already} done before)` : ''}, ${Math.min(opts.jobs, Math.max(1, todo.length))} at a time, in ${dir}`);
  let finished = 0;
  let failed = 0;
  let bad = 0;
  let running = 0;
  const t0 = Date.now();
  const progress = () => opts.progress?.({
    total: todo.length, done: finished, running, failed: bad,
    ...(finished > 0 ? { etaS: ((Date.now() - t0) / 1000 / finished) * (todo.length - finished) } : {}),
  });
  progress();
  // Runs side by side share the cores: each one's kernel gets its share of threads.
  const threads = opts.threads ?? Math.max(1, Math.floor(availableParallelism() / Math.max(1, Math.min(opts.jobs, todo.length))));
  await pool(todo, opts.jobs, async (run) => {
    running++;
    progress();
    let rec: RunRecord;
    try {
      rec = await executeRun(plan, dir, run, { ...opts, threads });
    } catch (e) {
      if (!(e instanceof LockedError)) throw e;
      running--;
      finished++;
      print(`skipped ${run.id}: ${e.message}`);
      progress();
      return;
    }
    running--;
    finished++;
    const { state, summary } = runState(dir, run);
    if (state === 'failed') failed++;
    if (state === 'failed' || state === 'diverged') bad++;
    progress();
    print(`[${already + finished}/${plan.runs.length}] ${run.id} (seed ${run.seed}): ${describe(state, summary?.final?.rel_l2, summary?.final?.loss, rec)}`);
  }, () => opts.stopped?.() === true);
  const stopped = opts.stopped?.() === true;
  const tables = await collectSweep(plan, dir, opts.plots);
  if (!opts.quiet) printSummary(plan, tables, print);
  return { tables, ran: finished, failed, stopped };
}

function describe(state: string, relL2: number | undefined, loss: number | undefined, rec: RunRecord): string {
  const t = `${rec.wall_s.toFixed(1)} s`;
  if (state === 'completed') return `completed, ${relL2 !== undefined ? `rel-L2 ${relL2.toExponential(3)}` : `loss ${loss?.toExponential(3)}`}, ${t}`;
  if (state === 'failed') {
    const last = rec.stderr_tail.split('\n').filter((l) => l.trim() && !l.includes('LAAF_DEBUG')).at(-1) ?? '';
    return `FAILED (exit ${rec.exit_code ?? rec.signal}) ${last}`;
  }
  return `${state}, ${t}`;
}

/** Run plan run `index` alone (a cluster array task). Returns the solve's exit code. */
export async function runOne(plan: Plan, dir: string, index: number, opts: ExecOptions & { quiet: boolean }): Promise<number> {
  const run = plan.runs[index];
  if (!run) throw new UserError(`--index ${index}: the plan has runs 0 to ${plan.runs.length - 1}`, 'see --plan');
  openSweepDir(plan, dir);
  const { state } = runState(dir, run);
  if (isDone(state)) {
    if (!opts.quiet) process.stdout.write(`${run.id}: already ${state}\n`);
    return 0;
  }
  let rec: RunRecord;
  try {
    rec = await executeRun(plan, dir, run, opts);
  } catch (e) {
    if (e instanceof LockedError) throw new UserError(e.message, 'that run is being made by another laaf; wait for it');
    throw e;
  }
  const after = runState(dir, run);
  if (!opts.quiet) process.stdout.write(`${run.id} (seed ${run.seed}): ${describe(after.state, after.summary?.final?.rel_l2, after.summary?.final?.loss, rec)}\n`);
  if (after.state === 'failed' && rec.stderr_tail) process.stderr.write(`${rec.stderr_tail}\n`);
  return rec.exit_code ?? 1;
}

/** sweep.csv, summary.csv and (unless plots is false) the sweep's pictures, from the run directories. */
export async function collectSweep(plan: Plan, dir: string, plots: boolean): Promise<Tables> {
  const tables = buildTables(plan, dir);
  writeTables(dir, tables);
  if (plots) {
    await writeSweepPlots({
      name: plan.name,
      variants: plan.variants.map((v) => ({ label: v.label, runDirs: plan.runs.filter((r) => r.variant === v.index).map((r) => runDirOf(dir, r)) })),
      ...(plan.plots ? { band: plan.plots.band } : {}),
    }, join(dir, 'plots'));
  }
  return tables;
}

export function printSummary(plan: Plan, t: Tables, print: (l: string) => void): void {
  const metric = t.metrics.includes('rel_l2') ? 'rel_l2' : 'loss';
  const h = t.summaryHeader;
  const at = (row: (string | number)[], c: string) => row[h.indexOf(c)];
  const width = Math.max(7, ...plan.variants.map((v) => v.label.length));
  print(`${'variant'.padEnd(width)}  done  ${metric} mean ± std (min – max)`);
  for (const row of t.summaryCells) {
    const mean = at(row, `${metric}_mean`);
    const std = at(row, `${metric}_std`);
    const e = (v: unknown) => (typeof v === 'number' ? v.toExponential(3) : '–');
    const stat = mean === '' ? '–' : `${e(mean)} ± ${e(std)} (${e(at(row, `${metric}_min`))} – ${e(at(row, `${metric}_max`))})`;
    print(`${String(row[0]).padEnd(width)}  ${`${at(row, 'completed')}/${at(row, 'runs')}`.padEnd(4)}  ${stat}`);
  }
  const failed = t.rows.filter((r) => r.state === 'failed');
  for (const r of failed) print(`failed: ${r.run.id}: ${r.error}`);
  for (const r of t.rows.filter((x) => x.state === 'not started')) print(`not started: ${r.run.id}: ${r.error}`);
  const open = t.rows.filter((r) => !isDone(r.state) && r.state !== 'failed').length;
  if (open > 0) print(`${count(open, 'run')} not finished`);
}

/** The plan as text: one line per run. */
export function planText(plan: Plan, dir: string): string {
  const lines = [`# ${plan.name}: ${count(plan.runs.length, 'run')} = ${count(plan.variants.length, 'variant')} x ${count(plan.seeds.length, 'seed')}; base spec ${plan.specFile}; directory ${dir}`];
  if (plan.set.length) lines.push(`# every run: --set ${plan.set.join(' --set ')}`);
  lines.push(['index', 'run', 'seed', 'status', 'variant'].join('\t'));
  for (const r of plan.runs) {
    lines.push([r.index, r.id, r.seed, existsSync(dir) ? runState(dir, r).state : 'pending', plan.variants[r.variant]!.label].join('\t'));
  }
  return `${lines.join('\n')}\n`;
}

/** Write <dir>/sweep.sbatch: a Slurm job array whose task i runs `laaf sweep ... --index i`. */
export function writeSlurm(plan: Plan, dir: string, sweepArgs: string[]): string {
  openSweepDir(plan, dir);
  const absDir = resolve(dir);
  const node = process.execPath;
  const bin = join(packageRoot(), 'bin', 'laaf.js');
  const cmd = [bin, 'sweep', ...sweepArgs, '--out', absDir].map(shellQuote).join(' ');
  const text = `#!/bin/bash
# laaf sweep ${plan.name}: ${count(plan.runs.length, 'run')} as a Slurm job array (task i = plan run i; see --plan).
# Submit:   sbatch ${shellQuote(join(absDir, 'sweep.sbatch'))}
# Then:     ${shellQuote(node)} ${cmd} --collect
# Finished runs are skipped, so resubmitting the array (or some indices, --array=3,7) resumes the sweep.
# LAAF_NODE: the node binary on the compute nodes, if not the one that wrote this script.
# Each run's kernel uses the task's CPUs (--cpus-per-task) as threads, unless LAAF_THREADS is set.
#SBATCH --job-name=laaf-${plan.name}
#SBATCH --array=0-${plan.runs.length - 1}
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
#SBATCH --output=${join(absDir, 'logs', 'slurm-%A_%a.out')}
## Set these for your cluster:
##SBATCH --time=04:00:00
##SBATCH --partition=PARTITION
##SBATCH --mem=2G
set -euo pipefail
cd ${shellQuote(process.cwd())}
NODE=\${LAAF_NODE:-${shellQuote(node)}}
if ! command -v "$NODE" >/dev/null; then
  echo "laaf: node not found at $NODE on $(hostname): set LAAF_NODE to the node binary of the compute nodes" >&2
  exit 127
fi
export LAAF_THREADS=\${LAAF_THREADS:-\${SLURM_CPUS_PER_TASK:-1}}
exec "$NODE" ${cmd} --index "$SLURM_ARRAY_TASK_ID"
`;
  const f = join(dir, 'sweep.sbatch');
  writeFileAtomic(f, text);
  return f;
}
