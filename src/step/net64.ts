/**
 * The network's jets in float64 for the whole-step path (assembly/net64.ts): the same
 * descriptors as the float32 kernel's (src/kernel/fused.ts layoutCall), every float 8
 * bytes, accumulators as 2-lane partial sums, a tape of the hidden layers' jets when it fits
 * LAAF_KERNEL_TAPE_MB (else the backward pass recomputes each block's forward pass), plain
 * activations only.
 */
import type { JetPlan } from '../jet/plan.js';
import type { Mlp } from '../nn/mlp.js';
import { blockSize, chunking, fold, tablesOf, tapeBudget, unfoldRaw, KERNEL_ACTIVATIONS, type RawJets, type StepNeeds } from '../kernel/fused.js';
import { ARENA, RUN64, kernel, kernelLoadError } from '../kernel/runtime.js';
import { CHUNK, CMD, LAYER, LAYER_SLOTS, NET, WORK, WORK_LAYER_SLOTS } from '../kernel/layout.js';

// descriptor slots: the float32 kernel's (src/kernel/layout.ts); assembly/net64.ts declares the same numbers
const NLS = LAYER_SLOTS;
const LS = WORK_LAYER_SLOTS;

class Bump {
  constructor(public at: number) {}
  take(bytes: number): number {
    const p = this.at;
    this.at = Math.ceil((this.at + bytes) / 64) * 64;
    return p;
  }
}

