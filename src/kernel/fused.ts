/**
 * The fused MLP-jet op: the network's jets (Mlp.forwardJet, and forward) as ONE tfjs op
 * whose forward pass and custom gradient run in the WebAssembly SIMD kernel
 * (assembly/kernel.ts), over blocks of points, on all threads (runtime.ts). The physics
 * expressions, the loss and the optimizers stay in tfjs: the op's inputs are X and the
 * network's variables, its output is every jet channel; tfjs's reverse mode calls the
 * op's gradient once. The network comes in as a plain description (NetworkDescription)
 * and its tensors; src/step/fused-jets.ts is the step path that uses this op.
 *
 * What the kernel sees: slopes s_k = n_k·a_k and the input normalisation are folded into
 * the weights here (W'_k = W_k·diag(s_k), b'_k = b_k·s_k; layer 0 also W'' = diag(g)·W',
 * b'' = c·W' + b'), and gradients are unfolded on the way back:
 *   dW = dW' ⊙ s (per column), db = db' ⊙ s, ds_j = Σ_i W_ij dW'_ij + b_j db'_j, da = n·ds
 * (summed over a layer for L-LAAF and over all layers for GAAF); layer 0 first
 * dW'_ij = g_i dW''_ij + c_i db''_j, db' = db''.
 *
 * Rowdy and Kronecker activations (src/nn/rowdy.ts): each hidden layer's terms c·f(ω u)
 * come in as more op inputs, c and ω per layer ([G] or [width, G]), computed by tfjs ops
 * from α, F/ω and the slopes (Mlp.mixtureCoefficients, the composite path's own formula,
 * called by the step path); the kernel adds the terms to the layer's tower and returns
 * ∂L/∂c and ∂L/∂ω (per neuron, summed over the neurons here when c or ω is per layer),
 * and tfjs's reverse mode carries them on to α, F/ω and the slopes (for Rowdy,
 * ω = n_R k F / s: that route adds to the slope gradient unfolded from the weights). The
 * terms' sin and cos use a SIMD sincos (within ~1e-7 of Math.sin), not the scalar one of a
 * plain sin/cos activation, so a Kronecker net whose first function is sin or cos starts
 * equal to the plain net to float32 rounding here, not bit for bit (tanh and the rest: bit
 * for bit; Rowdy: always).
 *
 * Supported (fusedUnsupported): every base activation, plain or as Rowdy base / sinusoid
 * family / Kronecker term, α and F/ω per layer or per neuron, every adaptive mode, jets up
 * to order 4, on the wasm and cpu backends. Whether it runs is decided by the step-path
 * registry (src/step/, ARCHITECTURE.md), not here.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { JetPlan } from '../jet/plan.js';
import { makePlan } from '../jet/plan.js';
import type { Mlp, NetworkDescription } from '../nn/mlp.js';
import { ACTIVATIONS, type BaseActivation } from '../base/activations.js';
import { ARENA, kernel, kernelLoadError, type KernelRuntime } from './runtime.js';
import {
  activationId, CHUNK, CMD, LAYER, LAYER_SLOTS, MIX, NET, netSlots, TERM, WORK, WORK_LAYER, WORK_LAYER_SLOTS, workSlots,
} from './layout.js';

/** The activations the kernel implements: all of them, ids in the vocabulary's order (layout.ts). */
export const KERNEL_ACTIVATIONS: readonly BaseActivation[] = ACTIVATIONS;
export const KERNEL_MAX_ORDER = 4;
const BACKENDS = new Set(['wasm', 'cpu']);

const stats = { forward: 0, backward: 0, fromTape: 0, threads: 0, block: 0, forwardMs: 0, backwardMs: 0, chunks: [] as number[] };

/** Calls made so far and the last call's threads and block size (benchmarks, tests). */
export function fusedStats(): typeof stats {
  return { ...stats, chunks: [...stats.chunks] };
}

/** Why the fused op cannot run this network for jets of this order on this tfjs backend, or null when it can. */
export function fusedUnsupported(net: NetworkDescription, order: number, backend: string): string | null {
  if (!BACKENDS.has(backend)) return `backend ${backend}`;
  const mix = net.mixture;
  if (mix?.kind !== 'kronecker' && !KERNEL_ACTIVATIONS.includes(net.activation)) return `activation ${net.activation}`;
  for (const fn of mix?.fns ?? []) if (!KERNEL_ACTIVATIONS.includes(fn)) return `${mix!.kind} term activation ${fn}`;
  if (net.hidden.length === 0) return 'no hidden layer';
  if (order > KERNEL_MAX_ORDER) return `derivative order ${order} > ${KERNEL_MAX_ORDER}`;
  if (kernel() === null) return `kernel not available: ${kernelLoadError()}`;
  return null;
}

/** The network's tensors, as the op takes them: the variables, and per hidden layer the Rowdy/Kronecker c and ω (tfjs ops of α, F/ω, a). */
export interface NetworkTensors {
  weights: tf.Tensor[];
  biases: tf.Tensor[];
  slopes: tf.Tensor[];
  /** one per hidden layer for a Rowdy/Kronecker net, else empty */
  mixture: { c: tf.Tensor; w: tf.Tensor }[];
}

// ------------------------------------------------------------------------- plan tables

export interface PlanTables { terms: Int32Array; tstart: Int32Array; seed: Int32Array }
const planTables = new WeakMap<JetPlan, PlanTables>();

