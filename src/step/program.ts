/**
 * The step program: a problem's loss, per point, as a flat list of scalar operations over
 * jet values, independent of whoever runs it (the WebAssembly executor in assembly/step.ts
 * today; a WGSL executor can run the same data).
 *
 * A program is compiled once per term of the problem. The compiler traces the checked
 * expression trees (output transforms, equation/condition residuals, periodic matches, data
 * terms) through the jet arithmetic of src/jet/expr-ops.ts over a *recording* scalar `Ops`:
 * every scalar operation the jet arithmetic would do becomes one instruction. Identical
 * instructions are shared (hash-consing) and instructions that no residual needs are
 * dropped, so the program is in SSA form: instruction i writes register i and reads only
 * registers < i.
 *
 * Instruction encoding: four int32 per instruction, `[op, a, b, c]` (see `Op` for what a,
 * b, c mean per opcode). A term's rows are its points (a periodic term: the first half of its
 * block; loads with `c = 1` read the partner point half a block further). Per row the
 * executor computes the registers, then `Σ_j residual_j²`; the term's loss is that summed over
 * the rows divided by `rows · residuals.length` (the mean the tfjs path takes), and the total
 * J = Σ_terms weight · mean (+ W_a S(a), done by the caller). The reverse pass walks the
 * instructions backwards with the adjoint of J; adjoints of LOAD_Y go to the network's jet
 * outputs (dY), of PARAM to the unknown parameters' values.
 */
import type { Problem } from '../problem/build.js';
import type { Ops, CompareOp } from '../expr/ops.js';
import { jetOps, type ExprJet } from '../jet/expr-ops.js';
import { makePlan, type JetPlan } from '../jet/plan.js';

/** Opcodes. Operands a, b, c are register indices unless stated otherwise. */
export const Op = {
  /** network jet output: a = plan channel, b = output index, c = 1 for the periodic partner point */
  LOAD_Y: 0,
  /** input coordinate: a = input index, c = partner flag as for LOAD_Y */
  LOAD_X: 1,
  /** a = index into `consts` */
  CONST: 2,
  /** unknown parameter's value: a = parameter index */
  PARAM: 3,
  /** per-row data (targets of data terms): a = column of the term's data */
  DATA: 4,
  ADD: 5,
  SUB: 6,
  MUL: 7,
  DIV: 8,
  NEG: 9,
  /** a^b (b a register) */
  POW: 10,
  /** a^k, k = b (an integer immediate) */
  POWI: 11,
  SIN: 12,
  COS: 13,
  TAN: 14,
  EXP: 15,
  LOG: 16,
  SQRT: 17,
  ABS: 18,
  TANH: 19,
  SINH: 20,
  COSH: 21,
  ATAN: 22,
  /** 1/0 mask: c = comparison code (COMPARE_CODES) */
  CMP: 23,
  AND: 24,
  OR: 25,
  NOT: 26,
  /** a != 0 ? b : c */
  WHERE: 27,
} as const;
export type OpCode = (typeof Op)[keyof typeof Op];

export const COMPARE_CODES: readonly CompareOp[] = ['<', '<=', '>', '>=', '==', '!='];

export interface TermProgram {
  name: string;
  kind: Problem['terms'][number]['kind'];
  /** first point of the term's block in the concatenated point array, and its rows */
  start: number;
  rows: number;
  /** periodic terms: the partner point of row r is start + rows + r */
  partner: boolean;
  weight: number;
  /** [op, a, b, c] per instruction */
  code: Int32Array;
  consts: Float64Array;
  /** registers whose squares are the term's residuals */
  residuals: Int32Array;
  /** data terms: per data column, one value per row */
  data: Float64Array[];
}

export interface StepProgram {
  plan: JetPlan;
  inputs: number;
  outputs: number;
  parameters: number;
  terms: TermProgram[];
}

/** What the compiler records for one term. */
class Recorder {
  readonly code: number[] = [];
  readonly consts: number[] = [];
  private readonly seen = new Map<string, number>();
  private readonly constIndex = new Map<number, number>();

