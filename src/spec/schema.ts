/**
 * The spec format: one YAML file says what to solve and how to train.
 * The zod schema is the single source of truth for keys, types and defaults;
 * `Spec` (after parsing) has every default filled in and is what spec.resolved.yaml shows.
 * Expressions stay strings here: expr/ checks them (see semantics in problem/).
 */
import { z } from '../bundled/zod.js';
import { ACTIVATIONS } from '../base/activations.js';
import { BACKEND_NAMES, type BackendName } from '../base/backends.js';

/** Base activations known to laaf: the one vocabulary list (base/activations.ts). */
export { ACTIVATIONS };
export const ADAPTIVE_MODES = ['none', 'global', 'layer', 'neuron'] as const;
export const SAMPLING_METHODS = ['uniform', 'lhs', 'sobol', 'halton', 'grid'] as const;
export const BUILTIN_REFERENCES = ['burgers-cole-hopf'] as const;

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const positive = finite.refine((v) => v > 0, 'must be > 0');
const count = z.number().int('must be a whole number').min(1, 'must be at least 1');
/** A number, or an expression string in constants (`0.01/pi`, `2*pi`). */
const numberOrExpr = z.union([finite, z.string().min(1)]);
const identifier = /^[A-Za-z][A-Za-z0-9]*$/;

const weight = finite.refine((v) => v >= 0, 'must be >= 0').default(1);

/**
 * A condition is one of three kinds (exactly one of `on`, `periodic`, `at`):
 *   on:       faces (`t = 0`, a list, or `boundary`) where `require` holds;
 *   periodic: an input whose two faces must match in `match` (default: every output);
 *   at:       explicit points (one [x, t, ...] or a list of them) where `require` holds.
 */
const condition = z.strictObject({
  on: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  periodic: z.string().min(1).optional(),
  at: z.union([z.array(finite).min(1), z.array(z.array(finite).min(1)).min(1)]).optional(),
  /** What must hold there: an equation in outputs, their derivatives, inputs and constants. */
  require: z.string().min(1).optional(),
  /** periodic: the quantities equal on both faces, e.g. [u, u_x] */
  match: z.array(z.string().min(1)).min(1).optional(),
  weight,
  /** Points sampled for this condition; default sampling.boundary. */
  points: count.optional(),
});

/**
 * A data term: outputs fitted to targets at points (regression, observations for inverse problems).
 * Exactly one source: `file` (CSV with a header), `target` (expressions in the inputs), or
 * `from_reference` (samples of the spec's reference solution).
 */
const dataTerm = z.strictObject({
  file: z.string().min(1).optional(),
  /** spec name (input or output) -> CSV column, where they differ */
  columns: z.record(z.string(), z.string().min(1)).optional(),
  target: z.union([z.string().min(1), z.record(z.string(), z.string().min(1))]).optional(),
  from_reference: z.boolean().optional(),
  /** observed outputs (default: all, or the keys of `target`) */
  outputs: z.array(z.string().min(1)).min(1).optional(),
  /** generated data: number of points and how they are placed */
  points: count.optional(),
  sampling: z.enum(SAMPLING_METHODS).optional(),
  /** relative Gaussian noise: target + noise * std(target) * N(0, 1), seeded */
  noise: finite.refine((v) => v >= 0, 'must be >= 0').default(0),
  weight,
});

const parameter = z.union([
  finite,
  z.strictObject({
    init: finite,
    /** keeps the value inside (lo, hi) through a smooth map */
    bounds: z.tuple([finite, finite]).optional(),
    /** the true value, when known, for the error column */
    true_value: finite.optional(),
  }),
]);

const equation = z.union([
  z.string().min(1),
  z.strictObject({ require: z.string().min(1), weight }),
]);

const slopeRecovery = z.union([
  finite.refine((v) => v >= 0, 'must be >= 0'),
  z.strictObject({
    weight: finite.refine((v) => v >= 0, 'must be >= 0').default(1),
    /** paper: 1/((1/(D-1)) Σ exp(a_k)); script: the authors' TF script, without 1/(D-1) */
    form: z.enum(['paper', 'script']).default('paper'),
  }),
]);

/** scale factor n >= 1: one for the net or one per hidden layer */
const scaleN = z.union([finite.refine((v) => v >= 1, 'must be >= 1'), z.array(finite.refine((v) => v >= 1, 'must be >= 1')).min(1)]);

/**
 * Rowdy activation (nn/rowdy.ts): φ(n·a·z) + Σ_{k=1}^{K-1} n·α_k·ψ(n·k·F_k·z), φ = `activation`,
 * ψ = `family`; α_k = 0 and F_k = 1/n at start, so the net starts as the plain one.
 */
