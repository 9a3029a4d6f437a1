/**
 * Seeded random numbers with a state that can be saved and restored (checkpoints).
 * Backed by pure-rand's xoroshiro128+; floats carry 53 random bits.
 */
import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';

/**
 * murmur3's 32-bit finaliser, as an unsigned 32-bit integer: spreads nearby seeds apart
 * (seeding here, and sweep seeds in sweep/plan.ts).
 */
export function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

export type RngState = number[];

type Gen = ReturnType<typeof xoroshiro128plus>;

export class Rng {
  private gen: Gen;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
    this.gen = xoroshiro128plus(mix32(seed)); // (pure-rand reads the seed as a signed int32: ~seed, seed | 0)
    // Small seeds start xoroshiro in a low-entropy state; let it run in.
    for (let i = 0; i < 8; i++) this.gen.next();
  }

  static fromState(state: RngState): Rng {
    const r = Object.create(Rng.prototype) as Rng;
    r.gen = xoroshiro128plusFromState(state);
    return r;
  }

  /** JSON-serialisable state; `Rng.fromState(r.state())` continues the same stream. */
  state(): RngState {
    return [...this.gen.getState()];
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return uniformFloat64(this.gen);
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Standard normal (Box–Muller; one value per call, deterministic). */
  normal(): number {
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = a[i]!;
      a[i] = a[j]!;
      a[j] = tmp;
    }
    return a;
  }

  /** An independent stream derived from this seed and a label (e.g. per point set). */
  derive(label: string): Rng {
    let h = 2166136261;
    for (const ch of label) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
    return new Rng((this.gen.clone().next() ^ h) | 0);
  }
}