export function tablesOf(plan: JetPlan): PlanTables {
  let t = planTables.get(plan);
  if (t) return t;
  const C = plan.channels.length;
  const list: number[] = [];
  const tstart = new Int32Array(C + 1);
  const f32 = new Float32Array(1);
  const bits = new Int32Array(f32.buffer);
  for (let c = 0; c < C; c++) {
    tstart[c] = list.length / TERM.SLOTS;
    if (c === 0) continue;
    for (const term of plan.faa[c]!) {
      if (term.factors.length > 4) throw new Error('internal: Faà di Bruno term with more than 4 factors');
      f32[0] = term.coef;
      const rec = new Array<number>(TERM.SLOTS).fill(0);
      rec[TERM.COEF] = bits[0]!;
      rec[TERM.M] = term.order;
      rec[TERM.NF] = term.factors.length;
      term.factors.forEach((f, k) => (rec[TERM.F0 + k] = f));
      list.push(...rec);
    }
  }
  tstart[C] = list.length / TERM.SLOTS;
  const seed = new Int32Array(C).fill(-1);
  plan.channels.forEach((ch, c) => {
    if (ch.length === 1) seed[c] = ch[0]!;
  });
  t = { terms: Int32Array.from(list), tstart, seed };
  planTables.set(plan, t);
  return t;
}

const valuePlans = new Map<number, JetPlan>();
function valuePlan(d: number): JetPlan {
  let p = valuePlans.get(d);
  if (!p) valuePlans.set(d, (p = makePlan(d, [])));
  return p;
}

// ------------------------------------------------------------------------- parameters

/** The network's parameters as the kernel needs them (folded), and what unfolding needs. */
export interface Folded {
  sizes: number[];
  /** folded weights [K×N] row-major and biases, per layer (float64 arrays for the float64 kernel) */
  W: (Float32Array | Float64Array)[];
  b: (Float32Array | Float64Array)[];
  /** raw weights and biases (float64 copies), s per hidden layer (length = width) */
  rawW: Float64Array[];
  rawB: Float64Array[];
  s: Float64Array[];
  g: number[] | null;
  c: number[] | null;
}

export function fold(net: NetworkDescription, w: Float32Array[] | Float64Array[], b: Float32Array[] | Float64Array[], a: Float32Array[] | Float64Array[], float64 = false): Folded {
  const round = float64 ? (x: number) => x : Math.fround;
  const Arr = float64 ? Float64Array : Float32Array;
  const L = net.hidden.length;
  const sizes = [net.inputs, ...net.hidden, net.outputs];
  const mode = net.adaptive;
  const map = net.inputScaling;
  const out: Folded = { sizes, W: [], b: [], rawW: [], rawB: [], s: [], g: map?.g ?? null, c: map?.c ?? null };
  for (let l = 0; l <= L; l++) {
    const K = sizes[l]!;
    const N = sizes[l + 1]!;
    const W = w[l]!;
    const B = b[l]!;
    const s = new Float64Array(N).fill(1);
    if (l < L && mode !== 'none') {
      const n = net.scales[l]!;
      const av = mode === 'global' ? a[0]! : a[l]!;
      for (let j = 0; j < N; j++) s[j] = round(n * (mode === 'neuron' ? av[j]! : av[0]!));
    }
    const Wf = new Arr(K * N);
    const bf = new Arr(N);
    for (let i = 0; i < K; i++) for (let j = 0; j < N; j++) Wf[i * N + j] = W[i * N + j]! * s[j]!;
    for (let j = 0; j < N; j++) bf[j] = B[j]! * s[j]!;
    if (l === 0 && map) {
      // Z = (gX + c)W' + b' = X (diag(g) W') + (c W' + b')
      const W2 = new Arr(K * N);
      const b2 = new Arr(N);
      for (let j = 0; j < N; j++) {
        let acc = bf[j]!;
        for (let i = 0; i < K; i++) {
          W2[i * N + j] = map.g[i]! * Wf[i * N + j]!;
          acc += map.c[i]! * Wf[i * N + j]!;
        }
        b2[j] = acc;
      }
      out.W.push(W2);
      out.b.push(b2);
    } else {
      out.W.push(Wf);
      out.b.push(bf);
    }
    out.rawW.push(new Float64Array(W));
    out.rawB.push(new Float64Array(B));
    out.s.push(s);
  }
  return out;
}

// ------------------------------------------------------------------------- memory plan

/** Chunks per call at most: threads take chunks in turn (load balance on a busy machine). */
const MAX_CHUNKS = 32;

/** Rowdy/Kronecker terms as the kernel takes them: per hidden layer c and ω tiled to [width][G]. */
interface MixLayout {
  /** MIX.ROWDY (base σ plus the terms) or MIX.KRONECKER (the terms only) */
  kind: number;
  G: number;
  /** kernel activation id per term */
  fns: Int32Array;
  c: Float32Array[];
  w: Float32Array[];
}

interface Plan {
  net: number;
  works: number[];
  X: number;
  Y: number;
  dX: number;
  counter: number;
  chunkTab: number;
  /** per chunk: its accumulators' base; per layer: dW4, db4 (and for hidden mixture layers dmix4) offsets in them */
  chunkAcc: number[];
  accOff: { dW4: number; db4: number; dmix4: number }[];
  /** bytes of the network's part of a chunk's accumulators; CMD.STEP: the step program's sums from here */
  stepAcc: number;
  /** the summed gradient entries (f64 each, reducePartials) */
  red: number;
  end: number;
}

/** What the fused whole-step command (CMD.STEP) needs besides the network: per-thread scratch and per-chunk accumulator bytes. */
export interface StepNeeds { scratch: number; acc: number }

