/** `laaf train`: a network on a data set (classification or regression) — the deep-learning side of laaf. */
import type { Command } from 'commander';
import { Option, InvalidArgumentError } from 'commander';
import { BACKEND_CHOICES, type BackendChoice } from '../backend/choices.js';
import { UserError } from '../spec/errors.js';
import type { TrainReporter } from '../run/train.js';
import { EXIT } from './report.js';
import { plotAfterSolve } from './plot.js';

const fmt = (v: number) => (Number.isFinite(v) ? v.toPrecision(4) : String(v));

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

function wholeNumber(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number >= 0');
  return n;
}

export function trainReporter(quiet: boolean): TrainReporter {
  // Notices (a stale lock taken over, leftovers removed) go to stderr even with --quiet.
  const notice = (m: string) => process.stderr.write(`laaf: ${m}\n`);
  if (quiet) return { notice };
  let perEpoch = 0;
  return {
    notice,
    start(i) {
      perEpoch = i.stepsPerEpoch;
      process.stdout.write(`laaf train ${i.spec.name}: ${i.data.train.n} training and ${i.data.test?.n ?? 0} test samples of shape ${i.data.sampleShape.join('×')}, ` +
        `${i.parameters.total} parameters (${i.parameters.adaptive} adaptive), ${i.stepsPerEpoch} steps per epoch, backend ${i.backend.name}\nrun directory ${i.dir}\n`);
    },
    row(r) {
      if (!r.test && r.step % Math.max(1, Math.round(perEpoch / 4)) !== 0) return;
      const test = r.test ? `  test loss ${fmt(r.test.loss)}${r.test.accuracy !== undefined ? `  accuracy ${(100 * r.test.accuracy).toFixed(2)} %` : ''}` : '';
      process.stdout.write(`epoch ${r.epoch} step ${r.step}  loss ${fmt(r.loss)}${test}  (${r.elapsed_s.toFixed(1)} s)\n`);
    },
    end(s) {
      const acc = s.final?.terms['test_accuracy'];
      process.stdout.write(`${s.status}: ${s.steps} steps in ${s.wall_time_s.toFixed(1)} s, training loss ${fmt(s.final?.loss ?? NaN)}` +
        `${acc !== undefined ? `, test accuracy ${(100 * acc).toFixed(2)} %` : ''}${s.message ? ` — ${s.message}` : ''}\nresults in ${s.run_dir}\n`);
    },
  };
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a network on a data set (spec with dataset:, e.g. problems/fashion-mnist-lenet.yaml) and write a run directory, or continue one with --resume')
    .argument('[spec]', 'data-set spec (YAML with dataset:, model:, training:)')
    .option('-o, --out <dir>', 'run directory (default runs/<name>-<timestamp>); must not exist or be empty')
    .option('-s, --set <key=value>', 'override a spec value by dotted path, e.g. --set training.epochs=3 (repeatable)', collect)
    .option('-r, --resume <run_dir>', 'continue the run in RUN_DIR from its checkpoint.json (history.csv is appended to)')
    .addOption(new Option('-b, --backend <name>', 'tfjs backend (default: wasm; a resumed run uses its own)').choices(BACKEND_CHOICES as string[]))
    .option('--max-steps <n>', 'stop after N mini-batch steps over all epochs (smoke runs)', wholeNumber)
    .option('-q, --quiet', 'print nothing but errors')
    .option('--no-plots', 'write no SVG plots')
    .addHelpText('after', `
Writes spec.resolved.yaml, history.csv (step, epoch, training loss, per epoch test loss and accuracy, slopes),
summary.json and checkpoint.json (every training.checkpoint_every epochs, at the end, on Ctrl-C).
Exit codes: 0 done, 2 bad input (nothing written), 3 diverged (non-finite loss), 130 interrupted.`)
    .action(async (specFile: string | undefined, o: { out?: string; set?: string[]; resume?: string; backend?: BackendChoice; maxSteps?: number; quiet?: boolean; plots?: boolean }) => {
      if (o.resume !== undefined && (specFile !== undefined || o.out !== undefined || o.set !== undefined)) {
        throw new UserError('--resume continues a run as it was specified', 'leave out SPEC, --out and --set (the run directory holds its spec)');
      }
      if (o.resume === undefined && specFile === undefined) throw new UserError('missing SPEC', 'laaf train SPEC, or laaf train --resume RUN_DIR');
      let stop = false;
      const onSignal = () => {
        if (stop) process.exit(EXIT.interrupted);
        stop = true;
        process.stderr.write('\nlaaf: stopping after this step (press again to quit at once)\n');
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const { trainRun } = await import('../run/train.js'); // tfjs: loaded when training
        const summary = await trainRun({
          ...(o.resume !== undefined ? { resume: o.resume } : { specFile: specFile!, set: o.set ?? [], out: o.out }),
          backend: o.backend, maxSteps: o.maxSteps, reporter: trainReporter(o.quiet === true), shouldStop: () => stop,
        });
        if (summary.status === 'diverged') process.stderr.write(`laaf: training diverged: ${summary.message ?? 'non-finite loss'} — try a smaller learning rate\n`);
        process.exitCode = summary.status === 'diverged' ? EXIT.diverged : summary.status === 'interrupted' ? EXIT.interrupted : EXIT.ok;
        if (o.plots !== false) await plotAfterSolve(summary.run_dir, o.quiet === true);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
