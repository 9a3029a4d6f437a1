/**
 * Adam on the whole-step path's flat float32 parameter buffer, the update running in the
 * kernel module (assembly/step.ts adam32) with the float32 operation sequence of
 * src/train/adam-optimizer.ts. Its state has the same shape as AdamOptimizer's (moments
 * per variable), so a checkpoint means the same thing on both paths.
 */
import type { AdamState } from './adam-optimizer.js';
import { kernel } from '../kernel/runtime.js';

export class FlatAdam {
  private m: Float32Array | Float64Array;
  private v: Float32Array | Float64Array;
  private t = 0;

  /** float64: moments and update in float64 (adam64), for training.precision: float64 */
  constructor(readonly sizes: number[], readonly float64 = false, readonly beta1 = 0.9, readonly beta2 = 0.999, readonly epsilon = 1e-8) {
    const n = sizes.reduce((p, q) => p + q, 0);
    this.m = float64 ? new Float64Array(n) : new Float32Array(n);
    this.v = float64 ? new Float64Array(n) : new Float32Array(n);
  }

  get steps(): number {
    return this.t;
  }

  /**
   * One update of x (in place) with gradient g (float32 values) and learning rate lr.
   * `scratch`: a byte address in the kernel's memory with 16·n free bytes above it.
   */
  apply(x: Float32Array | Float64Array, g: Float64Array, lr: number, scratch: number): void {
    const rt = kernel();
    if (rt === null) throw new Error('internal: flat Adam without the kernel');
    this.t++;
    const n = x.length;
    const E = this.float64 ? 8 : 4;
    const sh = this.float64 ? 3 : 2;
    const base = Math.ceil(scratch / 64) * 64;
    rt.ensure(base + 4 * E * n + 64);
    const fl = this.float64 ? new Float64Array(rt.buffer) : new Float32Array(rt.buffer);
    const [X, G, M, V] = [0, 1, 2, 3].map((k) => base + E * n * k);
    fl.set(x, X! >> sh);
    fl.set(g, G! >> sh);
    fl.set(this.m, M! >> sh);
    fl.set(this.v, V! >> sh);
    const f = this.float64 ? (y: number) => y : Math.fround;
    (this.float64 ? rt.exports.adam64 : rt.exports.adam32)(X!, G!, M!, V!, n, f(lr), f(this.beta1), f(1 - this.beta1), f(this.beta2), f(1 - this.beta2), f(this.epsilon),
      f(1 - this.beta1 ** this.t), f(1 - this.beta2 ** this.t));
    x.set(fl.subarray(X! >> sh, (X! >> sh) + n));
    this.m.set(fl.subarray(M! >> sh, (M! >> sh) + n));
    this.v.set(fl.subarray(V! >> sh, (V! >> sh) + n));
  }

  state(): AdamState {
    const split = (a: Float32Array | Float64Array) => {
      const out: (Float32Array | Float64Array)[] = [];
      let off = 0;
      for (const n of this.sizes) {
        out.push(a.slice(off, off + n));
        off += n;
      }
      return out;
    };
    // (float64 moments are Float64Array: checkpoints store them exactly)
    return { t: this.t, m: split(this.m) as Float32Array[], v: split(this.v) as Float32Array[] };
  }

  load(s: AdamState): void {
    if (s.m.length !== this.sizes.length || s.v.length !== this.sizes.length) throw new Error('Adam state does not match the variables');
    let off = 0;
    this.sizes.forEach((n, i) => {
      if (s.m[i]!.length !== n || s.v[i]!.length !== n) throw new Error(`Adam state: variable ${i} has the wrong size`);
      this.m.set(s.m[i]!, off);
      this.v.set(s.v[i]!, off);
      off += n;
    });
    this.t = s.t;
  }
}