/** Block size: points per block, a multiple of 8, sized so that one block's arrays stay in L2. */
export function blockSize(sizes: number[], C: number, M: number): number {
  const env = Number(process.env.LAAF_KERNEL_BLOCK);
  if (Number.isInteger(env) && env >= 8) return Math.ceil(env / 8) * 8;
  let perPoint = 0;
  for (let l = 1; l < sizes.length - 1; l++) perPoint += (2 * C + M + 2) * sizes[l]! * 4;
  const B = Math.floor(192 * 1024 / Math.max(perPoint, 1) / 8) * 8;
  return Math.min(64, Math.max(8, B));
}

/** Bytes of one block's tape record (its hidden layers' jets U). */
function tapeRecord(sizes: number[], C: number, B: number): number {
  let per = 0;
  for (let l = 1; l < sizes.length - 1; l++) per += C * sizes[l]! * B * 4;
  return per;
}

/** Tape budget: LAAF_KERNEL_TAPE_MB (default 512; 0 turns the tape off and the backward pass recomputes). */
export function tapeBudget(): number {
  const env = process.env.LAAF_KERNEL_TAPE_MB;
  const mb = env !== undefined && env !== '' && Number.isFinite(Number(env)) ? Number(env) : 512;
  return mb * 2 ** 20;
}

/** Chunks of whole blocks: a function of the point count and block size only (not of the threads). */
export function chunking(N: number, B: number): { blocks: number; per: number; count: number } {
  const blocks = Math.ceil(N / B);
  const per = Math.max(1, Math.ceil(blocks / MAX_CHUNKS));
  return { blocks, per, count: Math.ceil(blocks / per) };
}

class Bump {
  constructor(public at: number) {}
  take(bytes: number): number {
    const p = this.at;
    this.at = Math.ceil((this.at + bytes) / 64) * 64;
    return p;
  }
}

/**
 * Lay out one call in the kernel's memory and write the descriptors and parameters. A
 * deterministic function of its arguments: a forward call and the backward call of the
 * same op get the same addresses, so the backward can read the forward's tape.
 */
