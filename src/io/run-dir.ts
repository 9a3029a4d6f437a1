/**
 * The run directory's contract, in one place: its file names, the columns of
 * history.csv (which ones a run has, how a row fills them, and how a reader tells their
 * kinds from the header), and the type of summary.json with its reader. `solve` writes
 * through it; plots, sweeps (plan, collect) and the progress display read through it.
 * ARCHITECTURE.md, "The run directory", describes it and how to add columns.
 *
 *   spec.resolved.yaml  the spec with every default filled in (written first)
 *   history.csv         one row per logged step, appended as training goes
 *   solution.csv        the evaluation grid: inputs, outputs, reference and error
 *   parameters.csv      inverse problems: every unknown's value at every logged step
 *   summary.json        status, final losses and errors, seed, backend, versions, step path
 *   checkpoint.json     weights, optimizer state, points: what `solve --resume` continues from
 *   plots/              SVG pictures drawn from the files above
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const RUN_FILES = {
  spec: 'spec.resolved.yaml',
  history: 'history.csv',
  solution: 'solution.csv',
  parameters: 'parameters.csv',
  summary: 'summary.json',
  checkpoint: 'checkpoint.json',
  plots: 'plots',
} as const;

// ------------------------------------------------------------------------ history.csv

export type Phase = 'adam' | 'lbfgs';

/** One logged training step, as the trainer (train/trainer.ts) hands it over to be written. */
export interface HistoryRow {
  step: number;
  phase: Phase;
  elapsed: number;
  /** Adam: the learning rate of this step's update; L-BFGS: the accepted step length */
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
  /** Rowdy/Kronecker: per hidden layer, the largest added-term amplitude (and Kronecker's lead coefficient) */
  rowdy: { ampMaxAbs: number; lead?: number }[];
}

/** How a training run ended (summary.json `status`). */
export type TrainStatus = 'completed' | 'diverged' | 'interrupted';

export type AdamStop = 'max_steps' | 'interrupted' | 'diverged';
export type LbfgsPhaseStop = 'max_iterations' | 'max_evaluations' | 'tolerance_grad' | 'tolerance_change' | 'line_search_failed' | 'non_finite' | 'interrupted';

/** One phase of training as summary.json `phases` records it. */
export interface PhaseReport {
  phase: Phase;
  /** global step at the phase's start and end */
  first_step: number;
  last_step: number;
  /** Adam updates or L-BFGS iterations done */
  steps: number;
  /** L-BFGS: loss-and-gradient evaluations */
  evaluations?: number;
  /** L-BFGS: times a failed line search dropped the curvature memory and went on by steepest descent */
  restarts?: number;
  /** why the phase ended */
  stop: AdamStop | LbfgsPhaseStop;
}


/**
 * What a history column holds. Each kind says where the plots draw it (`panel`, null: not
 * drawn) and whether a sweep threshold may use it (`measure`: a quantity that falls as
 * training goes, or is watched; bookkeeping columns are not). A threshold asks for the
 * first logged step at or below its value, or at or above it for a kind that `rises`.
 */
export const COLUMN_KINDS = {
  step: { panel: null, measure: false },
  phase: { panel: null, measure: false },
  elapsed: { panel: null, measure: false },
  lr: { panel: null, measure: false },
  loss: { panel: 'loss', measure: true },
  term: { panel: 'loss', measure: true },
  slope_recovery: { panel: 'loss', measure: true },
  slope: { panel: 'slopes', measure: true },
  amplitude: { panel: 'amplitudes', measure: true },
  lead: { panel: 'amplitudes', measure: true },
  error: { panel: 'error', measure: true },
  /** laaf train: the epoch a row belongs to */
  epoch: { panel: null, measure: false },
  /** laaf train: mean of loss + W_a·S over the batches since the previous row */
  objective: { panel: 'loss', measure: true },
  /** laaf train: test-set loss, at each epoch's end (empty on the other rows) */
  test_loss: { panel: 'loss', measure: true },
  /** laaf train: test-set accuracy, at each epoch's end (drawn by plots/epochs.svg) */
  accuracy: { panel: null, measure: true, rises: true },
  /** a column this laaf does not know (a newer or older run directory): kept, not drawn */
  other: { panel: null, measure: false },
} as const satisfies Record<string, { panel: string | null; measure: boolean; rises?: true }>;

export type ColumnKind = keyof typeof COLUMN_KINDS;

