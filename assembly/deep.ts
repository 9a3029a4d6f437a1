/**
 * Kernels for data-set networks (src/deep/, registered as tfjs-wasm kernels by
 * src/backend/deep-kernels.ts): float32 matrix products (A·B and Aᵀ·B), im2col / col2im
 * for NHWC convolutions, a 2-D transpose, the max-pool gradient for pools whose windows
 * do not overlap, and column sums (bias gradients). Each op reads its operands from an
 * op descriptor (i32 slots, D_* below = DEEP in src/kernel/layout.ts) and does rows
 * [r0, r1) of its work, so the runtime can cut one op across threads (disjoint writes;
 * each output element is computed by one thread in the same order for any thread count,
 * so the results do not depend on it).
 *
 * Entry: deepRun(cmd, desc, work), cmd = DEEP_* below, work = two i32 slots r0, r1.
 */

// op descriptor slots (src/kernel/layout.ts DEEP)
const D_A: i32 = 0, D_LDA: i32 = 1, D_B: i32 = 2, D_LDB: i32 = 3, D_C: i32 = 4, D_LDC: i32 = 5;
const D_M: i32 = 6, D_N: i32 = 7, D_K: i32 = 8, D_BIAS: i32 = 9, D_ACC: i32 = 10;
// im2col / col2im / pool: x (D_A), col or dx (D_C), dy (D_B)
const D_H: i32 = 11, D_W: i32 = 12, D_CH: i32 = 13, D_KH: i32 = 14, D_KW: i32 = 15, D_S: i32 = 16;
const D_PT: i32 = 17, D_PL: i32 = 18, D_OH: i32 = 19, D_OW: i32 = 20;
// GEMM: B's columns [0, N8) packed at D_BP as N8/8 panels of K×8 floats (0: not packed)
const D_BP: i32 = 21;

// commands (src/kernel/layout.ts DEEP_CMD)
const DEEP_GEMM: i32 = 0, DEEP_GEMM_TN: i32 = 1, DEEP_IM2COL: i32 = 2, DEEP_COL2IM: i32 = 3;
const DEEP_TRANSPOSE: i32 = 4, DEEP_POOL_GRAD: i32 = 5, DEEP_COLSUM: i32 = 6, DEEP_PACK: i32 = 7;

@inline function gi(d: usize, slot: i32): i32 {
  return load<i32>(d + (<usize>slot << 2));
}
@inline function gp(d: usize, slot: i32): usize {
  return <usize>load<u32>(d + (<usize>slot << 2));
}
@inline function fma4(acc: v128, a: v128, b: v128): v128 {
  return f32x4.add(acc, f32x4.mul(a, b));
}

/**
 * C[i][j] = init + Σ_k A[i][k]·B[k][j] for rows i in [r0, r1), j < N; init = C[i][j] when
 * acc, else bias[j] (bias ≠ 0), else 0. Row-major with leading dimensions lda, ldb, ldc.
 */