function layoutCall(rt: KernelRuntime, f: Folded, act: BaseActivation, mix: MixLayout | null, tables: PlanTables, N: number, C: number, M: number, T: number, B: number, tape: boolean, step: StepNeeds | null = null): Plan {
  const { sizes } = f;
  const L = sizes.length - 2;
  const d = sizes[0]!;
  const out = sizes[L + 1]!;
  const a = new Bump(ARENA + 512);
  const net = a.take(netSlots(L) * 4);
  const counter = a.take(4);
  const termsP = a.take(tables.terms.byteLength);
  const tstartP = a.take(tables.tstart.byteLength);
  const seedP = a.take(tables.seed.byteLength);
  const G = mix?.G ?? 0;
  const fnsP = mix ? a.take(mix.fns.byteLength) : 0;
  const layerP = sizes.slice(0, L + 1).map((K, l) => {
    const Nn = sizes[l + 1]!;
    const coef = mix && l < L ? a.take(2 * Nn * G * 4) : 0;
    return { K, Nn, Wsp: a.take(K * Nn * 16), WTsp: a.take(K * Nn * 16), b: a.take(Nn * 4), W: a.take(K * Nn * 4), coef };
  });
  // one chunk's accumulators: per layer dW4 [K][Nn] and db4 [Nn], 4-lane partial sums
  // (mixture layers also dc4 and dω4 [Nn][G])
  const accOff: { dW4: number; db4: number; dmix4: number }[] = [];
  let accBytes = 0;
  for (let l = 0; l <= L; l++) {
    const Nn = sizes[l + 1]!;
    const o = { dW4: accBytes, db4: accBytes + sizes[l]! * Nn * 16, dmix4: 0 };
    accBytes += (sizes[l]! + 1) * Nn * 16;
    if (mix && l < L) {
      o.dmix4 = accBytes;
      accBytes += 2 * Nn * G * 16;
    }
    accOff.push(o);
  }
  const stepAcc = accBytes;
  if (step) accBytes += Math.ceil(step.acc / 16) * 16;
  const ch = chunking(N, B);
  const chunkTab = a.take(ch.count * CHUNK.SLOTS * 4);
  const chunkAcc = Array.from({ length: ch.count }, () => a.take(accBytes));
  const red = a.take((stepAcc >> 4) * 8);
  const X = a.take(N * d * 4);
  const Y = a.take(C * N * out * 4);
  const dX = a.take(N * d * 4);
  const maxN = Math.max(...sizes);
  const maxHidden = Math.max(...sizes.slice(1, L + 1));
  const works: number[] = [];
  const wsl = workSlots(L);
  const workInts: number[][] = [];
  for (let t = 0; t < T; t++) {
    const w = a.take(wsl * 4);
    const slots = new Array<number>(wsl).fill(0);
    slots[WORK.THREAD] = t;
    slots[WORK.XB] = a.take(d * B * 4);
    slots[WORK.DXB] = a.take(d * B * 4);
    slots[WORK.DA] = a.take(C * maxN * B * 4);
    slots[WORK.DB] = a.take(C * maxN * B * 4);
    if (mix) {
      slots[WORK.MIX] = a.take((M + 3) * maxHidden * B * 4); // ω·U, then a term's tower to order M + 1
      slots[WORK.MIXG] = a.take((M + 1) * maxHidden * B * 4); // tower adjoints
    }
    if (step) slots[WORK.STEP] = a.take(step.scratch);
    for (let l = 0; l <= L; l++) {
      const Nn = sizes[l + 1]!;
      const base = WORK.LAYER + WORK_LAYER_SLOTS * l;
      if (l < L) {
        slots[base + WORK_LAYER.T] = a.take((M + 2) * Nn * B * 4);
        slots[base + WORK_LAYER.H] = a.take(C * Nn * B * 4);
      }
      if (!tape || l === L) slots[base + WORK_LAYER.USCRATCH] = a.take(C * Nn * B * 4);
      slots[base + WORK_LAYER.U] = slots[base + WORK_LAYER.USCRATCH]!;
    }
    works.push(w);
    workInts.push(slots);
  }
  const record = tapeRecord(sizes, C, B);
  const tapeP = tape ? a.take(ch.blocks * record) : 0;
  rt.ensure(a.at);
  const buf = rt.buffer;
  const i32 = new Int32Array(buf);
  const f32 = new Float32Array(buf);
  const ns = net >> 2;
  i32.fill(0, ns, ns + netSlots(L));
  i32[ns + NET.D] = d; i32[ns + NET.L] = L; i32[ns + NET.OUT] = out; i32[ns + NET.C] = C; i32[ns + NET.M] = M;
  i32[ns + NET.ACT] = activationId(act);
  i32[ns + NET.B] = B; i32[ns + NET.N] = N; i32[ns + NET.X] = X; i32[ns + NET.Y] = Y; i32[ns + NET.DX] = 0;
  i32[ns + NET.TERMS] = termsP; i32[ns + NET.TSTART] = tstartP; i32[ns + NET.SEED] = seedP;
  i32[ns + NET.CHUNKS] = ch.count; i32[ns + NET.CHUNKTAB] = chunkTab; i32[ns + NET.COUNTER] = counter;
  i32[ns + NET.TAPE] = tapeP; i32[ns + NET.TAPEBLK] = record; i32[ns + NET.ACCBYTES] = accBytes;
  if (mix) {
    i32[ns + NET.MIX] = mix.kind; i32[ns + NET.MIXG] = G; i32[ns + NET.MIXFN] = fnsP;
    i32.set(mix.fns, fnsP >> 2);
  }
  i32[counter >> 2] = 0;
  for (let k = 0; k < ch.count; k++) {
    const e = (chunkTab >> 2) + CHUNK.SLOTS * k;
    i32[e + CHUNK.P0] = k * ch.per * B;
    i32[e + CHUNK.P1] = Math.min(N, (k + 1) * ch.per * B);
    i32[e + CHUNK.ACC] = chunkAcc[k]!;
    i32[e + CHUNK.THREAD] = 0;
  }
  i32.set(tables.terms, termsP >> 2);
  i32.set(tables.tstart, tstartP >> 2);
  i32.set(tables.seed, seedP >> 2);
  let uOff = 0;
  layerP.forEach((lp, l) => {
    const s = ns + NET.LAYER + LAYER_SLOTS * l;
    i32[s + LAYER.K] = lp.K; i32[s + LAYER.NN] = lp.Nn; i32[s + LAYER.WSP] = lp.Wsp; i32[s + LAYER.WTSP] = lp.WTsp;
    i32[s + LAYER.BIAS] = lp.b; i32[s + LAYER.W] = lp.W;
    i32[s + LAYER.DW4] = accOff[l]!.dW4; i32[s + LAYER.DB4] = accOff[l]!.db4; i32[s + LAYER.UOFF] = uOff;
    i32[s + LAYER.COEF] = lp.coef; i32[s + LAYER.DMIX4] = accOff[l]!.dmix4;
    if (lp.coef) {
      f32.set(mix!.c[l]!, lp.coef >> 2);
      f32.set(mix!.w[l]!, (lp.coef >> 2) + lp.Nn * G);
    }
    if (l < L) uOff += C * lp.Nn * B * 4;
    const W = f.W[l]!;
    const { K, Nn } = lp;
    f32.set(W, lp.W >> 2);
    f32.set(f.b[l]!, lp.b >> 2);
    rt.exports.splatWeights(lp.W, K, Nn, lp.Wsp, lp.WTsp);
  });
  works.forEach((w, t) => i32.set(workInts[t]!, w >> 2));
  return { net, works, X, Y, dX, counter, chunkTab, chunkAcc, accOff, stepAcc, red, end: a.at };
}

/** stats.chunks[t]: chunks thread t ran in the last call. */
function countChunks(rt: KernelRuntime, lay: Plan, T: number): void {
  const i32 = new Int32Array(rt.buffer);
  const K = i32[(lay.net >> 2) + NET.CHUNKS]!;
  stats.chunks = new Array<number>(T).fill(0);
  for (let k = 0; k < K; k++) stats.chunks[i32[(lay.chunkTab >> 2) + CHUNK.SLOTS * k + CHUNK.THREAD]!]! += 1;
}

/** Set the net descriptor's dX pointer (backward calls). */
function setDX(rt: KernelRuntime, lay: Plan): void {
  new Int32Array(rt.buffer)[(lay.net >> 2) + NET.DX] = lay.dX;
}

/** Threads worth starting for N points (at most one per chunk). */
function threadsFor(rt: KernelRuntime, N: number, B: number): number {
  return rt.threadsFor(Math.min(N, chunking(N, B).count * 512));
}

// ------------------------------------------------------------------------- the op

function readAll(ts: tf.Tensor[]): Float32Array[] {
  return ts.map((t) => t.dataSync() as Float32Array);
}

