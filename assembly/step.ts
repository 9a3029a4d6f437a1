/**
 * The step-program executor (src/step/program.ts describes the program): one term's
 * residuals over its rows, Σ residual², and the reverse pass that adds the adjoint of
 * J = Σ_terms weight · mean(residual²) to the network's jet-output gradient dY and to the
 * unknown parameters' gradient. Generic in the float type T (f32 or f64): stepTerm32 and
 * stepTerm64 are the same code.
 *
 * Rows go in blocks of BP; inside a block every register is a row of BP values (one per
 * point) and every instruction is one loop over them. The block keeps all registers (the
 * program is in SSA form), so the reverse pass reads the forward values it needs.
 *
 * Descriptor (i32 slots at `desc`): see the S_ constants. No allocation, no globals
 * written: any thread may run any term with its own scratch.
 *
 * Two ways in: stepTerm32/64 run one term over all its rows on the whole call's Y
 * (the three-call step: network forward, terms, network backward), and stepBlock32/64,
 * called by the network kernel's run/run64 under CMD_STEP after each block's forward
 * pass, run every term's rows that lie in that block on the block's own output jets
 * (the one-call step; src/step/whole.ts). Y and dY are addressed through strides
 * (runRows), so the same forward/reverse code serves both.
 */

const S_CODE = 0; // i32 [op, a, b, c] per instruction
const S_NINS = 1;
const S_CONSTS = 2; // T per constant
const S_PARAMS = 3; // T per unknown parameter (values)
const S_X = 4; // T [N][d]
const S_Y = 5; // T [C][N][out]
const S_DY = 6; // T [C][N][out], accumulated into (0: no reverse pass)
const S_DATA = 7; // T [columns][rows]
const S_ROWS = 8;
const S_START = 9;
const S_PARTNER = 10; // offset of a row's partner point (periodic terms), else 0
const S_D = 11;
const S_N = 12;
const S_OUT = 13;
const S_RES = 14; // i32 residual registers
const S_NRES = 15;
const S_REGS = 16; // scratch: nIns × BP of T
const S_ADJ = 17; // scratch: nIns × BP of T
const S_DPARAMS = 18; // f64 per unknown parameter, accumulated into
const S_BP = 19;
const S_SCALE = 20; // f64 at byte 80: ∂J/∂(Σ r²) = weight / (rows · nRes)

const OP_LOAD_Y = 0;
const OP_LOAD_X = 1;
const OP_CONST = 2;
const OP_PARAM = 3;
const OP_DATA = 4;
const OP_ADD = 5;
const OP_SUB = 6;
const OP_MUL = 7;
const OP_DIV = 8;
const OP_NEG = 9;
const OP_POW = 10;
const OP_POWI = 11;
const OP_SIN = 12;
const OP_COS = 13;
const OP_TAN = 14;
const OP_EXP = 15;
const OP_LOG = 16;
const OP_SQRT = 17;
const OP_ABS = 18;
const OP_TANH = 19;
const OP_SINH = 20;
const OP_COSH = 21;
const OP_ATAN = 22;
const OP_CMP = 23;
const OP_AND = 24;
const OP_OR = 25;
const OP_NOT = 26;
const OP_WHERE = 27;

@inline function slot(desc: usize, s: i32): i32 {
  return load<i32>(desc + (<usize>s << 2));
}
@inline function ptr(desc: usize, s: i32): usize {
  return <usize>load<u32>(desc + (<usize>s << 2));
}

