/**
 * The whole-step path: the PINN loss J and its gradient for all trainable variables with
 * no tfjs op in the loop. The network's jets come from the fused kernel (rawJets), the
 * residuals, their weighted mean squares and the reverse pass from the step program
 * (program.ts) run by the executor in the same WebAssembly module and memory
 * (assembly/step.ts), slope recovery and the unknown parameters' bounds here in float64.
 *
 * Variables are one flat float32 buffer in PinnLoss.variables() order (network weights,
 * biases, slopes, then the unknown parameters' raw values), so checkpoints, Adam's state
 * and L-BFGS's vector mean the same things on both paths.
 *
 * Per evaluation with a gradient: one kernel call (CMD.STEP, on the kernel's threads): per
 * block of points the network's forward pass, the executor on the block's rows of every
 * term, the backward pass. Without a gradient, or with a periodic term (a row reads two
 * points, maybe in two blocks), or with LAAF_STEP_FUSED=0: kernel forward over all points
 * (threads), one executor call per term (main thread), kernel backward from the forward's
 * tape (threads). Both give the same network gradient bit for bit; the float64 sums over
 * points (Σ r², ∂J/∂ unknown parameter) are added per block in the first, per term in the
 * second. Everything stays in the kernel's memory.
 */
import type { Problem } from '../problem/build.js';
import type { Mlp } from '../nn/mlp.js';
import { rawJets, rawJetsUnsupported } from '../kernel/fused.js';
import { kernel } from '../kernel/runtime.js';
import { rawJets64 } from './net64.js';
import { compileStep, type StepProgram } from './program.js';
import { layoutPoints } from '../problem/layout.js';

export interface StepValues {
  total: number;
  /** plain mean(residual²) per term, in problem order */
  terms: number[];
  /** S(a), unweighted (0 when off) */
  slope: number;
}

export interface SlopeOptions { weight: number; form: 'paper' | 'script' }

/** Rows per executor block. */
const BP = 64;
const DESC_BYTES = 128;

/** A flat parameter vector split per variable of `sizes` (views): the one layout of every FlatStep. */
export function splitFlat<A extends Float32Array | Float64Array>(flat: A, sizes: readonly number[]): A[] {
  const out: A[] = [];
  let off = 0;
  for (const n of sizes) {
    out.push(flat.subarray(off, off + n) as A);
    off += n;
  }
  return out;
}

/** Why the whole-step path cannot run this problem and model (null: it can). */
export function wholeStepUnsupported(problem: Problem, mlp: Mlp, program?: StepProgram): string | null {
  if (process.env.LAAF_WHOLE_STEP === '0') return 'LAAF_WHOLE_STEP=0';
  const prog = program ?? compileStep(problem, problem.terms.map(() => ({ start: 0, n: 0 })));
  return rawJetsUnsupported(mlp, prog.plan);
}


export class WholeStep {
  program!: StepProgram;
  private X!: Float32Array | Float64Array;
  private N = 0;
  /** sizes of the network's variables, then one per unknown parameter */
  readonly sizes: number[];
  readonly size: number;
  private readonly nNet: number;
  /** first byte above what the last evaluation used in the kernel's memory (scratch for Adam) */
  memoryEnd = 0;

  constructor(readonly problem: Problem, readonly model: Mlp, points: Map<string, Float64Array>, readonly slope: SlopeOptions, readonly precision: 'float32' | 'float64' = 'float32') {
    this.setPoints(points);
    this.sizes = [...model.trainableVariables().map((v) => v.size), ...problem.parameters.map(() => 1)];
    this.nNet = model.trainableVariables().length;
    this.size = this.sizes.reduce((p, q) => p + q, 0);
  }

  setPoints(points: Map<string, Float64Array>): void {
    const lay = layoutPoints(this.problem, points);
    this.program = compileStep(this.problem, lay.blocks);
    this.X = this.precision === 'float64' ? lay.X : Float32Array.from(lay.X);
    this.N = lay.N;
  }

  get pointCount(): number {
    return this.N;
  }

  /** A flat parameter vector of this precision. */
  newFlat(n = this.size): Float32Array | Float64Array {
    return this.precision === 'float64' ? new Float64Array(n) : new Float32Array(n);
  }

  /** The flat vector split per variable (views). */
  split<A extends Float32Array | Float64Array>(flat: A): A[] {
    return splitFlat(flat, this.sizes);
  }

