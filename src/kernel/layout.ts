/**
 * The fused kernel's memory contract, named once on the TypeScript side: the slots of
 * the net descriptor, of each layer's descriptor and of a thread's work descriptor (i32
 * slots), the Faà di Bruno term record, the chunk table, the mixture kinds, the commands
 * and the activation ids. assembly/kernel.ts declares the same numbers as AssemblyScript
 * constants (N_*, L_*, W_*, WL_*, T_*, CH_*, MIX_*, CMD_*, ACT_*);
 * test/kernel-layout.test.ts reads that file and fails when the two sides differ.
 */
import { ACTIVATIONS, type BaseActivation } from '../base/activations.js';

/** Net descriptor: i32 slots. */
export const NET = {
  D: 0, L: 1, OUT: 2, C: 3, M: 4, ACT: 5, B: 6, N: 7, X: 8, Y: 9, DX: 10,
  TERMS: 11, TSTART: 12, SEED: 13,
  /** chunks of whole blocks; threads take them in turn (atomic counter) */
  CHUNKS: 14,
  /** per chunk: CHUNK slots */
  CHUNKTAB: 15,
  /** address of the i32 chunk counter (zeroed by the caller) */
  COUNTER: 16,
  /** tape base (0: no tape); block g's record at TAPE + g·TAPEBLK */
  TAPE: 17, TAPEBLK: 18,
  /** bytes of one chunk's accumulators */
  ACCBYTES: 19,
  /** MIX_* kind, terms per neuron (G), address of G i32 activation ids */
  MIX: 20, MIXG: 21, MIXFN: 22,
  /** CMD.STEP: address of the step program's header (assembly/step.ts; src/step/whole.ts writes it) */
  STEP: 23,
  /** first layer descriptor: LAYER_SLOTS slots per layer from here */
  LAYER: 24,
} as const;
export const LAYER_SLOTS = 12;
export const netSlots = (L: number): number => NET.LAYER + LAYER_SLOTS * (L + 1);

/** Layer descriptor (at NET.LAYER + LAYER_SLOTS·l): i32 slots. */
export const LAYER = {
  K: 0, NN: 1, WSP: 2, WTSP: 3, BIAS: 4, W: 5,
  /** byte offsets of this layer's dW4 and db4 in a chunk's accumulators */
  DW4: 6, DB4: 7,
  /** byte offset of this layer's U in a tape record */
  UOFF: 8,
  /** mixture coefficients: c [Nn][G] then ω [Nn][G] (f32), and the byte offset of dc4, dω4 in a chunk's accumulators */
  COEF: 9, DMIX4: 10,
} as const;

/** Work descriptor of one thread: i32 slots. */
export const WORK = {
  /** mixture scratch: ω·U, then a term's tower; and the tower adjoints */
  MIX: 0, MIXG: 1,
  XB: 2, DXB: 3, DA: 4, DB: 5,
  /** CMD.STEP: this thread's step-program scratch (registers, then their adjoints) */
  STEP: 6,
  THREAD: 7,
  /** first per-layer work block: WORK_LAYER_SLOTS slots per layer from here */
  LAYER: 8,
} as const;
export const WORK_LAYER_SLOTS = 7;
export const workSlots = (L: number): number => WORK.LAYER + WORK_LAYER_SLOTS * (L + 1);

/** Per-layer work block (at WORK.LAYER + WORK_LAYER_SLOTS·l): U (current), T, H, dW4, db4 (current chunk), U scratch, dmix4 (current chunk). */
export const WORK_LAYER = { U: 0, T: 1, H: 2, DW4: 3, DB4: 4, USCRATCH: 5, DMIX4: 6 } as const;

/** Faà di Bruno term record: i32 slots: coef (f32 bits), derivative order m, factor count, factors f0..f3. */
export const TERM = { COEF: 0, M: 1, NF: 2, F0: 3, SLOTS: 8 } as const;

/** Chunk table entry: first and end point, accumulator base, the thread that ran it. */
export const CHUNK = { P0: 0, P1: 1, ACC: 2, THREAD: 3, SLOTS: 4 } as const;

/** NET.MIX: plain σ; Rowdy (σ plus the terms); Kronecker (the terms only). */
export const MIX = { NONE: 0, ROWDY: 1, KRONECKER: 2 } as const;

/**
 * run(cmd, ...): forward; backward recomputing the forward pass; backward from the tape of
 * the forward call just before; the whole step (per block: forward, the step program on the
 * block's rows, backward — no tape, no Y round trip).
 */
export const CMD = { FORWARD: 0, BACKWARD: 1, BACKWARD_TAPE: 2, STEP: 3 } as const;

/** The kernel's id of a base activation: its index in the one vocabulary list (base/activations.ts). */
export function activationId(name: BaseActivation): number {
  const id = ACTIVATIONS.indexOf(name);
  if (id < 0) throw new Error(`internal: no kernel id for activation ${String(name)}`);
  return id;
}

/**
 * The data-set network kernels (assembly/deep.ts, driven by src/kernel/deep.ts): op
 * descriptor slots (i32) and commands (deepRun's cmd). A thread's work is two i32
 * slots: its rows [r0, r1).
 */
export const DEEP = {
  A: 0, LDA: 1, B: 2, LDB: 3, C: 4, LDC: 5, M: 6, N: 7, K: 8, BIAS: 9, ACC: 10,
  H: 11, W: 12, CH: 13, KH: 14, KW: 15, S: 16, PT: 17, PL: 18, OH: 19, OW: 20,
  /** GEMM: B's 8-column blocks packed as panels of K×8 floats (written by PACK) */
  BP: 21,
  SLOTS: 24,
} as const;
export const DEEP_CMD = { GEMM: 0, GEMM_TN: 1, IM2COL: 2, COL2IM: 3, TRANSPOSE: 4, POOL_GRAD: 5, COLSUM: 6, PACK: 7 } as const;