@inline function fsin<T>(x: T): T { return sizeof<T>() == 4 ? <T>Mathf.sin(<f32>x) : <T>Math.sin(<f64>x); }
@inline function fcos<T>(x: T): T { return sizeof<T>() == 4 ? <T>Mathf.cos(<f32>x) : <T>Math.cos(<f64>x); }
@inline function ftan<T>(x: T): T { return sizeof<T>() == 4 ? <T>Mathf.tan(<f32>x) : <T>Math.tan(<f64>x); }
@inline function fexp<T>(x: T): T { return sizeof<T>() == 4 ? <T>Mathf.exp(<f32>x) : <T>Math.exp(<f64>x); }
@inline function flog<T>(x: T): T { return sizeof<T>() == 4 ? <T>Mathf.log(<f32>x) : <T>Math.log(<f64>x); }
@inline function fsqrt<T>(x: T): T { return sizeof<T>() == 4 ? <T>Mathf.sqrt(<f32>x) : <T>Math.sqrt(<f64>x); }
@inline function ftanh<T>(x: T): T { return sizeof<T>() == 4 ? <T>Mathf.tanh(<f32>x) : <T>Math.tanh(<f64>x); }
@inline function fsinh<T>(x: T): T { return sizeof<T>() == 4 ? <T>Mathf.sinh(<f32>x) : <T>Math.sinh(<f64>x); }
@inline function fcosh<T>(x: T): T { return sizeof<T>() == 4 ? <T>Mathf.cosh(<f32>x) : <T>Math.cosh(<f64>x); }
@inline function fatan<T>(x: T): T { return sizeof<T>() == 4 ? <T>Mathf.atan(<f32>x) : <T>Math.atan(<f64>x); }
@inline function fpow<T>(x: T, y: T): T { return sizeof<T>() == 4 ? <T>Mathf.pow(<f32>x, <f32>y) : <T>Math.pow(<f64>x, <f64>y); }

function powi<T>(x: T, k: i32): T {
  let n = k < 0 ? -k : k;
  let r: T = <T>1;
  let p = x;
  while (n > 0) {
    if (n & 1) r *= p;
    p *= p;
    n >>= 1;
  }
  return k < 0 ? <T>1 / r : r;
}

function compare<T>(code: i32, a: T, b: T): bool {
  switch (code) {
    case 0: return a < b;
    case 1: return a <= b;
    case 2: return a > b;
    case 3: return a >= b;
    case 4: return a == b;
    default: return a != b;
  }
}

/**
 * Forward values of every instruction for rows [r0, r0 + n) into regs. Jet outputs are read
 * at Y + (a·yc + (point − pOrigin)·yp + b·yo) floats: the whole call's Y [C][N][out]
 * (yc = N·out, yp = out, yo = 1, pOrigin = 0) or a network block's output [C][out][B]
 * (yc = out·B, yp = 1, yo = B, pOrigin = the block's first point).
 */