function gemm(d: usize, r0: i32, r1: i32): void {
  const A = gp(d, D_A), B = gp(d, D_B), C = gp(d, D_C), bias = gp(d, D_BIAS);
  const lda = <usize>gi(d, D_LDA) << 2, ldb = <usize>gi(d, D_LDB) << 2, ldc = <usize>gi(d, D_LDC) << 2;
  const N = gi(d, D_N), K = gi(d, D_K), acc = gi(d, D_ACC), Bp = gp(d, D_BP);
  let i = r0;
  for (; i + 4 <= r1; i += 4) {
    const a0p = A + <usize>i * lda;
    const c0p = C + <usize>i * ldc;
    let j = 0;
    for (; j + 8 <= N; j += 8) {
      const jo = <usize>j << 2;
      let c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128;
      if (acc) {
        c00 = v128.load(c0p + jo); c01 = v128.load(c0p + jo, 16);
        c10 = v128.load(c0p + ldc + jo); c11 = v128.load(c0p + ldc + jo, 16);
        c20 = v128.load(c0p + 2 * ldc + jo); c21 = v128.load(c0p + 2 * ldc + jo, 16);
        c30 = v128.load(c0p + 3 * ldc + jo); c31 = v128.load(c0p + 3 * ldc + jo, 16);
      } else if (bias) {
        c00 = v128.load(bias + jo); c01 = v128.load(bias + jo, 16);
        c10 = c00; c11 = c01; c20 = c00; c21 = c01; c30 = c00; c31 = c01;
      } else {
        c00 = f32x4.splat(0); c01 = c00; c10 = c00; c11 = c00; c20 = c00; c21 = c00; c30 = c00; c31 = c00;
      }
      let p0 = a0p, p1 = a0p + lda, p2 = a0p + 2 * lda, p3 = a0p + 3 * lda;
      let bp = Bp + <usize>j * (<usize>K << 2);
      let k = 0;
      for (; k + 4 <= K; k += 4) {
        const v0 = v128.load(p0), v1 = v128.load(p1), v2 = v128.load(p2), v3 = v128.load(p3);
        let b0 = v128.load(bp), b1 = v128.load(bp, 16);
        let a0 = f32x4.shuffle(v0, v0, 0, 0, 0, 0), a1 = f32x4.shuffle(v1, v1, 0, 0, 0, 0);
        let a2 = f32x4.shuffle(v2, v2, 0, 0, 0, 0), a3 = f32x4.shuffle(v3, v3, 0, 0, 0, 0);
        c00 = fma4(c00, a0, b0); c01 = fma4(c01, a0, b1); c10 = fma4(c10, a1, b0); c11 = fma4(c11, a1, b1);
        c20 = fma4(c20, a2, b0); c21 = fma4(c21, a2, b1); c30 = fma4(c30, a3, b0); c31 = fma4(c31, a3, b1);
        b0 = v128.load(bp, 32); b1 = v128.load(bp, 48);
        a0 = f32x4.shuffle(v0, v0, 1, 1, 1, 1); a1 = f32x4.shuffle(v1, v1, 1, 1, 1, 1);
        a2 = f32x4.shuffle(v2, v2, 1, 1, 1, 1); a3 = f32x4.shuffle(v3, v3, 1, 1, 1, 1);
        c00 = fma4(c00, a0, b0); c01 = fma4(c01, a0, b1); c10 = fma4(c10, a1, b0); c11 = fma4(c11, a1, b1);
        c20 = fma4(c20, a2, b0); c21 = fma4(c21, a2, b1); c30 = fma4(c30, a3, b0); c31 = fma4(c31, a3, b1);
        b0 = v128.load(bp, 64); b1 = v128.load(bp, 80);
        a0 = f32x4.shuffle(v0, v0, 2, 2, 2, 2); a1 = f32x4.shuffle(v1, v1, 2, 2, 2, 2);
        a2 = f32x4.shuffle(v2, v2, 2, 2, 2, 2); a3 = f32x4.shuffle(v3, v3, 2, 2, 2, 2);
        c00 = fma4(c00, a0, b0); c01 = fma4(c01, a0, b1); c10 = fma4(c10, a1, b0); c11 = fma4(c11, a1, b1);
        c20 = fma4(c20, a2, b0); c21 = fma4(c21, a2, b1); c30 = fma4(c30, a3, b0); c31 = fma4(c31, a3, b1);
        b0 = v128.load(bp, 96); b1 = v128.load(bp, 112);
        a0 = f32x4.shuffle(v0, v0, 3, 3, 3, 3); a1 = f32x4.shuffle(v1, v1, 3, 3, 3, 3);
        a2 = f32x4.shuffle(v2, v2, 3, 3, 3, 3); a3 = f32x4.shuffle(v3, v3, 3, 3, 3, 3);
        c00 = fma4(c00, a0, b0); c01 = fma4(c01, a0, b1); c10 = fma4(c10, a1, b0); c11 = fma4(c11, a1, b1);
        c20 = fma4(c20, a2, b0); c21 = fma4(c21, a2, b1); c30 = fma4(c30, a3, b0); c31 = fma4(c31, a3, b1);
        p0 += 16; p1 += 16; p2 += 16; p3 += 16;
        bp += 128;
      }
      for (; k < K; k++) {
        const b0 = v128.load(bp);
        const b1 = v128.load(bp, 16);
        const a0 = v128.load32_splat(p0), a1 = v128.load32_splat(p1), a2 = v128.load32_splat(p2), a3 = v128.load32_splat(p3);
        c00 = fma4(c00, a0, b0); c01 = fma4(c01, a0, b1); c10 = fma4(c10, a1, b0); c11 = fma4(c11, a1, b1);
        c20 = fma4(c20, a2, b0); c21 = fma4(c21, a2, b1); c30 = fma4(c30, a3, b0); c31 = fma4(c31, a3, b1);
        p0 += 4; p1 += 4; p2 += 4; p3 += 4;
        bp += 32;
      }
      v128.store(c0p + jo, c00); v128.store(c0p + jo, c01, 16);
      v128.store(c0p + ldc + jo, c10); v128.store(c0p + ldc + jo, c11, 16);
      v128.store(c0p + 2 * ldc + jo, c20); v128.store(c0p + 2 * ldc + jo, c21, 16);
      v128.store(c0p + 3 * ldc + jo, c30); v128.store(c0p + 3 * ldc + jo, c31, 16);
    }
    for (let r = 0; r < 4; r++) gemmRowTail(A + <usize>(i + r) * lda, B, ldb, C + <usize>(i + r) * ldc, bias, acc, j, N, K);
  }
  for (; i < r1; i++) gemmRowTail(A + <usize>i * lda, B, ldb, C + <usize>i * ldc, bias, acc, 0, N, K);
}

