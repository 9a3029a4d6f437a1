/**
 * Training a data-set network: epochs of mini-batches in a seeded shuffled order,
 * SGD with momentum (PyTorch's form: buf ← μ·buf + g, θ ← θ − lr·buf) or Adam, the
 * learning rate × gamma after each milestone epoch (PyTorch's MultiStepLR), the
 * objective J = data loss + W_a·S. Its whole state — weights, optimizer buffers, the
 * shuffle and dropout generators, the epoch's order and position, the running loss
 * sums — goes into a checkpoint, so a resumed run continues bit for bit.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng, type RngState } from '../domain/rng.js';
import { AdamOptimizer, type AdamState } from '../train/adam-optimizer.js';
import type { DataSet, Samples } from '../data/dataset.js';
import { dataLoss, type Network } from './network.js';

export interface DeepTrainConfig {
  epochs: number;
  /** stop after this many steps over all epochs (smoke runs) */
  maxSteps?: number;
  batch: number;
  testBatch: number;
  optimizer: 'sgd' | 'adam';
  lr: number;
  momentum: number;
  weightDecay: number;
  milestones: number[];
  gamma: number;
  slopeRecovery: number;
  logEvery: number;
  checkpointEvery: number;
}

export interface DeepRow {
  step: number;
  epoch: number;
  elapsed_s: number;
  lr: number;
  /** mean data loss (cross-entropy or MSE) over the batches since the previous row */
  loss: number;
  /** mean objective J = loss + W_a·S over the same batches */
  objective: number;
  /** S at this step */
  slopeRecovery: number;
  slopes: { mean: number; min: number; max: number }[];
  /** at the end of an epoch (and of the run) when there is a test set */
  test?: { loss: number; accuracy?: number };
}

export interface DeepCheckpoint {
  step: number;
  /** the epoch in progress (0-based) and the batches of it already done */
  epoch: number;
  pos: number;
  /** the epoch's sample order (empty when pos = 0: drawn at the epoch's start) */
  perm: Float64Array;
  shuffle: RngState;
  dropout: RngState;
  weights: Float32Array[];
  sgd?: Float32Array[];
  adam?: AdamState;
  /** running sums since the last row: data loss, objective, batches */
  acc: [number, number, number];
  elapsed_s: number;
  done: boolean;
}

export type DeepStatus = 'completed' | 'diverged' | 'interrupted';

export interface DeepResult {
  status: DeepStatus;
  message?: string;
  step: number;
  epochs: number;
  lastRow?: DeepRow;
  checkpointStep?: number;
}

export interface DeepHooks {
  onRow(row: DeepRow): void;
  onCheckpoint(c: DeepCheckpoint): void;
  onStep?(step: number, loss: number): void;
  shouldStop?(): boolean;
}

export function lrAt(cfg: DeepTrainConfig, epoch: number): number {
  return cfg.lr * cfg.gamma ** cfg.milestones.filter((m) => m <= epoch).length;
}

/** One batch as tensors: inputs [B, ...sampleShape] and targets (one-hot rows for classification). */
export function batchTensors(data: DataSet, part: Samples, rows: ArrayLike<number>): { x: tf.Tensor; y: tf.Tensor } {
  const d = data.sampleShape.reduce((a, b) => a * b, 1);
  const b = rows.length;
  const x = new Float32Array(b * d);
  for (let i = 0; i < b; i++) x.set(part.x.subarray(rows[i]! * d, (rows[i]! + 1) * d), i * d);
  const k = data.outputs;
  const y = new Float32Array(b * k);
  if (data.task === 'classification') for (let i = 0; i < b; i++) y[i * k + part.y[rows[i]!]!] = 1;
  else for (let i = 0; i < b; i++) y.set(part.y.subarray(rows[i]! * k, (rows[i]! + 1) * k), i * k);
  return { x: tf.tensor(x, [b, ...data.sampleShape]), y: tf.tensor2d(y, [b, k]) };
}

/** Mean data loss and (classification) accuracy of the network on a set of samples, without dropout. */
export function evaluate(net: Network, data: DataSet, part: Samples, batch: number): { loss: number; accuracy?: number } {
  let sum = 0;
  let correct = 0;
  for (let start = 0; start < part.n; start += batch) {
    const rows = Array.from({ length: Math.min(batch, part.n - start) }, (_, i) => start + i);
    tf.tidy(() => {
      const { x, y } = batchTensors(data, part, rows);
      const out = net.forward(x);
      sum += dataLoss(data.task, out, y).dataSync()[0]! * rows.length;
      if (data.task === 'classification') {
        const pred = tf.argMax(out, 1).dataSync();
        rows.forEach((r, i) => {
          if (pred[i] === part.y[r]) correct++;
        });
      }
    });
  }
  return data.task === 'classification' ? { loss: sum / part.n, accuracy: correct / part.n } : { loss: sum / part.n };
}