function forward<T>(desc: usize, r0: i32, n: i32, regs: usize, Y: usize, yc: i32, yp: i32, yo: i32, pOrigin: i32): void {
  const code = ptr(desc, S_CODE);
  const nIns = slot(desc, S_NINS);
  const consts = ptr(desc, S_CONSTS);
  const params = ptr(desc, S_PARAMS);
  const X = ptr(desc, S_X);
  const data = ptr(desc, S_DATA);
  const rows = slot(desc, S_ROWS);
  const start = slot(desc, S_START);
  const partner = slot(desc, S_PARTNER);
  const d = slot(desc, S_D);
  const BP = slot(desc, S_BP);
  const sz: usize = sizeof<T>();
  const rowBytes: usize = <usize>BP * sz;
  for (let i = 0; i < nIns; i++) {
    const ins = code + (<usize>i << 4);
    const op = load<i32>(ins);
    const a = load<i32>(ins, 4);
    const b = load<i32>(ins, 8);
    const c = load<i32>(ins, 12);
    const R = regs + <usize>i * rowBytes;
    const A = regs + <usize>a * rowBytes;
    const Bv = regs + <usize>b * rowBytes;
    const Cv = regs + <usize>c * rowBytes;
    switch (op) {
      case OP_LOAD_Y: {
        const p0 = start + r0 + (c ? partner : 0);
        const base = Y + (<usize>a * <usize>yc + <usize>(p0 - pOrigin) * <usize>yp + <usize>b * <usize>yo) * sz;
        const stride: usize = <usize>yp * sz;
        for (let p = 0; p < n; p++) store<T>(R + <usize>p * sz, load<T>(base + <usize>p * stride));
        break;
      }
      case OP_LOAD_X: {
        const p0 = start + r0 + (c ? partner : 0);
        const base = X + (<usize>p0 * <usize>d + <usize>a) * sz;
        const stride: usize = <usize>d * sz;
        for (let p = 0; p < n; p++) store<T>(R + <usize>p * sz, load<T>(base + <usize>p * stride));
        break;
      }
      case OP_CONST: {
        const v = load<T>(consts + <usize>a * sz);
        for (let p = 0; p < n; p++) store<T>(R + <usize>p * sz, v);
        break;
      }
      case OP_PARAM: {
        const v = load<T>(params + <usize>a * sz);
        for (let p = 0; p < n; p++) store<T>(R + <usize>p * sz, v);
        break;
      }
      case OP_DATA: {
        const base = data + (<usize>a * <usize>rows + <usize>r0) * sz;
        for (let p = 0; p < n; p++) store<T>(R + <usize>p * sz, load<T>(base + <usize>p * sz));
        break;
      }
      case OP_ADD: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(R + o, load<T>(A + o) + load<T>(Bv + o)); } break;
      case OP_SUB: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(R + o, load<T>(A + o) - load<T>(Bv + o)); } break;
      case OP_MUL: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(R + o, load<T>(A + o) * load<T>(Bv + o)); } break;
      case OP_DIV: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(R + o, load<T>(A + o) / load<T>(Bv + o)); } break;
      case OP_NEG: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(R + o, -load<T>(A + o)); } break;
      case OP_POW: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(R + o, fpow<T>(load<T>(A + o), load<T>(Bv + o))); } break;
      case OP_POWI: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(R + o, powi<T>(load<T>(A + o), b)); } break;
      case OP_SIN: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(R + o, fsin<T>(load<T>(A + o))); } break;
      case OP_COS: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(R + o, fcos<T>(load<T>(A + o))); } break;
      case OP_TAN: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(R + o, ftan<T>(load<T>(A + o))); } break;
      case OP_EXP: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(R + o, fexp<T>(load<T>(A + o))); } break;
      case OP_LOG: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(R + o, flog<T>(load<T>(A + o))); } break;
      case OP_SQRT: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(R + o, fsqrt<T>(load<T>(A + o))); } break;
      case OP_ABS: for (let p = 0; p < n; p++) { const o = <usize>p * sz; const x = load<T>(A + o); store<T>(R + o, x < <T>0 ? -x : x); } break;
      case OP_TANH: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(R + o, ftanh<T>(load<T>(A + o))); } break;
      case OP_SINH: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(R + o, fsinh<T>(load<T>(A + o))); } break;
      case OP_COSH: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(R + o, fcosh<T>(load<T>(A + o))); } break;
      case OP_ATAN: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(R + o, fatan<T>(load<T>(A + o))); } break;
      case OP_CMP: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(R + o, compare<T>(c, load<T>(A + o), load<T>(Bv + o)) ? <T>1 : <T>0); } break;
      case OP_AND: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(R + o, load<T>(A + o) != <T>0 && load<T>(Bv + o) != <T>0 ? <T>1 : <T>0); } break;
      case OP_OR: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(R + o, load<T>(A + o) != <T>0 || load<T>(Bv + o) != <T>0 ? <T>1 : <T>0); } break;
      case OP_NOT: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(R + o, load<T>(A + o) == <T>0 ? <T>1 : <T>0); } break;
      case OP_WHERE: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(R + o, load<T>(A + o) != <T>0 ? load<T>(Bv + o) : load<T>(Cv + o)); } break;
      default: unreachable();
    }
  }
}

