/**
 * What a person sees while a run trains: a live bar with the phase, ETA and current
 * loss on a terminal, plain periodic lines otherwise (logs, CI), nothing with --quiet
 * (notices, such as a stale lock taken over, still go to stderr).
 */
import cliProgress from 'cli-progress';
import type { Reporter, RunStart } from '../run/solve.js';
import type { HistoryRow, RunSummary } from '../io/run-dir.js';

const fmt = (v: number) => (Number.isFinite(v) ? v.toExponential(3) : String(v));

export function consoleReporter(quiet: boolean): Reporter {
  const notice = (m: string) => process.stderr.write(`laaf: ${m}\n`);
  if (quiet) return { notice };
  const tty = process.stderr.isTTY === true;
  let bar: cliProgress.SingleBar | undefined;
  let start: RunStart | undefined;
  let lastErr = '';
  let shownPhase = 'Adam';
  const phaseOf = (step: number) => (start && step > start.adamSteps ? 'L-BFGS' : 'Adam');
  return {
    notice(m) {
      bar?.stop();
      bar = undefined;
      notice(m);
    },
    start(info) {
      start = info;
      const p = info.parameters;
      process.stdout.write(
        `laaf solve ${info.spec.name}: ${info.problem.terms.length} loss term${info.problem.terms.length === 1 ? '' : 's'}, ${info.points} points, ` +
        `${p.total} parameters (${p.adaptive} adaptive), backend ${info.backend.name}\n` +
        `run directory ${info.dir}\n`);
      if (tty) {
        bar = new cliProgress.SingleBar({
          format: ' {phase} {bar} {value}/{total} steps | loss {loss}{err} | {duration_formatted} elapsed, ETA {eta_formatted}',
          hideCursor: true,
          stream: process.stderr,
          etaBuffer: 50,
        }, cliProgress.Presets.shades_classic);
        bar.start(info.steps, info.startStep, { loss: '-', err: '', phase: phaseOf(info.startStep + 1).padEnd(6) });
      }
    },
    step(step, loss) {
      const phase = phaseOf(step);
      bar?.update(step, { loss: fmt(loss), err: lastErr, phase: phase.padEnd(6) });
      // a new phase is drawn at once, not at the bar's next timed redraw (a short L-BFGS phase could end before it)
      if (phase !== shownPhase) bar?.render();
      shownPhase = phase;
    },
    log(row: HistoryRow) {
      lastErr = row.errors.length ? ` | rel-L2 ${fmt(row.errors[0]!)}` : '';
      if (!bar) {
        process.stdout.write(`${phaseOf(row.step)} step ${row.step}/${start?.steps ?? '?'}  loss ${fmt(row.loss)}${lastErr}  (${row.elapsed.toFixed(1)} s)\n`);
      }
    },
    abort() {
      bar?.stop();
      bar = undefined;
    },
    end(s: RunSummary) {
      if (bar) {
        // End the bar where training ended (L-BFGS may stop before its planned iterations), with the final numbers.
        const err = s.final.rel_l2 !== undefined ? ` | rel-L2 ${fmt(s.final.rel_l2)}` : '';
        if (s.status === 'completed') bar.setTotal(s.steps);
        bar.update(s.steps, { loss: fmt(s.final.loss), err, phase: phaseOf(s.steps).padEnd(6) });
        bar.stop();
      }
      const err = s.final.rel_l2 !== undefined ? `, rel-L2 ${fmt(s.final.rel_l2)}` : '';
      const msg = s.message ? ` — ${s.message}` : '';
      const params = Object.entries(s.final.parameters ?? {}).map(([name, p]) =>
        `  ${name} = ${p.value.toPrecision(6)}${p.true_value !== undefined ? ` (true ${p.true_value}, error ${(100 * p.rel_error!).toFixed(2)} %)` : ''}\n`).join('');
      process.stdout.write(`${s.status}: ${s.steps} step${s.steps === 1 ? '' : 's'} in ${s.wall_time_s.toFixed(1)} s, loss ${fmt(s.final.loss)}${err}${msg}\n` +
        params + `results in ${s.run_dir}\n`);
    },
  };
}
