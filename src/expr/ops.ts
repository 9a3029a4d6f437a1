/**
 * The arithmetic a compiled expression runs on. The same compiled closure tree evaluates over
 * float64 numbers (`numberOps`) and over tfjs tensors (`tensorOps`, in tensor-ops.ts, kept apart so
 * that checking a spec never loads tfjs).
 */

export type CompareOp = '<' | '<=' | '>' | '>=' | '==' | '!=';

export interface Ops<T> {
  constant(v: number): T;
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  div(a: T, b: T): T;
  neg(a: T): T;
  pow(a: T, b: T): T;
  /** a^k for an integer k (may be negative or 0), by repeated multiplication. */
  powInt(a: T, k: number): T;
  sin(a: T): T;
  cos(a: T): T;
  tan(a: T): T;
  exp(a: T): T;
  log(a: T): T;
  sqrt(a: T): T;
  abs(a: T): T;
  tanh(a: T): T;
  sinh(a: T): T;
  cosh(a: T): T;
  atan(a: T): T;
  /** 1 where the comparison holds, 0 elsewhere. */
  compare(op: CompareOp, a: T, b: T): T;
  /** Logic on masks: any nonzero value counts as true; results are 0/1. */
  and(a: T, b: T): T;
  or(a: T, b: T): T;
  not(a: T): T;
  /**
   * cond != 0 ? a : b, elementwise. Both branches are computed; with tensors a NaN/Inf in the
   * unselected branch (e.g. sqrt of a negative) still poisons the gradient, as in any tf.where.
   */
  where(cond: T, a: T, b: T): T;
}

function compareNumbers(op: CompareOp, a: number, b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '==':
      return a === b;
    case '!=':
      return a !== b;
  }
}

/** float64 JS numbers. */
export const numberOps: Ops<number> = {
  constant: (v) => v,
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  neg: (a) => -a,
  pow: (a, b) => Math.pow(a, b),
  powInt: (a, k) => Math.pow(a, k),
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  abs: Math.abs,
  tanh: Math.tanh,
  sinh: Math.sinh,
  cosh: Math.cosh,
  atan: Math.atan,
  compare: (op, a, b) => (compareNumbers(op, a, b) ? 1 : 0),
  and: (a, b) => (a !== 0 && b !== 0 ? 1 : 0),
  or: (a, b) => (a !== 0 || b !== 0 ? 1 : 0),
  not: (a) => (a === 0 ? 1 : 0),
  where: (cond, a, b) => (cond !== 0 ? a : b),
};