/** Reverse pass for rows [r0, r0 + n): adjoints of the residuals already in adj; dY addressed as forward's Y. */
function reverse<T>(desc: usize, r0: i32, n: i32, regs: usize, adj: usize, dY: usize, yc: i32, yp: i32, yo: i32, pOrigin: i32, dParams: usize): void {
  const code = ptr(desc, S_CODE);
  const nIns = slot(desc, S_NINS);
  const start = slot(desc, S_START);
  const partner = slot(desc, S_PARTNER);
  const BP = slot(desc, S_BP);
  const sz: usize = sizeof<T>();
  const rowBytes: usize = <usize>BP * sz;
  for (let i = nIns - 1; i >= 0; i--) {
    const ins = code + (<usize>i << 4);
    const op = load<i32>(ins);
    if (op == OP_LOAD_X || op == OP_CONST || op == OP_DATA || op == OP_CMP || op == OP_AND || op == OP_OR || op == OP_NOT) continue;
    const a = load<i32>(ins, 4);
    const b = load<i32>(ins, 8);
    const c = load<i32>(ins, 12);
    const G = adj + <usize>i * rowBytes;
    const R = regs + <usize>i * rowBytes;
    const A = regs + <usize>a * rowBytes;
    const Bv = regs + <usize>b * rowBytes;
    const GA = adj + <usize>a * rowBytes;
    const GB = adj + <usize>b * rowBytes;
    const GC = adj + <usize>c * rowBytes;
    switch (op) {
      case OP_LOAD_Y: {
        const p0 = start + r0 + (c ? partner : 0);
        const base = dY + (<usize>a * <usize>yc + <usize>(p0 - pOrigin) * <usize>yp + <usize>b * <usize>yo) * sz;
        const stride: usize = <usize>yp * sz;
        for (let p = 0; p < n; p++) {
          const q = base + <usize>p * stride;
          store<T>(q, load<T>(q) + load<T>(G + <usize>p * sz));
        }
        break;
      }
      case OP_PARAM: {
        let s: f64 = 0;
        for (let p = 0; p < n; p++) s += <f64>load<T>(G + <usize>p * sz);
        const q = dParams + (<usize>a << 3);
        store<f64>(q, load<f64>(q) + s);
        break;
      }
      case OP_ADD: for (let p = 0; p < n; p++) { const o = <usize>p * sz; const g = load<T>(G + o); store<T>(GA + o, load<T>(GA + o) + g); store<T>(GB + o, load<T>(GB + o) + g); } break;
      case OP_SUB: for (let p = 0; p < n; p++) { const o = <usize>p * sz; const g = load<T>(G + o); store<T>(GA + o, load<T>(GA + o) + g); store<T>(GB + o, load<T>(GB + o) - g); } break;
      case OP_MUL: for (let p = 0; p < n; p++) {
        const o = <usize>p * sz; const g = load<T>(G + o);
        const x = load<T>(A + o); const y = load<T>(Bv + o);
        store<T>(GA + o, load<T>(GA + o) + g * y);
        store<T>(GB + o, load<T>(GB + o) + g * x);
      } break;
      case OP_DIV: for (let p = 0; p < n; p++) {
        const o = <usize>p * sz; const y = load<T>(Bv + o);
        const gy = load<T>(G + o) / y;
        store<T>(GA + o, load<T>(GA + o) + gy);
        store<T>(GB + o, load<T>(GB + o) - gy * load<T>(R + o));
      } break;
      case OP_NEG: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(GA + o, load<T>(GA + o) - load<T>(G + o)); } break;
      case OP_POW: for (let p = 0; p < n; p++) {
        const o = <usize>p * sz; const g = load<T>(G + o);
        const x = load<T>(A + o); const y = load<T>(Bv + o); const r = load<T>(R + o);
        store<T>(GA + o, load<T>(GA + o) + g * y * fpow<T>(x, y - <T>1));
        if (x > <T>0) store<T>(GB + o, load<T>(GB + o) + g * r * flog<T>(x));
      } break;
      case OP_POWI: for (let p = 0; p < n; p++) {
        const o = <usize>p * sz;
        store<T>(GA + o, load<T>(GA + o) + load<T>(G + o) * <T>b * powi<T>(load<T>(A + o), b - 1));
      } break;
      case OP_SIN: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(GA + o, load<T>(GA + o) + load<T>(G + o) * fcos<T>(load<T>(A + o))); } break;
      case OP_COS: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(GA + o, load<T>(GA + o) - load<T>(G + o) * fsin<T>(load<T>(A + o))); } break;
      case OP_TAN: for (let p = 0; p < n; p++) { const o = <usize>p * sz; const r = load<T>(R + o); store<T>(GA + o, load<T>(GA + o) + load<T>(G + o) * (<T>1 + r * r)); } break;
      case OP_EXP: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(GA + o, load<T>(GA + o) + load<T>(G + o) * load<T>(R + o)); } break;
      case OP_LOG: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(GA + o, load<T>(GA + o) + load<T>(G + o) / load<T>(A + o)); } break;
      case OP_SQRT: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(GA + o, load<T>(GA + o) + load<T>(G + o) * <T>0.5 / load<T>(R + o)); } break;
      case OP_ABS: for (let p = 0; p < n; p++) { const o = <usize>p * sz; const g = load<T>(G + o); store<T>(GA + o, load<T>(GA + o) + (load<T>(A + o) < <T>0 ? -g : g)); } break;
      case OP_TANH: for (let p = 0; p < n; p++) { const o = <usize>p * sz; const r = load<T>(R + o); store<T>(GA + o, load<T>(GA + o) + load<T>(G + o) * (<T>1 - r * r)); } break;
      case OP_SINH: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(GA + o, load<T>(GA + o) + load<T>(G + o) * fcosh<T>(load<T>(A + o))); } break;
      case OP_COSH: for (let p = 0; p < n; p++) { const o = <usize>p * sz; store<T>(GA + o, load<T>(GA + o) + load<T>(G + o) * fsinh<T>(load<T>(A + o))); } break;
      case OP_ATAN: for (let p = 0; p < n; p++) { const o = <usize>p * sz; const x = load<T>(A + o); store<T>(GA + o, load<T>(GA + o) + load<T>(G + o) / (<T>1 + x * x)); } break;
      case OP_WHERE: for (let p = 0; p < n; p++) {
        const o = <usize>p * sz; const g = load<T>(G + o);
        if (load<T>(A + o) != <T>0) store<T>(GB + o, load<T>(GB + o) + g);
        else store<T>(GC + o, load<T>(GC + o) + g);
      } break;
      default: unreachable();
    }
  }
}

