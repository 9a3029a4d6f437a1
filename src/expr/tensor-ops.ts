/** `Ops` over tfjs tensors (see ops.ts); the only part of the expression room that needs tfjs. */
import * as tf from '@tensorflow/tfjs-core';
import type { CompareOp, Ops } from './ops.js';

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