export interface HistoryColumn {
  name: string;
  kind: ColumnKind;
  /** hidden layer, 1-based: slopes in layer and neuron mode, Rowdy/Kronecker amplitudes */
  layer?: number;
  /** neuron mode: which statistic of the layer's n·a */
  stat?: 'mean' | 'min' | 'max';
  /** terms: position in the problem's terms; per-output errors: position in its outputs */
  index?: number;
  /** per-output errors: the output's name */
  output?: string;
}

/** What decides a PINN run's history columns. */
export interface HistoryShape {
  /** loss term names, in the problem's order */
  terms: string[];
  adaptive: 'none' | 'global' | 'layer' | 'neuron';
  /** hidden layers */
  layers: number;
  activation: 'plain' | 'rowdy' | 'kronecker';
  /** with a reference: the outputs (rel_l2, and one rel_l2_<output> each when there are several); absent without one */
  errorOutputs?: string[];
}

/** The fixed names of history.csv, and the rules that name the per-layer and per-output columns. */
const FIXED: Record<string, ColumnKind> = {
  step: 'step', phase: 'phase', elapsed_s: 'elapsed', lr: 'lr', loss: 'loss', slope_recovery: 'slope_recovery', rel_l2: 'error',
  epoch: 'epoch', objective: 'objective', test_loss: 'test_loss', test_accuracy: 'accuracy',
};
const NAMED: { re: RegExp; column: (m: RegExpExecArray) => Omit<HistoryColumn, 'name'> }[] = [
  { re: /^na$/, column: () => ({ kind: 'slope' }) },
  { re: /^na_(\d+)$/, column: (m) => ({ kind: 'slope', layer: Number(m[1]) }) },
  { re: /^na_(\d+)_(mean|min|max)$/, column: (m) => ({ kind: 'slope', layer: Number(m[1]), stat: m[2] as 'mean' | 'min' | 'max' }) },
  { re: /^(?:rowdy|kron)_(\d+)_amp$/, column: (m) => ({ kind: 'amplitude', layer: Number(m[1]) }) },
  { re: /^kron_(\d+)_lead$/, column: (m) => ({ kind: 'lead', layer: Number(m[1]) }) },
];

/** history.csv's columns for a run of this shape, in file order. */
export function historyColumns(shape: HistoryShape): HistoryColumn[] {
  const L = shape.layers;
  const layers = Array.from({ length: L }, (_, k) => k + 1);
  const cols: HistoryColumn[] = [
    { name: 'step', kind: 'step' },
    { name: 'phase', kind: 'phase' },
    { name: 'elapsed_s', kind: 'elapsed' },
    { name: 'lr', kind: 'lr' },
    { name: 'loss', kind: 'loss' },
    ...shape.terms.map((name, index): HistoryColumn => ({ name, kind: 'term', index })),
    { name: 'slope_recovery', kind: 'slope_recovery' },
  ];
  if (shape.adaptive === 'global') cols.push({ name: 'na', kind: 'slope' });
  if (shape.adaptive === 'layer') cols.push(...layers.map((layer): HistoryColumn => ({ name: `na_${layer}`, kind: 'slope', layer })));
  if (shape.adaptive === 'neuron') {
    for (const layer of layers) for (const stat of ['mean', 'min', 'max'] as const) cols.push({ name: `na_${layer}_${stat}`, kind: 'slope', layer, stat });
  }
  if (shape.activation === 'rowdy') cols.push(...layers.map((layer): HistoryColumn => ({ name: `rowdy_${layer}_amp`, kind: 'amplitude', layer })));
  if (shape.activation === 'kronecker') {
    for (const layer of layers) cols.push({ name: `kron_${layer}_amp`, kind: 'amplitude', layer }, { name: `kron_${layer}_lead`, kind: 'lead', layer });
  }
  if (shape.errorOutputs) {
    cols.push({ name: 'rel_l2', kind: 'error' });
    if (shape.errorOutputs.length > 1) cols.push(...shape.errorOutputs.map((output, index): HistoryColumn => ({ name: `rel_l2_${output}`, kind: 'error', output, index })));
  }
  return cols;
}

/**
 * history.csv of a `laaf train` run (src/run/train.ts): step, epoch, elapsed_s, lr, loss
 * (mean training data loss since the previous row), slope_recovery, objective, the slopes
 * as for PDE runs (one "layer" per act layer), and with a test set test_loss and, for
 * classification, test_accuracy (filled at each epoch's last step). No terms: nothing
 * sits between loss and slope_recovery, so readHistoryColumns reads it back as written.
 */