/**
 * Rows [r0, r1) of the term at `desc` in blocks of BP: forward, Σ residual² (returned), and
 * with dY ≠ 0 the reverse pass (adds into dY, addressed as forward's Y, and dParams).
 * regs and adj: nIns × BP floats each.
 */
function runRows<T>(desc: usize, r0: i32, r1: i32, regs: usize, adj: usize, Y: usize, dY: usize, yc: i32, yp: i32, yo: i32, pOrigin: i32, dParams: usize): f64 {
  const nIns = slot(desc, S_NINS);
  const res = ptr(desc, S_RES);
  const nRes = slot(desc, S_NRES);
  const BP = slot(desc, S_BP);
  const scale = load<f64>(desc + (<usize>S_SCALE << 2));
  const sz: usize = sizeof<T>();
  const rowBytes: usize = <usize>BP * sz;
  const two: T = <T>(2 * scale);
  let total: f64 = 0;
  for (let b0 = r0; b0 < r1; b0 += BP) {
    const n = min(BP, r1 - b0);
    forward<T>(desc, b0, n, regs, Y, yc, yp, yo, pOrigin);
    for (let j = 0; j < nRes; j++) {
      const R = regs + <usize>load<i32>(res + (<usize>j << 2)) * rowBytes;
      for (let p = 0; p < n; p++) {
        const v = <f64>load<T>(R + <usize>p * sz);
        total += v * v;
      }
    }
    if (!dY) continue;
    memory.fill(adj, 0, <usize>nIns * rowBytes);
    for (let j = 0; j < nRes; j++) {
      const r = <usize>load<i32>(res + (<usize>j << 2)) * rowBytes;
      // a register may be several residuals: add
      for (let p = 0; p < n; p++) {
        const o = <usize>p * sz;
        store<T>(adj + r + o, load<T>(adj + r + o) + two * load<T>(regs + r + o));
      }
    }
    reverse<T>(desc, b0, n, regs, adj, dY, yc, yp, yo, pOrigin, dParams);
  }
  return total;
}

/** One term over all its rows, Y and dY the whole call's [C][N][out] (the descriptor's). */
function runTerm<T>(desc: usize): f64 {
  const N = slot(desc, S_N);
  const out = slot(desc, S_OUT);
  return runRows<T>(desc, 0, slot(desc, S_ROWS), ptr(desc, S_REGS), ptr(desc, S_ADJ), ptr(desc, S_Y), ptr(desc, S_DY), N * out, out, 1, 0, ptr(desc, S_DPARAMS));
}

