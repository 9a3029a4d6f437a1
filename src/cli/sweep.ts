/** `laaf sweep`: many solves (variants × seeds) in parallel processes, with tables and pictures. */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Command, InvalidArgumentError, Option } from 'commander';
import type cliProgress from 'cli-progress';
import { BACKEND_CHOICES } from '../backend/choices.js';
import { UserError, count } from '../spec/errors.js';
import type { Tables } from '../sweep/collect.js';
import type { SweepProgress } from '../sweep/sweep.js';

/** exit code of a sweep in which some runs did not complete (failed, diverged, interrupted, not started; see sweep.csv) */
export const EXIT_RUNS_FAILED = 4;

/** 0 when every planned run completed, else EXIT_RUNS_FAILED. */
export function tablesExit(t: Tables): number {
  return t.rows.every((r) => r.state === 'completed') ? 0 : EXIT_RUNS_FAILED;
}

function wholeNumber(min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || n < min) throw new InvalidArgumentError(`expected a whole number >= ${min}`);
    return n;
  };
}

function repeat(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

interface SweepFlags {
  grid?: string[];
  zip?: string[];
  set?: string[];
  seeds?: string;
  threshold?: string[];
  out?: string;
  jobs: number;
  plan?: boolean;
  index?: number;
  slurm?: boolean;
  collect?: boolean;
  plots: boolean;
  backend?: string;
  quiet?: boolean;
}

export function registerSweep(program: Command): void {
  const solveCmd = program.commands.find((c) => c.name() === 'solve');
  program
    .command('sweep')
    .description('run a problem for many variants and seeds (separate processes, in parallel) and tabulate mean ± std')
    .argument('<file>', 'a sweep file (YAML with spec:, grid:, zip:, seeds:) or a problem spec with --grid/--zip/--seeds')
    .option('-g, --grid <key=v1,v2>', 'vary a spec value over a list (Cartesian product with other --grid), e.g. --grid model.adaptive.n=1,5,10 (repeatable)', repeat)
    .option('-z, --zip <key=v1,v2>', 'lists walked together (all --zip flags form one axis), e.g. --zip model.adaptive.mode=none,layer --zip model.slope_recovery=0,1 (repeatable)', repeat)
    .option('-s, --set <key=value>', 'override a spec value in every run (repeatable)', repeat)
    .option('--seeds <n|list>', 'N seeds derived from the spec\'s seed (the first is the spec\'s own), or a list 1,2,3')
    .option('--threshold <column=v1,v2>', 'also report the first logged step at which a history column (loss, rel_l2, a term) is <= each value (>= for test_accuracy, which rises) (repeatable)', repeat)
    .option('-o, --out <dir>', 'sweep directory (default runs/<sweep name>); rerunning into it resumes the sweep')
    .addOption(new Option('-j, --jobs <n>', 'runs at a time, each its own process').argParser(wholeNumber(1)).default(availableParallelism(), `the number of cores, ${availableParallelism()}`))
    .option('--plan', 'list the runs (index, directory, seed, status, variant) and stop')
    .option('--index <i>', 'run plan run I alone (for a cluster job array; see --slurm)', wholeNumber(0))
    .option('--slurm', 'write <dir>/sweep.sbatch, a Slurm job array running each --index, and stop')
    .option('--collect', 'build sweep.csv, summary.csv and the plots from the run directories, and stop')
    .option('--no-plots', 'write no SVG plots (neither per run nor for the sweep)')
    .addOption(new Option('-b, --backend <name>', 'tfjs backend of every run (default: solve\'s)').choices(BACKEND_CHOICES as string[]))
    .option('-q, --quiet', 'print nothing but errors')
    .addHelpText('after', `
Writes <dir>/plan.json, runs/<variant>/s<k>/ (one laaf solve run directory each), logs/, sweep.csv
(one row per run), summary.csv (per variant: mean, std, min, max over seeds) and plots/*.svg.
Finished runs are skipped when the sweep is started again; unfinished and failed ones are run again.
Exit codes (also of --collect): 0 every run completed, 2 bad input (nothing written) or the sweep directory
is in use by another laaf, ${EXIT_RUNS_FAILED} some runs did not complete (failed, diverged, interrupted, not started,
still running; see sweep.csv), 130 interrupted. --index exits with its run's code (0, 2, 3, 130).`)
    .action(async (file: string, o: SweepFlags, cmd: Command) => {
      const modes = [o.plan, o.index !== undefined, o.slurm, o.collect].filter(Boolean).length;
      if (modes > 1) throw new UserError('use at most one of --plan, --index, --slurm, --collect');
      // loaded here, not when the CLI starts (it brings the plotting stack)
      const { collectSweep, defaultSweepDir, planSweep, planText, printSummary, runOne, runSweep, writeSlurm } = await import('../sweep/sweep.js');
      const plan = planSweep(file, { grid: o.grid, zip: o.zip, set: o.set, seeds: o.seeds, threshold: o.threshold });
      const dir = o.out ?? defaultSweepDir(plan);
      const resume = solveCmd?.options.some((opt) => opt.long === '--resume') === true;
      const exec = { plots: o.plots, ...(o.backend ? { backend: o.backend } : {}), resume };

      if (o.plan) {
        process.stdout.write(planText(plan, dir));
        return;
      }
      if (o.slurm) {
        const f = writeSlurm(plan, dir, sweepArgs(file, o, cmd));
        if (!o.quiet) process.stdout.write(`wrote ${f} (${count(plan.runs.length, 'array task')}); submit it with: sbatch ${f}\nthen collect the results with: laaf sweep ${file} --out ${dir} --collect\n`);
        return;
      }
      if (o.collect) {
        const t = await collectSweep(plan, dir, o.plots);
        if (!o.quiet) {
          process.stdout.write(`collected ${count(plan.runs.length, 'run')} into ${dir}/sweep.csv and summary.csv\n`);
          printSummary(plan, t, (l) => process.stdout.write(`${l}\n`));
        }
        process.exitCode = tablesExit(t);
        return;
      }
      if (o.index !== undefined) {
        // A cluster's time limit or scancel sends SIGTERM: pass it to the run, which saves and
        // stops; this task then records how it ended, as for any other exit.
        let child: ChildProcess | undefined;
        const forward = (sig: NodeJS.Signals) => child?.kill(sig);
        process.on('SIGINT', forward);
        process.on('SIGTERM', forward);
        try {
          process.exitCode = await runOne(plan, dir, o.index, { ...exec, quiet: o.quiet === true, track: (c, running) => (child = running ? c : undefined) });
        } finally {
          process.off('SIGINT', forward);
          process.off('SIGTERM', forward);
        }
        return;
      }

      // The local pool. Ctrl-C reaches the runs (same process group): each finishes its step and saves;
      // SIGTERM is passed on. No new runs start after either.
      let stop = false;
      const children = new Set<ChildProcess>();
      const onSignal = (sig: NodeJS.Signals) => {
        if (!stop && !o.quiet) process.stderr.write('\nlaaf: stopping the sweep: no new runs; the running ones save and stop\n');
        stop = true;
        if (sig === 'SIGTERM') for (const c of children) c.kill('SIGTERM');
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const bar = o.quiet || process.stderr.isTTY !== true ? undefined : sweepBar((await import('cli-progress')).default);
      try {
        const out = await runSweep(plan, dir, {
          ...exec, jobs: o.jobs, quiet: o.quiet === true, stopped: () => stop,
          track: (c, running) => (running ? children.add(c) : children.delete(c)),
          ...(bar ? { print: bar.print, progress: bar.progress } : {}),
        });
        bar?.stop();
        process.exitCode = out.stopped ? 130 : tablesExit(out.tables);
      } finally {
        bar?.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

/** The arguments that define this sweep's plan, for the job script (absolute file path; no mode flags). */
function sweepArgs(file: string, o: SweepFlags, cmd: Command): string[] {
  const args = [resolve(file)];
  for (const g of o.grid ?? []) args.push('--grid', g);
  for (const z of o.zip ?? []) args.push('--zip', z);
  for (const s of o.set ?? []) args.push('--set', s);
  if (o.seeds !== undefined) args.push('--seeds', o.seeds);
  for (const t of o.threshold ?? []) args.push('--threshold', t);
  if (!o.plots) args.push('--no-plots');
  if (o.backend && cmd.getOptionValueSource('backend') === 'cli') args.push('--backend', o.backend);
  return args;
}

/** A terminal's view of a running sweep: runs done / running / failed and an ETA, with the event lines above the bar. */
function sweepBar(cliProgress: typeof import('cli-progress')): { print: (l: string) => void; progress: (p: SweepProgress) => void; stop: () => void } {
  const multi = new cliProgress.MultiBar({
    format: ' {bar} {value}/{total} runs done | {running} running | {failed} failed | ETA {eta_text}',
    hideCursor: true,
    stream: process.stderr,
    clearOnComplete: false,
  }, cliProgress.Presets.shades_classic);
  let bar: cliProgress.SingleBar | undefined;
  let stopped = false;
  const etaText = (s: number | undefined) => (s === undefined ? '–' : s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);
  return {
    print: (l) => (bar ? multi.log(`${l}\n`) : process.stdout.write(`${l}\n`)),
    progress: (p) => {
      if (stopped) return;
      const payload = { running: p.running, failed: p.failed, eta_text: etaText(p.etaS) };
      if (!bar) bar = multi.create(p.total, p.done, payload);
      else bar.update(p.done, payload);
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      multi.update(); // draws the last state and writes the lines logged since the last frame
      multi.stop();
      bar = undefined;
    },
  };
}
