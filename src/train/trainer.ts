/**
 * The training loop: an Adam phase, then an optional L-BFGS phase, on one PinnLoss.
 *
 * Steps are counted across phases: row `step = s` describes the parameters after s
 * updates (Adam updates, then L-BFGS iterations). A history row is made every
 * `logEvery` steps, at the first step and at the end of each phase, and whenever the
 * run stops; each carries its phase and the learning rate (Adam) or accepted step
 * length (L-BFGS).
 *
 * Faults: a non-finite loss stops the run (status 'diverged', naming the step and the
 * terms); the cooperative stop (SIGINT/SIGTERM set `shouldStop`) finishes the current
 * step, then logs, checkpoints and returns 'interrupted'.
 *
 * Checkpoints (`onCheckpoint`) carry everything the loop needs to continue bit for bit
 * (variables, Adam moments, L-BFGS memory, points and their RNG, phase reports); this
 * room never writes files — the caller hands them to io/. They are taken every
 * `checkpointEvery` steps, at the end of a phase and when stopping, always at a state
 * whose loss is finite.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PinnLoss } from './loss.js';
import { AdamOptimizer, type AdamState } from './adam-optimizer.js';
import { Lbfgs, type LbfgsState } from './lbfgs.js';
import { learningRate, type Schedule } from './schedule.js';
import { flatSize, flattenTensors, readFlat, readVariables, writeFlat, writeVariables } from './flat.js';
import type { PointSets, PointState, RefineOptions, ResampleOptions } from './points.js';
import type { FlatStep } from '../step/registry.js';
import { FlatAdam } from './flat-adam.js';
import type { HistoryRow, LbfgsPhaseStop, Phase, PhaseReport, TrainStatus } from '../io/run-dir.js';

// A logged row, the phase reports and the status are the run directory's contract (io/run-dir.ts).
export type { AdamStop, HistoryRow, LbfgsPhaseStop, Phase, PhaseReport, TrainStatus } from '../io/run-dir.js';

export interface TrainConfig {
  adam: { steps: number; lr: number; schedule: Schedule };
  lbfgs?: {
    maxIterations: number;
    maxEvaluations: number;
    history: number;
    lr: number;
    toleranceGrad: number;
    toleranceChange: number;
    lineSearch: 'strong_wolfe' | 'none';
    /** failed line searches that may drop the memory and retry by steepest descent */
    maxRestarts?: number;
    /** W_a during this phase (default: the loss's own); the phase minimises and logs that J */
    slopeRecovery?: number;
  };
  logEvery: number;
  /** checkpoint every this many steps (0: only at phase ends and when stopping) */
  checkpointEvery: number;
  resample?: ResampleOptions;
  refine?: RefineOptions;
}

export interface TrainCheckpoint {
  step: number;
  phase: Phase;
  /** training seconds up to this checkpoint */
  elapsed: number;
  /** the trainable variables (network, then unknown parameters), float32 */
  variables: Float32Array[];
  adam?: AdamState;
  lbfgs?: LbfgsState;
  points?: PointState;
  /** phases finished so far */
  phases: PhaseReport[];
  /** set when training has ended: resuming only rewrites the results */
  done?: { status: TrainStatus; message?: string };
}

export interface TrainHooks {
  /** errors against the reference at the current parameters, or [] */
  evaluateErrors: () => number[];
  onLog: (row: HistoryRow) => void;
  onStep?: (step: number, loss: number) => void;
  shouldStop?: () => boolean;
  onCheckpoint?: (c: TrainCheckpoint) => void;
  /** the changing point sets (needed for resampling and refinement) */
  points?: PointSets;
}

export interface TrainResult {
  status: TrainStatus;
  /** global step reached */
  steps: number;
  last: HistoryRow;
  message?: string;
  phases: PhaseReport[];
  /** training seconds, over every session of a resumed run */
  elapsed: number;
}

interface LossValues { total: number; terms: number[]; slope: number }

/**
 * Run (or continue, from `resume`) the phases in `cfg`. With `whole` (src/step/), every
 * loss and gradient comes from the whole-step path on a flat parameter buffer, Adam runs
 * on that buffer in the kernel and L-BFGS evaluates through the same call; the tf
 * variables are brought up to date only where something reads them (log rows,
 * checkpoints, refinement, the end). When the step is `resident` (the GPU step), the Adam
 * phase keeps parameters, gradient and moments on the device: a step reads nothing back
 * unless it is logged (the loss; a non-finite loss is found there) or checkpointed (the
 * parameters and moments); L-BFGS evaluates through the same step, parameters up, loss and
 * gradient back.
 */