/**
 * Every chunk's gradient accumulators (4-lane partial sums, 16 bytes per entry) summed in the
 * kernel (reducePartials): per entry its lanes, then the chunks in their fixed order, in
 * float64, so the result is the same for any number of threads. Returns a view of memory
 * holding them at `lay.red` (one f64 per entry) for sumPartials.
 */
function reducePartials(rt: KernelRuntime, lay: Plan): Float64Array {
  rt.exports.reducePartials(lay.chunkTab, lay.chunkAcc.length, lay.stepAcc >> 4, lay.red);
  return new Float64Array(rt.buffer);
}

/** n summed gradient entries from the one at byte offset `off` in a chunk's accumulators (after reducePartials). */
function sumPartials(red: Float64Array, lay: Plan, off: number, n: number): Float64Array {
  const o = (lay.red >> 3) + (off >> 4);
  return red.slice(o, o + n);
}

/**
 * Jets of the outputs, one [N, outputs] tensor per plan channel, computed by the fused
 * kernel (same contract as Mlp.forwardJet). Check fusedUnsupported first.
 */
export function fusedForwardJet(net: NetworkDescription, tensors: NetworkTensors, plan: JetPlan, X: tf.Tensor2D): tf.Tensor2D[] {
  const rt = kernel();
  if (rt === null) throw new Error(`fused kernel not available: ${kernelLoadError()}`);
  if (plan.nInputs !== net.inputs) throw new Error(`fused op: plan has ${plan.nInputs} inputs, network ${net.inputs}`);
  if (X.shape[1] !== net.inputs) throw new Error(`Mlp: input has ${X.shape[1]} columns, network expects ${net.inputs}`);
  const L = net.hidden.length;
  const N = X.shape[0];
  const C = plan.channels.length;
  const out = net.outputs;
  const d = net.inputs;
  const M = plan.maxOrder;
  const tables = tablesOf(plan);
  const nW = L + 1;
  const vars: tf.Tensor[] = [...tensors.weights, ...tensors.biases, ...tensors.slopes];
  const sizes = [d, ...net.hidden, out];
  const B = blockSize(sizes, C, M);
  const mode = net.adaptive;
  // Rowdy/Kronecker: the terms' c and ω per hidden layer, by tfjs ops from α, F/ω and the
  // slopes (Mlp.mixtureCoefficients, as the composite path), are op inputs after the variables:
  // the op returns ∂L/∂c and ∂L/∂ω and tfjs's reverse mode takes them on to α, F/ω, a.
  const plan0 = net.mixture;
  const coefs = tensors.mixture;
  const mixIn: tf.Tensor[] = [...coefs.map((q) => q.c), ...coefs.map((q) => q.w)];
  const G = plan0?.terms ?? 0;
  const fns = plan0 ? Int32Array.from(plan0.fns, activationId) : null;
  /** a [G] (per layer) or [width, G] coefficient as [width][G] */
  const tile = (v: Float32Array, width: number): Float32Array => {
    if (v.length === width * G) return v;
    const t = new Float32Array(width * G);
    for (let j = 0; j < width; j++) t.set(v, j * G);
    return t;
  };

  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const inputs = args.slice(0, -1) as tf.Tensor[];
    const x = inputs[0]!;
    const values = readAll(inputs.slice(1));
    const nV = vars.length;
    const f = fold(net, values.slice(0, nW), values.slice(nW, 2 * nW), values.slice(2 * nW, nV));
    const mix: MixLayout | null = plan0 ? {
      kind: plan0.kind === 'rowdy' ? MIX.ROWDY : MIX.KRONECKER, G, fns: fns!,
      c: net.hidden.map((w, k) => tile(values[nV + k]!, w)),
      w: net.hidden.map((w, k) => tile(values[nV + L + k]!, w)),
    } : null;
    const xData = x.dataSync() as Float32Array;
    const T = N === 0 ? 1 : threadsFor(rt, N, B);
    // Keep a tape only while tfjs records gradients (tf.grad / variableGrads), within its budget.
    const recording = ((tf.engine() as unknown as { state?: { gradientDepth?: number } }).state?.gradientDepth ?? 1) > 0;
    const tape = recording && chunking(N, B).blocks * tapeRecord(sizes, C, B) <= tapeBudget();
    const token = {};
    stats.threads = T;
    stats.block = B;
    stats.forward++;
    let Y: Float32Array;
    if (N === 0) Y = new Float32Array(0);
    else {
      const lay = layoutCall(rt, f, net.activation, mix, tables, N, C, M, T, B, tape);
      rt.tapeOwner = tape ? token : null;
      new Float32Array(rt.buffer).set(xData, lay.X >> 2);
      const t0 = performance.now();
      rt.run(CMD.FORWARD, lay.net, lay.works, lay.counter);
      stats.forwardMs += performance.now() - t0;
      countChunks(rt, lay, T);
      Y = new Float32Array(rt.buffer, lay.Y, C * N * out).slice();
    }
    const value = tf.tensor2d(Y, [C * N, out]);
    const gradFunc = (dy: tf.Tensor): tf.Tensor[] => {
      stats.backward++;
      const dyData = dy.dataSync() as Float32Array;
      // The forward pass's tape is still there unless another kernel call came in between.
      const fromTape = tape && rt.tapeOwner === token;
      if (fromTape) stats.fromTape++;
      const lay = layoutCall(rt, f, net.activation, mix, tables, N, C, M, T, B, fromTape);
      rt.tapeOwner = null;
      setDX(rt, lay);
      const f32 = new Float32Array(rt.buffer);
      f32.set(xData, lay.X >> 2);
      f32.set(dyData, lay.Y >> 2);
      const t0 = performance.now();
      rt.run(fromTape ? CMD.BACKWARD_TAPE : CMD.BACKWARD, lay.net, lay.works, lay.counter);
      stats.backwardMs += performance.now() - t0;
      const buf = reducePartials(rt, lay);
      const dX = new Float32Array(rt.buffer).slice(lay.dX >> 2, (lay.dX >> 2) + N * d);
      // Sum the 4-lane partial sums over lanes and chunks, in a fixed order: deterministic,
      // and the same for any number of threads.
      const dWf: Float64Array[] = [];
      const dbf: Float64Array[] = [];
      for (let l = 0; l <= L; l++) {
        const Nn = sizes[l + 1]!;
        dWf.push(sumPartials(buf, lay, lay.accOff[l]!.dW4, sizes[l]! * Nn));
        dbf.push(sumPartials(buf, lay, lay.accOff[l]!.db4, Nn));
      }
      // Mixture terms: ∂L/∂c, ∂L/∂ω per neuron and term (same fixed order), then summed
      // over the neurons where the coefficient is per layer.
      const dc: tf.Tensor[] = [];
      const dw: tf.Tensor[] = [];
      for (let l = 0; l < L && mix; l++) {
        const Nn = sizes[l + 1]!;
        const n = Nn * G;
        // dc4 [Nn][G] then dω4 [Nn][G], 16 bytes per entry
        const gc = sumPartials(buf, lay, lay.accOff[l]!.dmix4, n);
        const gw = sumPartials(buf, lay, lay.accOff[l]!.dmix4 + n * 16, n);
        const shaped = (g: Float64Array, like: tf.Tensor): tf.Tensor => {
          if (like.size === n) return tf.tensor(Float32Array.from(g), like.shape);
          const r = new Float64Array(G);
          for (let j = 0; j < Nn; j++) for (let k = 0; k < G; k++) r[k] = r[k]! + (g[j * G + k]!);
          return tf.tensor(Float32Array.from(r), like.shape);
        };
        dc.push(shaped(gc, coefs[l]!.c));
        dw.push(shaped(gw, coefs[l]!.w));
      }
      return [tf.tensor2d(dX, [N, d]), ...unfold(net, f, dWf, dbf, mode, vars), ...dc, ...dw];
    };
    return { value, gradFunc };
  });
  const Y = op(X, ...vars, ...mixIn) as tf.Tensor2D;
  if (C === 1) return [Y];
  return tf.split(Y, C, 0) as tf.Tensor2D[];
}