/** One row of C, columns [j0, N): 4 at a time, then one at a time. */
function gemmRowTail(ap: usize, B: usize, ldb: usize, cp: usize, bias: usize, acc: i32, j0: i32, N: i32, K: i32): void {
  let j = j0;
  for (; j + 4 <= N; j += 4) {
    const jo = <usize>j << 2;
    let c = acc ? v128.load(cp + jo) : bias ? v128.load(bias + jo) : f32x4.splat(0);
    let bp = B + jo;
    for (let k = 0; k < K; k++) {
      c = fma4(c, f32x4.splat(load<f32>(ap + (<usize>k << 2))), v128.load(bp));
      bp += ldb;
    }
    v128.store(cp + jo, c);
  }
  for (; j < N; j++) {
    const jo = <usize>j << 2;
    let c: f32 = acc ? load<f32>(cp + jo) : bias ? load<f32>(bias + jo) : 0;
    let bp = B + jo;
    for (let k = 0; k < K; k++) {
      c += load<f32>(ap + (<usize>k << 2)) * load<f32>(bp);
      bp += ldb;
    }
    store<f32>(cp + jo, c);
  }
}

/**
 * C[i][j] = (acc ? C[i][j] : 0) + Σ_p A[p][i]·B[p][j] for i in [r0, r1), j < N, p < K:
 * A is K×M (lda), B is K×N (ldb), C is M×N (ldc).
 */
