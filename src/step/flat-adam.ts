/**
 * Adam on the whole-step path's flat float32 parameter buffer, the update running in the
 * kernel module (assembly/step.ts adam32) with the float32 operation sequence of
 * src/train/adam-optimizer.ts. Its state has the same shape as AdamOptimizer's (moments
 * per variable), so a checkpoint means the same thing on both paths.
 */
import type { AdamState } from '../train/adam-optimizer.js';
import { kernel } from '../kernel/runtime.js';

export class FlatAdam {
  private m: Float32Array;
  private v: Float32Array;
  private t = 0;

  constructor(readonly sizes: number[], readonly beta1 = 0.9, readonly beta2 = 0.999, readonly epsilon = 1e-8) {
    const n = sizes.reduce((p, q) => p + q, 0);
    this.m = new Float32Array(n);
    this.v = new Float32Array(n);
  }

  get steps(): number {
    return this.t;
  }

  /**
   * One update of x (in place) with gradient g (float32 values) and learning rate lr.
   * `scratch`: a byte address in the kernel's memory with 16·n free bytes above it.
   */
  apply(x: Float32Array, g: Float64Array, lr: number, scratch: number): void {
    const rt = kernel();
    if (rt === null) throw new Error('internal: flat Adam without the kernel');
    this.t++;
    const n = x.length;
    const base = Math.ceil(scratch / 64) * 64;
    rt.ensure(base + 16 * n + 64);
    const f32 = new Float32Array(rt.buffer);
    const [X, G, M, V] = [0, 1, 2, 3].map((k) => base + 4 * n * k);
    f32.set(x, X! >> 2);
    f32.set(g, G! >> 2);
    f32.set(this.m, M! >> 2);
    f32.set(this.v, V! >> 2);
    const f = Math.fround;
    rt.exports.adam32(X!, G!, M!, V!, n, f(lr), f(this.beta1), f(1 - this.beta1), f(this.beta2), f(1 - this.beta2), f(this.epsilon),
      f(1 - this.beta1 ** this.t), f(1 - this.beta2 ** this.t));
    x.set(f32.subarray(X! >> 2, (X! >> 2) + n));
    this.m.set(f32.subarray(M! >> 2, (M! >> 2) + n));
    this.v.set(f32.subarray(V! >> 2, (V! >> 2) + n));
  }

  state(): AdamState {
    const split = (a: Float32Array) => {
      const out: Float32Array[] = [];
      let off = 0;
      for (const n of this.sizes) {
        out.push(a.slice(off, off + n));
        off += n;
      }
      return out;
    };
    return { t: this.t, m: split(this.m), v: split(this.v) };
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
