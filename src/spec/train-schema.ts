/**
 * The spec of `laaf train`: a network trained on a data set (classification or
 * regression) instead of a PDE. Told apart from a PDE spec by its `dataset:` key.
 * Same loading machinery as spec/schema.ts (positions, --set, defaults filled in).
 */
import { z } from 'zod';
import { ADAPTIVE_MODES } from './schema.js';

/** Activations of data-set networks (tfjs ops; no derivative towers needed). */
export const DEEP_ACTIVATIONS = ['relu', 'tanh', 'sigmoid', 'elu', 'softplus', 'sin', 'leaky_relu', 'silu'] as const;

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const positive = finite.refine((v) => v > 0, 'must be > 0');
const count = z.number().int('must be a whole number').min(1, 'must be at least 1');

/** One part of a data set: IDX files (images + labels) or a CSV file. */
const source = z.strictObject({
  /** IDX file of the inputs ([N, ...] of any element type), gzipped or raw */
  images: z.string().min(1).optional(),
  /** IDX file of the class labels ([N] integers) or regression targets ([N] or [N, k]) */
  labels: z.string().min(1).optional(),
  /** CSV file with a header row: one row per sample */
  csv: z.string().min(1).optional(),
  /** CSV: the target column(s) (class label, or regression targets) */
  target: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  /** CSV: the input columns (default: every column but the targets) */
  features: z.array(z.string().min(1)).min(1).optional(),
  /** use only the first N samples */
  limit: count.optional(),
});

const dataset = z.strictObject({
  /** classification (softmax cross-entropy, accuracy) or regression (mean squared error) */
  task: z.enum(['classification', 'regression']).default('classification'),
  train: source,
  /** a separate test set, or `split: f` — hold out the fraction f of train (seeded) */
  test: z.union([source, z.strictObject({ split: positive.refine((v) => v < 1, 'must be < 1') })]).optional(),
  /** number of classes (classification; default: largest training label + 1) */
  classes: count.optional(),
  /**
   * Input scaling, fitted on the training samples: unit (uint8 data / 255, others
   * (x − min)/(max − min)), standard ((x − mean)/std), none.
   */
  scaling: z.enum(['unit', 'standard', 'none']).default('unit'),
});

const adaptive = z.strictObject({
  mode: z.enum(ADAPTIVE_MODES).default('none'),
  /** scale factor n >= 1 */
  n: finite.refine((v) => v >= 1, 'must be >= 1').default(1),
  /** initial a (default 1/n) */
  init: finite.optional(),
});

/** The layer vocabulary (the output dense layer is appended: classes or targets units). */
const layer = z.union([
  z.strictObject({ conv: count, size: count.default(3), stride: count.default(1), padding: z.enum(['valid', 'same']).default('valid') }),
  z.strictObject({ pool: count, stride: count.optional() }),
  z.strictObject({ dense: count }),
  z.strictObject({ dropout: finite.refine((v) => v >= 0 && v < 1, 'must be in [0, 1)') }),
  /** the activation, with the adaptive factor n·a in front of it (placed after pooling, as in the papers) */
  z.strictObject({ act: z.enum(DEEP_ACTIVATIONS).optional() }),
  z.strictObject({ flatten: z.literal(true) }),
]);

const model = z.strictObject({
  /** a plain MLP: widths of the hidden dense layers, each followed by an activation */
  hidden: z.array(count).optional(),
  /** or the layers in order (conv, pool, act, flatten, dense, dropout); see README */
  layers: z.array(z.union([z.enum(['act', 'flatten']), layer])).min(1).optional(),
  activation: z.enum(DEEP_ACTIVATIONS).default('relu'),
  adaptive: adaptive.default(adaptive.parse({})),
  /** W_a of S = 1 / mean_k exp(mean a_k) (the authors' deep-learning code); 0 = off */
  slope_recovery: finite.refine((v) => v >= 0, 'must be >= 0').default(0),
  /** weight initialisation: torch (PyTorch's default for Linear/Conv: U(±1/sqrt(fan_in))) | xavier */
  init: z.enum(['torch', 'xavier']).default('torch'),
});

const sgd = z.strictObject({
  lr: positive.default(0.01),
  momentum: finite.refine((v) => v >= 0 && v < 1, 'must be in [0, 1)').default(0.9),
  /** epochs after which lr is multiplied by gamma */
  milestones: z.array(count).default([]),
  gamma: positive.default(0.1),
  weight_decay: finite.refine((v) => v >= 0, 'must be >= 0').default(0),
});
const adam = z.strictObject({
  lr: positive.default(1e-3),
  milestones: z.array(count).default([]),
  gamma: positive.default(0.1),
});

const training = z.strictObject({
  seed: z.number().int('must be a whole number').default(1234),
  epochs: count.default(1),
  /** cap on the steps of the first epochs (smoke runs, benchmarks): stop after this many batches over all */
  max_steps: count.optional(),
  batch: count.default(64),
  test_batch: count.default(100),
  optimizer: z.enum(['sgd', 'adam']).default('sgd'),
  sgd: sgd.default(sgd.parse({})),
  adam: adam.default(adam.parse({})),
  /** a history row every this many steps (the mean training loss since the previous row), and at each epoch's end */
  log_every: count.default(20),
  /** checkpoint.json every this many epochs (and at the end, and when interrupted) */
  checkpoint_every: count.default(1),
});

export const trainSpecSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, - _ . only'),
  about: z.string().optional(),
  dataset,
  model: model.default(model.parse({})),
  training: training.default(training.parse({})),
});

export type TrainSpec = z.infer<typeof trainSpecSchema>;
export type DataSource = z.infer<typeof source>;
export type LayerSpec = z.infer<typeof layer> | 'act' | 'flatten';