const rowdy = z.strictObject({
  /** number of terms: the base activation plus K - 1 sinusoids */
  K: z.number().int('must be a whole number').min(2, 'must be at least 2 (K = 1 is the plain activation)'),
  family: z.enum(['sin', 'cos']).default('sin'),
  /** n of the sinusoids: one or one per hidden layer; default model.adaptive.n */
  n: scaleN.optional(),
  /** one α_k, F_k per hidden layer, or per neuron */
  mode: z.enum(['layer', 'neuron']).default('layer'),
});

/**
 * Kronecker activation (nn/rowdy.ts): Σ_k α_k φ_k(ω_k·u), u = n·a·z; replaces `activation`.
 * α = (1, 0, …, 0), ω = (1, 2, …, K) at start, so the net starts as functions[0].
 */
const kronecker = z.strictObject({
  functions: z.array(z.enum(ACTIVATIONS)).min(2, 'needs at least two functions (one is the plain activation)'),
  mode: z.enum(['layer', 'neuron']).default('layer'),
  /** initial α_k (default 1, 0, ..., 0) and ω_k (default 1, 2, ..., K), one per function */
  alpha: z.array(finite).min(1).optional(),
  omega: z.array(finite).min(1).optional(),
});

const model = z.strictObject({
  hidden: z.array(count).min(1, 'needs at least one hidden layer').default([20, 20, 20, 20]),
  /** the activation; with rowdy: its base φ; with kronecker: not used */
  activation: z.enum(ACTIVATIONS).default('tanh'),
  adaptive: z
    .strictObject({
      mode: z.enum(ADAPTIVE_MODES).default('none'),
      n: scaleN.default(1),
      /** initial a; default 1/n so that n·a = 1 */
      init: finite.optional(),
    })
    .default({ mode: 'none', n: 1 }),
  /** false (or null, or absent) = off: `--set model.rowdy=false` and sweeps can switch it off */
  rowdy: z.union([rowdy, z.literal(false)]).nullable().optional(),
  kronecker: z.union([kronecker, z.literal(false)]).nullable().optional(),
  slope_recovery: slopeRecovery.default(0),
  init: z.enum(['xavier', 'normal']).default('xavier'),
  /** map each input affinely onto [-1, 1] before the first layer */
  normalize_inputs: z.boolean().default(true),
  /** false: no kernel step path may run (tfjs ops only); true: the step-path registry (src/step/) picks the first path that supports the run */
  fused: z.boolean().default(true),
}).superRefine((m, ctx) => {
  const L = m.hidden.length;
  const perLayer = (n: number | number[] | undefined, path: string[]) => {
    if (Array.isArray(n) && n.length !== L) {
      ctx.addIssue({ code: 'custom', path, message: `has ${n.length} entries for ${L} hidden layers — give one n, or one per hidden layer` });
    }
  };
  perLayer(m.adaptive.n, ['adaptive', 'n']);
  perLayer(m.rowdy ? m.rowdy.n : undefined, ['rowdy', 'n']);
  if (m.rowdy && m.kronecker) {
    ctx.addIssue({ code: 'custom', path: ['kronecker'], message: 'rowdy and kronecker are alternatives — keep one of them' });
  }
  const k = m.kronecker || undefined;
  for (const key of ['alpha', 'omega'] as const) {
    const v = k?.[key];
    if (k && v && v.length !== k.functions.length) {
      ctx.addIssue({ code: 'custom', path: ['kronecker', key], message: `has ${v.length} entries for ${k.functions.length} functions — give one per function` });
    }
  }
});

const reference = z.union([
  z.strictObject({ builtin: z.enum(BUILTIN_REFERENCES), nu: numberOrExpr.optional() }),
  z.strictObject({ exact: z.union([z.string().min(1), z.record(z.string(), z.string().min(1))]) }),
  /** a CSV with inputs and outputs as columns (names mapped by `columns` where they differ) */
  z.strictObject({ file: z.string().min(1), columns: z.record(z.string(), z.string().min(1)).optional() }),
]);

const sampling = z.strictObject({
  method: z.enum(SAMPLING_METHODS).default('lhs'),
  interior: count.default(2000),
  /** default number of points of each condition */
  boundary: count.default(200),
});

/**
 * Adam learning-rate schedule (train/schedule.ts): `constant`, `cosine` (to 0), or
 *   { kind: step, every: K, factor: f }          lr · f^floor(s/K)
 *   { kind: exponential, every: K, factor: f }   lr · f^(s/K)
 *   { kind: cosine, min_lr: m }                  m + (lr − m)(1 + cos(π s/steps))/2
 */
