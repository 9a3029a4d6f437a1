/**
 * The step program (program.ts) compiled to WGSL: the term shader of the GPU step
 * (gpu/step.ts). Generated once per point layout, not interpreted: the program is
 * straight-line SSA code fixed at load time, so every register becomes a WGSL `let`, every
 * constant a literal and every adjoint a local `var` — no register array indexed at run
 * time (slow on a GPU, and the executor's 64-row blocks exist only for the CPU's caches).
 *
 * Invocations: one per row of a *group* of terms that share a point block (layoutPoints
 * stores a shared set once; e.g. the interior of a system of equations). The invocation runs
 * every term of its group on its point, so the adjoints of the network outputs from all of
 * them are summed locally and written once into DY: no two invocations write the same point,
 * and no atomics are needed. A periodic term has its own block (rows and partner rows).
 *
 * Per term and row it writes LROW[row] = Σ_j r_j² (the rows of all terms in problem order)
 * and DPAR[row·P + k] = ∂(its J share)/∂(value of unknown parameter k). DY entries that no
 * term loads are never written and stay 0 (buffers start zeroed; new points, new buffers).
 * The reverse pass is the executor's (assembly/step.ts `reverse`), instruction by instruction.
 */
import { Op, type StepProgram, type TermProgram } from './program.js';
import { wgslFloat as lit } from '../gpu/jets.js';
import type { GpuPointSource } from '../gpu/step.js';

const WG = 64;

/** Why the WGSL term shader cannot run this program (null: it can). */
export function wgslProgramUnsupported(prog: StepProgram): string | null {
  for (const t of prog.terms) if (t.consts.some((c) => !Number.isFinite(Math.fround(c)))) return `term '${t.name}' has a constant that is not a finite float32`;
  const byStart = new Map<number, TermProgram[]>();
  for (const t of prog.terms) byStart.set(t.start, [...(byStart.get(t.start) ?? []), t]);
  for (const g of byStart.values()) {
    if (g.length > 1 && g.some((t) => t.partner)) return `periodic term '${g.find((t) => t.partner)!.name}' shares its point set with another term`;
    if (g.some((t) => t.rows !== g[0]!.rows)) return `terms '${g[0]!.name}' sharing a point set have different rows`;
  }
  return null;
}