export async function train(loss: PinnLoss, cfg: TrainConfig, hooks: TrainHooks, resume?: TrainCheckpoint, whole?: FlatStep): Promise<TrainResult> {
  const vars = loss.variables();
  const res = whole?.resident;
  const adam = res ? undefined : whole ? new FlatAdam(whole.sizes, whole.precision === 'float64') : new AdamOptimizer(vars);
  const elapsed0 = resume?.elapsed ?? 0;
  const t0 = performance.now();
  const elapsed = () => elapsed0 + (performance.now() - t0) / 1000;
  const phases: PhaseReport[] = [...(resume?.phases ?? [])];
  const N = cfg.adam.steps;
  const stopRequested = () => hooks.shouldStop?.() ?? false;
  let last: HistoryRow | undefined;
  let lastLogged = -1;

  if (resume) {
    // (a float64 whole-step checkpoint holds float64 values: the tf variables take them rounded)
    writeVariables(vars, resume.variables.map((v) => (v instanceof Float32Array ? v : Float32Array.from(v))));
    if (resume.adam) adam?.load(resume.adam);
  }
  // the whole-step path's parameters, and bringing the tf variables up to date from them
  // (float64: from the checkpoint's float64 values when resuming, so that nothing is rounded)
  const flat = whole ? whole.newFlat() : new Float32Array(0);
  if (whole && resume) {
    let off = 0;
    for (const v of resume.variables) {
      flat.set(v, off);
      off += v.length;
    }
  } else if (whole) flat.set(readFlat(vars));
  const wgrad = whole ? new Float64Array(whole.size) : new Float64Array(0);
  // resident: the parameters are on the device during the Adam phase (flat is a copy made when needed)
  let onDevice = res !== undefined && resume?.phase !== 'lbfgs';
  if (res && onDevice) {
    res.upload(flat as Float32Array);
    if (resume?.adam) res.adamLoad(resume.adam);
  }
  const adamState = (): AdamState => (res ? res.adamState() : adam!.state());
  const sync = () => {
    if (res && onDevice) res.download(flat as Float32Array);
    if (whole) writeVariables(vars, whole.split(flat).map((a) => Float32Array.from(a)));
  };
  const evaluate = (): LossValues => (res && onDevice ? res.valuesResident() : whole ? whole.evaluate(flat, null) : evaluateNow(loss));

  const row = (step: number, phase: Phase, lr: number, v: LossValues): HistoryRow => (sync(), {
    step,
    phase,
    elapsed: elapsed(),
    lr,
    loss: v.total,
    terms: v.terms,
    slopeRecovery: v.slope,
    slopes: loss.model.slopeStats(),
    errors: hooks.evaluateErrors(),
    parameters: loss.parameters.values(),
    rowdy: loss.model.rowdyStats(),
  });
  const log = (step: number, phase: Phase, lr: number, v: LossValues) => {
    if (step <= lastLogged) return;
    last = row(step, phase, lr, v);
    lastLogged = step;
    hooks.onLog(last);
  };
  const checkpoint = (step: number, phase: Phase, extra: Partial<TrainCheckpoint>) => {
    sync();
    hooks.onCheckpoint?.({
      // (whole-step float64: the float64 values; the tf variables hold them rounded)
      step, phase, elapsed: elapsed(), variables: whole ? whole.split(flat).map((a) => a.slice() as Float32Array) : readVariables(vars),
      ...(hooks.points ? { points: hooks.points.state() } : {}), phases: [...phases], ...extra,
    });
  };
  const diverged = (step: number, phase: Phase, v: LossValues): TrainResult => {
    const terms = v.terms.length ? v.terms : evaluate().terms;
    const bad = loss.problem.terms.filter((_, k) => !Number.isFinite(terms[k]!)).map((t) => `'${t.name}'`);
    const what = bad.length ? ` (term${bad.length > 1 ? 's' : ''} ${bad.join(', ')})` : '';
    const message = `loss is ${v.total} at step ${step}${what}${phase === 'lbfgs' ? ' in the L-BFGS phase' : ''}`;
    return { status: 'diverged', steps: step, last: last ?? row(step, phase, NaN, v), message, phases, elapsed: elapsed() };
  };
  const done = (status: TrainStatus, step: number, message?: string): TrainResult => {
    return { status, steps: step, last: last!, phases, elapsed: elapsed(), ...(message ? { message } : {}) };
  };

  // The L-BFGS phase's J, with its own slope-recovery weight W_a' (when slope recovery is on).
  const lbfgsWeight = loss.slope.weight === 0 ? 0 : cfg.lbfgs?.slopeRecovery ?? loss.slope.weight;
  const evaluatePhase = (): LossValues => {
    if (whole) return whole.evaluate(flat, null, lbfgsWeight);
    let v: LossValues | undefined;
    tf.tidy(() => {
      v = read(loss.compute(lbfgsWeight));
    });
    return v!;
  };

  try {
    // A finished run: evaluate once more for the results, change nothing.
    if (resume?.done) {
      const v = resume.phase === 'lbfgs' ? evaluatePhase() : evaluate();
      last = row(resume.step, resume.phase, NaN, v);
      return done(resume.done.status, resume.step, resume.done.message);
    }

    // ---------------------------------------------------------------- Adam
    const hasLbfgs = cfg.lbfgs !== undefined && cfg.lbfgs.maxIterations > 0;
    if (!resume || resume.phase === 'adam') {
      const start = resume?.step ?? 0;
      const lrAt = (s: number) => learningRate(cfg.adam.schedule, cfg.adam.lr, s, N);
      // Without Adam steps the L-BFGS phase logs the first row itself.
      for (let s = start; s <= N && !(N === 0 && hasLbfgs); s++) {
        // Point changes happen at fixed steps (never at the end), before the step's loss.
        if (s > start && s < N && hooks.points) {
          let changed = false;
          if (cfg.resample && s % cfg.resample.every === 0) {
            hooks.points.resample(cfg.resample);
            changed = true;
          }
          if (cfg.refine && s % cfg.refine.every === 0) {
            sync();
            hooks.points.refine(loss, cfg.refine);
            whole?.setPoints(hooks.points.map());
            changed = false; // refine leaves the loss on the new sets
          }
          if (changed) {
            loss.setPoints(hooks.points.map());
            whole?.setPoints(hooks.points.map());
          }
        }
        const stop = stopRequested();
        const final = s === N || stop;
        const logging = final || s % cfg.logEvery === 0;
        const checkpointing = cfg.checkpointEvery > 0 && s % cfg.checkpointEvery === 0 && (s > start || !resume);
        let values: LossValues | null;
        let grads: tf.Tensor[] | undefined;
        if (final) values = evaluate();
        else if (res) values = res.evaluateResident(logging || checkpointing);
        else if (whole) values = whole.evaluate(flat, wgrad);
        else ({ values, grads } = lossAndGrads(loss, vars, logging));
        // (a resident step reads its loss only when logging or checkpointing: null otherwise)
        if (values && !Number.isFinite(values.total)) {
          disposeAll(grads);
          phases.push({ phase: 'adam', first_step: 0, last_step: s, steps: s, stop: 'diverged' });
          return diverged(s, 'adam', values);
        }
        if (values) hooks.onStep?.(s, values.total);
        if (logging) log(s, 'adam', lrAt(s), values!);
        if (final) {
          if (stop) {
            // The checkpoint lists finished phases only: a resumed run finishes this one.
            checkpoint(s, 'adam', { adam: adamState() });
            phases.push({ phase: 'adam', first_step: 0, last_step: s, steps: s, stop: 'interrupted' });
            return done('interrupted', s);
          }
          phases.push({ phase: 'adam', first_step: 0, last_step: s, steps: s, stop: 'max_steps' });
          if (!hasLbfgs) {
            checkpoint(s, 'adam', { adam: adamState(), done: { status: 'completed' } });
            return done('completed', s);
          }
          // The L-BFGS phase takes over from here; its first checkpoint comes after its first iteration.
          break;
        }
        // (A resumed run already has the checkpoint it starts from.)
        if (checkpointing) checkpoint(s, 'adam', { adam: adamState() });
        if (res) res.adamApply(lrAt(s));
        else if (adam instanceof FlatAdam) adam.apply(flat, wgrad, lrAt(s), whole!.memoryEnd);
        else adam!.apply(grads!, lrAt(s));
        disposeAll(grads);
        // Let signal handlers and the progress display run between steps.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }

    // ---------------------------------------------------------------- L-BFGS
    // (a resident step's parameters come back once; L-BFGS sends them with each evaluation)
    if (res && onDevice) {
      res.download(flat as Float32Array);
      onDevice = false;
    }
    // (Resumed in the L-BFGS phase with no iterations left to do, it just stops.)
    const lb = cfg.lbfgs ?? { maxIterations: 0, maxEvaluations: 0, history: 1, lr: 1, toleranceGrad: 0, toleranceChange: 0, lineSearch: 'strong_wolfe' as const };
    const n = flatSize(vars);
    const fg = (x: Float64Array) => {
      if (whole) {
        flat.set(x);
        const v = whole.evaluate(flat, wgrad, lbfgsWeight);
        return { f: v.total, g: Float64Array.from(wgrad) };
      }
      writeFlat(vars, x);
      const { value, grads } = tf.variableGrads(() => loss.compute(lbfgsWeight).total, vars);
      const f = value.dataSync()[0]!;
      const gs = vars.map((v) => grads[v.name] ?? tf.zerosLike(v));
      const g = flattenTensors(gs, n);
      value.dispose();
      disposeAll(gs);
      return { f, g };
    };
    const opts = {
      history: lb.history, lr: lb.lr, toleranceGrad: lb.toleranceGrad,
      toleranceChange: lb.toleranceChange, lineSearch: lb.lineSearch, maxRestarts: lb.maxRestarts ?? 0,
    };
    const lbfgs = resume?.phase === 'lbfgs' && resume.lbfgs ? Lbfgs.fromState(fg, resume.lbfgs, opts) : Lbfgs.start(fg, whole ? Float64Array.from(flat) : readFlat(vars), opts);
    if (whole) flat.set(lbfgs.state.x);
    else writeFlat(vars, lbfgs.state.x);
    const base = N;
    if (resume?.phase !== 'lbfgs') log(base, 'lbfgs', 0, evaluatePhase());
    const report = (stop: LbfgsPhaseStop): PhaseReport => ({
      phase: 'lbfgs', first_step: base, last_step: base + lbfgs.state.k, steps: lbfgs.state.k, evaluations: lbfgs.state.evals, stop,
      ...(lbfgs.state.restarts ? { restarts: lbfgs.state.restarts } : {}),
    });
    const lbCheckpoint = (extra: Partial<TrainCheckpoint> = {}) =>
      checkpoint(base + lbfgs.state.k, 'lbfgs', { lbfgs: lbfgs.state, ...extra });
    let stopReason: LbfgsPhaseStop | undefined = lbfgs.initialStop();
    if (stopReason === 'non_finite') {
      phases.push(report('non_finite'));
      return diverged(base + lbfgs.state.k, 'lbfgs', evaluatePhase());
    }
    for (;;) {
      const k = lbfgs.state.k;
      const s = base + k;
      if (stopReason === undefined) {
        if (k >= lb.maxIterations) stopReason = 'max_iterations';
        else if (lbfgs.state.evals >= lb.maxEvaluations) stopReason = 'max_evaluations';
        else if (stopRequested()) stopReason = 'interrupted';
      }
      if (stopReason !== undefined) {
        const v = evaluatePhase();
        if (stopReason === 'non_finite') {
          // A fixed step (no line search) landed on a non-finite loss; the parameters are still the last finite ones.
          phases.push(report(stopReason));
          const r = diverged(s + 1, 'lbfgs', { ...v, total: NaN, terms: v.terms.map(() => NaN) });
          return { ...r, message: `loss is not finite at step ${s + 1} in the L-BFGS phase (a fixed step of ${lb.lr}; try line_search: strong_wolfe)` };
        }
        log(s, 'lbfgs', lbfgs.state.t, v);
        if (stopReason === 'interrupted') {
          lbCheckpoint();
          phases.push(report(stopReason));
          return done('interrupted', s);
        }
        phases.push(report(stopReason));
        lbCheckpoint({ done: { status: 'completed' } });
        return done('completed', s);
      }
      const r = lbfgs.iterate();
      // The line search may have evaluated elsewhere last: put the accepted point back.
      if (whole) flat.set(lbfgs.state.x);
      else writeFlat(vars, lbfgs.state.x);
      stopReason = r.stop;
      const s1 = base + lbfgs.state.k;
      hooks.onStep?.(s1, lbfgs.state.f);
      if (stopReason === undefined && s1 > s) {
        if (s1 % cfg.logEvery === 0) log(s1, 'lbfgs', lbfgs.state.t, evaluatePhase());
        if (cfg.checkpointEvery > 0 && s1 % cfg.checkpointEvery === 0) lbCheckpoint();
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    sync();
    if (adam instanceof AdamOptimizer) adam.dispose();
  }
}

function disposeAll(ts: tf.Tensor[] | undefined): void {
  if (ts) for (const t of ts) t.dispose();
}

/** Loss value (and its parts when asked) and the gradient of every variable. */
function lossAndGrads(loss: PinnLoss, vars: tf.Variable[], withParts: boolean): { values: LossValues; grads: tf.Tensor[] } {
  let parts: LossValues | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const p = loss.compute();
    if (withParts) parts = read(p, false);
    return p.total;
  }, vars);
  const total = value.dataSync()[0]!;
  value.dispose();
  // A variable the loss does not reach gets a zero gradient.
  return { values: { ...(parts ?? { terms: [], slope: NaN }), total }, grads: vars.map((v) => grads[v.name] ?? tf.zerosLike(v)) };
}

/** Loss parts at the current parameters, without gradients. */
export function evaluateNow(loss: PinnLoss): LossValues {
  let v: LossValues | undefined;
  tf.tidy(() => {
    v = read(loss.compute());
  });
  return v!;
}

function read(p: { total: tf.Scalar; terms: tf.Scalar[]; slopeRecovery: tf.Scalar }, withTotal = true): LossValues {
  return {
    total: withTotal ? p.total.dataSync()[0]! : NaN,
    terms: p.terms.map((t) => t.dataSync()[0]!),
    slope: p.slopeRecovery.dataSync()[0]!,
  };
}