  emit(op: OpCode, a = 0, b = 0, c = 0): number {
    // commutative operations: one order
    if ((op === Op.ADD || op === Op.MUL || op === Op.AND || op === Op.OR) && b < a) [a, b] = [b, a];
    const key = `${op},${a},${b},${c}`;
    const hit = this.seen.get(key);
    if (hit !== undefined) return hit;
    const r = this.code.length / 4;
    this.code.push(op, a, b, c);
    this.seen.set(key, r);
    return r;
  }

  constant(v: number): number {
    let k = this.constIndex.get(v);
    if (k === undefined) {
      k = this.consts.length;
      this.consts.push(v);
      this.constIndex.set(v, k);
    }
    return this.emit(Op.CONST, k);
  }

  ops(): Ops<number> {
    const e = this.emit.bind(this);
    return {
      constant: (v) => this.constant(v),
      add: (a, b) => e(Op.ADD, a, b),
      sub: (a, b) => e(Op.SUB, a, b),
      mul: (a, b) => e(Op.MUL, a, b),
      div: (a, b) => e(Op.DIV, a, b),
      neg: (a) => e(Op.NEG, a),
      pow: (a, b) => e(Op.POW, a, b),
      powInt: (a, k) => e(Op.POWI, a, k),
      sin: (a) => e(Op.SIN, a),
      cos: (a) => e(Op.COS, a),
      tan: (a) => e(Op.TAN, a),
      exp: (a) => e(Op.EXP, a),
      log: (a) => e(Op.LOG, a),
      sqrt: (a) => e(Op.SQRT, a),
      abs: (a) => e(Op.ABS, a),
      tanh: (a) => e(Op.TANH, a),
      sinh: (a) => e(Op.SINH, a),
      cosh: (a) => e(Op.COSH, a),
      atan: (a) => e(Op.ATAN, a),
      compare: (op, a, b) => e(Op.CMP, a, b, COMPARE_CODES.indexOf(op)),
      and: (a, b) => e(Op.AND, a, b),
      or: (a, b) => e(Op.OR, a, b),
      not: (a) => e(Op.NOT, a),
      where: (c, a, b) => e(Op.WHERE, c, a, b),
    };
  }
}

/** Register operands of an instruction (the others are immediates). */
export function operands(op: number, a: number, b: number, c: number): number[] {
  switch (op) {
    case Op.LOAD_Y: case Op.LOAD_X: case Op.CONST: case Op.PARAM: case Op.DATA: return [];
    case Op.NEG: case Op.POWI: case Op.SIN: case Op.COS: case Op.TAN: case Op.EXP: case Op.LOG:
    case Op.SQRT: case Op.ABS: case Op.TANH: case Op.SINH: case Op.COSH: case Op.ATAN: case Op.NOT: return [a];
    case Op.WHERE: return [a, b, c];
    default: return [a, b];
  }
}

/** Keep the instructions the residuals need, renumbered in order. */
function prune(code: number[], residuals: number[]): { code: Int32Array; residuals: Int32Array } {
  const n = code.length / 4;
  const live = new Uint8Array(n);
  for (const r of residuals) live[r] = 1;
  for (let i = n - 1; i >= 0; i--) {
    if (!live[i]) continue;
    for (const s of operands(code[4 * i]!, code[4 * i + 1]!, code[4 * i + 2]!, code[4 * i + 3]!)) live[s] = 1;
  }
  const map = new Int32Array(n).fill(-1);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!live[i]) continue;
    const op = code[4 * i]!;
    const ins = [op, code[4 * i + 1]!, code[4 * i + 2]!, code[4 * i + 3]!];
    const regs = operands(op, ins[1]!, ins[2]!, ins[3]!);
    // rewrite register operands (positions 1..3 in order a, b, c)
    const pos = op === Op.WHERE ? [1, 2, 3] : regs.length === 2 ? [1, 2] : regs.length === 1 ? [1] : [];
    for (const p of pos) ins[p] = map[ins[p]!]!;
    map[i] = out.length / 4;
    out.push(...ins);
  }
  return { code: Int32Array.from(out), residuals: Int32Array.from(residuals, (r) => map[r]!) };
}