/** Values only, through the fused kernel (same contract as Mlp.forward). */
export function fusedForward(net: NetworkDescription, tensors: NetworkTensors, X: tf.Tensor2D): tf.Tensor2D {
  return fusedForwardJet(net, tensors, valuePlan(net.inputs), X)[0]!;
}

/** Gradients of the raw variables (weights, biases, slopes, in Mlp order) from the folded ones. */
function unfold(net: NetworkDescription, f: Folded, dWf: Float64Array[], dbf: Float64Array[], mode: string, vars: tf.Tensor[]): tf.Tensor[] {
  const raw = unfoldRaw(net, f, dWf, dbf, mode);
  if (raw.length !== vars.length) throw new Error('internal: fused gradient count');
  return raw.map((g, i) => tf.tensor(Float32Array.from(g), vars[i]!.shape));
}

/** The same as plain arrays (float64, in Mlp variable order): weights, biases, slopes. */
export function unfoldRaw(net: NetworkDescription, f: Folded, dWf: Float64Array[], dbf: Float64Array[], mode: string, float64 = false): Float64Array[] {
  const fround = float64 ? (x: number) => x : Math.fround;
  const { sizes } = f;
  const L = sizes.length - 2;
  const dWs: Float64Array[] = [];
  const dbs: Float64Array[] = [];
  const ds: Float64Array[] = [];
  for (let l = 0; l <= L; l++) {
    const K = sizes[l]!;
    const N = sizes[l + 1]!;
    let dW = dWf[l]!;
    const db = dbf[l]!;
    if (l === 0 && f.g) {
      const W1 = new Float64Array(K * N);
      for (let i = 0; i < K; i++) for (let j = 0; j < N; j++) W1[i * N + j] = f.g[i]! * dW[i * N + j]! + f.c![i]! * db[j]!;
      dW = W1;
    }
    const s = f.s[l]!;
    const W = f.rawW[l]!;
    const b = f.rawB[l]!;
    const gW = new Float64Array(K * N);
    const gb = new Float64Array(N);
    const gs = new Float64Array(N);
    for (let j = 0; j < N; j++) {
      let acc = b[j]! * db[j]!;
      for (let i = 0; i < K; i++) {
        gW[i * N + j] = fround(dW[i * N + j]! * s[j]!);
        acc += W[i * N + j]! * dW[i * N + j]!;
      }
      gb[j] = fround(db[j]! * s[j]!);
      gs[j] = acc;
    }
    dWs.push(gW);
    dbs.push(gb);
    ds.push(gs);
  }
  const da: Float64Array[] = [];
  const sum = (v: Float64Array) => v.reduce((p, q) => p + q, 0);
  if (mode === 'global') {
    let acc = 0;
    for (let l = 0; l < L; l++) acc += net.scales[l]! * sum(ds[l]!);
    da.push(Float64Array.of(fround(acc)));
  } else if (mode === 'layer') {
    for (let l = 0; l < L; l++) da.push(Float64Array.of(fround(net.scales[l]! * sum(ds[l]!))));
  } else if (mode === 'neuron') {
    for (let l = 0; l < L; l++) da.push(Float64Array.from(ds[l]!, (v) => fround(net.scales[l]! * v)));
  }
  return [...dWs, ...dbs, ...da];
}