function gemmTN(d: usize, r0: i32, r1: i32): void {
  const A = gp(d, D_A), B = gp(d, D_B), C = gp(d, D_C);
  const lda = <usize>gi(d, D_LDA) << 2, ldb = <usize>gi(d, D_LDB) << 2, ldc = <usize>gi(d, D_LDC) << 2;
  const N = gi(d, D_N), K = gi(d, D_K), acc = gi(d, D_ACC);
  let i = r0;
  for (; i + 4 <= r1; i += 4) {
    const c0p = C + <usize>i * ldc;
    let j = 0;
    for (; j + 8 <= N; j += 8) {
      const jo = <usize>j << 2;
      let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      let ap = A + (<usize>i << 2);
      let bp = B + jo;
      for (let p = 0; p < K; p++) {
        const b0 = v128.load(bp);
        const b1 = v128.load(bp, 16);
        const a0 = v128.load32_splat(ap);
        const a1 = v128.load32_splat(ap, 4);
        const a2 = v128.load32_splat(ap, 8);
        const a3 = v128.load32_splat(ap, 12);
        c00 = fma4(c00, a0, b0); c01 = fma4(c01, a0, b1);
        c10 = fma4(c10, a1, b0); c11 = fma4(c11, a1, b1);
        c20 = fma4(c20, a2, b0); c21 = fma4(c21, a2, b1);
        c30 = fma4(c30, a3, b0); c31 = fma4(c31, a3, b1);
        ap += lda;
        bp += ldb;
      }
      if (acc) {
        c00 = f32x4.add(c00, v128.load(c0p + jo)); c01 = f32x4.add(c01, v128.load(c0p + jo, 16));
        c10 = f32x4.add(c10, v128.load(c0p + ldc + jo)); c11 = f32x4.add(c11, v128.load(c0p + ldc + jo, 16));
        c20 = f32x4.add(c20, v128.load(c0p + 2 * ldc + jo)); c21 = f32x4.add(c21, v128.load(c0p + 2 * ldc + jo, 16));
        c30 = f32x4.add(c30, v128.load(c0p + 3 * ldc + jo)); c31 = f32x4.add(c31, v128.load(c0p + 3 * ldc + jo, 16));
      }
      v128.store(c0p + jo, c00); v128.store(c0p + jo, c01, 16);
      v128.store(c0p + ldc + jo, c10); v128.store(c0p + ldc + jo, c11, 16);
      v128.store(c0p + 2 * ldc + jo, c20); v128.store(c0p + 2 * ldc + jo, c21, 16);
      v128.store(c0p + 3 * ldc + jo, c30); v128.store(c0p + 3 * ldc + jo, c31, 16);
    }
    for (let r = 0; r < 4; r++) gemmTNTail(A + (<usize>(i + r) << 2), lda, B, ldb, C + <usize>(i + r) * ldc, acc, j, N, K);
  }
  for (; i < r1; i++) gemmTNTail(A + (<usize>i << 2), lda, B, ldb, C + <usize>i * ldc, acc, 0, N, K);
}

/** One row i of C = Aᵀ·B, columns [j0, N); ap points at A[0][i]. */
function gemmTNTail(ap: usize, lda: usize, B: usize, ldb: usize, cp: usize, acc: i32, j0: i32, N: i32, K: i32): void {
  let j = j0;
  for (; j + 4 <= N; j += 4) {
    const jo = <usize>j << 2;
    let c = f32x4.splat(0);
    let a = ap;
    let bp = B + jo;
    for (let p = 0; p < K; p++) {
      c = fma4(c, f32x4.splat(load<f32>(a)), v128.load(bp));
      a += lda;
      bp += ldb;
    }
    v128.store(cp + jo, acc ? f32x4.add(c, v128.load(cp + jo)) : c);
  }
  for (; j < N; j++) {
    const jo = <usize>j << 2;
    let c: f32 = 0;
    let a = ap;
    let bp = B + jo;
    for (let p = 0; p < K; p++) {
      c += load<f32>(a) * load<f32>(bp);
      a += lda;
      bp += ldb;
    }
    store<f32>(cp + jo, acc ? c + load<f32>(cp + jo) : c);
  }
}

/**
 * im2col of an NHWC batch x [B, H, W, CH] for a KH×KW filter at stride S with top/left
 * padding PT/PL: row r = (b·OH + oy)·OW + ox of col [B·OH·OW, KH·KW·CH] holds
 * x[b, oy·S + ky − PT, ox·S + kx − PL, c] at column (ky·KW + kx)·CH + c (0 outside x).
 */
function im2col(d: usize, r0: i32, r1: i32): void {
  const x = gp(d, D_A), col = gp(d, D_C);
  const H = gi(d, D_H), W = gi(d, D_W), CH = gi(d, D_CH), KH = gi(d, D_KH), KW = gi(d, D_KW), S = gi(d, D_S);
  const PT = gi(d, D_PT), PL = gi(d, D_PL), OH = gi(d, D_OH), OW = gi(d, D_OW);
  const rowBytes = <usize>(KH * KW * CH) << 2;
  const cb = <usize>CH << 2;
  for (let r = r0; r < r1; r++) {
    const ox = r % OW;
    const oy = (r / OW) % OH;
    const b = r / (OW * OH);
    let dst = col + <usize>r * rowBytes;
    for (let ky = 0; ky < KH; ky++) {
      const y = oy * S + ky - PT;
      if (y < 0 || y >= H) {
        memory.fill(dst, 0, <usize>KW * cb);
        dst += <usize>KW * cb;
        continue;
      }
      const x0 = ox * S - PL;
      const rowBase = x + ((<usize>(b * H + y) * <usize>W) << 2) * <usize>CH;
      if (x0 >= 0 && x0 + KW <= W) {
        memory.copy(dst, rowBase + <usize>x0 * cb, <usize>KW * cb);
        dst += <usize>KW * cb;
      } else {
        for (let kx = 0; kx < KW; kx++) {
          const xx = x0 + kx;
          if (xx < 0 || xx >= W) memory.fill(dst, 0, cb);
          else memory.copy(dst, rowBase + <usize>xx * cb, cb);
          dst += cb;
        }
      }
    }
  }
}