/** The float64 network jets without tfjs (same contract as fused.ts rawJets, with float64 X, Y and values). */
export function rawJets64(mlp: Mlp, plan: JetPlan, N: number, values: Float64Array[], extraBytes: number, step: StepNeeds | null = null): RawJets {
  const rt = kernel();
  if (rt === null) throw new Error(`fused kernel not available: ${kernelLoadError()}`);
  if (mlp.mixturePlan()) throw new Error('internal: float64 network kernel without Rowdy/Kronecker');
  const L = mlp.cfg.hidden.length;
  const nW = L + 1;
  const C = plan.channels.length;
  const M = plan.maxOrder;
  const d = mlp.cfg.inputs;
  const out = mlp.cfg.outputs;
  const sizes = [d, ...mlp.cfg.hidden, out];
  // blocks of the float32 kernel's size in points: twice the bytes, still cache-sized
  const B = blockSize(sizes, C, M);
  const tables = tablesOf(plan);
  const f = fold(mlp.describe(), values.slice(0, nW), values.slice(nW, 2 * nW), values.slice(2 * nW), true);
  const T = N === 0 ? 1 : rt.threadsFor(Math.min(N, chunking(N, B).count * 512));

  const a = new Bump(ARENA + 512);
  const net = a.take((NET.LAYER + NLS * (L + 1)) * 4);
  const counter = a.take(4);
  const termsP = a.take(tables.terms.byteLength);
  const tstartP = a.take(tables.tstart.byteLength);
  const seedP = a.take(tables.seed.byteLength);
  const layerP = sizes.slice(0, L + 1).map((K, l) => {
    const Nn = sizes[l + 1]!;
    return { K, Nn, Wsp: a.take(K * Nn * 16), WTsp: a.take(K * Nn * 16), b: a.take(Nn * 8), W: a.take(K * Nn * 8) };
  });
  const accOff: { dW2: number; db2: number }[] = [];
  let accBytes = 0;
  for (let l = 0; l <= L; l++) {
    const Nn = sizes[l + 1]!;
    accOff.push({ dW2: accBytes, db2: accBytes + sizes[l]! * Nn * 16 });
    accBytes += (sizes[l]! + 1) * Nn * 16;
  }
  const accNet = accBytes;
  const stepAcc = accBytes;
  if (step) accBytes += Math.ceil(step.acc / 16) * 16;
  const ch = chunking(N, B);
  const chunkTab = a.take(ch.count * CHUNK.SLOTS * 4);
  const chunkAcc = Array.from({ length: ch.count }, () => a.take(accBytes));
  const X = a.take(N * d * 8);
  const Y = a.take(C * N * out * 8);
  const maxN = Math.max(...sizes);
  // the tape: per block, every hidden layer's U (C·Nn·B doubles)
  let record = 0;
  const uOff: number[] = [];
  for (let l = 1; l <= L; l++) {
    uOff.push(record);
    record += C * sizes[l]! * B * 8;
  }
  // the whole-step command keeps each block in cache from forward to backward: no tape
  const tape = step === null && ch.blocks * record <= tapeBudget();
  const wsl = 8 + LS * (L + 1);
  const works: number[] = [];
  const workInts: number[][] = [];
  for (let t = 0; t < T; t++) {
    const w = a.take(wsl * 4);
    const slots = new Array<number>(wsl).fill(0);
    slots[WORK.THREAD] = t;
    slots[WORK.XB] = a.take(d * B * 8);
    slots[WORK.DXB] = a.take(d * B * 8);
    slots[WORK.DA] = a.take(C * maxN * B * 8);
    slots[WORK.DB] = a.take(C * maxN * B * 8);
    if (step) slots[WORK.STEP] = a.take(step.scratch);
    for (let l = 0; l <= L; l++) {
      const Nn = sizes[l + 1]!;
      const base = WORK.LAYER + LS * l;
      if (l < L) {
        slots[base + 1] = a.take((M + 2) * Nn * B * 8);
        slots[base + 2] = a.take(C * Nn * B * 8);
      }
      if (!tape || l === L) slots[base + 5] = a.take(C * Nn * B * 8);
      slots[base] = slots[base + 5]!;
    }
    works.push(w);
    workInts.push(slots);
  }
  const tapeP = tape ? a.take(ch.blocks * record) : 0;
  const red = a.take((accNet >> 4) * 8);
  const end = a.at;
  rt.ensure(end + extraBytes);

  const write = () => {
    const buf = rt.buffer;
    const i32 = new Int32Array(buf);
    const f64 = new Float64Array(buf);
    const ns = net >> 2;
    i32.fill(0, ns, ns + NET.LAYER + NLS * (L + 1));
    i32[ns + NET.D] = d; i32[ns + NET.L] = L; i32[ns + NET.OUT] = out; i32[ns + NET.C] = C; i32[ns + NET.M] = M;
    i32[ns + NET.ACT] = KERNEL_ACTIVATIONS.indexOf(mlp.cfg.activation);
    i32[ns + NET.B] = B; i32[ns + NET.N] = N; i32[ns + NET.X] = X; i32[ns + NET.Y] = Y;
    i32[ns + NET.TERMS] = termsP; i32[ns + NET.TSTART] = tstartP; i32[ns + NET.SEED] = seedP;
    i32[ns + NET.CHUNKS] = ch.count; i32[ns + NET.CHUNKTAB] = chunkTab; i32[ns + NET.COUNTER] = counter;
    i32[ns + NET.ACCBYTES] = accBytes;
    i32[ns + NET.TAPE] = tapeP; i32[ns + NET.TAPEBLK] = record;
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
    layerP.forEach((lp, l) => {
      const s = ns + NET.LAYER + NLS * l;
      i32[s + LAYER.K] = lp.K; i32[s + LAYER.NN] = lp.Nn; i32[s + LAYER.WSP] = lp.Wsp; i32[s + LAYER.WTSP] = lp.WTsp;
      i32[s + LAYER.BIAS] = lp.b; i32[s + LAYER.W] = lp.W;
      // the float64 kernel keeps its dW and db accumulators (2 lanes) in the slots of the float32 one's dW4, db4
      i32[s + LAYER.DW4] = accOff[l]!.dW2; i32[s + LAYER.DB4] = accOff[l]!.db2; i32[s + LAYER.UOFF] = uOff[l] ?? 0;
      const W = f.W[l]!;
      const { K, Nn } = lp;
      f64.set(W, lp.W >> 3);
      f64.set(f.b[l]!, lp.b >> 3);
      rt.exports.splatWeights64(lp.W, K, Nn, lp.Wsp, lp.WTsp);
    });
    works.forEach((w, t) => i32.set(workInts[t]!, w >> 2));
  };
  /** gradient entries summed from the 2-lane partial sums: lanes, then chunks in order (reducePartials64), f64 at `red` */
  const partials = (buf: Float64Array, off: number, n: number): Float64Array => {
    const o = (red >> 3) + (off >> 4);
    return buf.slice(o, o + n);
  };
  const gradients = (): Float64Array[] => {
    rt.exports.reducePartials64(chunkTab, chunkAcc.length, accNet >> 4, red);
    const buf = new Float64Array(rt.buffer);
    const dWf: Float64Array[] = [];
    const dbf: Float64Array[] = [];
    for (let l = 0; l <= L; l++) {
      const Nn = sizes[l + 1]!;
      dWf.push(partials(buf, accOff[l]!.dW2, sizes[l]! * Nn));
      dbf.push(partials(buf, accOff[l]!.db2, Nn));
    }
    return unfoldRaw(mlp.describe(), f, dWf, dbf, mlp.cfg.adaptive.mode, true);
  };
  return {
    X, Y, end, stepAcc,
    forward() {
      write();
      rt.run(RUN64 + CMD.FORWARD, net, works, counter);
    },
    backward() {
      write();
      rt.run(RUN64 + (tape ? CMD.BACKWARD_TAPE : CMD.BACKWARD), net, works, counter);
      return gradients();
    },
    step(header: number) {
      if (step === null) throw new Error('internal: rawJets64.step without StepNeeds');
      write();
      new Int32Array(rt.buffer)[(net >> 2) + NET.STEP] = header;
      rt.run(RUN64 + CMD.STEP, net, works, counter);
      return { grads: gradients(), sums: chunkAcc.map((a) => a + stepAcc) };
    },
  };
}
