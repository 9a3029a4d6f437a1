/**
 * laaf's fused MLP-jet kernel (AssemblyScript → WebAssembly SIMD). See src/kernel/ for
 * the TypeScript side, which lays out memory, folds slopes and input normalisation into
 * the weights, splits points over threads and turns the results into tfjs tensors.
 *
 * One call processes the points [p0, p1) of one thread in blocks of B points (B a
 * multiple of 8). Inside a block every array is feature-major: row j (a neuron, or an
 * input) holds B consecutive floats, one per point, so every SIMD lane is a point and
 * any layer width works without padding. A jet is C such matrices, one per channel.
 *
 * Forward, per layer ℓ (hidden ℓ < L, output ℓ = L), with W, b already slope-folded:
 *   Z_ℓ,c = W_ℓᵀ H_ℓ−1,c  (+ b_ℓ on the value channel c = 0)
 *   H_ℓ,0 = σ(Z_ℓ,0),  H_ℓ,c = Σ_terms coef · σ^(m)(Z_ℓ,0) · Π_f Z_ℓ,f     (Faà di Bruno)
 * and the input layer seeds channel (i) with W_0[i, :] (the inputs' own jets are e_i).
 *
 * Backward (cmd 1) recomputes the block's forward pass (everything stays in cache) and
 * walks back: dW_ℓ += Σ_c H_ℓ−1,c dZ_ℓ,cᵀ, db_ℓ += Σ dZ_ℓ,0, dH = W_ℓ dZ, then Faà di
 * Bruno backward gives dZ_ℓ−1. Weight and bias gradients are accumulated as 4-lane
 * partial sums (v128 per weight), summed over lanes and threads by the caller.
 *
 * Rowdy / Kronecker layers (N_MIX ≠ 0): σ's tower is the base tower (Rowdy; none for
 * Kronecker) plus Σ_k c_jk ω_jk^m f_k^(m)(ω_jk Z) per neuron j (layerTower), so Faà di
 * Bruno runs unchanged on the sum; backward also accumulates ∂L/∂c_jk and ∂L/∂ω_jk
 * (mixBackward) from the tower adjoints ∂L/∂T_m. See "Rowdy / Kronecker mixtures" below.
 *
 * No allocation, no globals written, no linear-memory stack: several instances (one per
 * worker thread) share one memory safely, each with its own scratch region.
 */

import { stepBlock32 } from './step';

// ------------------------------------------------------------------ descriptor layout
// The same numbers are named in src/kernel/layout.ts; test/kernel-layout.test.ts reads
// this file and fails when the two sides differ.
// net (i32 slots)
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
const N_DX: i32 = 10;
const N_TERMS: i32 = 11;
const N_TSTART: i32 = 12;
const N_SEED: i32 = 13;
const N_CHUNKS: i32 = 14; // chunks of whole blocks; threads take them in turn (atomic counter)
const N_CHUNKTAB: i32 = 15; // per chunk: p0, p1, accumulator base, unused
const N_COUNTER: i32 = 16; // address of the i32 chunk counter (zeroed by the caller)
const N_TAPE: i32 = 17; // tape base (0: no tape); block g's record at tape + g·N_TAPEBLK
const N_TAPEBLK: i32 = 18;
const N_ACCBYTES: i32 = 19; // bytes of one chunk's accumulators
const N_MIX: i32 = 20; // 0: plain σ; 1: Rowdy (σ + mixture terms); 2: Kronecker (mixture terms only)
const N_MIXG: i32 = 21; // mixture terms per neuron (G)
const N_MIXFN: i32 = 22; // address of G i32 activation ids, one per term
const N_STEP: i32 = 23; // CMD_STEP: the step program's header (assembly/step.ts stepBlock)
const N_LAYER: i32 = 24; // NLS slots per layer (L_* below) from here
const NLS: i32 = 12;
// layer descriptor (i32 slots at N_LAYER + NLS·l)
const L_K: i32 = 0;
const L_NN: i32 = 1;
const L_WSP: i32 = 2;
const L_WTSP: i32 = 3;
const L_BIAS: i32 = 4;
const L_W: i32 = 5;
const L_DW4: i32 = 6; // byte offset of dW4 in a chunk's accumulators
const L_DB4: i32 = 7; // byte offset of db4 in a chunk's accumulators
const L_UOFF: i32 = 8; // byte offset of U in a tape record
const L_COEF: i32 = 9; // mixture coefficients: c [Nn][G] then ω [Nn][G], f32
const L_DMIX4: i32 = 10; // byte offset of dc4 [Nn][G] then dω4 [Nn][G] (v128) in a chunk's accumulators
// work (i32 slots)
const W_MIX: i32 = 0; // mixture scratch: the arguments ω·U (Nn·B floats), then a term's tower (M + 2 orders)
const W_MIXG: i32 = 1; // mixture scratch: the tower adjoints G_m = ∂L/∂T_m (M + 1 orders)
const W_XB: i32 = 2;
const W_DXB: i32 = 3;
const W_DA: i32 = 4;
const W_DB: i32 = 5;
const W_STEP: i32 = 6; // CMD_STEP: this thread's step-program scratch (registers and adjoints)
const W_THREAD: i32 = 7;
const W_LAYER: i32 = 8; // LS slots per layer (WL_* below) from here
const LS: i32 = 7;
// per-layer work block (i32 slots at W_LAYER + LS·l)
const WL_U: i32 = 0; // U (current)
const WL_T: i32 = 1;
const WL_H: i32 = 2;
const WL_DW4: i32 = 3; // dW4 of the current chunk
const WL_DB4: i32 = 4; // db4 of the current chunk
const WL_USCRATCH: i32 = 5; // U scratch
const WL_DMIX4: i32 = 6; // dmix4 of the current chunk
// chunk table entry (i32 slots, CH_SLOTS per chunk)
const CH_P0: i32 = 0;
const CH_P1: i32 = 1;
const CH_ACC: i32 = 2; // accumulator base
const CH_THREAD: i32 = 3; // the thread that ran it (statistics)
const CH_SLOTS: i32 = 4;
// Faà di Bruno term record (i32 slots, T_SLOTS per term): coef (f32 bits), m, nf, f0, f1, f2, f3, unused
const T_COEF: i32 = 0;
const T_M: i32 = 1;
const T_NF: i32 = 2;
const T_F0: i32 = 3;
const T_SLOTS: i32 = 8;

const MIX_NONE: i32 = 0;
const MIX_ROWDY: i32 = 1;
const MIX_KRONECKER: i32 = 2;

