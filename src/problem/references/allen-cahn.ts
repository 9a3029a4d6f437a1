/**
 * Reference solutions of periodic 1D semilinear reaction–diffusion equations
 *   u_t = D u_xx + f(u),  x in [a, b) periodic,  t in [t0, t1],  u(x, t0) = u0(x),
 * computed independently of any network: Fourier pseudo-spectral in x, exponential
 * time differencing RK4 in t (ETDRK4, Cox & Matthews 2002, with the contour-integral
 * coefficients of Kassam & Trefethen 2005), float64 throughout.
 *
 * Off the time grid the solution is a cubic Lagrange interpolant of the four nearest
 * steps' Fourier coefficients; in x it is the trigonometric interpolant (exact for the
 * discrete solution). Allen–Cahn is f(u) = k (u - u^3).
 */
import { Fft } from './fft.js';

export interface ReactionDiffusion1D {
  diffusion: number;
  /** the reaction term, pointwise */
  reaction: (u: number) => number;
  /** periodic interval [a, b) */
  x: [number, number];
  /** time interval; the initial condition holds at t[0] */
  t: [number, number];
  initial: (x: number) => number;
  /** Fourier modes (grid points), a power of two; default 512 */
  modes?: number;
  /** time step; default (t1 - t0)/2000 */
  dt?: number;
}

export interface SpectralSolution {
  /** Fourier coefficients per time step: re/im, step-major, `modes` per step */
  re: Float64Array;
  im: Float64Array;
  steps: number;
  dt: number;
  modes: number;
  params: ReactionDiffusion1D;
  /** u at points (row-major [n, 2]: x, t) */
  evaluate(points: Float64Array): Float64Array;
  /** u on the collocation grid x_j = a + j (b - a)/modes at time step s */
  gridValues(step: number): Float64Array;
}

/** ETDRK4 coefficients for one real diagonal entry c = dt·L, by a contour mean over M points. */
function etdCoefficients(c: number, M = 64): [e: number, e2: number, q: number, f1: number, f2: number, f3: number] {
  let q = 0;
  let f1 = 0;
  let f2 = 0;
  let f3 = 0;
  for (let j = 1; j <= M; j++) {
    const th = (Math.PI * (j - 0.5)) / M;
    // z = c + e^{i th}; upper half circle suffices (conjugate symmetry), real part of the mean.
    const zr = c + Math.cos(th);
    const zi = Math.sin(th);
    const ez = Math.exp(zr);
    const er = ez * Math.cos(zi);
    const ei = ez * Math.sin(zi);
    const eh = Math.exp(zr / 2);
    const ehr = eh * Math.cos(zi / 2);
    const ehi = eh * Math.sin(zi / 2);
    // complex helpers
    const div = (ar: number, ai: number, br: number, bi: number): [number, number] => {
      const d = br * br + bi * bi;
      return [(ar * br + ai * bi) / d, (ai * br - ar * bi) / d];
    };
    const mul = (ar: number, ai: number, br: number, bi: number): [number, number] => [ar * br - ai * bi, ar * bi + ai * br];
    const [z2r, z2i] = mul(zr, zi, zr, zi);
    const [z3r, z3i] = mul(z2r, z2i, zr, zi);
    // Q: (e^{z/2} - 1)/z
    q += div(ehr - 1, ehi, zr, zi)[0];
    // f1: (-4 - z + e^z (4 - 3z + z^2)) / z^3
    {
      const [pr, pi] = mul(er, ei, 4 - 3 * zr + z2r, -3 * zi + z2i);
      f1 += div(-4 - zr + pr, -zi + pi, z3r, z3i)[0];
    }
    // f2: (2 + z + e^z (z - 2)) / z^3
    {
      const [pr, pi] = mul(er, ei, zr - 2, zi);
      f2 += div(2 + zr + pr, zi + pi, z3r, z3i)[0];
    }
    // f3: (-4 - 3z - z^2 + e^z (4 - z)) / z^3
    {
      const [pr, pi] = mul(er, ei, 4 - zr, -zi);
      f3 += div(-4 - 3 * zr - z2r + pr, -3 * zi - z2i + pi, z3r, z3i)[0];
    }
  }
  return [Math.exp(c), Math.exp(c / 2), q / M, f1 / M, f2 / M, f3 / M];
}

