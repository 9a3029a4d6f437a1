/**
 * The network's jets in float64 (f64x2 SIMD): the float64 twin of assembly/kernel.ts for
 * the whole-step path's `training.precision: float64`. Same descriptors (net and work
 * slots, term records, chunk table), same algorithm (see kernel.ts's header), with every
 * float 8 bytes: a v128 holds 2 points, a splatted weight is one f64x2, the gradient
 * accumulators are 2-lane partial sums. Activation towers are scalar Math (float64
 * accurate), not kernel.ts's float32 rational tanh.
 *
 * Not here (the TS side refuses them): Rowdy/Kronecker mixtures. With a tape (N_TAPE), the
 * forward pass keeps every block's hidden-layer jets U there and cmd 2 (backward from the
 * tape) recomputes only the towers and H; cmd 1 recomputes the whole forward pass; cmd 3
 * is kernel.ts's CMD_STEP (forward, the step program on the block, backward; no tape).
 */
import { stepBlock64 } from './step';

// descriptor slots (kernel.ts)
const N_D: i32 = 0;
const N_L: i32 = 1;
const N_OUT: i32 = 2;
const N_C: i32 = 3;
const N_M: i32 = 4;
const N_ACT: i32 = 5;
const N_B: i32 = 6;
const N_N: i32 = 7;
const N_X: i32 = 8;
const N_Y: i32 = 9;
const N_TERMS: i32 = 11;
const N_TSTART: i32 = 12;
const N_SEED: i32 = 13;
const N_CHUNKS: i32 = 14;
const N_CHUNKTAB: i32 = 15;
const N_COUNTER: i32 = 16;
const N_TAPE: i32 = 17;
const N_TAPEBLK: i32 = 18;
const N_ACCBYTES: i32 = 19;
const N_STEP: i32 = 23;
const N_LAYER: i32 = 24;
const NLS: i32 = 12;
const W_XB: i32 = 2;
const W_DA: i32 = 4;
const W_DB: i32 = 5;
const W_STEP: i32 = 6;
const W_THREAD: i32 = 7;
const W_LAYER: i32 = 8;
const LS: i32 = 7;

const ACT_TANH = 0;
const ACT_SIN = 1;
const ACT_COS = 2;
const ACT_SIGMOID = 3;
const ACT_SOFTPLUS = 4;
const ACT_SILU = 5;
const ACT_GELU = 6;
const ACT_ELU = 7;
const ACT_RELU = 8;
const ACT_LEAKY = 9;

@inline function geti(base: usize, slot: i32): i32 {
  return load<i32>(base + (<usize>slot << 2));
}
@inline function getp(base: usize, slot: i32): usize {
  return <usize>load<u32>(base + (<usize>slot << 2));
}
@inline function ld(p: usize): v128 {
  return v128.load(p);
}
@inline function st(p: usize, v: v128): void {
  v128.store(p, v);
}
@inline function add(a: v128, b: v128): v128 {
  return f64x2.add(a, b);
}
@inline function mul(a: v128, b: v128): v128 {
  return f64x2.mul(a, b);
}
@inline function splat(x: f64): v128 {
  return f64x2.splat(x);
}
@inline function madd(acc: v128, a: v128, b: v128): v128 {
  return f64x2.add(acc, f64x2.mul(a, b));
}