  /**
   * J and its parts at `flat`; with `grad`, ∂J/∂flat written there (float64).
   * `slopeWeight` replaces W_a in the total (an L-BFGS phase's own weight).
   */
  evaluate(flat: Float32Array | Float64Array, grad: Float64Array | null, slopeWeight = this.slope.weight): StepValues {
    const rt = kernel();
    if (rt === null) throw new Error('internal: whole-step path without the kernel');
    const prog = this.program;
    const vars = this.split(flat);
    const netValues = vars.slice(0, this.nNet);
    const raw = vars.slice(this.nNet).map((v) => v[0]!);
    const pspec = this.problem.parameters;
    // bounded parameters: value = lo + (hi − lo) σ(r)
    const f64mode = this.precision === 'float64';
    const round = f64mode ? (x: number) => x : Math.fround;
    const pvalues = raw.map((r, k) => {
      const b = pspec[k]!.bounds;
      return b ? round(b[0] + (b[1] - b[0]) * round(1 / (1 + Math.exp(-r)))) : r;
    });
    const E = f64mode ? 8 : 4; // bytes per float
    const sh = f64mode ? 3 : 2;
    const C = prog.plan.channels.length;
    const out = prog.outputs;
    const d = prog.inputs;
    const N = this.N;
    const nT = prog.terms.length;
    // with a gradient and no periodic term, the whole step is one kernel call (CMD.STEP);
    // otherwise forward, the executor per term, backward
    const fused = grad !== null && prog.terms.every((t) => !t.partner) && process.env.LAAF_STEP_FUSED !== '0';
    // executor memory: the step header, per term its descriptor, code, constants, residual
    // list, data; then shared parameters (and without `fused`: scratch registers and
    // adjoints, dY, dParams — with it they are per thread and per chunk in the kernel's layout)
    const layout = this.stepLayout(E, fused);
    const needs = fused ? { scratch: 2 * layout.maxIns * BP * E, acc: (nT + Math.max(1, prog.parameters)) * 8 } : null;
    const net = f64mode
      ? rawJets64(this.model, prog.plan, N, netValues as Float64Array[], layout.bytes, needs)
      : rawJets(this.model, prog.plan, N, netValues as Float32Array[], layout.bytes, needs);
    const base = Math.ceil(net.end / 64) * 64;
    this.memoryEnd = base + layout.bytes;
    const buf = rt.buffer;
    const fl = f64mode ? new Float64Array(buf) : new Float32Array(buf);
    fl.set(this.X, net.X >> sh);
    const i32 = new Int32Array(buf);
    const f64 = new Float64Array(buf);
    const at = (o: number) => base + o;
    fl.set(pvalues, at(layout.params) >> sh);
    if (!fused) {
      net.forward();
      if (grad) {
        fl.fill(0, at(layout.dY) >> sh, (at(layout.dY) >> sh) + C * N * out);
        f64.fill(0, at(layout.dParams) >> 3, (at(layout.dParams) >> 3) + prog.parameters);
      }
    }
    const sq = new Float64Array(nT);
    prog.terms.forEach((t, k) => {
      const L = layout.terms[k]!;
      const desc = at(L.desc);
      const s = desc >> 2;
      i32.set(t.code, at(L.code) >> 2);
      fl.set(t.consts, at(L.consts) >> sh);
      i32.set(t.residuals, at(L.res) >> 2);
      t.data.forEach((col, j) => fl.set(col, (at(L.data) >> sh) + j * t.rows));
      const nIns = t.code.length / 4;
      // (fused: Y, dY, the scratch and dParams come from the kernel per block and thread)
      const slots = [
        at(L.code), nIns, at(L.consts), at(layout.params), net.X, fused ? 0 : net.Y, grad && !fused ? at(layout.dY) : 0, at(L.data),
        t.rows, t.start, t.partner ? t.rows : 0, d, N, out, at(L.res), t.residuals.length,
        fused ? 0 : at(layout.regs), fused ? 0 : at(layout.adj), fused ? 0 : at(layout.dParams), BP,
      ];
      i32.fill(0, s, s + DESC_BYTES / 4);
      i32.set(slots, s);
      const count = t.rows * t.residuals.length;
      f64[(desc + 80) >> 3] = count > 0 ? t.weight / count : 0;
      if (!fused && count > 0) sq[k] = f64mode ? rt.exports.stepTerm64(desc) : rt.exports.stepTerm32(desc);
    });
    let gNet: Float64Array[] = [];
    const dParams = new Float64Array(prog.parameters);
    if (fused) {
      // header (assembly/step.ts H_*): terms, first descriptor, sums' offset in a chunk's accumulators, registers
      const h = at(layout.header) >> 2;
      i32.set([nT, nT > 0 ? at(layout.terms[0]!.desc) : 0, net.stepAcc, layout.maxIns], h);
      const r = net.step(at(layout.header));
      gNet = r.grads;
      // every chunk's sums, in chunk order (the same for any number of threads)
      const f64b = new Float64Array(rt.buffer);
      for (const a of r.sums) {
        const o = a >> 3;
        for (let k = 0; k < nT; k++) sq[k] = sq[k]! + f64b[o + k]!;
        for (let k = 0; k < prog.parameters; k++) dParams[k] = dParams[k]! + f64b[o + nT + k]!;
      }
    }
    const means: number[] = [];
    let total = 0;
    prog.terms.forEach((t, k) => {
      const count = t.rows * t.residuals.length;
      const mean = round(count > 0 ? sq[k]! / count : NaN);
      means.push(mean);
      total += t.weight * mean;
    });
    // slope recovery S(a) on the raw slopes (Mlp.slopeRecovery)
    const sr = this.slopeRecovery(netValues);
    const wa = slopeWeight > 0 ? slopeWeight : 0;
    if (wa > 0) total += wa * sr.value;
    if (grad) {
      if (!fused) {
        // dY into the kernel's Y slot, then the network's backward pass
        fl.copyWithin(net.Y >> sh, at(layout.dY) >> sh, (at(layout.dY) >> sh) + C * N * out);
        gNet = net.backward();
        dParams.set(new Float64Array(rt.buffer, at(layout.dParams), prog.parameters));
      }
      let off = 0;
      gNet.forEach((g, i) => {
        grad.set(g, off);
        off += this.sizes[i]!;
      });
      if (wa > 0) {
        let o = 0;
        for (let i = 0; i < this.nNet; i++) {
          const gs = sr.grad[i];
          if (gs) for (let j = 0; j < gs.length; j++) grad[o + j] = round(grad[o + j]! + wa * gs[j]!);
          o += this.sizes[i]!;
        }
      }
      raw.forEach((r, k) => {
        const dv = dParams[k]!;
        const b = pspec[k]!.bounds;
        const sg = 1 / (1 + Math.exp(-r));
        grad[off + k] = round(b ? dv * (b[1] - b[0]) * sg * (1 - sg) : dv);
      });
    }
    // float32 like the tfjs path's scalar (an L-BFGS line search sees the same resolution)
    return { total: round(total), terms: means, slope: this.slope.weight > 0 || slopeWeight > 0 ? sr.value : 0 };
  }