export function solveReactionDiffusion1D(params: ReactionDiffusion1D): SpectralSolution {
  const N = params.modes ?? 512;
  const [a, b] = params.x;
  const [t0, t1] = params.t;
  if (!(b > a) || !(t1 > t0)) throw new RangeError('empty interval');
  if (!(params.diffusion >= 0)) throw new RangeError('diffusion must be >= 0');
  const steps = Math.max(1, Math.round((t1 - t0) / (params.dt ?? (t1 - t0) / 2000)));
  const dt = (t1 - t0) / steps;
  const fft = new Fft(N);
  const L = b - a;

  // Per mode: E, E2, Q, f1, f2, f3 (real, since L = -D xi^2 is real).
  const E = new Float64Array(N);
  const E2 = new Float64Array(N);
  const Q = new Float64Array(N);
  const F1 = new Float64Array(N);
  const F2 = new Float64Array(N);
  const F3 = new Float64Array(N);
  for (let k = 0; k < N; k++) {
    const m = k <= N / 2 ? k : k - N;
    const xi = (2 * Math.PI * m) / L;
    const [e, e2, q, f1, f2, f3] = etdCoefficients(-params.diffusion * xi * xi * dt);
    E[k] = e; E2[k] = e2; Q[k] = q * dt; F1[k] = f1 * dt; F2[k] = f2 * dt; F3[k] = f3 * dt;
  }

  const re = new Float64Array((steps + 1) * N);
  const im = new Float64Array((steps + 1) * N);
  const vr = new Float64Array(N);
  const vi = new Float64Array(N);
  for (let j = 0; j < N; j++) vr[j] = params.initial(a + (j * L) / N);
  fft.forward(vr, vi);
  re.set(vr, 0);
  im.set(vi, 0);

  const wr = new Float64Array(N);
  const wi = new Float64Array(N);
  /** out = FFT(f(IFFT(vr, vi))) */
  const nonlinear = (inR: Float64Array, inI: Float64Array, outR: Float64Array, outI: Float64Array) => {
    wr.set(inR);
    wi.set(inI);
    fft.inverse(wr, wi);
    for (let j = 0; j < N; j++) {
      outR[j] = params.reaction(wr[j]!);
      outI[j] = 0;
    }
    fft.forward(outR, outI);
  };
  const buf = (): Float64Array => new Float64Array(N);
  const [nvr, nvi, ar, ai, nar, nai, br, bi, nbr, nbi, cr, ci, ncr, nci] =
    [buf(), buf(), buf(), buf(), buf(), buf(), buf(), buf(), buf(), buf(), buf(), buf(), buf(), buf()] as const;
  for (let s = 1; s <= steps; s++) {
    nonlinear(vr, vi, nvr, nvi);
    for (let k = 0; k < N; k++) {
      ar[k] = E2[k]! * vr[k]! + Q[k]! * nvr[k]!;
      ai[k] = E2[k]! * vi[k]! + Q[k]! * nvi[k]!;
    }
    nonlinear(ar, ai, nar, nai);
    for (let k = 0; k < N; k++) {
      br[k] = E2[k]! * vr[k]! + Q[k]! * nar[k]!;
      bi[k] = E2[k]! * vi[k]! + Q[k]! * nai[k]!;
    }
    nonlinear(br, bi, nbr, nbi);
    for (let k = 0; k < N; k++) {
      cr[k] = E2[k]! * ar[k]! + Q[k]! * (2 * nbr[k]! - nvr[k]!);
      ci[k] = E2[k]! * ai[k]! + Q[k]! * (2 * nbi[k]! - nvi[k]!);
    }
    nonlinear(cr, ci, ncr, nci);
    for (let k = 0; k < N; k++) {
      vr[k] = E[k]! * vr[k]! + nvr[k]! * F1[k]! + 2 * (nar[k]! + nbr[k]!) * F2[k]! + ncr[k]! * F3[k]!;
      vi[k] = E[k]! * vi[k]! + nvi[k]! * F1[k]! + 2 * (nai[k]! + nbi[k]!) * F2[k]! + nci[k]! * F3[k]!;
    }
    for (let k = 0; k < N; k++) if (!Number.isFinite(vr[k]!) || !Number.isFinite(vi[k]!)) throw new Error(`spectral solver diverged at step ${s}`);
    re.set(vr, s * N);
    im.set(vi, s * N);
  }

  const cr4 = new Float64Array(N);
  const ci4 = new Float64Array(N);
  const evaluate = (points: Float64Array): Float64Array => {
    const n = points.length / 2;
    const out = new Float64Array(n);
    for (let p = 0; p < n; p++) {
      const x = points[2 * p]!;
      const t = points[2 * p + 1]!;
      // cubic Lagrange in t over four consecutive steps (fewer if there are fewer)
      const tau = (t - t0) / dt;
      const m = Math.min(4, steps + 1);
      const s0 = Math.max(0, Math.min(steps + 1 - m, Math.floor(tau) - 1));
      cr4.fill(0);
      ci4.fill(0);
      for (let i = 0; i < m; i++) {
        let w = 1;
        for (let j = 0; j < m; j++) if (j !== i) w *= (tau - (s0 + j)) / (i - j);
        if (w === 0) continue;
        const off = (s0 + i) * N;
        for (let k = 0; k < N; k++) {
          cr4[k]! += w * re[off + k]!;
          ci4[k]! += w * im[off + k]!;
        }
      }
      out[p] = trigInterpolate(cr4, ci4, N, ((x - a) / L) * 2 * Math.PI);
    }
    return out;
  };
  const gridValues = (step: number): Float64Array => {
    const gr = re.slice(step * N, (step + 1) * N);
    const gi = im.slice(step * N, (step + 1) * N);
    fft.inverse(gr, gi);
    return gr;
  };
  return { re, im, steps, dt, modes: N, params, evaluate, gridValues };
}