/** Z[j][p] = bias_j + Σ_i Wsp[i][j] · A[i][p]; rows of B doubles, Wsp K×Nn f64x2 splats. */
function mm(A: usize, K: i32, Wsp: usize, Nn: i32, Z: usize, B: i32, bias: usize): void {
  const rowA: usize = <usize>B << 3;
  const rowW: usize = <usize>Nn << 4;
  let j = 0;
  for (; j + 4 <= Nn; j += 4) {
    let b0 = splat(0), b1 = splat(0), b2 = splat(0), b3 = splat(0);
    if (bias) {
      const bp = bias + (<usize>j << 3);
      b0 = splat(load<f64>(bp));
      b1 = splat(load<f64>(bp, 8));
      b2 = splat(load<f64>(bp, 16));
      b3 = splat(load<f64>(bp, 24));
    }
    for (let p: usize = 0; p < rowA; p += 32) {
      let a00 = b0, a01 = b0, a10 = b1, a11 = b1, a20 = b2, a21 = b2, a30 = b3, a31 = b3;
      let ap = A + p;
      let wp = Wsp + (<usize>j << 4);
      for (let i = 0; i < K; i++) {
        const h0 = ld(ap);
        const h1 = v128.load(ap, 16);
        const w0 = ld(wp);
        const w1 = v128.load(wp, 16);
        const w2 = v128.load(wp, 32);
        const w3 = v128.load(wp, 48);
        a00 = madd(a00, h0, w0);
        a01 = madd(a01, h1, w0);
        a10 = madd(a10, h0, w1);
        a11 = madd(a11, h1, w1);
        a20 = madd(a20, h0, w2);
        a21 = madd(a21, h1, w2);
        a30 = madd(a30, h0, w3);
        a31 = madd(a31, h1, w3);
        ap += rowA;
        wp += rowW;
      }
      const zp = Z + <usize>j * rowA + p;
      st(zp, a00);
      v128.store(zp, a01, 16);
      st(zp + rowA, a10);
      v128.store(zp + rowA, a11, 16);
      st(zp + 2 * rowA, a20);
      v128.store(zp + 2 * rowA, a21, 16);
      st(zp + 3 * rowA, a30);
      v128.store(zp + 3 * rowA, a31, 16);
    }
  }
  for (; j < Nn; j++) {
    const b0 = bias ? splat(load<f64>(bias + (<usize>j << 3))) : splat(0);
    for (let p: usize = 0; p < rowA; p += 32) {
      let a0 = b0, a1 = b0;
      let ap = A + p;
      let wp = Wsp + (<usize>j << 4);
      for (let i = 0; i < K; i++) {
        const w0 = ld(wp);
        a0 = madd(a0, ld(ap), w0);
        a1 = madd(a1, v128.load(ap, 16), w0);
        ap += rowA;
        wp += rowW;
      }
      const zp = Z + <usize>j * rowA + p;
      st(zp, a0);
      v128.store(zp, a1, 16);
    }
  }
}

/** dW2[i][j] += Σ_c Σ_p A_c[i][p] · D_c[j][p] as 2-lane partial sums. */
function mmW(A: usize, K: i32, D: usize, Nn: i32, C: i32, B: i32, dW2: usize): void {
  const rowB: usize = <usize>B << 3;
  const strideA: usize = <usize>K * rowB;
  const strideD: usize = <usize>Nn * rowB;
  const rowW: usize = <usize>Nn << 4;
  for (let i = 0; i < K; i++) {
    let j = 0;
    for (; j + 4 <= Nn; j += 4) {
      let s0 = splat(0), s1 = splat(0), s2 = splat(0), s3 = splat(0);
      for (let c = 0; c < C; c++) {
        const ap = A + <usize>c * strideA + <usize>i * rowB;
        const dp = D + <usize>c * strideD + <usize>j * rowB;
        for (let p: usize = 0; p < rowB; p += 16) {
          const a = ld(ap + p);
          s0 = madd(s0, a, ld(dp + p));
          s1 = madd(s1, a, ld(dp + rowB + p));
          s2 = madd(s2, a, ld(dp + 2 * rowB + p));
          s3 = madd(s3, a, ld(dp + 3 * rowB + p));
        }
      }
      const w = dW2 + <usize>i * rowW + (<usize>j << 4);
      st(w, add(ld(w), s0));
      v128.store(w, add(v128.load(w, 16), s1), 16);
      v128.store(w, add(v128.load(w, 32), s2), 32);
      v128.store(w, add(v128.load(w, 48), s3), 48);
    }
    for (; j < Nn; j++) {
      let s0 = splat(0);
      for (let c = 0; c < C; c++) {
        const ap = A + <usize>c * strideA + <usize>i * rowB;
        const dp = D + <usize>c * strideD + <usize>j * rowB;
        for (let p: usize = 0; p < rowB; p += 16) s0 = madd(s0, ld(ap + p), ld(dp + p));
      }
      const w = dW2 + <usize>i * rowW + (<usize>j << 4);
      st(w, add(ld(w), s0));
    }
  }
}

