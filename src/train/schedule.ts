/**
 * Learning-rate schedules for the Adam phase: the rate used for the update that takes
 * the parameters from step s to s + 1 (s = 0 … steps − 1). Pure functions of s, so a
 * resumed run uses exactly the rates of an uninterrupted one.
 *
 *   constant      lr
 *   step          lr · factor^floor(s / every)
 *   exponential   lr · factor^(s / every)          (smooth; factor per `every` steps)
 *   cosine        min_lr + (lr − min_lr) · (1 + cos(π s / steps)) / 2
 */

export type Schedule =
  | { kind: 'constant' }
  | { kind: 'step'; every: number; factor: number }
  | { kind: 'exponential'; every: number; factor: number }
  | { kind: 'cosine'; min_lr: number };

/** lr at step s of a phase of `steps` steps. */
export function learningRate(schedule: Schedule, lr: number, s: number, steps: number): number {
  switch (schedule.kind) {
    case 'constant': return lr;
    case 'step': return lr * schedule.factor ** Math.floor(s / schedule.every);
    case 'exponential': return lr * schedule.factor ** (s / schedule.every);
    case 'cosine': {
      const frac = steps > 0 ? Math.min(s / steps, 1) : 1;
      return schedule.min_lr + (lr - schedule.min_lr) * (1 + Math.cos(Math.PI * frac)) / 2;
    }
  }
}