/** The point-dependent half of the GPU step's source: the term shader and its sizes. */
export function termSource(prog: StepProgram, X: Float32Array, N: number, bounds: ([number, number] | null)[], paramOffset: number): GpuPointSource {
  const why = wgslProgramUnsupported(prog);
  if (why) throw new Error(`internal: WGSL step program: ${why}`);
  const outs = prog.outputs;
  const d = prog.inputs;
  const P = prog.parameters;
  // the terms' first rows in LROW (problem order) and their data in DATA
  const rowBase: number[] = [];
  const dataBase: number[] = [];
  let rows = 0;
  let nData = 0;
  for (const t of prog.terms) {
    rowBase.push(rows);
    rows += t.rows;
    dataBase.push(nData);
    nData += t.data.length * t.rows;
  }
  const data = new Float32Array(Math.max(nData, 1));
  prog.terms.forEach((t, k) => t.data.forEach((col, j) => data.set(col, dataBase[k]! + j * t.rows)));
  // groups of terms on one point block, in order of first appearance
  const groups: { start: number; rows: number; partner: boolean; terms: number[] }[] = [];
  prog.terms.forEach((t, k) => {
    const g = groups.find((x) => x.start === t.start);
    if (g) g.terms.push(k);
    else groups.push({ start: t.start, rows: t.rows, partner: t.partner, terms: [k] });
  });
  const lines: string[] = [`@group(0) @binding(0) var<storage, read> Y: array<f32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> DATA: array<f32>;
@group(0) @binding(3) var<storage, read> FLAT: array<f32>;
@group(0) @binding(4) var<storage, read_write> DY: array<f32>;
@group(0) @binding(5) var<storage, read_write> LROW: array<f32>;
@group(0) @binding(6) var<storage, read_write> DPAR: array<f32>;
fn powi(x: f32, k: i32) -> f32 {
  var n = abs(k);
  var r = 1.0;
  var p = x;
  while (n > 0) {
    if ((n & 1) != 0) { r *= p; }
    p *= p;
    n >>= 1u;
  }
  return select(r, 1.0 / r, k < 0);
}
fn powf(x: f32, y: f32) -> f32 {
  // WGSL's pow is undefined for x < 0: an integer power keeps its sign, others are NaN (as Math.pow)
  if (x > 0.0) { return pow(x, y); }
  if (x == 0.0) { return select(select(1.0, 0.0, y > 0.0), 1.0 / x, y < 0.0); }
  if (y != floor(y)) { return sqrt(x); }
  let m = pow(-x, y);
  return select(m, -m, (i32(y) & 1) != 0);
}`];
  const paramValue = (k: number): string => {
    const b = bounds[k];
    const raw = `FLAT[${paramOffset + k}u]`;
    return b ? `(${lit(b[0])} + ${lit(b[1] - b[0])} * (1.0 / (1.0 + exp(-${raw}))))` : raw;
  };
  groups.forEach((g, gi) => {
    lines.push(`fn group${gi}(r: u32) {`);
    const point = (side: number) => (side ? `${g.start + g.rows}u + r` : `${g.start}u + r`);
    /** output-jet adjoints of the group: key "channel,output,side" → WGSL sum terms */
    const dy = new Map<string, string[]>();
    for (const k of g.terms) {
      const t = prog.terms[k]!;
      const nIns = t.code.length / 4;
      const v = (i: number) => `t${k}r${i}`;
      const gv = (i: number) => `t${k}g${i}`;
      const ins = (i: number) => [t.code[4 * i]!, t.code[4 * i + 1]!, t.code[4 * i + 2]!, t.code[4 * i + 3]!] as const;
      lines.push(`  // term ${k}: ${t.name}`);
      for (let i = 0; i < nIns; i++) {
        const [op, a, b, c] = ins(i);
        const A = v(a);
        const B = v(b);
        let e: string;
        switch (op) {
          case Op.LOAD_Y: e = `Y[(${a}u * ${N}u + ${point(c)}) * ${outs}u + ${b}u]`; break;
          case Op.LOAD_X: e = `X[(${point(c)}) * ${d}u + ${a}u]`; break;
          case Op.CONST: e = `(${lit(t.consts[a]!)})`; break;
          case Op.PARAM: e = paramValue(a); break;
          case Op.DATA: e = `DATA[${dataBase[k]! + a * t.rows}u + r]`; break;
          case Op.ADD: e = `${A} + ${B}`; break;
          case Op.SUB: e = `${A} - ${B}`; break;
          case Op.MUL: e = `${A} * ${B}`; break;
          case Op.DIV: e = `${A} / ${B}`; break;
          case Op.NEG: e = `-${A}`; break;
          case Op.POW: e = `powf(${A}, ${B})`; break;
          case Op.POWI: e = `powi(${A}, ${b})`; break;
          case Op.SIN: e = `sin(${A})`; break;
          case Op.COS: e = `cos(${A})`; break;
          case Op.TAN: e = `tan(${A})`; break;
          case Op.EXP: e = `exp(${A})`; break;
          case Op.LOG: e = `log(${A})`; break;
          case Op.SQRT: e = `sqrt(${A})`; break;
          case Op.ABS: e = `abs(${A})`; break;
          case Op.TANH: e = `tanh(clamp(${A}, -15.0, 15.0))`; break;
          case Op.SINH: e = `sinh(${A})`; break;
          case Op.COSH: e = `cosh(${A})`; break;
          case Op.ATAN: e = `atan(${A})`; break;
          case Op.CMP: e = `select(0.0, 1.0, ${A} ${['<', '<=', '>', '>=', '==', '!='][c]} ${B})`; break;
          case Op.AND: e = `select(0.0, 1.0, ${A} != 0.0 && ${B} != 0.0)`; break;
          case Op.OR: e = `select(0.0, 1.0, ${A} != 0.0 || ${B} != 0.0)`; break;
          case Op.NOT: e = `select(0.0, 1.0, ${A} == 0.0)`; break;
          case Op.WHERE: e = `select(${v(c)}, ${B}, ${A} != 0.0)`; break;
          default: throw new Error(`internal: step program opcode ${op}`);
        }
        lines.push(`  let ${v(i)}: f32 = ${e};`);
      }
      lines.push(`  LROW[${rowBase[k]}u + r] = ${[...t.residuals].map((q) => `${v(q)} * ${v(q)}`).join(' + ')};`);
      // reverse pass: adjoints of J; the residuals' seeds 2·weight/(rows·residuals)·r
      for (let i = 0; i < nIns; i++) lines.push(`  var ${gv(i)} = 0.0;`);
      const count = t.rows * t.residuals.length;
      const two = lit(2 * (count > 0 ? t.weight / count : 0));
      for (const q of t.residuals) lines.push(`  ${gv(q)} += ${two} * ${v(q)};`);
      const params = new Map<number, string>();
      for (let i = nIns - 1; i >= 0; i--) {
        const [op, a, b, c] = ins(i);
        const G = gv(i);
        const A = v(a);
        const B = v(b);
        const R = v(i);
        const add = (to: number, what: string) => lines.push(`  ${gv(to)} += ${what};`);
        switch (op) {
          case Op.LOAD_Y: {
            const key = `${a},${b},${c}`;
            dy.set(key, [...(dy.get(key) ?? []), G]);
            break;
          }
          case Op.PARAM: params.set(a, G); break;
          case Op.ADD: add(a, G); add(b, G); break;
          case Op.SUB: add(a, G); add(b, `-${G}`); break;
          case Op.MUL: add(a, `${G} * ${B}`); add(b, `${G} * ${A}`); break;
          case Op.DIV: lines.push(`  let t${k}q${i} = ${G} / ${B};`); add(a, `t${k}q${i}`); add(b, `-t${k}q${i} * ${R}`); break;
          case Op.NEG: add(a, `-${G}`); break;
          case Op.POW:
            add(a, `${G} * ${B} * powf(${A}, ${B} - 1.0)`);
            add(b, `select(0.0, ${G} * ${R} * log(${A}), ${A} > 0.0)`);
            break;
          case Op.POWI: add(a, `${G} * ${lit(b)} * powi(${A}, ${b - 1})`); break;
          case Op.SIN: add(a, `${G} * cos(${A})`); break;
          case Op.COS: add(a, `-${G} * sin(${A})`); break;
          case Op.TAN: add(a, `${G} * (1.0 + ${R} * ${R})`); break;
          case Op.EXP: add(a, `${G} * ${R}`); break;
          case Op.LOG: add(a, `${G} / ${A}`); break;
          case Op.SQRT: add(a, `${G} * 0.5 / ${R}`); break;
          case Op.ABS: add(a, `select(${G}, -${G}, ${A} < 0.0)`); break;
          case Op.TANH: add(a, `${G} * (1.0 - ${R} * ${R})`); break;
          case Op.SINH: add(a, `${G} * cosh(${A})`); break;
          case Op.COSH: add(a, `${G} * sinh(${A})`); break;
          case Op.ATAN: add(a, `${G} / (1.0 + ${A} * ${A})`); break;
          case Op.WHERE: add(b, `select(0.0, ${G}, ${A} != 0.0)`); add(c, `select(${G}, 0.0, ${A} != 0.0)`); break;
          default: break; // LOAD_X, CONST, DATA, CMP, AND, OR, NOT: no adjoint
        }
      }
      for (let p = 0; p < P; p++) lines.push(`  DPAR[(${rowBase[k]}u + r) * ${P}u + ${p}u] = ${params.get(p) ?? '0.0'};`);
    }
    for (const [key, sum] of dy) {
      const [a, b, c] = key.split(',').map(Number) as [number, number, number];
      lines.push(`  DY[(${a}u * ${N}u + ${point(c)}) * ${outs}u + ${b}u] = ${sum.join(' + ')};`);
    }
    lines.push('}');
  });
  let first = 0;
  const branches = groups.map((g, gi) => {
    const s = `  if (q < ${first + g.rows}u) { group${gi}(q - ${first}u); return; }`;
    first += g.rows;
    return s;
  });
  lines.push(`@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q = gid.x;
${branches.join('\n')}
}`);
  return {
    N, X, data,
    plan: { nInputs: prog.plan.nInputs, channels: prog.plan.channels.map((c) => [...c]), maxOrder: prog.plan.maxOrder, faa: prog.plan.faa },
    terms: prog.terms.map((t) => ({ rows: t.rows, count: t.rows * t.residuals.length, weight: t.weight })),
    termShader: lines.join('\n'),
    invocations: first,
  };
}