/** acc2[j] += Σ_p D[j][p] (2-lane partial sums). */
function rowSums(D: usize, Nn: i32, B: i32, acc2: usize): void {
  const rowB: usize = <usize>B << 3;
  for (let j = 0; j < Nn; j++) {
    let s = splat(0);
    const dp = D + <usize>j * rowB;
    for (let p: usize = 0; p < rowB; p += 16) s = add(s, ld(dp + p));
    const q = acc2 + (<usize>j << 4);
    st(q, add(ld(q), s));
  }
}

function sigmoid(u: f64): f64 {
  if (u >= 0) return 1 / (1 + Math.exp(-u));
  const e = Math.exp(u);
  return e / (1 + e);
}

/** erf to float64 accuracy: series for |x| < 2.5, continued fraction (erfc) beyond. */
function erf64(x: f64): f64 {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // erf x = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / <f64>n;
      const t = term / <f64>(2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    const r = sum * 1.1283791670955126;
    return x < 0 ? -r : r;
  }
  // erfc by Lentz's continued fraction: erfc x = e^{−x²}/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …))))
  let f: f64 = ax;
  let C: f64 = ax;
  let D: f64 = 0;
  for (let n = 1; n < 200; n++) {
    const a = <f64>n * 0.5;
    D = ax + a * D;
    D = 1 / D;
    C = ax + a / C;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / (f * 1.7724538509055159);
  const r = 1 - erfc;
  return x < 0 ? -r : r;
}

@inline function sigmoidLevel(s: f64, c: f64, q: f64, k: i32): f64 {
  switch (k) {
    case 0: return s;
    case 1: return q;
    case 2: return q * (c - s);
    case 3: return q * (1 - 6 * q);
    case 4: return q * (c - s) * (1 - 12 * q);
    default: return q * (1 - 30 * q + 120 * q * q);
  }
}

/**
 * tanh to float64 accuracy, cephes tanh.c: x + x³ P(x²)/Q(x²) for |x| ≤ 0.625, else
 * 1 − 2/(e^{2|x|} + 1) with the sign of x (checked against Math.tanh in test/step.test.ts).
 */
@inline function tanh64(x: f64): f64 {
  const z = Math.abs(x);
  if (z > 0.625) {
    if (z > 22) return x < 0 ? -1 : 1;
    const r = 1 - 2 / (Math.exp(2 * z) + 1);
    return x < 0 ? -r : r;
  }
  const s = x * x;
  const p = (-9.64399179425052238628e-1 * s - 9.92877231001918586564e1) * s - 1.61468768441708447952e3;
  const q = ((s + 1.12811678491632931402e2) * s + 2.23548839060100448583e3) * s + 4.84406305325125486048e3;
  return x + x * s * (p / q);
}

/** tanh64 on its own (tests). */
export function tanh64Only(x: f64): f64 {
  return tanh64(x);
}

/** T_m[e] = σ^(m)(U[e]), m ≤ M1 (≤ 5), e < count; T_m at T + m·count doubles. */
function tower(act: i32, U: usize, T: usize, count: i32, M1: i32): void {
  const stride: usize = <usize>count << 3;
  for (let e: usize = 0; e < stride; e += 8) {
    const u = load<f64>(U + e);
    if (act == ACT_TANH) {
      const t = tanh64(u);
      const t2 = t * t;
      const p = 1 - t2;
      store<f64>(T + e, t);
      if (M1 >= 1) store<f64>(T + stride + e, p);
      if (M1 >= 2) store<f64>(T + 2 * stride + e, -2 * t * p);
      if (M1 >= 3) store<f64>(T + 3 * stride + e, p * (6 * t2 - 2));
      if (M1 >= 4) store<f64>(T + 4 * stride + e, t * p * (16 - 24 * t2));
      if (M1 >= 5) store<f64>(T + 5 * stride + e, p * (16 - 120 * p + 120 * p * p));
      continue;
    }
    if (act == ACT_SIN || act == ACT_COS) {
      const s = Math.sin(u);
      const c = Math.cos(u);
      const shift = act == ACT_COS ? 1 : 0;
      for (let m = 0; m <= M1; m++) {
        const k = (m + shift) & 3;
        store<f64>(T + <usize>m * stride + e, k == 0 ? s : k == 1 ? c : k == 2 ? -s : -c);
      }
      continue;
    }
    for (let m = 0; m <= M1; m++) {
      let v: f64 = 0;
      switch (act) {
        case ACT_SIGMOID: {
          const s = sigmoid(u);
          const c = sigmoid(-u);
          v = sigmoidLevel(s, c, s * c, m);
          break;
        }
        case ACT_SOFTPLUS: {
          if (m == 0) v = Math.max(u, 0) + Math.log1p(Math.exp(-Math.abs(u)));
          else {
            const s = sigmoid(u);
            const c = sigmoid(-u);
            v = sigmoidLevel(s, c, s * c, m - 1);
          }
          break;
        }
        case ACT_SILU: {
          const s = sigmoid(u);
          const c = sigmoid(-u);
          const q = s * c;
          v = m == 0 ? u * s : u * sigmoidLevel(s, c, q, m) + <f64>m * sigmoidLevel(s, c, q, m - 1);
          break;
        }
        case ACT_GELU: {
          const Phi = 0.5 * (erf64(u * 0.7071067811865476) + 1);
          const phi = Math.exp(-0.5 * u * u) * 0.3989422804014327;
          const u2 = u * u;
          switch (m) {
            case 0: v = u * Phi; break;
            case 1: v = Phi + u * phi; break;
            case 2: v = phi * (2 - u2); break;
            case 3: v = phi * u * (u2 - 4); break;
            case 4: v = phi * ((-u2 + 7) * u2 - 4); break;
            default: v = phi * u * ((u2 - 11) * u2 + 18); break;
          }
          break;
        }
        case ACT_ELU: {
          if (u > 0) v = m == 0 ? u : m == 1 ? 1 : 0;
          else v = m == 0 ? Math.exp(u) - 1 : Math.exp(u);
          break;
        }
        case ACT_RELU: {
          v = m == 0 ? (u > 0 ? u : 0) : m == 1 ? (u > 0 ? 1 : 0) : 0;
          break;
        }
        case ACT_LEAKY: {
          v = m == 0 ? (u > 0 ? u : 0.01 * u) : m == 1 ? (u > 0 ? 1 : 0.01) : 0;
          break;
        }
        default: v = 0;
      }
      store<f64>(T + <usize>m * stride + e, v);
    }
  }
}

// term record (kernel.ts): 8 i32: coef (f32 bits), m, nf, f0..f3, unused

/** H_0 = T_0; H_c = Σ_terms coef T_m Π U_f. */
function faaForward(C: i32, terms: usize, tstart: usize, U: usize, T: usize, H: usize, count: i32): void {
  const stride: usize = <usize>count << 3;
  memory.copy(H, T, stride);
  for (let c = 1; c < C; c++) {
    const Hc = H + <usize>c * stride;
    const k0 = geti(tstart, c);
    const t1 = geti(tstart, c + 1);
    memory.fill(Hc, 0, stride);
    for (let k = k0; k < t1; k++) {
      const t = terms + (<usize>k << 5);
      const coef = splat(<f64>load<f32>(t));
      const Tm = T + <usize>load<i32>(t, 4) * stride;
      const nf = load<i32>(t, 8);
      const F0 = U + <usize>load<i32>(t, 12) * stride;
      const F1 = U + <usize>load<i32>(t, 16) * stride;
      const F2 = U + <usize>load<i32>(t, 20) * stride;
      const F3 = U + <usize>load<i32>(t, 24) * stride;
      // one loop per factor count (the same products in the same order as a general loop)
      if (nf == 1) {
        for (let e: usize = 0; e < stride; e += 16) st(Hc + e, madd(ld(Hc + e), mul(coef, ld(Tm + e)), ld(F0 + e)));
      } else if (nf == 2) {
        for (let e: usize = 0; e < stride; e += 16) st(Hc + e, madd(ld(Hc + e), mul(coef, ld(Tm + e)), mul(ld(F0 + e), ld(F1 + e))));
      } else if (nf == 3) {
        for (let e: usize = 0; e < stride; e += 16) st(Hc + e, madd(ld(Hc + e), mul(coef, ld(Tm + e)), mul(mul(ld(F0 + e), ld(F1 + e)), ld(F2 + e))));
      } else {
        for (let e: usize = 0; e < stride; e += 16) {
          st(Hc + e, madd(ld(Hc + e), mul(coef, ld(Tm + e)), mul(mul(mul(ld(F0 + e), ld(F1 + e)), ld(F2 + e)), ld(F3 + e))));
        }
      }
    }
  }
}

/** dU_0 = T_1 dH_0 + Σ coef T_{m+1} Π U_f dH_c; dU_f += coef T_m Π_{others} U dH_c. */
function faaBackward(C: i32, terms: usize, tstart: usize, U: usize, T: usize, dH: usize, dU: usize, count: i32): void {
  const stride: usize = <usize>count << 3;
  for (let e: usize = 0; e < stride; e += 16) st(dU + e, mul(ld(T + stride + e), ld(dH + e)));
  if (C > 1) memory.fill(dU + stride, 0, <usize>(C - 1) * stride);
  for (let c = 1; c < C; c++) {
    const dHc = dH + <usize>c * stride;
    const t1 = geti(tstart, c + 1);
    for (let k = geti(tstart, c); k < t1; k++) {
      const t = terms + (<usize>k << 5);
      const coef = splat(<f64>load<f32>(t));
      const m = <usize>load<i32>(t, 4);
      const Tm = T + m * stride;
      const Tm1 = Tm + stride;
      const nf = load<i32>(t, 8);
      const f0 = <usize>load<i32>(t, 12) * stride;
      const f1 = <usize>load<i32>(t, 16) * stride;
      const f2 = <usize>load<i32>(t, 20) * stride;
      const f3 = <usize>load<i32>(t, 24) * stride;
      // one loop per factor count: the general formula with the absent factors (1) left out,
      // so the same numbers; factors may repeat (f0 == f1): each occurrence adds its own share
      if (nf == 1) {
        for (let e: usize = 0; e < stride; e += 16) {
          const g = mul(coef, ld(dHc + e));
          st(dU + e, madd(ld(dU + e), mul(g, ld(Tm1 + e)), ld(U + f0 + e)));
          st(dU + f0 + e, add(ld(dU + f0 + e), mul(g, ld(Tm + e))));
        }
      } else if (nf == 2) {
        for (let e: usize = 0; e < stride; e += 16) {
          const g = mul(coef, ld(dHc + e));
          const u0 = ld(U + f0 + e);
          const u1 = ld(U + f1 + e);
          st(dU + e, madd(ld(dU + e), mul(g, ld(Tm1 + e)), mul(u0, u1)));
          const gt = mul(g, ld(Tm + e));
          st(dU + f0 + e, madd(ld(dU + f0 + e), gt, u1));
          st(dU + f1 + e, madd(ld(dU + f1 + e), gt, u0));
        }
      } else if (nf == 3) {
        for (let e: usize = 0; e < stride; e += 16) {
          const g = mul(coef, ld(dHc + e));
          const u0 = ld(U + f0 + e);
          const u1 = ld(U + f1 + e);
          const u2 = ld(U + f2 + e);
          const u01 = mul(u0, u1);
          st(dU + e, madd(ld(dU + e), mul(g, ld(Tm1 + e)), mul(u01, u2)));
          const gt = mul(g, ld(Tm + e));
          st(dU + f0 + e, madd(ld(dU + f0 + e), gt, mul(u1, u2)));
          st(dU + f1 + e, madd(ld(dU + f1 + e), gt, mul(u0, u2)));
          st(dU + f2 + e, madd(ld(dU + f2 + e), gt, u01));
        }
      } else {
        for (let e: usize = 0; e < stride; e += 16) {
          const g = mul(coef, ld(dHc + e));
          const u0 = ld(U + f0 + e);
          const u1 = ld(U + f1 + e);
          const u2 = ld(U + f2 + e);
          const u3 = ld(U + f3 + e);
          const u01 = mul(u0, u1);
          const u23 = mul(u2, u3);
          st(dU + e, madd(ld(dU + e), mul(g, ld(Tm1 + e)), mul(u01, u23)));
          const gt = mul(g, ld(Tm + e));
          st(dU + f0 + e, madd(ld(dU + f0 + e), gt, mul(u1, u23)));
          st(dU + f1 + e, madd(ld(dU + f1 + e), gt, mul(u0, u23)));
          st(dU + f2 + e, madd(ld(dU + f2 + e), gt, mul(u01, u3)));
          st(dU + f3 + e, madd(ld(dU + f3 + e), gt, mul(u01, u2)));
        }
      }
    }
  }
}

function forwardBlock(net: usize, work: usize, M1: i32): void {
  const d = geti(net, N_D);
  const L = geti(net, N_L);
  const C = geti(net, N_C);
  const B = geti(net, N_B);
  const terms = getp(net, N_TERMS);
  const tstart = getp(net, N_TSTART);
  const seed = getp(net, N_SEED);
  const act = geti(net, N_ACT);
  const rowB: usize = <usize>B << 3;
  for (let l = 0; l <= L; l++) {
    const ln = net + (<usize>(N_LAYER + NLS * l) << 2);
    const K = load<i32>(ln);
    const Nn = load<i32>(ln, 4);
    const Wsp = <usize>load<u32>(ln, 8);
    const bias = <usize>load<u32>(ln, 16);
    const Wp = <usize>load<u32>(ln, 20);
    const lw = work + (<usize>(W_LAYER + LS * l) << 2);
    const U = <usize>load<u32>(lw);
    const chanStride: usize = <usize>Nn * rowB;
    if (l == 0) {
      mm(getp(work, W_XB), d, Wsp, Nn, U, B, bias);
      for (let c = 1; c < C; c++) {
        const Uc = U + <usize>c * chanStride;
        const i = geti(seed, c);
        if (i < 0) {
          memory.fill(Uc, 0, chanStride);
          continue;
        }
        for (let j = 0; j < Nn; j++) {
          const w = splat(load<f64>(Wp + ((<usize>i * <usize>Nn + <usize>j) << 3)));
          const row = Uc + <usize>j * rowB;
          for (let p: usize = 0; p < rowB; p += 16) st(row + p, w);
        }
      }
    } else {
      const prev = work + (<usize>(W_LAYER + LS * (l - 1)) << 2);
      const Hp = <usize>load<u32>(prev, 8);
      const prevStride: usize = <usize>K * rowB;
      for (let c = 0; c < C; c++) mm(Hp + <usize>c * prevStride, K, Wsp, Nn, U + <usize>c * chanStride, B, c == 0 ? bias : 0);
    }
    if (l < L) {
      const T = <usize>load<u32>(lw, 4);
      const H = <usize>load<u32>(lw, 8);
      tower(act, U, T, Nn * B, M1);
      faaForward(C, terms, tstart, U, T, H, Nn * B);
    }
  }
}

/** Towers and H of every hidden layer from U already on the tape. */
function refreshBlock(net: usize, work: usize, M1: i32): void {
  const L = geti(net, N_L);
  const C = geti(net, N_C);
  const B = geti(net, N_B);
  const act = geti(net, N_ACT);
  for (let l = 0; l < L; l++) {
    const ln = net + (<usize>(N_LAYER + NLS * l) << 2);
    const Nn = load<i32>(ln, 4);
    const lw = work + (<usize>(W_LAYER + LS * l) << 2);
    const U = <usize>load<u32>(lw);
    const T = <usize>load<u32>(lw, 4);
    tower(act, U, T, Nn * B, M1);
    faaForward(C, getp(net, N_TERMS), getp(net, N_TSTART), U, T, <usize>load<u32>(lw, 8), Nn * B);
  }
}

function backwardBlock(net: usize, work: usize): void {
  const d = geti(net, N_D);
  const L = geti(net, N_L);
  const C = geti(net, N_C);
  const B = geti(net, N_B);
  const terms = getp(net, N_TERMS);
  const tstart = getp(net, N_TSTART);
  const seed = getp(net, N_SEED);
  const rowB: usize = <usize>B << 3;
  const dZ = getp(work, W_DA);
  const dH = getp(work, W_DB);
  for (let l = L; l >= 0; l--) {
    const ln = net + (<usize>(N_LAYER + NLS * l) << 2);
    const K = load<i32>(ln);
    const Nn = load<i32>(ln, 4);
    const WTsp = <usize>load<u32>(ln, 12);
    const lw = work + (<usize>(W_LAYER + LS * l) << 2);
    const dW2 = <usize>load<u32>(lw, 12);
    const db2 = <usize>load<u32>(lw, 16);
    const chanStride: usize = <usize>Nn * rowB;
    rowSums(dZ, Nn, B, db2);
    if (l > 0) {
      const prev = work + (<usize>(W_LAYER + LS * (l - 1)) << 2);
      const Hp = <usize>load<u32>(prev, 8);
      const prevStride: usize = <usize>K * rowB;
      mmW(Hp, K, dZ, Nn, C, B, dW2);
      for (let c = 0; c < C; c++) mm(dZ + <usize>c * chanStride, Nn, WTsp, K, dH + <usize>c * prevStride, B, 0);
      faaBackward(C, terms, tstart, <usize>load<u32>(prev), <usize>load<u32>(prev, 4), dH, dZ, K * B);
    } else {
      mmW(getp(work, W_XB), d, dZ, Nn, 1, B, dW2);
      for (let c = 1; c < C; c++) {
        const i = geti(seed, c);
        if (i >= 0) rowSums(dZ + <usize>c * chanStride, Nn, B, dW2 + <usize>i * (<usize>Nn << 4));
      }
    }
  }
}

/**
 * cmd 0: forward, Y[c][p][o] (float64); cmd 1: backward from dY in Y's place, gradients into
 * every chunk's accumulators (2-lane partial sums); cmd 2: the same from the tape of the
 * cmd 0 call just before. Chunks as in kernel.ts.
 */
/** reducePartials (kernel.ts) for the float64 kernel's 2-lane partial sums (16 bytes per entry). */
export function reducePartials64(chunks: usize, K: i32, n: i32, out: usize): void {
  memory.fill(out, 0, <usize>n << 3);
  for (let k = 0; k < K; k++) {
    const acc = <usize>load<u32>(chunks + (<usize>k << 4), 8);
    for (let e = 0; e < n; e++) {
      const p = acc + (<usize>e << 4);
      const s = load<f64>(p) + load<f64>(p, 8);
      const q = out + (<usize>e << 3);
      store<f64>(q, load<f64>(q) + s);
    }
  }
}

/** A layer's splatted weights from W [K][Nn] (f64): Wsp[i][j] and WTsp[j][i] = 2 × W[i][j]. */
export function splatWeights64(W: usize, K: i32, Nn: i32, Wsp: usize, WTsp: usize): void {
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < Nn; j++) {
      const v = v128.load64_splat(W + ((<usize>i * <usize>Nn + <usize>j) << 3));
      st(Wsp + ((<usize>i * <usize>Nn + <usize>j) << 4), v);
      st(WTsp + ((<usize>j * <usize>K + <usize>i) << 4), v);
    }
  }
}