/**
 * The adjoint of im2col: dx [B, H, W, CH] = Σ of dcol's entries over the positions that
 * read them, for batch items b in [r0, r1) (dx zeroed here first).
 */
function col2im(d: usize, r0: i32, r1: i32): void {
  const dx = gp(d, D_A), dcol = gp(d, D_C);
  const H = gi(d, D_H), W = gi(d, D_W), CH = gi(d, D_CH), KH = gi(d, D_KH), KW = gi(d, D_KW), S = gi(d, D_S);
  const PT = gi(d, D_PT), PL = gi(d, D_PL), OH = gi(d, D_OH), OW = gi(d, D_OW);
  const rowBytes = <usize>(KH * KW * CH) << 2;
  const cb = <usize>CH << 2;
  const imgBytes = <usize>(H * W) * cb;
  memory.fill(dx + <usize>r0 * imgBytes, 0, <usize>(r1 - r0) * imgBytes);
  for (let b = r0; b < r1; b++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        let src = dcol + <usize>((b * OH + oy) * OW + ox) * rowBytes;
        for (let ky = 0; ky < KH; ky++) {
          const y = oy * S + ky - PT;
          for (let kx = 0; kx < KW; kx++) {
            const xx = ox * S + kx - PL;
            if (y >= 0 && y < H && xx >= 0 && xx < W) {
              const dst = dx + <usize>b * imgBytes + <usize>(y * W + xx) * cb;
              let c: usize = 0;
              for (; c + 16 <= cb; c += 16) v128.store(dst + c, f32x4.add(v128.load(dst + c), v128.load(src + c)));
              for (; c < cb; c += 4) store<f32>(dst + c, load<f32>(dst + c) + load<f32>(src + c));
            }
            src += cb;
          }
        }
      }
    }
  }
}

/** C [N×M] = Aᵀ for A [M×N] (rows [r0, r1) of A). */
function transpose(d: usize, r0: i32, r1: i32): void {
  const A = gp(d, D_A), C = gp(d, D_C);
  const M = gi(d, D_M), N = gi(d, D_N);
  const T: i32 = 32;
  for (let i0 = r0; i0 < r1; i0 += T) {
    const i1 = min(i0 + T, r1);
    for (let j0 = 0; j0 < N; j0 += T) {
      const j1 = min(j0 + T, N);
      for (let i = i0; i < i1; i++) {
        for (let j = j0; j < j1; j++) store<f32>(C + ((<usize>j * <usize>M + <usize>i) << 2), load<f32>(A + ((<usize>i * <usize>N + <usize>j) << 2)));
      }
    }
  }
}

/**
 * Max-pool gradient, NHWC, windows KH×KW at stride S ≥ KH, KW (no overlap), no padding:
 * dx = dy at each window's first maximum (row-major in the window), 0 elsewhere; batch
 * items [r0, r1). x (D_A), dy (D_B) [B, OH, OW, CH], dx (D_C).
 */