export async function trainDeep(net: Network, data: DataSet, cfg: DeepTrainConfig, rng: Rng, hooks: DeepHooks, resume?: DeepCheckpoint): Promise<DeepResult> {
  const vars = net.variables();
  const n = data.train.n;
  const perEpoch = Math.ceil(n / cfg.batch);
  const shuffle = resume ? Rng.fromState(resume.shuffle) : rng.derive('shuffle');
  const dropout = resume ? Rng.fromState(resume.dropout) : rng.derive('dropout');
  const sgdBuf = cfg.optimizer === 'sgd' ? vars.map((v) => tf.variable(tf.zerosLike(v), false)) : [];
  const adam = cfg.optimizer === 'adam' ? new AdamOptimizer(vars) : undefined;
  let step = 0;
  let epoch = 0;
  let pos = 0;
  let perm: number[] = [];
  let acc: [number, number, number] = [0, 0, 0];
  let elapsedBefore = 0;
  if (resume) {
    net.load(resume.weights);
    if (cfg.optimizer === 'sgd') {
      if (!resume.sgd || resume.sgd.length !== sgdBuf.length) throw new Error('checkpoint has no SGD momentum buffers for this network');
      sgdBuf.forEach((b, i) => tf.tidy(() => b.assign(tf.tensor(resume.sgd![i]!, b.shape))));
    } else {
      if (!resume.adam) throw new Error('checkpoint has no Adam state');
      adam!.load(resume.adam);
    }
    step = resume.step;
    epoch = resume.epoch;
    pos = resume.pos;
    perm = Array.from(resume.perm);
    acc = [...resume.acc];
    elapsedBefore = resume.elapsed_s;
  }
  const t0 = performance.now();
  const elapsed = () => elapsedBefore + (performance.now() - t0) / 1000;
  let lastRow: DeepRow | undefined;
  let checkpointStep: number | undefined;

  const checkpoint = (done: boolean) => {
    const c: DeepCheckpoint = {
      step, epoch, pos, perm: Float64Array.from(pos === 0 ? [] : perm), shuffle: shuffle.state(), dropout: dropout.state(),
      weights: net.state(), acc: [...acc], elapsed_s: elapsed(), done,
      ...(cfg.optimizer === 'sgd' ? { sgd: sgdBuf.map((b) => Float32Array.from(b.dataSync() as Float32Array)) } : { adam: adam!.state() }),
    };
    hooks.onCheckpoint(c);
    checkpointStep = step;
  };
  const row = (lr: number, withTest: boolean): DeepRow => {
    const s = tf.tidy(() => net.slopeRecovery().dataSync()[0]!);
    const r: DeepRow = {
      step, epoch: epoch + 1, elapsed_s: elapsed(), lr,
      loss: acc[2] > 0 ? acc[0] / acc[2] : NaN, objective: acc[2] > 0 ? acc[1] / acc[2] : NaN,
      slopeRecovery: s, slopes: net.slopeStats(),
      ...(withTest && data.test ? { test: evaluate(net, data, data.test, cfg.testBatch) } : {}),
    };
    acc = [0, 0, 0];
    hooks.onRow(r);
    lastRow = r;
    return r;
  };
  const finish = (status: DeepStatus, message?: string): DeepResult => {
    tf.dispose(sgdBuf);
    adam?.dispose();
    return { status, step, epochs: epoch, ...(message ? { message } : {}), ...(lastRow ? { lastRow } : {}), ...(checkpointStep !== undefined ? { checkpointStep } : {}) };
  };
  const cap = cfg.maxSteps ?? Infinity;

  while (epoch < cfg.epochs && step < cap) {
    const lr = lrAt(cfg, epoch);
    if (pos === 0) perm = shuffle.shuffle(Array.from({ length: n }, (_, i) => i));
    while (pos < perEpoch && step < cap) {
      const rows = perm.slice(pos * cfg.batch, Math.min(n, (pos + 1) * cfg.batch));
      const [lossV, objV] = tf.tidy(() => {
        const { x, y } = batchTensors(data, data.train, rows);
        let dl: tf.Scalar | undefined;
        const { value, grads } = tf.variableGrads(() => {
          const l = dataLoss(data.task, net.forward(x, dropout), y);
          dl = tf.keep(l);
          return cfg.slopeRecovery > 0 && net.slopes.length > 0 ? tf.add(l, tf.mul(net.slopeRecovery(), cfg.slopeRecovery)) as tf.Scalar : l;
        }, vars);
        const g = vars.map((v) => grads[v.name]!);
        if (cfg.optimizer === 'sgd') {
          vars.forEach((v, i) => {
            const gi = cfg.weightDecay > 0 ? tf.add(g[i]!, tf.mul(v, cfg.weightDecay)) : g[i]!;
            const b = tf.add(tf.mul(sgdBuf[i]!, cfg.momentum), gi);
            sgdBuf[i]!.assign(b);
            v.assign(tf.sub(v, tf.mul(b, lr)));
          });
        } else {
          adam!.apply(g, lr);
        }
        return [dl!.dataSync()[0]!, value.dataSync()[0]!];
      });
      step++;
      pos++;
      hooks.onStep?.(step, lossV);
      if (!Number.isFinite(lossV) || !Number.isFinite(objV)) {
        acc = [acc[0] + lossV, acc[1] + objV, acc[2] + 1];
        row(lr, false);
        return finish('diverged', `loss is ${lossV} at step ${step} (epoch ${epoch + 1})`);
      }
      acc = [acc[0] + lossV, acc[1] + objV, acc[2] + 1];
      const endOfEpoch = pos === perEpoch;
      const last = step >= cap || (endOfEpoch && epoch + 1 === cfg.epochs);
      if (endOfEpoch || last) row(lr, true);
      else if (step % cfg.logEvery === 0) row(lr, false);
      if (endOfEpoch) {
        pos = 0;
        epoch++;
        if (epoch % cfg.checkpointEvery === 0 && epoch < cfg.epochs && step < cap) checkpoint(false);
        if (hooks.shouldStop?.() && !last) {
          checkpoint(false);
          return finish('interrupted');
        }
        await new Promise((r) => setImmediate(r));
        break; // the next epoch draws its order
      }
      if (hooks.shouldStop?.() && !last) {
        // No row here: the running sums go into the checkpoint, so a resumed run logs what an uninterrupted one would.
        checkpoint(false);
        return finish('interrupted');
      }
      await new Promise((r) => setImmediate(r)); // let signals in
    }
  }
  checkpoint(true);
  return finish('completed');
}
