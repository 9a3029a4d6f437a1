/** `laaf plot`: (re)draw the SVG pictures of run directories and sweep directories from their files. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { UserError } from '../spec/errors.js';
import { writeRunPlots } from '../plot/run-plots.js';
import { BAND_WIDTHS, writeSweepPlots, type BandWidth } from '../plot/sweep-plots.js';
import { RUN_FILES } from '../io/run-dir.js';

/** After `laaf solve`: draw the run's pictures; a plotting failure is a warning, never the run's failure. */
export async function plotAfterSolve(runDir: string, quiet: boolean): Promise<void> {
  try {
    const files = await writeRunPlots(runDir);
    if (!quiet && files.length) process.stdout.write(`plots in ${join(runDir, RUN_FILES.plots)}/ (${files.length} SVG files)\n`);
  } catch (e) {
    process.stderr.write(`laaf: warning: could not draw the plots of ${runDir}: ${e instanceof Error ? e.message : String(e)}\n`);
  }
}

/** Plots of a sweep directory, from its plan.json and run directories; `band` overrides the sweep file's plots.band. */
export async function plotSweepDir(dir: string, band?: BandWidth): Promise<string[]> {
  const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as {
    name: string; variants: { label: string }[]; runs: { id: string; variant: string }[]; plots?: { band?: string };
  };
  const planned = BAND_WIDTHS.find((b) => b === plan.plots?.band);
  const width = band ?? planned;
  return writeSweepPlots({
    name: plan.name,
    variants: plan.variants.map((v) => ({ label: v.label, runDirs: plan.runs.filter((r) => r.variant === v.label).map((r) => join(dir, ...r.id.split('/'))) })),
    ...(width ? { band: width } : {}),
  }, join(dir, 'plots'));
}

export function registerPlot(program: Command): void {
  program
    .command('plot')
    .description('draw the SVG plots of run directories (loss, slopes, solution) or sweep directories (convergence, final errors)')
    .argument('<dirs...>', 'run directories (with history.csv, summary.json) or sweep directories (with plan.json)')
    .addOption(new Option('--band <width>', 'sweeps: convergence bands and final-value whiskers of mean ± 1 or ± 2 sample std (default: the sweep file\'s plots.band, else 1std)').choices([...BAND_WIDTHS]))
    .option('-q, --quiet', 'print nothing but errors')
    .action(async (dirs: string[], o: { quiet?: boolean; band?: BandWidth }) => {
      for (const d of dirs) {
        const isSweep = existsSync(join(d, 'plan.json'));
        if (!isSweep && !existsSync(join(d, RUN_FILES.history)) && !existsSync(join(d, RUN_FILES.summary))) {
          throw new UserError(`${d} is neither a run directory (history.csv, summary.json) nor a sweep directory (plan.json)`, 'give the --out directory of laaf solve or laaf sweep');
        }
      }
      for (const d of dirs) {
        const files = existsSync(join(d, 'plan.json')) ? await plotSweepDir(d, o.band) : await writeRunPlots(d);
        if (!o.quiet) process.stdout.write(files.length ? `${files.join('\n')}\n` : `${d}: nothing to plot yet\n`);
      }
    });
}