/**
 * The fused kernel without tfjs (the whole-step path, src/step/): the network's jets at
 * X (float32 [N][d], already in the kernel's memory at the returned `X` address once
 * `setX` ran) for the variable values `values` (Mlp order: weights, biases, slopes).
 * `forward()` leaves the jets [C][N][out] at address `Y`; `backward()` then reads ∂J/∂Y
 * from the same place and returns the variables' gradients (float64, Mlp order). Memory
 * from `end` upwards is the caller's. Plain nets only (Rowdy/Kronecker coefficients are
 * tfjs ops of α and F: see rawJetsUnsupported).
 */
export interface RawJets {
  X: number;
  Y: number;
  end: number;
  /** with StepNeeds: byte offset of the step program's sums in each chunk's accumulators (the header's H_ACC) */
  stepAcc: number;
  forward(): void;
  backward(): Float64Array[];
  /**
   * The whole step in one kernel call (CMD.STEP; rawJets called with `step`): per block the
   * forward pass, the step program whose header is at `header` (src/step/whole.ts), the
   * backward pass. Returns the variables' gradients as backward() does, and where each
   * chunk's step sums lie (chunk order: sum them in this order).
   */
  step(header: number): { grads: Float64Array[]; sums: number[] };
}

/** Why rawJets cannot run this model and plan (null: it can). */
export function rawJetsUnsupported(mlp: Mlp, plan: JetPlan): string | null {
  // no tfjs backend involved: only the model's checks
  const mix = mlp.mixturePlan();
  if (mix?.kind !== 'kronecker' && !KERNEL_ACTIVATIONS.includes(mlp.cfg.activation)) return `activation ${mlp.cfg.activation}`;
  for (const g of mix?.groups ?? []) if (!KERNEL_ACTIVATIONS.includes(g.fn)) return `${mix!.kind} term activation ${g.fn}`;
  if (mlp.cfg.hidden.length === 0) return 'no hidden layer';
  if (plan.maxOrder > KERNEL_MAX_ORDER) return `derivative order ${plan.maxOrder} > ${KERNEL_MAX_ORDER}`;
  if (kernel() === null) return `kernel not available: ${kernelLoadError()}`;
  return null;
}

export function rawJets(mlp: Mlp, plan: JetPlan, N: number, values: Float32Array[], extraBytes: number, step: StepNeeds | null = null): RawJets {
  const rt = kernel();
  if (rt === null) throw new Error(`fused kernel not available: ${kernelLoadError()}`);
  const L = mlp.cfg.hidden.length;
  const nW = L + 1;
  const C = plan.channels.length;
  const M = plan.maxOrder;
  const d = mlp.cfg.inputs;
  const sizes = [d, ...mlp.cfg.hidden, mlp.cfg.outputs];
  const B = blockSize(sizes, C, M);
  const tables = tablesOf(plan);
  const mode = mlp.cfg.adaptive.mode;
  const nS = mode === 'none' ? 0 : mode === 'global' ? 1 : L;
  const slopes = values.slice(2 * nW, 2 * nW + nS);
  const f = fold(mlp.describe(), values.slice(0, nW), values.slice(nW, 2 * nW), slopes);
  const mixture = rawMixture(mlp, values, 2 * nW + nS, f);
  const T = N === 0 ? 1 : threadsFor(rt, N, B);
  // the whole-step command keeps each block in cache from forward to backward: no tape
  const tape = step === null && chunking(N, B).blocks * tapeRecord(sizes, C, B) <= tapeBudget();
  const relayout = () => layoutCall(rt, f, mlp.cfg.activation, mixture?.layout ?? null, tables, N, C, M, T, B, tape, step);
  let lay = relayout();
  rt.ensure(lay.end + extraBytes);
  stats.threads = T;
  stats.block = B;
  const gradients = (): Float64Array[] => {
    const buf = reducePartials(rt, lay);
    const dWf: Float64Array[] = [];
    const dbf: Float64Array[] = [];
    for (let l = 0; l <= L; l++) {
      const Nn = sizes[l + 1]!;
      dWf.push(sumPartials(buf, lay, lay.accOff[l]!.dW4, sizes[l]! * Nn));
      dbf.push(sumPartials(buf, lay, lay.accOff[l]!.db4, Nn));
    }
    const grads = unfoldRaw(mlp.describe(), f, dWf, dbf, mode);
    if (mixture) {
      const G = mixture.layout.G;
      const gc: Float64Array[] = [];
      const gw: Float64Array[] = [];
      for (let l = 0; l < L; l++) {
        const n = sizes[l + 1]! * G;
        gc.push(sumPartials(buf, lay, lay.accOff[l]!.dmix4, n));
        gw.push(sumPartials(buf, lay, lay.accOff[l]!.dmix4 + n * 16, n));
      }
      grads.push(...mixture.chain(gc, gw, grads));
    }
    return grads;
  };
  return {
    X: lay.X, Y: lay.Y, end: lay.end, stepAcc: lay.stepAcc,
    forward() {
      stats.forward++;
      const t0 = performance.now();
      rt.run(CMD.FORWARD, lay.net, lay.works, lay.counter);
      stats.forwardMs += performance.now() - t0;
    },
    backward() {
      stats.backward++;
      if (tape) stats.fromTape++;
      // same addresses (layoutCall is deterministic): rewrite the descriptors, keep X, Y and the tape
      lay = relayout();
      const t0 = performance.now();
      rt.run(tape ? CMD.BACKWARD_TAPE : CMD.BACKWARD, lay.net, lay.works, lay.counter);
      stats.backwardMs += performance.now() - t0;
      return gradients();
    },
    step(header: number) {
      if (step === null) throw new Error('internal: rawJets.step without StepNeeds');
      stats.forward++;
      stats.backward++;
      new Int32Array(rt.buffer)[(lay.net >> 2) + NET.STEP] = header;
      const t0 = performance.now();
      rt.run(CMD.STEP, lay.net, lay.works, lay.counter);
      stats.backwardMs += performance.now() - t0;
      return { grads: gradients(), sums: lay.chunkAcc.map((a) => a + lay.stepAcc) };
    },
  };
}