export function run64(cmd: i32, net: usize, work: usize): void {
  const d = geti(net, N_D);
  const L = geti(net, N_L);
  const out = geti(net, N_OUT);
  const C = geti(net, N_C);
  const M = geti(net, N_M);
  const B = geti(net, N_B);
  const N = geti(net, N_N);
  const Xg = getp(net, N_X);
  const Yg = getp(net, N_Y);
  const K = geti(net, N_CHUNKS);
  const chunks = getp(net, N_CHUNKTAB);
  const counter = getp(net, N_COUNTER);
  const accBytes = getp(net, N_ACCBYTES);
  const tape = getp(net, N_TAPE);
  const tapeBlk = getp(net, N_TAPEBLK);
  const Xb = getp(work, W_XB);
  const rowB: usize = <usize>B << 3;
  const outLayer = work + (<usize>(W_LAYER + LS * L) << 2);
  const Yb = cmd == 0 ? <usize>load<u32>(outLayer) : getp(work, W_DA);
  for (;;) {
    const k = atomic.add<i32>(counter, 1);
    if (k >= K) break;
    const ce = chunks + (<usize>k << 4);
    const c0 = load<i32>(ce);
    const c1 = load<i32>(ce, 4);
    const acc = <usize>load<u32>(ce, 8);
    store<i32>(ce, geti(work, W_THREAD), 12);
    if (cmd != 0) {
      memory.fill(acc, 0, accBytes);
      for (let l = 0; l <= L; l++) {
        const ln = net + (<usize>(N_LAYER + NLS * l) << 2);
        const lw = work + (<usize>(W_LAYER + LS * l) << 2);
        store<u32>(lw, <u32>(acc + <usize>load<u32>(ln, 24)), 12);
        store<u32>(lw, <u32>(acc + <usize>load<u32>(ln, 28)), 16);
      }
    }
    for (let p0 = c0; p0 < c1; p0 += B) {
      const n = min(B, c1 - p0);
      for (let l = 0; l < L; l++) {
        const lw = work + (<usize>(W_LAYER + LS * l) << 2);
        const U = tape
          ? tape + <usize>(p0 / B) * tapeBlk + <usize>load<u32>(net + (<usize>(N_LAYER + NLS * l) << 2), 32)
          : <usize>load<u32>(lw, 20);
        store<u32>(lw, <u32>U);
      }
      memory.fill(Xb, 0, <usize>d * rowB);
      for (let p = 0; p < n; p++) {
        for (let i = 0; i < d; i++) {
          store<f64>(Xb + <usize>i * rowB + (<usize>p << 3), load<f64>(Xg + ((<usize>(p0 + p) * <usize>d + <usize>i) << 3)));
        }
      }
      if (cmd == 0) {
        forwardBlock(net, work, M);
        for (let c = 0; c < C; c++) {
          for (let o = 0; o < out; o++) {
            const src = Yb + ((<usize>(c * out + o) * <usize>B) << 3);
            for (let p = 0; p < n; p++) {
              store<f64>(Yg + ((((<usize>c * <usize>N + <usize>(p0 + p)) * <usize>out) + <usize>o) << 3), load<f64>(src + (<usize>p << 3)));
            }
          }
        }
      } else {
        if (cmd == 2) refreshBlock(net, work, M + 1);
        else forwardBlock(net, work, M + 1);
        memory.fill(Yb, 0, <usize>(C * out) * rowB);
        if (cmd == 3) {
          // the whole step (kernel.ts CMD_STEP): the step program on this block's rows
          stepBlock64(getp(net, N_STEP), getp(work, W_STEP), acc, p0, n, <usize>load<u32>(outLayer), Yb, B);
        } else {
          for (let c = 0; c < C; c++) {
            for (let o = 0; o < out; o++) {
              const dst = Yb + ((<usize>(c * out + o) * <usize>B) << 3);
              for (let p = 0; p < n; p++) {
                store<f64>(dst + (<usize>p << 3), load<f64>(Yg + ((((<usize>c * <usize>N + <usize>(p0 + p)) * <usize>out) + <usize>o) << 3)));
              }
            }
          }
        }
        backwardBlock(net, work);
      }
    }
  }
}
