/** The `laaf` command: wires subcommands to the pipeline; no numerics here. */
import { readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import YAML from 'yaml';
import { laafVersion } from '../run/versions.js';
import { packageRoot } from '../base/package-root.js';
import { BACKEND_CHOICES, type BackendChoice } from '../backend/choices.js';
import { UserError, count } from '../spec/errors.js';
import { registerPredict } from './predict.js';
import { EXIT, formatUserError, reportError } from './report.js';
import { registerSweep } from './sweep.js';
import { registerPlot } from './plot.js';
import { registerTrain } from './train.js';
import { isTrainSpecFile } from '../spec/train-file.js';

// Start-up: a command loads what it runs and no more. The spec checker (zod, mathjs's parser),
// tfjs, the kernel, the plotting stack (vega) and the progress bar are imported inside the
// actions that use them, so that --version, --help and problems start without any of them and
// validate without tfjs, the kernel or vega (test/cli/startup.test.ts).

function positiveInt(v: string): number {
  if (!/^\s*\d+\s*$/.test(v)) throw new InvalidArgumentError('expected a whole number >= 0');
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number >= 0');
  return n;
}

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

/** A path that works from the current directory: relative below it, absolute otherwise. */
function shownPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

/**
 * What to try after a non-finite loss. At step 0 no update has happened: the
 * equations (or conditions, data) are not finite at the initial network — a learning
 * rate has nothing to do with it. Later, a step size that is too large is the usual cause.
 */
export function divergenceHint(step: number): string {
  if (step === 0) {
    return 'the loss is not finite before any training step, so the terms named give non-finite values at the initial network ' +
      '(e.g. sqrt or log of a negative value, a division by zero): check their expressions over the domain';
  }
  return `the loss was finite until then: try a smaller learning rate (training.adam.lr, training.lbfgs.lr), or check the terms named for values that can leave their domain`;
}

export function buildProgram(): Command {
  const program = new Command('laaf')
    .description('Physics-informed neural networks with locally adaptive activation functions (GAAF, L-LAAF, N-LAAF).')
    .version(laafVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(`laaf: ${s.replace(/^error: /, 'error: ')}`) });

  program
    .command('solve')
    .description('train a PINN for the problem in SPEC (YAML) and write results to a run directory, or continue a run with --resume')
    .argument('[spec]', 'problem spec (YAML)')
    .option('-o, --out <dir>', 'run directory (default runs/<name>-<timestamp>); must not exist or be empty')
    .option('-s, --set <key=value>', 'override a spec value by dotted path, e.g. --set training.adam.steps=500 (repeatable)', collect)
    .option('-r, --resume <run_dir>', 'continue the run in RUN_DIR from its checkpoint.json (history.csv is appended to)')
    .addOption(new Option('-b, --backend <name>', 'tfjs backend: wasm, cpu, webgpu (GPU through Vulkan), tensorflow, or auto (a hardware GPU if there is one, else wasm) (default: the spec\'s training.backend, else wasm; a resumed run uses its own)').choices(BACKEND_CHOICES as string[]))
    .option('--max-steps <n>', 'cap the optimizer steps over all phases (smoke runs)', positiveInt)
    .option('-q, --quiet', 'print nothing but errors')
    .option('--no-plots', 'write no SVG plots (plots/loss.svg, slopes.svg, solution.svg, ...)')
    .option('--no-fused', 'run the network on tfjs ops only, not the fused SIMD kernel (= --set model.fused=false)')
    .addHelpText('after', `
Writes spec.resolved.yaml, history.csv, solution.csv, summary.json and checkpoint.json.
Exit codes: 0 done, 2 bad input (nothing written), 3 diverged (non-finite loss), 130 interrupted.`)
    .action(async (specFile: string | undefined, o: { out?: string; set?: string[]; resume?: string; backend?: BackendChoice; maxSteps?: number; quiet?: boolean; fused?: boolean }) => {
      if (o.resume !== undefined && (specFile !== undefined || o.out !== undefined || o.set !== undefined)) {
        throw new UserError('--resume continues a run as it was specified', 'leave out SPEC, --out and --set (the run directory holds its spec)');
      }
      if (o.resume === undefined && specFile === undefined) throw new UserError('missing SPEC', 'laaf solve SPEC, or laaf solve --resume RUN_DIR');
      let stop = false;
      let firstSignal = 0;
      const onSignal = () => {
        // A signal within 2 s of the first is the same request arriving twice (a cluster signals both
        // `laaf sweep --index` and its run; `kill` of a process group), not a second press.
        if (stop && Date.now() - firstSignal > 2000) process.exit(EXIT.interrupted);
        if (stop) return;
        stop = true;
        firstSignal = Date.now();
        process.stderr.write('\nlaaf: stopping after this step (press again to quit at once)\n');
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const [{ solve }, { consoleReporter }] = await Promise.all([import('../run/solve.js'), import('./progress.js')]);
        const summary = await solve({
          ...(o.resume !== undefined ? { resume: o.resume } : { specFile: specFile!, set: [...(o.set ?? []), ...(o.fused === false ? ['model.fused=false'] : [])], out: o.out }),
          backend: o.backend, maxSteps: o.maxSteps, noFused: o.fused === false,
          reporter: consoleReporter(o.quiet === true), shouldStop: () => stop,
        });
        if (summary.status === 'diverged') {
          const kept = summary.checkpoint_step !== undefined ? `; checkpoint.json keeps step ${summary.checkpoint_step}` : '';
          process.stderr.write(`laaf: training diverged: ${summary.message ?? 'non-finite loss'} — ${divergenceHint(summary.steps)}${kept}\n`);
        }
        process.exitCode = summary.status === 'diverged' ? EXIT.diverged : summary.status === 'interrupted' ? EXIT.interrupted : EXIT.ok;
        if ((o as { plots?: boolean }).plots !== false) await (await import('./plot.js')).plotAfterSolve(summary.run_dir, o.quiet === true);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });

  registerTrain(program);
  registerPredict(program);

  program
    .command('validate')
    .description('check specs (YAML, keys, types, expressions, sizes against the limits) without training and report every mistake; exit 0 when all are valid')
    .argument('<specs...>', 'problem specs')
    .option('-s, --set <key=value>', 'override a spec value as in solve (repeatable)', collect)
    .action(async (files: string[], o: { set?: string[] }) => {
      const { checkSpec } = await import('../problem/check.js');
      let bad = 0;
      for (const f of files) {
        try {
          if (isTrainSpecFile(f)) {
            const { checkTrainSpec } = await import('../run/train.js'); // a data-set spec: its checker loads tfjs
            const { data } = checkTrainSpec(f, o.set ?? []);
            process.stdout.write(`ok ${f}: ${data.train.n} training and ${data.test?.n ?? 0} test samples of shape ${data.sampleShape.join('×')}, ${data.outputs} ${data.task === 'classification' ? 'classes' : 'targets'}\n`);
            continue;
          }
          const { loaded, problem } = checkSpec(f, o.set ?? []);
          if (loaded.spec.training.precision === 'float64') {
            // float64 runs only on the whole-step kernel: checking it loads the kernel, so only when asked for
            const [{ checkPrecision }, { specErrorsOf }] = await Promise.all([import('../step/whole-path.js'), import('../problem/check.js')]);
            specErrorsOf(loaded, () => checkPrecision(loaded.spec, problem));
          }
          process.stdout.write(`ok ${f}: ${count(problem.inputs.length, 'input')}, ${count(problem.outputs.length, 'output')}, ${count(problem.terms.length, 'loss term')}\n`);
        } catch (e) {
          if (!(e instanceof UserError)) throw e;
          process.stderr.write(`${formatUserError(e)}\n`);
          bad++;
        }
      }
      if (bad > 0) process.exitCode = EXIT.user;
    });

  program
    .command('problems')
    .description('list the built-in problems (problems/*.yaml shipped with laaf)')
    .action(() => {
      const dir = join(packageRoot(), 'problems');
      const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
      const width = Math.max(...files.map((f) => shownPath(join(dir, f)).length));
      for (const f of files) {
        let about = '';
        try {
          // The top-level about: line alone when it holds the whole value (parsing only it keeps
          // `laaf problems` quick); the whole file otherwise (a block scalar, a value continued
          // on indented lines, no such line).
          const text = readFileSync(join(dir, f), 'utf8');
          const line = /^about:.*$(?!\n[ \t])/m.exec(text)?.[0];
          let doc = (line !== undefined ? YAML.parse(line) : undefined) as { about?: unknown } | undefined;
          if (typeof doc?.about !== 'string' || doc.about === '') doc = YAML.parse(text) as { about?: unknown };
          about = String(doc.about ?? '').split('\n')[0]!;
        } catch {
          about = '(unreadable)';
        }
        process.stdout.write(`${shownPath(join(dir, f)).padEnd(width + 10)}${about}\n`);
      }
    });

  registerSweep(program);
  registerPlot(program);
  return program;
}

/** `laaf ... | head -1`: the reader went away; stop quietly (exit 0), as Unix tools do. */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(EXIT.ok);
      throw e;
    });
  }
}

export async function main(argv: string[]): Promise<number> {
  quietOnClosedPipe();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      return EXIT.user;
    }
    return reportError(e);
  }
}