export function trainHistoryColumns(shape: { adaptive: HistoryShape['adaptive']; acts: number; test: boolean; accuracy: boolean }): HistoryColumn[] {
  const slopes = historyColumns({ terms: [], adaptive: shape.adaptive, layers: shape.acts, activation: 'plain' }).filter((c) => c.kind === 'slope');
  return [
    { name: 'step', kind: 'step' },
    { name: 'epoch', kind: 'epoch' },
    { name: 'elapsed_s', kind: 'elapsed' },
    { name: 'lr', kind: 'lr' },
    { name: 'loss', kind: 'loss' },
    { name: 'slope_recovery', kind: 'slope_recovery' },
    { name: 'objective', kind: 'objective' },
    ...slopes,
    ...(shape.test ? [{ name: 'test_loss', kind: 'test_loss' } as HistoryColumn] : []),
    ...(shape.test && shape.accuracy ? [{ name: 'test_accuracy', kind: 'accuracy' } as HistoryColumn] : []),
  ];
}

/** One history.csv row: each column's value from a logged training row. */
export function historyCells(columns: HistoryColumn[], row: HistoryRow): (string | number)[] {
  return columns.map((c): string | number => {
    switch (c.kind) {
      case 'step': return row.step;
      case 'phase': return row.phase;
      case 'elapsed': return row.elapsed;
      case 'lr': return row.lr;
      case 'loss': return row.loss;
      case 'term': return row.terms[c.index!]!;
      case 'slope_recovery': return row.slopeRecovery;
      case 'slope': {
        const s = row.slopes[c.layer === undefined ? 0 : c.layer - 1]!;
        return s[c.stat ?? 'mean'];
      }
      case 'amplitude': return row.rowdy[c.layer! - 1]!.ampMaxAbs;
      case 'lead': return row.rowdy[c.layer! - 1]!.lead!;
      case 'error': return row.errors[c.output === undefined ? 0 : 1 + c.index!]!;
      case 'epoch': case 'objective': case 'test_loss': case 'accuracy':
      case 'other': throw new Error(`internal: history column ${c.name} has no value in a PDE row`);
    }
  });
}

/**
 * The columns of a history.csv header, as historyColumns described them. Term names are
 * the user's (any name, even `na_1`), so the terms are told by position: every column
 * between `loss` and `slope_recovery`; the rest by their fixed names and naming rules.
 */
export function readHistoryColumns(header: string[]): HistoryColumn[] {
  const lossAt = header.indexOf('loss');
  const endAt = header.indexOf('slope_recovery', lossAt + 1);
  let term = 0;
  let output = 0;
  return header.map((name, i): HistoryColumn => {
    if (lossAt >= 0 && i > lossAt && i < endAt) return { name, kind: 'term', index: term++ };
    const fixed = FIXED[name];
    if (fixed) return { name, kind: fixed };
    for (const rule of NAMED) {
      const m = rule.re.exec(name);
      if (m) return { name, ...rule.column(m) };
    }
    const out = /^rel_l2_(.+)$/.exec(name);
    if (out) return { name, kind: 'error', output: out[1]!, index: output++ };
    return { name, kind: 'other' };
  });
}

/** Is `name` one of laaf's own history.csv column names (so a loss term may not take it)? */
export function isHistoryName(name: string): boolean {
  return name in FIXED || NAMED.some((r) => r.re.test(name)) || /^rel_l2_/.test(name);
}

/** Does history column `name` rise as training goes (a threshold then means at or above)? */
export function columnRises(name: string): boolean {
  const kind = readHistoryColumns([name])[0]!.kind;
  return 'rises' in COLUMN_KINDS[kind];
}

/** Names of the columns a sweep threshold may use. */
export function measureColumns(columns: HistoryColumn[]): string[] {
  return columns.filter((c) => COLUMN_KINDS[c.kind].measure).map((c) => c.name);
}

// ----------------------------------------------------------------------- summary.json

