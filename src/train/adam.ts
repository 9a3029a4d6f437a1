/**
 * The Adam phase: one loss evaluation and one parameter update per step, with a
 * history row every `logEvery` steps (and at the first and last), a non-finite-loss
 * guard and a cooperative stop (SIGINT/SIGTERM set `shouldStop`).
 * Row `step = s` describes the parameters after s updates.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PinnLoss } from './loss.js';

export interface HistoryRow {
  step: number;
  elapsed: number;
  lr: number;
  loss: number;
  terms: number[];
  slopeRecovery: number;
  /** n·a per hidden layer (mean/min/max; equal unless neuron mode) */
  slopes: { mean: number; min: number; max: number }[];
  /** rel-L2 over all outputs, then per output (empty without a reference) */
  errors: number[];
  /** values of the unknown parameters (inverse problems), in problem order */
  parameters: number[];
}

export interface AdamOptions {
  steps: number;
  lr: number;
  logEvery: number;
  /** errors against the reference at the current parameters, or [] */
  evaluateErrors: () => number[];
  onLog: (row: HistoryRow) => void;
  onStep?: (step: number, loss: number) => void;
  shouldStop?: () => boolean;
}

export type TrainStatus = 'completed' | 'diverged' | 'interrupted';

export interface TrainResult {
  status: TrainStatus;
  steps: number;
  last: HistoryRow;
  message?: string;
}

export async function trainAdam(loss: PinnLoss, opts: AdamOptions): Promise<TrainResult> {
  const optimizer = tf.train.adam(opts.lr, 0.9, 0.999, 1e-8);
  const vars = loss.variables();
  const t0 = performance.now();
  let last: HistoryRow | undefined;

  const makeRow = (step: number, v: LossValues, slopes: HistoryRow['slopes'], errors: number[], parameters: number[]): HistoryRow => ({
    step,
    elapsed: (performance.now() - t0) / 1000,
    lr: opts.lr,
    loss: v.total,
    terms: v.terms,
    slopeRecovery: v.slope,
    slopes,
    errors,
    parameters,
  });

  const logAt = (step: number) => step % opts.logEvery === 0 || step === opts.steps;
  try {
    for (let step = 0; step <= opts.steps; step++) {
      const final = step === opts.steps || (opts.shouldStop?.() ?? false);
      const logging = final || logAt(step);
      // What a row reports is read before this step's update: the parameters after `step` updates.
      const slopes = logging ? loss.model.slopeStats() : [];
      const errors = logging ? opts.evaluateErrors() : [];
      const params = logging ? loss.parameters.values() : [];
      let values: LossValues;
      if (final) {
        values = evaluateNow(loss);
      } else {
        let parts: LossValues | undefined;
        const cost = optimizer.minimize(() => {
          const p = loss.compute();
          if (logging) parts = read(p, false);
          return p.total;
        }, true, vars);
        const total = cost!.dataSync()[0]!;
        cost!.dispose();
        values = { ...(parts ?? { terms: [], slope: NaN }), total };
      }
      if (!Number.isFinite(values.total)) {
        const terms = values.terms.length ? values.terms : evaluateNow(loss).terms;
        const bad = loss.problem.terms.filter((_, k) => !Number.isFinite(terms[k]!)).map((t) => `'${t.name}'`);
        const what = bad.length ? ` (term ${bad.join(', ')})` : '';
        return { status: 'diverged', steps: step, last: last ?? makeRow(step, values, slopes, errors, params), message: `loss is ${values.total} at step ${step}${what}` };
      }
      opts.onStep?.(step, values.total);
      // Let signal handlers and the progress display run between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (logging) {
        last = makeRow(step, values, slopes, errors, params);
        opts.onLog(last);
      }
      if (final) return { status: step === opts.steps ? 'completed' : 'interrupted', steps: step, last: last! };
    }
    throw new Error('unreachable');
  } finally {
    optimizer.dispose();
  }
}

interface LossValues { total: number; terms: number[]; slope: number }

/** Loss parts at the current parameters, without an update. */
function evaluateNow(loss: PinnLoss): LossValues {
  let v: LossValues | undefined;
  tf.tidy(() => {
    v = read(loss.compute());
  });
  return v!;
}

/** Read loss parts to numbers (inside the minimize closure the scalars stay alive until read). */
function read(p: { total: tf.Scalar; terms: tf.Scalar[]; slopeRecovery: tf.Scalar }, withTotal = true): LossValues {
  return {
    total: withTotal ? p.total.dataSync()[0]! : NaN,
    terms: p.terms.map((t) => t.dataSync()[0]!),
    slope: p.slopeRecovery.dataSync()[0]!,
  };
}
