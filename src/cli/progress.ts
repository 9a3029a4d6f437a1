/**
 * What a person sees while a run trains: a live bar with ETA and current loss on a
 * terminal, plain periodic lines otherwise (logs, CI), nothing with --quiet.
 */
import cliProgress from 'cli-progress';
import type { Reporter, RunStart } from '../run/solve.js';
import type { HistoryRow, RunSummary } from '../io/run-dir.js';

const fmt = (v: number) => (Number.isFinite(v) ? v.toExponential(3) : String(v));

export function consoleReporter(quiet: boolean): Reporter {
  if (quiet) return {};
  const tty = process.stderr.isTTY === true;
  let bar: cliProgress.SingleBar | undefined;
  let start: RunStart | undefined;
  let lastErr = '';
  return {
    start(info) {
      start = info;
      const p = info.parameters;
      process.stdout.write(
        `laaf solve ${info.spec.name}: ${info.problem.terms.length} loss terms, ${info.points} points, ` +
        `${p.total} parameters (${p.adaptive} adaptive), backend ${info.backend.name}\n` +
        `run directory ${info.dir}\n`);
      if (tty) {
        bar = new cliProgress.SingleBar({
          format: ' {bar} {value}/{total} steps | loss {loss}{err} | {duration_formatted} elapsed, ETA {eta_formatted}',
          hideCursor: true,
          stream: process.stderr,
          etaBuffer: 50,
        }, cliProgress.Presets.shades_classic);
        bar.start(info.steps, info.startStep, { loss: '-', err: '' });
      }
    },
    step(step, loss) {
      bar?.update(step, { loss: fmt(loss), err: lastErr });
    },
    log(row: HistoryRow) {
      lastErr = row.errors.length ? ` | rel-L2 ${fmt(row.errors[0]!)}` : '';
      if (!bar) {
        process.stdout.write(`step ${row.step}/${start?.steps ?? '?'}  loss ${fmt(row.loss)}${lastErr}  (${row.elapsed.toFixed(1)} s)\n`);
      }
    },
    end(s: RunSummary) {
      bar?.stop();
      const err = s.final.rel_l2 !== undefined ? `, rel-L2 ${fmt(s.final.rel_l2)}` : '';
      const msg = s.message ? ` — ${s.message}` : '';
      const params = Object.entries(s.final.parameters ?? {}).map(([name, p]) =>
        `  ${name} = ${p.value.toPrecision(6)}${p.true_value !== undefined ? ` (true ${p.true_value}, error ${(100 * p.rel_error!).toFixed(2)} %)` : ''}\n`).join('');
      process.stdout.write(`${s.status}: ${s.steps} steps in ${s.wall_time_s.toFixed(1)} s, loss ${fmt(s.final.loss)}${err}${msg}\n` +
        params + `results in ${s.run_dir}\n`);
    },
  };
}