/**
 * Rowdy/Kronecker terms for rawJets: the coefficients c, ω per hidden layer from α, F/ω and
 * the slopes by Mlp.mixtureCoefficients's formula in float32 (Kronecker c = α, ω = F; Rowdy
 * c = n_R α, ω = F · n_R k / s with s = n·a), tiled to [width][G]; `chain` takes the kernel's
 * ∂J/∂c, ∂J/∂ω (per neuron and term) to α and F (returned, in variable order) and adds the
 * slopes' share (Rowdy: ∂ω/∂s = −ω/s) to their gradients in `grads`.
 */
function rawMixture(mlp: Mlp, values: (Float32Array | Float64Array)[], first: number, f: Folded): {
  layout: MixLayout; chain: (gc: Float64Array[], gw: Float64Array[], grads: Float64Array[]) => Float64Array[];
} | null {
  const plan = mlp.mixturePlan();
  if (!plan) return null;
  const L = mlp.cfg.hidden.length;
  const G = plan.terms;
  const rowdy = plan.kind === 'rowdy';
  const fr = Math.fround;
  const alphas = values.slice(first, first + L);
  const freqs = values.slice(first + L, first + 2 * L);
  const c: Float32Array[] = [];
  const w: Float32Array[] = [];
  const ks: number[][] = [];
  mlp.cfg.hidden.forEach((width: number, l: number) => {
    const nR = mlp.rowdyScales[l]!;
    const s = f.s[l]!; // n·a per neuron (1 without slopes), float32-rounded
    const k = Array.from({ length: G }, (_, i) => fr(nR * (i + 1)));
    ks.push(k);
    const cl = new Float32Array(width * G);
    const wl = new Float32Array(width * G);
    const a = alphas[l]!;
    const F = freqs[l]!;
    for (let j = 0; j < width; j++) {
      for (let g = 0; g < G; g++) {
        const src = a.length === G ? g : j * G + g;
        cl[j * G + g] = rowdy ? fr(a[src]! * nR) : a[src]!;
        wl[j * G + g] = rowdy ? (mlp.cfg.adaptive.mode === 'none' ? fr(F[src]! * k[g]!) : fr(fr(F[src]! * k[g]!) / s[j]!)) : F[src]!;
      }
    }
    c.push(cl);
    w.push(wl);
  });
  const fns = Int32Array.from(plan.groups.flatMap((g: { fn: BaseActivation; count: number }) => new Array<number>(g.count).fill(KERNEL_ACTIVATIONS.indexOf(g.fn))));
  const layout: MixLayout = { kind: rowdy ? 1 : 2, G, fns, c, w };
  const chain = (gc: Float64Array[], gw: Float64Array[], grads: Float64Array[]): Float64Array[] => {
    const dA: Float64Array[] = [];
    const dF: Float64Array[] = [];
    const mode = mlp.cfg.adaptive.mode;
    const nW = L + 1;
    mlp.cfg.hidden.forEach((width: number, l: number) => {
      const nR = mlp.rowdyScales[l]!;
      const s = f.s[l]!;
      const n = alphas[l]!.length;
      const da = new Float64Array(n);
      const dF_ = new Float64Array(n);
      const ds = new Float64Array(width);
      for (let j = 0; j < width; j++) {
        for (let g = 0; g < G; g++) {
          const e = j * G + g;
          const dst = n === G ? g : e;
          if (rowdy) {
            da[dst] = da[dst]! + (nR * gc[l]![e]!);
            const sj = mode === 'none' ? 1 : s[j]!;
            dF_[dst] = dF_[dst]! + (gw[l]![e]! * ks[l]![g]! / sj);
            ds[j] = ds[j]! - (gw[l]![e]! * w[l]![e]! / sj);
          } else {
            da[dst] = da[dst]! + (gc[l]![e]!);
            dF_[dst] = dF_[dst]! + (gw[l]![e]!);
          }
        }
      }
      dA.push(Float64Array.from(da, fr));
      dF.push(Float64Array.from(dF_, fr));
      if (rowdy && mode !== 'none') {
        // s_j = n · a_j (neuron) or n · a (layer, global): ∂J/∂a += n · ∂J/∂s
        const scale = mlp.scales[l]!;
        const gs = grads[2 * nW + (mode === 'global' ? 0 : l)]!;
        if (mode === 'neuron') for (let j = 0; j < width; j++) gs[j] = fr(gs[j]! + scale * ds[j]!);
        else gs[0] = fr(gs[0]! + scale * ds.reduce((p, q) => p + q, 0));
      }
    });
    return [...dA, ...dF];
  };
  return { layout, chain };
}
