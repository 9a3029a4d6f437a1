/**
 * The arithmetic a compiled expression runs on. The same compiled closure tree evaluates over
 * float64 numbers (`numberOps`) and over tfjs tensors (`tensorOps`).
 */
import * as tf from '@tensorflow/tfjs-core';

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

// --- tensors ---------------------------------------------------------------------------------
//
// tfjs registers no gradient for Less, Greater, Equal, NotEqual, LogicalAnd, ... so a comparison
// anywhere between a trainable variable and the loss would make tf.grad throw. Masks carry no
// gradient anyway, so these ops are wrapped in tf.customGrad with zero gradients.

function compareTensors(op: CompareOp, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  switch (op) {
    case '<':
      return tf.less(a, b);
    case '<=':
      return tf.lessEqual(a, b);
    case '>':
      return tf.greater(a, b);
    case '>=':
      return tf.greaterEqual(a, b);
    case '==':
      return tf.equal(a, b);
    case '!=':
      return tf.notEqual(a, b);
  }
}

const isTrue = (a: tf.Tensor): tf.Tensor => tf.notEqual(a, tf.scalar(0, a.dtype));

/** A float32 0/1 result of `f(a, b)` (a bool tensor) with zero gradients for a and b. */
function maskOf2(f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): (a: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  const g = tf.customGrad((a, b) => {
    const ta = a as tf.Tensor;
    const tb = b as tf.Tensor;
    return {
      value: tf.cast(f(ta, tb), 'float32'),
      gradFunc: () => [tf.zerosLike(ta), tf.zerosLike(tb)],
    };
  });
  return (a, b) => g(a, b);
}

const compareFns: Record<CompareOp, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor> = {
  '<': maskOf2((a, b) => compareTensors('<', a, b)),
  '<=': maskOf2((a, b) => compareTensors('<=', a, b)),
  '>': maskOf2((a, b) => compareTensors('>', a, b)),
  '>=': maskOf2((a, b) => compareTensors('>=', a, b)),
  '==': maskOf2((a, b) => compareTensors('==', a, b)),
  '!=': maskOf2((a, b) => compareTensors('!=', a, b)),
};

const andFn = maskOf2((a, b) => tf.logicalAnd(isTrue(a), isTrue(b)));
const orFn = maskOf2((a, b) => tf.logicalOr(isTrue(a), isTrue(b)));

const notFn = tf.customGrad((a) => {
  const ta = a as tf.Tensor;
  return { value: tf.cast(tf.logicalNot(isTrue(ta)), 'float32'), gradFunc: () => tf.zerosLike(ta) };
});

/** The bool condition for tf.where, with a zero gradient back to the (float) mask. */
const conditionOf = tf.customGrad((c) => {
  const tc = c as tf.Tensor;
  return { value: isTrue(tc), gradFunc: () => tf.zerosLike(tc) };
});

function powIntTensor(a: tf.Tensor, k: number): tf.Tensor {
  if (!Number.isInteger(k)) throw new RangeError(`powInt: exponent ${k} is not an integer`);
  if (k === 0) return tf.onesLike(a);
  // Square-and-multiply: exact gradients through tf.mul, fine for negative bases.
  let n = Math.abs(k);
  let base = a;
  let result: tf.Tensor | undefined;
  while (n > 0) {
    if (n & 1) result = result === undefined ? base : tf.mul(result, base);
    n = Math.floor(n / 2);
    if (n > 0) base = tf.mul(base, base);
  }
  return k < 0 ? tf.reciprocal(result!) : result!;
}

/** tfjs tensors (float32), broadcasting like tf; reverse-mode differentiable throughout. */
export const tensorOps: Ops<tf.Tensor> = {
  constant: (v) => tf.scalar(v),
  add: (a, b) => tf.add(a, b),
  sub: (a, b) => tf.sub(a, b),
  mul: (a, b) => tf.mul(a, b),
  div: (a, b) => tf.div(a, b),
  neg: (a) => tf.neg(a),
  pow: (a, b) => tf.pow(a, b),
  powInt: powIntTensor,
  sin: (a) => tf.sin(a),
  cos: (a) => tf.cos(a),
  tan: (a) => tf.tan(a),
  exp: (a) => tf.exp(a),
  log: (a) => tf.log(a),
  sqrt: (a) => tf.sqrt(a),
  abs: (a) => tf.abs(a),
  tanh: (a) => tf.tanh(a),
  sinh: (a) => tf.sinh(a),
  cosh: (a) => tf.cosh(a),
  atan: (a) => tf.atan(a),
  compare: (op, a, b) => compareFns[op](a, b),
  and: (a, b) => andFn(a, b),
  or: (a, b) => orFn(a, b),
  not: (a) => notFn(a),
  where: (cond, a, b) => tf.where(conditionOf(cond), a, b),
};