function poolGrad(d: usize, r0: i32, r1: i32): void {
  const x = gp(d, D_A), dy = gp(d, D_B), dx = gp(d, D_C);
  const H = gi(d, D_H), W = gi(d, D_W), CH = gi(d, D_CH), KH = gi(d, D_KH), KW = gi(d, D_KW), S = gi(d, D_S);
  const OH = gi(d, D_OH), OW = gi(d, D_OW);
  const cb = <usize>CH << 2;
  const imgBytes = <usize>(H * W) * cb;
  memory.fill(dx + <usize>r0 * imgBytes, 0, <usize>(r1 - r0) * imgBytes);
  for (let b = r0; b < r1; b++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const g = dy + <usize>((b * OH + oy) * OW + ox) * cb;
        const w0 = <usize>b * imgBytes + <usize>((oy * S) * W + ox * S) * cb;
        let c: usize = 0;
        for (; c + 16 <= cb; c += 16) {
          // the window's first maximum per lane: best value and its cell index
          let best = v128.load(x + w0 + c);
          let at = i32x4.splat(0);
          for (let ky = 0; ky < KH; ky++) {
            for (let kx = 0; kx < KW; kx++) {
              if (ky == 0 && kx == 0) continue;
              const v = v128.load(x + w0 + <usize>(ky * W + kx) * cb + c);
              const gt = f32x4.gt(v, best);
              best = v128.bitselect(v, best, gt);
              at = v128.bitselect(i32x4.splat(ky * KW + kx), at, gt);
            }
          }
          const gv = v128.load(g + c);
          for (let ky = 0; ky < KH; ky++) {
            for (let kx = 0; kx < KW; kx++) {
              const hit = i32x4.eq(at, i32x4.splat(ky * KW + kx));
              v128.store(dx + w0 + <usize>(ky * W + kx) * cb + c, v128.and(gv, hit));
            }
          }
        }
        for (; c < cb; c += 4) {
          let best = load<f32>(x + w0 + c);
          let at: usize = w0 + c;
          for (let ky = 0; ky < KH; ky++) {
            for (let kx = 0; kx < KW; kx++) {
              const p = w0 + <usize>(ky * W + kx) * cb + c;
              const v = load<f32>(x + p);
              if (v > best) {
                best = v;
                at = p;
              }
            }
          }
          store<f32>(dx + at, load<f32>(g + c));
        }
      }
    }
  }
}

/** C[j] = Σ_p A[p][j] for A [M×N] (all rows; one thread). */
function colsum(d: usize): void {
  const A = gp(d, D_A), C = gp(d, D_C);
  const M = gi(d, D_M), N = gi(d, D_N);
  const nb = <usize>N << 2;
  memory.fill(C, 0, nb);
  for (let p = 0; p < M; p++) {
    const row = A + <usize>p * nb;
    let j: usize = 0;
    for (; j + 16 <= nb; j += 16) v128.store(C + j, f32x4.add(v128.load(C + j), v128.load(row + j)));
    for (; j < nb; j += 4) store<f32>(C + j, load<f32>(C + j) + load<f32>(row + j));
  }
}

/** Pack B's 8-column blocks [r0, r1) (of K×N, ldb) into panels of K×8 at D_BP. */
function pack(d: usize, r0: i32, r1: i32): void {
  const B = gp(d, D_B), Bp = gp(d, D_BP);
  const ldb = <usize>gi(d, D_LDB) << 2;
  const K = gi(d, D_K);
  for (let jb = r0; jb < r1; jb++) {
    let src = B + (<usize>jb << 5);
    let dst = Bp + <usize>jb * (<usize>K << 5);
    for (let k = 0; k < K; k++) {
      v128.store(dst, v128.load(src));
      v128.store(dst, v128.load(src, 16), 16);
      src += ldb;
      dst += 32;
    }
  }
}

export function deepRun(cmd: i32, desc: usize, work: usize): void {
  const r0 = load<i32>(work);
  const r1 = load<i32>(work, 4);
  if (r1 <= r0) return;
  if (cmd == DEEP_GEMM) gemm(desc, r0, r1);
  else if (cmd == DEEP_GEMM_TN) gemmTN(desc, r0, r1);
  else if (cmd == DEEP_IM2COL) im2col(desc, r0, r1);
  else if (cmd == DEEP_COL2IM) col2im(desc, r0, r1);
  else if (cmd == DEEP_TRANSPOSE) transpose(desc, r0, r1);
  else if (cmd == DEEP_POOL_GRAD) poolGrad(desc, r0, r1);
  else if (cmd == DEEP_COLSUM) colsum(desc);
  else if (cmd == DEEP_PACK) pack(desc, r0, r1);
}