/** u(θ) for θ = 2π (x - a)/L from the DFT coefficients of a real signal (Nyquist mode as a cosine). */
function trigInterpolate(cr: Float64Array, ci: Float64Array, N: number, theta: number): number {
  let sum = cr[0]!;
  const c1 = Math.cos(theta);
  const s1 = Math.sin(theta);
  let ck = 1;
  let sk = 0;
  for (let k = 1; k < N / 2; k++) {
    const c = ck * c1 - sk * s1;
    sk = sk * c1 + ck * s1;
    ck = c;
    sum += 2 * (cr[k]! * ck - ci[k]! * sk);
  }
  sum += cr[N / 2]! * Math.cos((N / 2) * theta);
  return sum / N;
}

export interface AllenCahnParams {
  /** diffusion coefficient D (1e-4 in Raissi et al.) */
  diffusion: number;
  /** reaction rate k in k (u - u^3) (5 in Raissi et al.) */
  reaction: number;
  x: [number, number];
  t: [number, number];
  initial: (x: number) => number;
  modes?: number;
  dt?: number;
}

/**
 * Allen–Cahn u_t = D u_xx + k (u - u^3), periodic in x: u at points (row-major [n, 2], columns
 * x then t). The signature a built-in reference generator takes.
 */
export function allenCahnReference(points: Float64Array, params: AllenCahnParams): Float64Array {
  const k = params.reaction;
  return solveReactionDiffusion1D({ ...params, reaction: (u) => k * (u - u * u * u) }).evaluate(points);
}