  /** S(a) and ∂S/∂(each network variable) (null for weights and biases). */
  private slopeRecovery(netValues: (Float32Array | Float64Array)[]): { value: number; grad: (Float64Array | null)[] } {
    const mlp = this.model;
    const mode = mlp.cfg.adaptive.mode;
    const L = mlp.cfg.hidden.length;
    const grad: (Float64Array | null)[] = netValues.map(() => null);
    if (mode === 'none') return { value: 0, grad };
    const first = 2 * (L + 1);
    const form = this.slope.form;
    if (mode === 'global') {
      const a = netValues[first]![0]!;
      const e = Math.exp(a) * (form === 'paper' ? 1 : L);
      grad[first] = Float64Array.of(-1 / e);
      return { value: 1 / e, grad };
    }
    // ā_k per layer (the mean over neurons in neuron mode)
    const abar = Array.from({ length: L }, (_, k) => {
      const v = netValues[first + k]!;
      let sum = 0;
      for (let j = 0; j < v.length; j++) sum += v[j]!;
      return sum / v.length;
    });
    const e = abar.map(Math.exp);
    const sum = e.reduce((p, q) => p + q, 0);
    const denom = form === 'paper' ? sum / L : sum;
    const value = 1 / denom;
    for (let k = 0; k < L; k++) {
      const n = netValues[first + k]!.length;
      // ∂S/∂ā_k = −e_k / (denom² · (L or 1)), spread over the layer's n slopes
      const g = -e[k]! / (denom * denom) / (form === 'paper' ? L : 1) / n;
      grad[first + k] = new Float64Array(n).fill(g);
    }
    return { value, grad };
  }

  private stepLayout(E: number, fused: boolean): {
    bytes: number; header: number; maxIns: number; params: number; regs: number; adj: number; dY: number; dParams: number;
    terms: { desc: number; code: number; consts: number; res: number; data: number }[];
  } {
    const prog = this.program;
    let at = 0;
    const take = (bytes: number) => {
      const p = at;
      at = Math.ceil((at + bytes) / 64) * 64;
      return p;
    };
    const header = take(16);
    // the descriptors one after the other, DESC_BYTES apart (the header's H_TERMS)
    const descs = take(DESC_BYTES * prog.terms.length);
    let maxIns = 1;
    const terms = prog.terms.map((t, k) => {
      maxIns = Math.max(maxIns, t.code.length / 4);
      return {
        desc: descs + DESC_BYTES * k, code: take(t.code.byteLength), consts: take(t.consts.length * E),
        res: take(t.residuals.length * 4), data: take(t.data.length * t.rows * E),
      };
    });
    const params = take(Math.max(1, prog.parameters) * E);
    // without `fused`: the executor's scratch, dY and dParams here (with it: the kernel's, per thread and chunk)
    const regs = fused ? 0 : take(maxIns * BP * E);
    const adj = fused ? 0 : take(maxIns * BP * E);
    const dY = fused ? 0 : take(prog.plan.channels.length * this.N * prog.outputs * E);
    const dParams = fused ? 0 : take(Math.max(1, prog.parameters) * 8);
    return { bytes: at + 64, header, maxIns, params, regs, adj, dY, dParams, terms };
  }
}
