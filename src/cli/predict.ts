/** The `laaf predict` command: a trained run evaluated at points or on a grid; no numerics here. */
import { Option, type Command } from 'commander';
import { BACKEND_CHOICES, type BackendChoice } from '../backend/choices.js';

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('evaluate the trained model of RUN_DIR (its checkpoint.json) at points or on a grid, with derivatives')
    .argument('<run_dir>', 'a run directory written by laaf solve')
    .option('-p, --points <file>', 'CSV file with a header row naming every input (other columns are ignored)')
    .option('-g, --grid <spec>', 'equally spaced points over the box, per input: e.g. x=101,t=51')
    .option('-d, --derivatives <names>', 'comma-separated derivatives to add, e.g. u_x,u_xx,u_xt')
    .requiredOption('-o, --out <file>', 'CSV file to write (replaced atomically)')
    .addOption(new Option('-b, --backend <name>', 'tfjs backend (default: the one the run trained on)').choices(BACKEND_CHOICES as string[]))
    .option('-q, --quiet', 'print nothing but errors')
    .addHelpText('after', `
Columns: the inputs, the outputs, then the derivatives (output transforms applied).
Exit codes: 0 done, 2 bad input (nothing written).`)
    .action(async (runDir: string, o: { points?: string; grid?: string; derivatives?: string; out: string; backend?: BackendChoice; quiet?: boolean }) => {
      const derivatives = o.derivatives?.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      const { predictRun } = await import('../run/predict.js'); // tfjs: loaded only when predicting
      const r = await predictRun({
        runDir, out: o.out,
        ...(o.points !== undefined ? { points: o.points } : {}),
        ...(o.grid !== undefined ? { grid: o.grid } : {}),
        ...(derivatives ? { derivatives } : {}),
        ...(o.backend ? { backend: o.backend } : {}),
      });
      if (!o.quiet) process.stdout.write(`${r.rows} points × ${r.columns.length} columns (${r.columns.join(', ')}) from the model at step ${r.step} → ${r.out}\n`);
    });
}
