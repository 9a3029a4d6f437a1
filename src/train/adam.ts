/**
 * An Adam-only run of the training loop (train/trainer.ts), for callers that need no
 * phases, checkpoints or point changes (tests, library use). `solve` calls `train`.
 */
import type { PinnLoss } from './loss.js';
import { train, type HistoryRow, type TrainResult } from './trainer.js';

export type { HistoryRow, TrainResult, TrainStatus } from './trainer.js';
export { AdamOptimizer, type AdamState } from './adam-optimizer.js';

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

export async function trainAdam(loss: PinnLoss, opts: AdamOptions): Promise<TrainResult> {
  return train(loss, {
    adam: { steps: opts.steps, lr: opts.lr, schedule: { kind: 'constant' } },
    logEvery: opts.logEvery,
    checkpointEvery: 0,
  }, {
    evaluateErrors: opts.evaluateErrors,
    onLog: opts.onLog,
    ...(opts.onStep ? { onStep: opts.onStep } : {}),
    ...(opts.shouldStop ? { shouldStop: opts.shouldStop } : {}),
  });
}