const schedule = z.union([
  z.enum(['constant', 'cosine']),
  z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('constant') }),
    z.strictObject({ kind: z.literal('step'), every: count, factor: positive }),
    z.strictObject({ kind: z.literal('exponential'), every: count, factor: positive }),
    z.strictObject({ kind: z.literal('cosine'), min_lr: finite.refine((v) => v >= 0, 'must be >= 0').default(0) }),
  ]),
]);

const nonNegative = finite.refine((v) => v >= 0, 'must be >= 0');

/** tfjs backends (src/backend/select.ts): `auto` = a hardware GPU when there is one, else wasm */
export { BACKEND_NAMES, type BackendName };

const training = z.strictObject({
  /** default wasm; --backend on the command line wins */
  backend: z.enum(BACKEND_NAMES).optional(),
  seed: z.number().int('must be a whole number').default(1234),
  adam: z
    .strictObject({
      lr: positive.default(1e-3),
      steps: z.number().int('must be a whole number').min(0).default(1000),
      schedule: schedule.default('constant'),
    })
    .default({ lr: 1e-3, steps: 1000, schedule: 'constant' }),
  /** a second phase after Adam; absent = none */
  lbfgs: z
    .strictObject({
      max_iterations: z.number().int('must be a whole number').min(0).default(1000),
      /** loss-and-gradient evaluations at most (default 1.25 × max_iterations) */
      max_evaluations: count.optional(),
      /** curvature pairs kept */
      history: count.default(50),
      /** first step length tried (1 = the quasi-Newton step) */
      lr: positive.default(1),
      tolerance_grad: nonNegative.default(1e-7),
      tolerance_change: nonNegative.default(1e-9),
      line_search: z.enum(['strong_wolfe', 'none']).default('strong_wolfe'),
      /** times a failed line search may drop the curvature memory and retry by steepest descent (0: stop at the first failure) */
      restarts: z.number().int('must be a whole number').min(0).default(0),
      /** W_a in this phase (default: model.slope_recovery's); 0 lets L-BFGS work on the residuals only */
      slope_recovery: nonNegative.optional(),
    })
    .optional(),
  log_every: count.default(50),
  /** checkpoint.json every this many steps (0: only at the end and when stopped) */
  checkpoint_every: z.number().int('must be a whole number').min(0).default(500),
  /** draw new interior points every `every` Adam steps (and condition points with conditions: true) */
  resample: z.strictObject({ every: count, conditions: z.boolean().default(false) }).optional(),
  /** residual-based refinement: every `every` Adam steps add the `add` worst of `candidates` random points */
  refine: z.strictObject({ every: count, candidates: count.default(10000), add: count.default(100) }).optional(),
  /** arithmetic of the training step: float64 runs only on the whole-step path (src/step/) */
  precision: z.enum(['float32', 'float64']).default('float32'),
  /** run loss, gradient and optimizer in the whole-step kernel where it supports the problem (false: the fused jets + tfjs, or tfjs) */
  whole_step: z.boolean().default(true),
});

const output = z.strictObject({
  /** points per input of the evaluation grid written to solution.csv */
  grid: z.record(z.string(), count).optional(),
});

export const specSchema = z.strictObject({
  /** at most 100 characters: the default run directory is runs/<name>-<timestamp>, within the 255-byte file-name limit */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'use letters, digits, - _ .').max(100, 'at most 100 characters (it names the run directory)'),
  about: z.string().optional(),
  inputs: z.record(z.string().regex(identifier, 'input names are letters then letters/digits (no _)'), z.tuple([numberOrExpr, numberOrExpr])),
  outputs: z.array(z.string().regex(identifier, 'output names are letters then letters/digits (no _)')).min(1),
  constants: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'constant names are identifiers'), numberOrExpr).default({}),
  equations: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'names are letters, digits, - _ .'), equation).default({}),
  conditions: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'names are letters, digits, - _ .'), condition).default({}),
  data: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'names are letters, digits, - _ .'), dataTerm).default({}),
  parameters: z.record(z.string().regex(identifier, 'parameter names are letters then letters/digits (no _)'), parameter).default({}),
  /** hard constraints: output = expression in the inputs and the raw network output N<name> (or N) */
  transform: z.record(z.string(), z.string().min(1)).default({}),
  reference: reference.optional(),
  model: model.default(model.parse({})),
  sampling: sampling.default(sampling.parse({})),
  training: training.default(training.parse({})),
  output: output.default({}),
});

export type SpecInput = z.input<typeof specSchema>;
export type Spec = z.output<typeof specSchema>;
export type ConditionSpec = z.output<typeof condition>;
export type DataSpec = z.output<typeof dataTerm>;
export type ParameterSpec = z.output<typeof parameter>;