// run(cmd, ...)
const CMD_FORWARD: i32 = 0;
const CMD_BACKWARD: i32 = 1;
const CMD_BACKWARD_TAPE: i32 = 2;
const CMD_STEP: i32 = 3;

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
  return f32x4.add(a, b);
}
@inline function mul(a: v128, b: v128): v128 {
  return f32x4.mul(a, b);
}
@inline function sub(a: v128, b: v128): v128 {
  return f32x4.sub(a, b);
}
@inline function splat(x: f32): v128 {
  return f32x4.splat(x);
}
@inline function madd(acc: v128, a: v128, b: v128): v128 {
  return f32x4.add(acc, f32x4.mul(a, b));
}

// ------------------------------------------------------------------ matrix kernels

/**
 * Z[j][p] = bias_j + Σ_i Wsp[i][j] · A[i][p] for j < Nn, p < B.
 * A: K rows of B floats; Z: Nn rows of B floats; Wsp: K×Nn splatted weights (v128 each);
 * bias: Nn floats, or 0 for none.
 */
function mm(A: usize, K: i32, Wsp: usize, Nn: i32, Z: usize, B: i32, bias: usize): void {
  const rowA: usize = <usize>B << 2;
  const rowW: usize = <usize>Nn << 4;
  let j = 0;
  for (; j + 4 <= Nn; j += 4) {
    let b0 = splat(0), b1 = splat(0), b2 = splat(0), b3 = splat(0);
    if (bias) {
      const bp = bias + (<usize>j << 2);
      b0 = splat(load<f32>(bp));
      b1 = splat(load<f32>(bp, 4));
      b2 = splat(load<f32>(bp, 8));
      b3 = splat(load<f32>(bp, 12));
    }
    for (let p = 0; p < B; p += 8) {
      let a00 = b0, a01 = b0, a10 = b1, a11 = b1, a20 = b2, a21 = b2, a30 = b3, a31 = b3;
      let ap = A + (<usize>p << 2);
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
      const zp = Z + ((<usize>j * <usize>B + <usize>p) << 2);
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
    const b0 = bias ? splat(load<f32>(bias + (<usize>j << 2))) : splat(0);
    for (let p = 0; p < B; p += 8) {
      let a0 = b0, a1 = b0;
      let ap = A + (<usize>p << 2);
      let wp = Wsp + (<usize>j << 4);
      for (let i = 0; i < K; i++) {
        const w0 = ld(wp);
        a0 = madd(a0, ld(ap), w0);
        a1 = madd(a1, v128.load(ap, 16), w0);
        ap += rowA;
        wp += rowW;
      }
      const zp = Z + ((<usize>j * <usize>B + <usize>p) << 2);
      st(zp, a0);
      v128.store(zp, a1, 16);
    }
  }
}

/**
 * dW4[i][j] += Σ_c Σ_p A_c[i][p] · D_c[j][p] as 4-lane partial sums.
 * A_c: K rows of B (channel stride K·B floats), D_c: Nn rows of B (stride Nn·B).
 */
function mmW(A: usize, K: i32, D: usize, Nn: i32, C: i32, B: i32, dW4: usize): void {
  const rowB: usize = <usize>B << 2;
  const strideA: usize = <usize>K * rowB;
  const strideD: usize = <usize>Nn * rowB;
  const rowW: usize = <usize>Nn << 4;
  let i = 0;
  for (; i + 2 <= K; i += 2) {
    let j = 0;
    for (; j + 4 <= Nn; j += 4) {
      let s00 = splat(0), s01 = splat(0), s02 = splat(0), s03 = splat(0);
      let s10 = splat(0), s11 = splat(0), s12 = splat(0), s13 = splat(0);
      for (let c = 0; c < C; c++) {
        const a0p = A + <usize>c * strideA + <usize>i * rowB;
        const d0p = D + <usize>c * strideD + <usize>j * rowB;
        for (let p: usize = 0; p < rowB; p += 16) {
          const a0 = ld(a0p + p);
          const a1 = ld(a0p + rowB + p);
          const d0 = ld(d0p + p);
          const d1 = ld(d0p + rowB + p);
          const d2 = ld(d0p + 2 * rowB + p);
          const d3 = ld(d0p + 3 * rowB + p);
          s00 = madd(s00, a0, d0);
          s01 = madd(s01, a0, d1);
          s02 = madd(s02, a0, d2);
          s03 = madd(s03, a0, d3);
          s10 = madd(s10, a1, d0);
          s11 = madd(s11, a1, d1);
          s12 = madd(s12, a1, d2);
          s13 = madd(s13, a1, d3);
        }
      }
      const w0 = dW4 + <usize>i * rowW + (<usize>j << 4);
      st(w0, add(ld(w0), s00));
      v128.store(w0, add(v128.load(w0, 16), s01), 16);
      v128.store(w0, add(v128.load(w0, 32), s02), 32);
      v128.store(w0, add(v128.load(w0, 48), s03), 48);
      const w1 = w0 + rowW;
      st(w1, add(ld(w1), s10));
      v128.store(w1, add(v128.load(w1, 16), s11), 16);
      v128.store(w1, add(v128.load(w1, 32), s12), 32);
      v128.store(w1, add(v128.load(w1, 48), s13), 48);
    }
    for (; j < Nn; j++) {
      let s0 = splat(0), s1 = splat(0);
      for (let c = 0; c < C; c++) {
        const a0p = A + <usize>c * strideA + <usize>i * rowB;
        const d0p = D + <usize>c * strideD + <usize>j * rowB;
        for (let p: usize = 0; p < rowB; p += 16) {
          const d0 = ld(d0p + p);
          s0 = madd(s0, ld(a0p + p), d0);
          s1 = madd(s1, ld(a0p + rowB + p), d0);
        }
      }
      const w0 = dW4 + <usize>i * rowW + (<usize>j << 4);
      st(w0, add(ld(w0), s0));
      st(w0 + rowW, add(ld(w0 + rowW), s1));
    }
  }
  for (; i < K; i++) {
    for (let j = 0; j < Nn; j++) {
      let s0 = splat(0);
      for (let c = 0; c < C; c++) {
        const a0p = A + <usize>c * strideA + <usize>i * rowB;
        const d0p = D + <usize>c * strideD + <usize>j * rowB;
        for (let p: usize = 0; p < rowB; p += 16) s0 = madd(s0, ld(a0p + p), ld(d0p + p));
      }
      const w0 = dW4 + <usize>i * rowW + (<usize>j << 4);
      st(w0, add(ld(w0), s0));
    }
  }
}

/** acc4[j] += Σ_p D[j][p] (4-lane partial sums), j < Nn. */
function rowSums(D: usize, Nn: i32, B: i32, acc4: usize): void {
  const rowB: usize = <usize>B << 2;
  for (let j = 0; j < Nn; j++) {
    let s = splat(0);
    const dp = D + <usize>j * rowB;
    for (let p: usize = 0; p < rowB; p += 16) s = add(s, ld(dp + p));
    const q = acc4 + (<usize>j << 4);
    st(q, add(ld(q), s));
  }
}

// ------------------------------------------------------------------ activations

// Activation ids: the index in src/base/activations.ts's list (src/kernel/layout.ts; test/kernel-layout.test.ts checks).
const ACT_TANH = 0;
const ACT_SIN = 1;
const ACT_COS = 2;
const ACT_SIGMOID = 3;
const ACT_SOFTPLUS = 4;
const ACT_SILU = 5;
const ACT_GELU = 6;
const ACT_ELU = 7;
const ACT_RELU = 8;
const ACT_LEAKY_RELU = 9;

/**
 * tanh in f32x4 by a [13/6] rational approximation on [−7.905, 7.905] (clamped outside,
 * where tanh rounds to ±1 in float32), x itself for |x| < 4e-4. Error: see the kernel
 * tests (max |error| vs Math.tanh is a few float32 ulps).
 */
@inline function tanhv(u: v128): v128 {
  const x = f32x4.min(f32x4.max(u, splat(-7.90531110763549805)), splat(7.90531110763549805));
  const x2 = mul(x, x);
  const x4 = mul(x2, x2);
  const x8 = mul(x4, x4);
  // Estrin's scheme (short dependency chains; the loop below interleaves two vectors)
  const p01 = madd(splat(4.89352455891786e-3), x2, splat(6.37261928875436e-4));
  const p23 = madd(splat(1.48572235717979e-5), x2, splat(5.12229709037114e-8));
  const p45 = madd(splat(-8.60467152213735e-11), x2, splat(2.00018790482477e-13));
  const p03 = madd(p01, x4, p23);
  const p46 = madd(p45, x4, splat(-2.76076847742355e-16));
  const p = mul(madd(p03, x8, p46), x);
  const q01 = madd(splat(4.89352518554385e-3), x2, splat(2.26843463243900e-3));
  const q23 = madd(splat(1.18534705686654e-4), x2, splat(1.19825839466702e-6));
  const q = madd(q01, x4, q23);
  const r = f32x4.div(p, q);
  const au = f32x4.abs(u);
  // ±1 beyond the clamp (float32 tanh is within 3e-7 of 1 there), u itself near 0
  const one = v128.or(v128.and(u, i32x4.splat(0x80000000)), splat(1));
  const big = f32x4.ge(au, splat(7.90531110763549805));
  return v128.bitselect(u, v128.bitselect(one, r, big), f32x4.lt(au, splat(0.0004)));
}

/** The tanh tower for one vector: σ^(m) = P_m(t), factored as in src/nn/activations.ts. */
@inline function tanhTowerAt(T: usize, stride: usize, e: usize, u: v128, M1: i32): void {
  const t = tanhv(u);
  st(T + e, t);
  if (M1 < 1) return;
  const t2 = mul(t, t);
  const p = sub(splat(1), t2);
  st(T + stride + e, p);
  if (M1 < 2) return;
  const tp = mul(t, p);
  st(T + 2 * stride + e, mul(tp, splat(-2)));
  if (M1 < 3) return;
  st(T + 3 * stride + e, mul(p, sub(mul(t2, splat(6)), splat(2))));
  if (M1 < 4) return;
  st(T + 4 * stride + e, mul(tp, sub(splat(16), mul(t2, splat(24)))));
  if (M1 < 5) return;
  // tanh^(5) = p (16 − 120 t² + 120 t⁴) = p (16 − 120 p + 120 p²)
  st(T + 5 * stride + e, mul(p, add(sub(splat(16), mul(p, splat(120))), mul(mul(p, p), splat(120)))));
}

@inline function sigmoidf(u: f32): f32 {
  if (u >= 0) return 1 / (1 + Mathf.exp(-u));
  const e = Mathf.exp(u);
  return e / (1 + e);
}

/** Abramowitz–Stegun 7.1.26, |error| ≤ 1.5e-7 (the approximation tfjs's erf kernels use). */
function erff(x: f32): f32 {
  const ax = Mathf.abs(x);
  const t: f32 = 1 / (1 + <f32>0.3275911 * ax);
  const y: f32 = 1 - ((((<f32>1.061405429 * t - <f32>1.453152027) * t + <f32>1.421413741) * t - <f32>0.284496736) * t + <f32>0.254829592) * t * Mathf.exp(-ax * ax);
  return x < 0 ? -y : y;
}

/** Sigmoid tower values S_0..S_k at s (factored forms as in src/nn/activations.ts). */
@inline function sigmoidLevel(s: f32, c: f32, q: f32, k: i32): f32 {
  switch (k) {
    case 0: return s;
    case 1: return q;
    case 2: return q * (c - s);
    case 3: return q * (1 - 6 * q);
    case 4: return q * (c - s) * (1 - 12 * q);
    default: return q * (1 - 30 * q + 120 * q * q); // 5
  }
}

/**
 * T_m[e] = σ^(m)(U[e]) for m = 0..M1 (M1 ≤ 5), e < count (a multiple of 4);
 * T_m at T + m·count floats.
 */
function tower(act: i32, U: usize, T: usize, count: i32, M1: i32): void {
  const stride: usize = <usize>count << 2;
  if (act == ACT_TANH) {
    let e: usize = 0;
    // two vectors per iteration: independent chains overlap
    for (; e + 32 <= stride; e += 32) {
      const u0 = ld(U + e);
      const u1 = v128.load(U + e, 16);
      tanhTowerAt(T, stride, e, u0, M1);
      tanhTowerAt(T, stride, e + 16, u1, M1);
    }
    for (; e < stride; e += 16) tanhTowerAt(T, stride, e, ld(U + e), M1);
    return;
  }
  if (act == ACT_SIN || act == ACT_COS) {
    // sin and cos once per element (the same numbers as evaluating them per order)
    const shift = act == ACT_COS ? 1 : 0;
    for (let e: usize = 0; e < stride; e += 4) {
      const u = load<f32>(U + e);
      const s = Mathf.sin(u);
      const c = Mathf.cos(u);
      for (let m = 0; m <= M1; m++) {
        const k = (m + shift) & 3;
        store<f32>(T + <usize>m * stride + e, k == 0 ? s : k == 1 ? c : k == 2 ? -s : -c);
      }
    }
    return;
  }
  for (let e: usize = 0; e < stride; e += 4) {
    const u = load<f32>(U + e);
    for (let m = 0; m <= M1; m++) {
      let v: f32 = 0;
      switch (act) {
        case ACT_SIGMOID: {
          const s = sigmoidf(u);
          const c = sigmoidf(-u);
          v = sigmoidLevel(s, c, s * c, m);
          break;
        }
        case ACT_SOFTPLUS: {
          if (m == 0) v = Mathf.max(u, 0) + Mathf.log1p(Mathf.exp(-Mathf.abs(u)));
          else {
            const s = sigmoidf(u);
            const c = sigmoidf(-u);
            v = sigmoidLevel(s, c, s * c, m - 1);
          }
          break;
        }
        case ACT_SILU: {
          const s = sigmoidf(u);
          const c = sigmoidf(-u);
          const q = s * c;
          v = m == 0 ? u * s : u * sigmoidLevel(s, c, q, m) + <f32>m * sigmoidLevel(s, c, q, m - 1);
          break;
        }
        case ACT_GELU: {
          const Phi: f32 = 0.5 * (erff(u * <f32>0.7071067811865476) + 1);
          const phi: f32 = Mathf.exp(-0.5 * u * u) * <f32>0.3989422804014327;
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
          else v = m == 0 ? Mathf.exp(u) - 1 : Mathf.exp(u);
          break;
        }
        case ACT_RELU: {
          v = m == 0 ? (u > 0 ? u : 0) : m == 1 ? (u > 0 ? 1 : 0) : 0;
          break;
        }
        case ACT_LEAKY_RELU: {
          v = m == 0 ? (u > 0 ? u : <f32>0.01 * u) : m == 1 ? (u > 0 ? 1 : <f32>0.01) : 0;
          break;
        }
        default: v = 0;
      }
      store<f32>(T + <usize>m * stride + e, v);
    }
  }
}

// ------------------------------------------------------------------ Faà di Bruno

// term record: T_SLOTS i32 slots (see the descriptor layout above)
@inline function termCoef(t: usize): f32 {
  return load<f32>(t, T_COEF << 2);
}

/** H_0 = T_0; H_c = Σ_terms coef T_m Π U_f (c ≥ 1). Channel stride = count floats. */
function faaForward(C: i32, terms: usize, tstart: usize, U: usize, T: usize, H: usize, count: i32): void {
  const stride: usize = <usize>count << 2;
  memory.copy(H, T, stride);
  for (let c = 1; c < C; c++) {
    const Hc = H + <usize>c * stride;
    const k0 = geti(tstart, c);
    const t1 = geti(tstart, c + 1);
    if (k0 == t1) memory.fill(Hc, 0, stride);
    for (let k = k0; k < t1; k++) {
      const t = terms + (<usize>k << 5);
      const coef = splat(termCoef(t));
      const Tm = T + <usize>load<i32>(t, T_M << 2) * stride;
      const nf = load<i32>(t, T_NF << 2);
      const F0 = U + <usize>load<i32>(t, T_F0 << 2) * stride;
      const F1 = U + <usize>load<i32>(t, (T_F0 + 1) << 2) * stride;
      const F2 = U + <usize>load<i32>(t, (T_F0 + 2) << 2) * stride;
      const F3 = U + <usize>load<i32>(t, (T_F0 + 3) << 2) * stride;
      // the first term writes, the others add
      const first = k == k0;
      if (nf == 1) {
        if (first) for (let e: usize = 0; e < stride; e += 16) st(Hc + e, mul(mul(coef, ld(Tm + e)), ld(F0 + e)));
        else for (let e: usize = 0; e < stride; e += 16) st(Hc + e, madd(ld(Hc + e), mul(coef, ld(Tm + e)), ld(F0 + e)));
      } else if (nf == 2) {
        if (first) for (let e: usize = 0; e < stride; e += 16) st(Hc + e, mul(mul(coef, ld(Tm + e)), mul(ld(F0 + e), ld(F1 + e))));
        else for (let e: usize = 0; e < stride; e += 16) st(Hc + e, madd(ld(Hc + e), mul(coef, ld(Tm + e)), mul(ld(F0 + e), ld(F1 + e))));
      } else if (nf == 3) {
        if (first) for (let e: usize = 0; e < stride; e += 16) st(Hc + e, mul(mul(coef, ld(Tm + e)), mul(mul(ld(F0 + e), ld(F1 + e)), ld(F2 + e))));
        else for (let e: usize = 0; e < stride; e += 16) st(Hc + e, madd(ld(Hc + e), mul(coef, ld(Tm + e)), mul(mul(ld(F0 + e), ld(F1 + e)), ld(F2 + e))));
      } else {
        if (first) for (let e: usize = 0; e < stride; e += 16) st(Hc + e, mul(mul(coef, ld(Tm + e)), mul(mul(ld(F0 + e), ld(F1 + e)), mul(ld(F2 + e), ld(F3 + e)))));
        else for (let e: usize = 0; e < stride; e += 16) st(Hc + e, madd(ld(Hc + e), mul(coef, ld(Tm + e)), mul(mul(ld(F0 + e), ld(F1 + e)), mul(ld(F2 + e), ld(F3 + e)))));
      }
    }
  }
}

/**
 * Given dH (all channels), dU_0 = T_1 dH_0 + Σ_terms coef T_{m+1} Π U_f dH_c and
 * dU_f += coef T_m Π_{other factors} U dH_c. dU is overwritten.
 */
function faaBackward(C: i32, terms: usize, tstart: usize, U: usize, T: usize, dH: usize, dU: usize, count: i32): void {
  const stride: usize = <usize>count << 2;
  for (let e: usize = 0; e < stride; e += 16) st(dU + e, mul(ld(T + stride + e), ld(dH + e)));
  if (C > 1) memory.fill(dU + stride, 0, <usize>(C - 1) * stride);
  for (let c = 1; c < C; c++) {
    const dHc = dH + <usize>c * stride;
    const t1 = geti(tstart, c + 1);
    for (let k = geti(tstart, c); k < t1; k++) {
      const t = terms + (<usize>k << 5);
      const coef = splat(termCoef(t));
      const m = <usize>load<i32>(t, T_M << 2);
      const Tm = T + m * stride;
      const Tm1 = Tm + stride;
      const nf = load<i32>(t, T_NF << 2);
      const f0 = <usize>load<i32>(t, T_F0 << 2) * stride;
      const f1 = <usize>load<i32>(t, (T_F0 + 1) << 2) * stride;
      const f2 = <usize>load<i32>(t, (T_F0 + 2) << 2) * stride;
      const f3 = <usize>load<i32>(t, (T_F0 + 3) << 2) * stride;
      if (nf == 1) {
        for (let e: usize = 0; e < stride; e += 16) {
          const g = mul(coef, ld(dHc + e));
          const u0 = ld(U + f0 + e);
          st(dU + e, madd(ld(dU + e), mul(g, ld(Tm1 + e)), u0));
          st(dU + f0 + e, madd(ld(dU + f0 + e), g, ld(Tm + e)));
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

// ------------------------------------------------------------------ Rowdy / Kronecker mixtures

/*
 * A mixture layer's activation is a sum of terms c·f(ω u) (src/nn/rowdy.ts): Rowdy adds
 * G = K − 1 sinusoids to the base σ, Kronecker is the sum of its G terms alone. Each
 * neuron j has its own c_jk, ω_jk (the caller tiles per-layer coefficients), so a term
 * contributes c_jk ω_jk^m f_k^(m)(ω_jk u) to the layer's tower T_m, and everything
 * downstream (Faà di Bruno forward and backward, which reads T_{m+1} as ∂T_m/∂u) works
 * on the summed tower unchanged. The coefficients' gradients need the tower adjoints
 * G_m = ∂L/∂T_m:
 *   ∂L/∂c  = Σ_p Σ_m G_m ω^m f^(m)(ω u)
 *   ∂L/∂ω  = c Σ_p Σ_m G_m (m ω^(m−1) f^(m)(ω u) + ω^m u f^(m+1)(ω u))
 * accumulated per neuron and term as 4-lane partial sums (dc4, dω4), like dW4 and db4.
 */

// Cody–Waite π/2 in three parts (cephes sinf's DP1..3, doubled): q·P1 and q·P2 are exact
// for |q| < 2^13, so the vector sincos below is used for |x| ≤ SINCOS_MAX.
const PIO2_1: f32 = 1.5703125;
const PIO2_2: f32 = 4.837512969970703125e-4;
const PIO2_3: f32 = 7.54978995489188216e-8;
const SINCOS_MAX: f32 = 8192;

/**
 * A mixture term's tower T_m = f^(m)(A), m ≤ M1: sin and cos by a SIMD sincos (Cody–Waite
 * reduction, cephes sinf/cosf polynomials on [−π/4, π/4]; a vector with a lane beyond
 * SINCOS_MAX, or NaN, takes the scalar Mathf path), every other function by tower().
 * (The plain sin/cos activation keeps the scalar tower(): plain nets' numbers are unchanged.)
 */
function termTower(fn: i32, A: usize, T: usize, count: i32, M1: i32): void {
  if (fn != ACT_SIN && fn != ACT_COS) {
    tower(fn, A, T, count, M1);
    return;
  }
  const stride: usize = <usize>count << 2;
  const shift = fn == ACT_COS ? 1 : 0;
  const sign = i32x4.splat(0x80000000);
  for (let e: usize = 0; e < stride; e += 16) {
    const x = ld(A + e);
    let s: v128, c: v128;
    if (v128.any_true(v128.not(f32x4.le(f32x4.abs(x), splat(SINCOS_MAX))))) {
      s = f32x4.splat(0);
      c = f32x4.splat(0);
      s = f32x4.replace_lane(s, 0, Mathf.sin(f32x4.extract_lane(x, 0)));
      s = f32x4.replace_lane(s, 1, Mathf.sin(f32x4.extract_lane(x, 1)));
      s = f32x4.replace_lane(s, 2, Mathf.sin(f32x4.extract_lane(x, 2)));
      s = f32x4.replace_lane(s, 3, Mathf.sin(f32x4.extract_lane(x, 3)));
      c = f32x4.replace_lane(c, 0, Mathf.cos(f32x4.extract_lane(x, 0)));
      c = f32x4.replace_lane(c, 1, Mathf.cos(f32x4.extract_lane(x, 1)));
      c = f32x4.replace_lane(c, 2, Mathf.cos(f32x4.extract_lane(x, 2)));
      c = f32x4.replace_lane(c, 3, Mathf.cos(f32x4.extract_lane(x, 3)));
    } else {
      const q = f32x4.nearest(mul(x, splat(0.636619772367581343)));
      const r = sub(sub(sub(x, mul(q, splat(PIO2_1))), mul(q, splat(PIO2_2))), mul(q, splat(PIO2_3)));
      const z = mul(r, r);
      // sin r = r + r z (−1.6666654611e-1 + z (8.3321608736e-3 − 1.9515295891e-4 z))
      const ps = madd(splat(-1.6666654611e-1), z, madd(splat(8.3321608736e-3), z, splat(-1.9515295891e-4)));
      const sr = madd(r, mul(r, z), ps);
      // cos r = 1 − z/2 + z² (4.166664568298827e-2 + z (−1.388731625493765e-3 + 2.443315711809948e-5 z))
      const pc = madd(splat(4.166664568298827e-2), z, madd(splat(-1.388731625493765e-3), z, splat(2.443315711809948e-5)));
      const cr = madd(sub(splat(1), mul(z, splat(0.5))), mul(z, z), pc);
      // quadrant q mod 4: sin x = (sr, cr, −sr, −cr), cos x = (cr, −sr, −cr, sr)
      const qi = i32x4.trunc_sat_f32x4_s(q);
      const swap = i32x4.eq(v128.and(qi, i32x4.splat(1)), i32x4.splat(1));
      s = v128.xor(v128.bitselect(cr, sr, swap), v128.and(i32x4.shl(qi, 30), sign));
      c = v128.xor(v128.bitselect(sr, cr, swap), v128.and(i32x4.shl(i32x4.add(qi, i32x4.splat(1)), 30), sign));
    }
    const ns = v128.xor(s, sign);
    const nc = v128.xor(c, sign);
    for (let m = 0; m <= M1; m++) {
      const k = (m + shift) & 3;
      st(T + <usize>m * stride + e, k == 0 ? s : k == 1 ? c : k == 2 ? ns : nc);
    }
  }
}

/** The mixture term tower on its own (tests). */
export function termTowerOnly(fn: i32, U: usize, T: usize, count: i32, M1: i32): void {
  termTower(fn, U, T, count, M1);
}

/** A[j][p] = ω_jk · U[j][p] (term k's arguments). */
function mixArg(U: usize, A: usize, wP: usize, k: i32, G: i32, Nn: i32, rowB: usize): void {
  for (let j = 0; j < Nn; j++) {
    const w = splat(load<f32>(wP + (<usize>(j * G + k) << 2)));
    const row = <usize>j * rowB;
    for (let p: usize = 0; p < rowB; p += 16) st(A + row + p, mul(w, ld(U + row + p)));
  }
}

/**
 * Hidden layer ln's tower T_m, m ≤ M1, at U (Nn rows of B): the base σ (plain, Rowdy)
 * plus Σ_k c_jk ω_jk^m f_k^(m)(ω_jk U) (Rowdy, Kronecker).
 */
function layerTower(net: usize, work: usize, ln: usize, U: usize, T: usize, Nn: i32, B: i32, M1: i32): void {
  const mix = geti(net, N_MIX);
  const count = Nn * B;
  if (mix != MIX_KRONECKER) tower(geti(net, N_ACT), U, T, count, M1);
  if (mix == MIX_NONE) return;
  const stride: usize = <usize>count << 2;
  const rowB: usize = <usize>B << 2;
  if (mix == MIX_KRONECKER) memory.fill(T, 0, <usize>(M1 + 1) * stride);
  const G = geti(net, N_MIXG);
  const fns = getp(net, N_MIXFN);
  const cP = <usize>load<u32>(ln, L_COEF << 2);
  const wP = cP + (<usize>(Nn * G) << 2);
  const A = getp(work, W_MIX);
  const Tk = A + stride;
  for (let k = 0; k < G; k++) {
    mixArg(U, A, wP, k, G, Nn, rowB);
    termTower(load<i32>(fns + (<usize>k << 2)), A, Tk, count, M1);
    for (let j = 0; j < Nn; j++) {
      const e = <usize>(j * G + k) << 2;
      const c = load<f32>(cP + e);
      const w = load<f32>(wP + e);
      const row = <usize>j * rowB;
      let wm: f32 = 1;
      for (let m = 0; m <= M1; m++) {
        if (m == 1) wm = w;
        else if (m > 1) wm *= w;
        const cm = splat(m == 0 ? c : c * wm);
        const Tm = T + <usize>m * stride + row;
        const Km = Tk + <usize>m * stride + row;
        for (let p: usize = 0; p < rowB; p += 16) st(Tm + p, madd(ld(Tm + p), cm, ld(Km + p)));
      }
    }
  }
}

/** G_0 = dH_0, G_m = Σ_{c ≥ 1} Σ_{terms of order m} coef Π U_f dH_c (m ≤ M): ∂L/∂T_m. */
function towerAdjoint(C: i32, terms: usize, tstart: usize, U: usize, dH: usize, Gs: usize, count: i32, M: i32): void {
  const stride: usize = <usize>count << 2;
  memory.copy(Gs, dH, stride);
  if (M > 0) memory.fill(Gs + stride, 0, <usize>M * stride);
  for (let c = 1; c < C; c++) {
    const dHc = dH + <usize>c * stride;
    const t1 = geti(tstart, c + 1);
    for (let k = geti(tstart, c); k < t1; k++) {
      const t = terms + (<usize>k << 5);
      const coef = splat(termCoef(t));
      const Gm = Gs + <usize>load<i32>(t, T_M << 2) * stride;
      const nf = load<i32>(t, T_NF << 2);
      const F0 = U + <usize>load<i32>(t, T_F0 << 2) * stride;
      const F1 = U + <usize>load<i32>(t, (T_F0 + 1) << 2) * stride;
      const F2 = U + <usize>load<i32>(t, (T_F0 + 2) << 2) * stride;
      const F3 = U + <usize>load<i32>(t, (T_F0 + 3) << 2) * stride;
      if (nf == 1) for (let e: usize = 0; e < stride; e += 16) st(Gm + e, madd(ld(Gm + e), mul(coef, ld(dHc + e)), ld(F0 + e)));
      else if (nf == 2) for (let e: usize = 0; e < stride; e += 16) st(Gm + e, madd(ld(Gm + e), mul(coef, ld(dHc + e)), mul(ld(F0 + e), ld(F1 + e))));
      else if (nf == 3) for (let e: usize = 0; e < stride; e += 16) st(Gm + e, madd(ld(Gm + e), mul(coef, ld(dHc + e)), mul(mul(ld(F0 + e), ld(F1 + e)), ld(F2 + e))));
      else for (let e: usize = 0; e < stride; e += 16) st(Gm + e, madd(ld(Gm + e), mul(coef, ld(dHc + e)), mul(mul(ld(F0 + e), ld(F1 + e)), mul(ld(F2 + e), ld(F3 + e)))));
    }
  }
}

/** Accumulate ∂L/∂c and ∂L/∂ω of hidden layer ln's mixture terms (dmix4) from its dH and U. */
function mixBackward(net: usize, work: usize, ln: usize, lw: usize, U: usize, dH: usize, Nn: i32, B: i32): void {
  const C = geti(net, N_C);
  const M = geti(net, N_M);
  const count = Nn * B;
  const stride: usize = <usize>count << 2;
  const rowB: usize = <usize>B << 2;
  const Gs = getp(work, W_MIXG);
  towerAdjoint(C, getp(net, N_TERMS), getp(net, N_TSTART), U, dH, Gs, count, M);
  const G = geti(net, N_MIXG);
  const fns = getp(net, N_MIXFN);
  const cP = <usize>load<u32>(ln, L_COEF << 2);
  const wP = cP + (<usize>(Nn * G) << 2);
  const dc4 = <usize>load<u32>(lw, WL_DMIX4 << 2);
  const dw4 = dc4 + (<usize>(Nn * G) << 4);
  const A = getp(work, W_MIX);
  const Tk = A + stride;
  for (let k = 0; k < G; k++) {
    mixArg(U, A, wP, k, G, Nn, rowB);
    termTower(load<i32>(fns + (<usize>k << 2)), A, Tk, count, M + 1);
    for (let j = 0; j < Nn; j++) {
      const e = <usize>(j * G + k);
      const c = load<f32>(cP + (e << 2));
      const w = load<f32>(wP + (e << 2));
      const row = <usize>j * rowB;
      const Ur = U + row;
      let sa = splat(0), sb = splat(0);
      let wm: f32 = 1; // ω^m
      let dwm: f32 = 0; // m ω^(m−1)
      for (let m = 0; m <= M; m++) {
        if (m >= 1) {
          dwm = <f32>m * wm;
          wm = m == 1 ? w : wm * w;
        }
        const swm = splat(wm);
        const sdw = splat(dwm);
        const Gm = Gs + <usize>m * stride + row;
        const Km = Tk + <usize>m * stride + row;
        const Km1 = Km + stride;
        for (let p: usize = 0; p < rowB; p += 16) {
          const g = ld(Gm + p);
          const km = ld(Km + p);
          sa = madd(sa, g, mul(swm, km));
          sb = madd(sb, g, madd(mul(sdw, km), swm, mul(ld(Ur + p), ld(Km1 + p))));
        }
      }
      const qa = dc4 + (e << 4);
      st(qa, add(ld(qa), sa));
      const qb = dw4 + (e << 4);
      st(qb, madd(ld(qb), splat(c), sb));
    }
  }
}

// ------------------------------------------------------------------ driver

/** Forward pass of one block; towers up to order M1. Leaves U, T, H of every layer in scratch. */
function forwardBlock(net: usize, work: usize, M1: i32): void {
  const d = geti(net, N_D);
  const L = geti(net, N_L);
  const C = geti(net, N_C);
  const B = geti(net, N_B);
  const terms = getp(net, N_TERMS);
  const tstart = getp(net, N_TSTART);
  const seed = getp(net, N_SEED);
  const rowB: usize = <usize>B << 2;
  for (let l = 0; l <= L; l++) {
    const ln = net + (<usize>(N_LAYER + NLS * l) << 2);
    const K = load<i32>(ln, L_K << 2);
    const Nn = load<i32>(ln, L_NN << 2);
    const Wsp = <usize>load<u32>(ln, L_WSP << 2);
    const bias = <usize>load<u32>(ln, L_BIAS << 2);
    const Wp = <usize>load<u32>(ln, L_W << 2);
    const lw = work + (<usize>(W_LAYER + LS * l) << 2);
    const U = <usize>load<u32>(lw, WL_U << 2);
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
          const w = splat(load<f32>(Wp + ((<usize>i * <usize>Nn + <usize>j) << 2)));
          const row = Uc + <usize>j * rowB;
          for (let p: usize = 0; p < rowB; p += 16) st(row + p, w);
        }
      }
    } else {
      const prev = work + (<usize>(W_LAYER + LS * (l - 1)) << 2);
      const Hp = <usize>load<u32>(prev, WL_H << 2);
      const prevStride: usize = <usize>K * rowB;
      for (let c = 0; c < C; c++) mm(Hp + <usize>c * prevStride, K, Wsp, Nn, U + <usize>c * chanStride, B, c == 0 ? bias : 0);
    }
    if (l < L) {
      const T = <usize>load<u32>(lw, WL_T << 2);
      const H = <usize>load<u32>(lw, WL_H << 2);
      const count = Nn * B;
      layerTower(net, work, ln, U, T, Nn, B, M1);
      faaForward(C, terms, tstart, U, T, H, count);
    }
  }
}

/** Towers (to order M1) and H of every hidden layer from U already on the tape (no matmuls). */
function refreshBlock(net: usize, work: usize, M1: i32): void {
  const L = geti(net, N_L);
  const C = geti(net, N_C);
  const B = geti(net, N_B);
  const terms = getp(net, N_TERMS);
  const tstart = getp(net, N_TSTART);
  for (let l = 0; l < L; l++) {
    const ln = net + (<usize>(N_LAYER + NLS * l) << 2);
    const Nn = load<i32>(ln, L_NN << 2);
    const lw = work + (<usize>(W_LAYER + LS * l) << 2);
    const U = <usize>load<u32>(lw, WL_U << 2);
    const T = <usize>load<u32>(lw, WL_T << 2);
    const H = <usize>load<u32>(lw, WL_H << 2);
    layerTower(net, work, ln, U, T, Nn, B, M1);
    faaForward(C, terms, tstart, U, T, H, Nn * B);
  }
}

/** Backward pass of one block (after forwardBlock or refreshBlock with M1 = M + 1); dZ of the output in dA. */
function backwardBlock(net: usize, work: usize): void {
  const d = geti(net, N_D);
  const L = geti(net, N_L);
  const C = geti(net, N_C);
  const B = geti(net, N_B);
  const terms = getp(net, N_TERMS);
  const tstart = getp(net, N_TSTART);
  const seed = getp(net, N_SEED);
  const mix = geti(net, N_MIX);
  const rowB: usize = <usize>B << 2;
  let dZ = getp(work, W_DA);
  let dH = getp(work, W_DB);
  for (let l = L; l >= 0; l--) {
    const ln = net + (<usize>(N_LAYER + NLS * l) << 2);
    const K = load<i32>(ln, L_K << 2);
    const Nn = load<i32>(ln, L_NN << 2);
    const WTsp = <usize>load<u32>(ln, L_WTSP << 2);
    const lw = work + (<usize>(W_LAYER + LS * l) << 2);
    const dW4 = <usize>load<u32>(lw, WL_DW4 << 2);
    const db4 = <usize>load<u32>(lw, WL_DB4 << 2);
    const chanStride: usize = <usize>Nn * rowB;
    rowSums(dZ, Nn, B, db4);
    if (l > 0) {
      const prev = work + (<usize>(W_LAYER + LS * (l - 1)) << 2);
      const Hp = <usize>load<u32>(prev, WL_H << 2);
      const prevStride: usize = <usize>K * rowB;
      mmW(Hp, K, dZ, Nn, C, B, dW4);
      for (let c = 0; c < C; c++) mm(dZ + <usize>c * chanStride, Nn, WTsp, K, dH + <usize>c * prevStride, B, 0);
      const Up = <usize>load<u32>(prev, WL_U << 2);
      const Tp = <usize>load<u32>(prev, WL_T << 2);
      faaBackward(C, terms, tstart, Up, Tp, dH, dZ, K * B);
      if (mix != MIX_NONE) mixBackward(net, work, net + (<usize>(N_LAYER + NLS * (l - 1)) << 2), prev, Up, dH, K, B);
    } else {
      mmW(getp(work, W_XB), d, dZ, Nn, 1, B, dW4);
      for (let c = 1; c < C; c++) {
        const i = geti(seed, c);
        if (i >= 0) rowSums(dZ + <usize>c * chanStride, Nn, B, dW4 + <usize>i * (<usize>Nn << 4));
      }
      const dXg = getp(net, N_DX);
      if (dXg) mm(dZ, Nn, WTsp, d, getp(work, W_DXB), B, 0);
    }
  }
}

/**
 * cmd 0: forward — Y[c][p][o] (Y = net's N_Y, [C][N][out]); with a tape (N_TAPE), every
 *   block's hidden-layer jets U stay there for cmd 2.
 * cmd 1: backward — dY in net's N_Y; recomputes each block's forward pass, accumulates
 *   every chunk's dW4/db4 in the chunk's own accumulators and writes dX[p][i] when net's
 *   N_DX is set.
 * cmd 2: backward from the tape of the cmd 0 call just before (same layout): only the
 *   towers and H are recomputed, not the matrix products.
 * cmd 3: the whole step (src/step/whole.ts): per block the forward pass (towers to M + 1),
 *   then the step program on the block's rows (assembly/step.ts stepBlock32: residuals,
 *   Σ r² and ∂J/∂Y into dA, Σ r² and ∂J/∂(unknown parameters) into the chunk's
 *   accumulators), then the backward pass as cmd 1. Needs N_STEP, W_STEP and no tape.
 * Threads take chunks in turn; a chunk's results do not depend on which thread ran it, so
 * the caller's fixed-order sum over chunks is the same for any number of threads.
 */
export function run(cmd: i32, net: usize, work: usize): void {
  const d = geti(net, N_D);
  const L = geti(net, N_L);
  const out = geti(net, N_OUT);
  const C = geti(net, N_C);
  const M = geti(net, N_M);
  const B = geti(net, N_B);
  const N = geti(net, N_N);
  const Xg = getp(net, N_X);
  const Yg = getp(net, N_Y);
  const dXg = getp(net, N_DX);
  const K = geti(net, N_CHUNKS);
  const chunks = getp(net, N_CHUNKTAB);
  const counter = getp(net, N_COUNTER);
  const tape = getp(net, N_TAPE);
  const tapeBlk = getp(net, N_TAPEBLK);
  const accBytes = getp(net, N_ACCBYTES);
  const Xb = getp(work, W_XB);
  const rowB: usize = <usize>B << 2;
  const outLayer = work + (<usize>(W_LAYER + LS * L) << 2);
  const Yb = cmd == CMD_FORWARD ? <usize>load<u32>(outLayer, WL_U << 2) : getp(work, W_DA);
  for (;;) {
    const k = atomic.add<i32>(counter, 1);
    if (k >= K) break;
    const ce = chunks + (<usize>k << 4);
    const c0 = load<i32>(ce, CH_P0 << 2);
    const c1 = load<i32>(ce, CH_P1 << 2);
    const acc = <usize>load<u32>(ce, CH_ACC << 2);
    store<i32>(ce, geti(work, W_THREAD), CH_THREAD << 2); // who ran it (statistics)
    if (cmd != CMD_FORWARD) {
      memory.fill(acc, 0, accBytes);
      for (let l = 0; l <= L; l++) {
        const ln = net + (<usize>(N_LAYER + NLS * l) << 2);
        const lw = work + (<usize>(W_LAYER + LS * l) << 2);
        store<u32>(lw, <u32>(acc + <usize>load<u32>(ln, L_DW4 << 2)), WL_DW4 << 2);
        store<u32>(lw, <u32>(acc + <usize>load<u32>(ln, L_DB4 << 2)), WL_DB4 << 2);
        store<u32>(lw, <u32>(acc + <usize>load<u32>(ln, L_DMIX4 << 2)), WL_DMIX4 << 2);
      }
    }
    for (let p0 = c0; p0 < c1; p0 += B) {
      const n = min(B, c1 - p0);
      for (let l = 0; l < L; l++) {
        const lw = work + (<usize>(W_LAYER + LS * l) << 2);
        const U = tape
          ? tape + <usize>(p0 / B) * tapeBlk + <usize>load<u32>(net + (<usize>(N_LAYER + NLS * l) << 2), L_UOFF << 2)
          : <usize>load<u32>(lw, WL_USCRATCH << 2);
        store<u32>(lw, <u32>U, WL_U << 2);
      }
      // inputs, feature-major, zero padded
      memory.fill(Xb, 0, <usize>d * rowB);
      for (let p = 0; p < n; p++) {
        for (let i = 0; i < d; i++) {
          store<f32>(Xb + <usize>i * rowB + (<usize>p << 2), load<f32>(Xg + ((<usize>(p0 + p) * <usize>d + <usize>i) << 2)));
        }
      }
      if (cmd == CMD_FORWARD) {
        forwardBlock(net, work, M);
        for (let c = 0; c < C; c++) {
          for (let o = 0; o < out; o++) {
            const src = Yb + ((<usize>(c * out + o) * <usize>B) << 2);
            for (let p = 0; p < n; p++) {
              store<f32>(Yg + ((((<usize>c * <usize>N + <usize>(p0 + p)) * <usize>out) + <usize>o) << 2), load<f32>(src + (<usize>p << 2)));
            }
          }
        }
      } else {
        if (cmd == CMD_BACKWARD_TAPE) refreshBlock(net, work, M + 1);
        else forwardBlock(net, work, M + 1);
        memory.fill(Yb, 0, <usize>(C * out) * rowB);
        if (cmd == CMD_STEP) {
          stepBlock32(getp(net, N_STEP), getp(work, W_STEP), acc, p0, n, <usize>load<u32>(outLayer, WL_U << 2), Yb, B);
        } else {
          for (let c = 0; c < C; c++) {
            for (let o = 0; o < out; o++) {
              const dst = Yb + ((<usize>(c * out + o) * <usize>B) << 2);
              for (let p = 0; p < n; p++) {
                store<f32>(dst + (<usize>p << 2), load<f32>(Yg + ((((<usize>c * <usize>N + <usize>(p0 + p)) * <usize>out) + <usize>o) << 2)));
              }
            }
          }
        }
        backwardBlock(net, work);
        if (dXg) {
          const dXb = getp(work, W_DXB);
          for (let p = 0; p < n; p++) {
            for (let i = 0; i < d; i++) {
              store<f32>(dXg + ((<usize>(p0 + p) * <usize>d + <usize>i) << 2), load<f32>(dXb + <usize>i * rowB + (<usize>p << 2)));
            }
          }
        }
      }
    }
  }
}

/**
 * The gradient entries e < n of every chunk's accumulators (4-lane partial sums, 16 bytes
 * each) summed into out (f64): per entry its lanes in order, then the chunks in their fixed
 * order, in float64 — the arithmetic of the JavaScript loop it replaces (fused.ts).
 */
export function reducePartials(chunks: usize, K: i32, n: i32, out: usize): void {
  memory.fill(out, 0, <usize>n << 3);
  for (let k = 0; k < K; k++) {
    const acc = <usize>load<u32>(chunks + (<usize>k << 4), CH_ACC << 2);
    for (let e = 0; e < n; e++) {
      const p = acc + (<usize>e << 4);
      const s = <f64>load<f32>(p) + <f64>load<f32>(p, 4) + <f64>load<f32>(p, 8) + <f64>load<f32>(p, 12);
      const q = out + (<usize>e << 3);
      store<f64>(q, load<f64>(q) + s);
    }
  }
}

/** A layer's splatted weights from W [K][Nn] (f32): Wsp[i][j] and WTsp[j][i] = 4 × W[i][j]. */
export function splatWeights(W: usize, K: i32, Nn: i32, Wsp: usize, WTsp: usize): void {
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < Nn; j++) {
      const v = v128.load32_splat(W + ((<usize>i * <usize>Nn + <usize>j) << 2));
      st(Wsp + ((<usize>i * <usize>Nn + <usize>j) << 4), v);
      st(WTsp + ((<usize>j * <usize>K + <usize>i) << 4), v);
    }
  }
}

/** The activation tower on its own (tests): T_m = σ^(m)(U), m ≤ M1, count a multiple of 4. */
export function towerOnly(act: i32, U: usize, T: usize, count: i32, M1: i32): void {
  tower(act, U, T, count, M1);
}