/** summary.json of a run that has stopped (completed, diverged or interrupted), as `solve` writes it. */
export interface RunSummary {
  status: TrainStatus;
  message?: string;
  name: string;
  spec_file: string;
  run_dir: string;
  /** optimizer steps over all phases (Adam updates + L-BFGS iterations) */
  steps: number;
  /** training time, over every session of a resumed run */
  wall_time_s: number;
  seed: number;
  backend: string;
  /** webgpu: the adapter the run trained on (src/backend/webgpu.ts AdapterInfo) */
  adapter?: { vendor: string; architecture: string; device: string; description: string };
  versions: Record<string, string>;
  parameters: { total: number; adaptive: number };
  points: Record<string, number>;
  reference?: string;
  /**
   * the step path that computed the network's jets in training (src/step/): its name,
   * whether it is one of laaf's kernels (and on how many threads), and why each path
   * preferred to it did not run (`why_not`: the first of those reasons, when no kernel ran)
   */
  network?: { path: string; fused: boolean; threads?: number; why_not?: string; declined: { path: string; reason: string }[] };
  /** the training step's path (src/step/paths.ts, asked with a training step): whole-step, or the network's path with the loss in tfjs */
  step_path?: StepPathRecord;
  /** webgpu: per optimizer step of this session (logging and checkpoints included), the kernel calls sent to the GPU thread, the compute dispatches they made, and the reads back to the CPU and their bytes */
  gpu?: { steps: number; kernel_calls_per_step: number; dispatches_per_step: number; reads_per_step: number; bytes_read_per_step: number };
  /** each phase: steps done, L-BFGS evaluations, and why it stopped */
  phases?: PhaseReport[];
  /** step of the checkpoint in checkpoint.json (absent when none was written) */
  checkpoint_step?: number;
  /** steps this run was resumed from, in order */
  resumed_from?: number[];
  final: {
    loss: number;
    terms: Record<string, number>;
    slope_recovery: number;
    na: { mean: number; min: number; max: number }[];
    rel_l2?: number;
    rel_l2_per_output?: Record<string, number>;
    max_abs_error?: Record<string, number>;
    /** inverse problems: final value, and with a known true value its relative error */
    parameters?: Record<string, { value: number; true_value?: number; rel_error?: number }>;
  };
}

/** summary.json while the run trains: what it is, no results yet. */
export type RunningSummary = Pick<RunSummary, 'name' | 'spec_file' | 'run_dir' | 'seed' | 'backend' | 'adapter' | 'versions' | 'parameters' | 'points' | 'reference' | 'resumed_from'> & { status: 'running' };

/** summary.json of a `laaf train` run (`kind: 'train'`), written by src/run/train.ts. */
export interface TrainSummary {
  status: TrainStatus;
  message?: string;
  kind: 'train';
  name: string;
  spec_file: string;
  run_dir: string;
  steps: number;
  /** epochs completed */
  epochs: number;
  wall_time_s: number;
  seed: number;
  backend: string;
  versions: Record<string, string>;
  parameters: { total: number; adaptive: number };
  data: { task: string; train: number; test: number; sample_shape: number[]; outputs: number; scaling: string; sources: Record<string, string> };
  checkpoint_step?: number;
  resumed_from?: number[];
  final?: {
    /** mean training data loss over the batches of the last row */
    loss: number;
    /** objective, test_loss, test_accuracy — under `terms` so that sweeps tabulate them */
    terms: Record<string, number>;
    slope_recovery: number;
    na: { mean: number; min: number; max: number }[];
  };
}

export type TrainRunningSummary = Omit<TrainSummary, 'status' | 'steps' | 'epochs' | 'wall_time_s' | 'final' | 'checkpoint_step'> & { status: 'running' };

/** summary.json of a run that could not write its results (a full disk): why, and the checkpoint to resume from. */
export type FailedSummary = Pick<RunSummary, 'name' | 'spec_file' | 'run_dir' | 'checkpoint_step'> & { status: 'failed'; message: string; kind?: 'train' };

/**
 * What a reader may find in summary.json: a RunSummary, a RunningSummary, or one written
 * by another laaf version — so every field is optional, and unknown fields are kept.
 */
export type SummaryFile = Partial<Omit<RunSummary, 'status' | 'final'>> & {
  status?: string;
  final?: Partial<RunSummary['final']>;
  [key: string]: unknown;
};

/** The run's summary.json, or undefined when it is missing or not JSON. */
export function readSummary(dir: string): SummaryFile | undefined {
  const f = join(dir, RUN_FILES.summary);
  if (!existsSync(f)) return undefined;
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as SummaryFile;
  } catch {
    return undefined;
  }
}

/** summary.json `step_path`: the path that ran the training step, its precision, and why each earlier path did not. */
export interface StepPathRecord {
  /** 'whole-step', or the network's step path (e.g. 'fused-jets', 'tfjs-ops') with the loss and optimizers in tfjs */
  ran: string;
  precision: 'float32' | 'float64';
  why_not: Record<string, string>;
}