/** Where each term's points lie in the concatenated point array (loss.ts's layout). */
export interface TermBlock { start: number; n: number }

/**
 * Compile the problem's loss terms into step programs. `blocks[k]` is term k's point block;
 * data terms read their targets from `problem.terms[k].targets`.
 */
export function compileStep(problem: Problem, blocks: TermBlock[]): StepProgram {
  const plan = makePlan(problem.inputs.length, problem.derivs.map((d) => d.channel));
  const C = plan.channels.length;
  const terms = problem.terms.map((term, k): TermProgram => {
    const b = blocks[k]!;
    const rec = new Recorder();
    const ops = rec.ops();
    const jops = jetOps(plan, ops);
    const partner = term.kind === 'periodic';
    const rows = partner ? b.n / 2 : b.n;
    /** transformed output o's jet at the row's point (side 0) or its partner (side 1) */
    const outputJets = new Map<string, ExprJet<number>>();
    const outputJet = (o: number, side: number): ExprJet<number> => {
      const key = `${o}|${side}`;
      let j = outputJets.get(key);
      if (j) return j;
      const raw = (q: number): ExprJet<number> => Array.from({ length: C }, (_, c) => rec.emit(Op.LOAD_Y, c, q, side));
      const t = problem.transforms[o];
      if (!t) j = raw(o);
      else {
        const inputs = problem.inputs.map((_, i) => jops.input(i, rec.emit(Op.LOAD_X, i, 0, side)));
        j = t.evaluate(jops, {
          input: (i) => inputs[i]!,
          symbol: (s) => jops.constant(problem.constants[s]!),
          deriv: (ref) => raw(ref.output % problem.outputs.length),
        });
      }
      outputJets.set(key, j);
      return j;
    };
    const channelValue = (o: number, channel: readonly number[], side: number): number => {
      const v = outputJet(o, side)[plan.index(channel)];
      return v === null || v === undefined ? rec.constant(0) : v;
    };
    const env = (side: number) => ({
      input: (i: number) => rec.emit(Op.LOAD_X, i, 0, side),
      symbol: (s: string) => {
        if (s in problem.constants) return rec.constant(problem.constants[s]!);
        const p = problem.parameters.findIndex((q) => q.name === s);
        if (p < 0) throw new Error(`internal: unknown symbol ${s}`);
        return rec.emit(Op.PARAM, p);
      },
      deriv: (ref: { output: number; channel: readonly number[] }) => channelValue(ref.output, ref.channel, side),
    });
    let residuals: number[];
    let data: Float64Array[] = [];
    if (term.kind === 'data') {
      residuals = term.outputs.map((o, j) => ops.sub(channelValue(o, [], 0), rec.emit(Op.DATA, j)));
      data = term.targets.map((v) => Float64Array.from(v));
    } else if (term.kind === 'periodic') {
      residuals = term.match.map((m) => ops.sub(m.evaluate(ops, env(1)), m.evaluate(ops, env(0))));
    } else {
      residuals = [term.residual.evaluate(ops, env(0))];
    }
    const pruned = prune(rec.code, residuals);
    return {
      name: term.name, kind: term.kind, start: b.start, rows, partner, weight: term.weight,
      code: pruned.code, consts: Float64Array.from(rec.consts), residuals: pruned.residuals, data,
    };
  });
  return { plan, inputs: problem.inputs.length, outputs: problem.outputs.length, parameters: problem.parameters.length, terms };
}

/** A readable listing (debugging, docs). */
export function listing(t: TermProgram): string {
  const name = Object.fromEntries(Object.entries(Op).map(([k, v]) => [v, k]));
  const lines: string[] = [];
  for (let i = 0; i < t.code.length / 4; i++) {
    const [op, a, b, c] = [t.code[4 * i]!, t.code[4 * i + 1]!, t.code[4 * i + 2]!, t.code[4 * i + 3]!];
    lines.push(`r${i} = ${name[op]} ${op === Op.CONST ? t.consts[a] : `${a} ${b} ${c}`}`);
  }
  lines.push(`residuals: ${[...t.residuals].map((r) => `r${r}`).join(' ')}`);
  return lines.join('\n');
}
