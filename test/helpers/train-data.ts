/** Generated image data sets and a small `laaf train` spec over them (tests that do not need Fashion-MNIST). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx } from '../../src/data/idx.js';
import { Rng } from '../../src/domain/rng.js';
import { tempDir } from './cli.js';

/**
 * Images of `classes` classes, h×w: class k is a bright vertical bar in column band k
 * on a noisy background — separable, but only by looking at the right pixels.
 */
export function writeImages(dir: string, prefix: string, n: number, seed: number, classes = 4, h = 10, w = 8, gz = true): void {
  const rng = new Rng(seed);
  const px: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = rng.int(classes);
    labels.push(k);
    for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) {
      const bar = Math.floor((c * classes) / w) === k;
      px.push(Math.min(255, Math.floor((bar ? 150 : 0) + 100 * rng.uniform())));
    }
  }
  const img = encodeIdx([n, h, w], px, 0x08);
  const lab = encodeIdx([n], labels, 0x08);
  writeFileSync(join(dir, `${prefix}-images.idx${gz ? '.gz' : ''}`), gz ? gzipSync(img) : img);
  writeFileSync(join(dir, `${prefix}-labels.idx${gz ? '.gz' : ''}`), gz ? gzipSync(lab) : lab);
}

/** A small CNN with N-LAAF on the generated images of generatedDir() (6 epochs of 20 steps); `extra` is appended. */
export const GENERATED = (extra = '') => `name: gen
dataset:
  train: { images: train-images.idx.gz, labels: train-labels.idx.gz }
  test: { images: test-images.idx, labels: test-labels.idx }
model:
  layers:
    - { conv: 4, size: 3 }
    - { pool: 2 }
    - act
    - flatten
    - { dense: 16 }
    - act
    - { dropout: 0.1 }
  adaptive: { mode: neuron, n: 2 }
  slope_recovery: 1
training:
  seed: 3
  epochs: 6
  batch: 16
  sgd: { lr: 0.05, momentum: 0.9, milestones: [4], gamma: 0.1 }
  log_every: 5
${extra}`;

/** A temporary folder with 320 training and 160 test images and gen.yaml (GENERATED()). */
export function generatedDir(): string {
  const dir = tempDir('laaf-train-');
  writeImages(dir, 'train', 320, 1);
  writeImages(dir, 'test', 160, 2, 4, 10, 8, false);
  writeFileSync(join(dir, 'gen.yaml'), GENERATED());
  return dir;
}