// The fused whole-step command (the network kernel's run/run64 with cmd CMD_STEP): after a
// block's forward pass the kernel calls stepBlock32/64, which runs every term's rows that
// lie in the block on the block's own output jets and leaves ∂J/∂(those jets) for the
// block's backward pass. Step header, i32 slots at the net descriptor's N_STEP:
const H_NTERMS = 0;
const H_TERMS = 1; // address of the first term descriptor; DESC_BYTES apart
const H_ACC = 2; // byte offset in a chunk's accumulators: f64 Σr² per term, then f64 ∂J/∂(parameter) each
const H_MAXINS = 3; // the scratch holds regs then adj, each H_MAXINS × BP floats
const DESC_BYTES = 128;

function stepBlock<T>(step: usize, scratch: usize, acc: usize, p0: i32, n: i32, Yb: usize, dYb: usize, B: i32): void {
  const nT = load<i32>(step, H_NTERMS << 2);
  const terms = <usize>load<u32>(step, H_TERMS << 2);
  const sums = acc + <usize>load<u32>(step, H_ACC << 2);
  const dParams = sums + (<usize>nT << 3);
  const maxIns = load<i32>(step, H_MAXINS << 2);
  for (let k = 0; k < nT; k++) {
    const desc = terms + <usize>k * DESC_BYTES;
    const start = slot(desc, S_START);
    const lo = max(p0, start);
    const hi = min(p0 + n, start + slot(desc, S_ROWS));
    if (lo >= hi) continue;
    const out = slot(desc, S_OUT);
    const adj = scratch + <usize>maxIns * <usize>slot(desc, S_BP) * sizeof<T>();
    const s = runRows<T>(desc, lo - start, hi - start, scratch, adj, Yb, dYb, out * B, 1, B, p0, dParams);
    const q = sums + (<usize>k << 3);
    store<f64>(q, load<f64>(q) + s);
  }
}

/** The fused command's step part in float32 (assembly/kernel.ts run). */
export function stepBlock32(step: usize, scratch: usize, acc: usize, p0: i32, n: i32, Yb: usize, dYb: usize, B: i32): void {
  stepBlock<f32>(step, scratch, acc, p0, n, Yb, dYb, B);
}

/** The same in float64 (assembly/net64.ts run64). */
export function stepBlock64(step: usize, scratch: usize, acc: usize, p0: i32, n: i32, Yb: usize, dYb: usize, B: i32): void {
  stepBlock<f64>(step, scratch, acc, p0, n, Yb, dYb, B);
}

/** One term in float32: returns Σ residual² (as f64); with S_DY set, adds the term's gradient. */
export function stepTerm32(desc: usize): f64 {
  return runTerm<f32>(desc);
}

/** The same in float64. */
export function stepTerm64(desc: usize): f64 {
  return runTerm<f64>(desc);
}

/**
 * Adam on a flat float32 buffer, the float32 operation sequence of src/train/adam-optimizer.ts
 * (each product, sum and quotient rounded to float32 as tfjs's ops round them):
 *   m ← β1 m + (1 − β1) g,  v ← β2 v + (1 − β2) g²,  x ← x − lr · (m / c1) / (sqrt(v / c2) + ε)
 * with c1 = 1 − β1^t, c2 = 1 − β2^t. All scalars come in already rounded to float32.
 */
export function adam32(x: usize, g: usize, m: usize, v: usize, n: i32, lr: f32, b1: f32, ob1: f32, b2: f32, ob2: f32, eps: f32, c1: f32, c2: f32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const mi = load<f32>(m + o) * b1 + gi * ob1;
    const vi = load<f32>(v + o) * b2 + (gi * gi) * ob2;
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    const step = (mi / c1) / (Mathf.sqrt(vi / c2) + eps);
    store<f32>(x + o, load<f32>(x + o) - step * lr);
  }
}

/** Adam in float64 on a flat float64 buffer (training.precision: float64); same formula. */
export function adam64(x: usize, g: usize, m: usize, v: usize, n: i32, lr: f64, b1: f64, ob1: f64, b2: f64, ob2: f64, eps: f64, c1: f64, c2: f64): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 3;
    const gi = load<f64>(g + o);
    const mi = load<f64>(m + o) * b1 + gi * ob1;
    const vi = load<f64>(v + o) * b2 + (gi * gi) * ob2;
    store<f64>(m + o, mi);
    store<f64>(v + o, vi);
    const step = (mi / c1) / (Math.sqrt(vi / c2) + eps);
    store<f64>(x + o, load<f64>(x + o) - step * lr);
  }
}
