/** Matrix product with an explicitly transposing gradient (shared by mlp.ts and rowdy.ts). */
import * as tf from '@tensorflow/tfjs-core';

/**
 * h·W with a gradient that transposes explicitly: dH = dZ·transpose(W), dW = transpose(H)·dZ.
 * tfjs's own MatMul gradient uses transposeA/transposeB matmuls, which the wasm
 * backend runs 4–5× slower than a plain matmul plus a transpose.
 */
export const matMulT = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [h, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([h, w]);
  return {
    value: tf.matMul(h, w),
    gradFunc: (dz: tf.Tensor, saved: tf.Tensor[]) => [
      tf.matMul(dz as tf.Tensor2D, tf.transpose(saved[1]!) as tf.Tensor2D),
      tf.matMul(tf.transpose(saved[0]!) as tf.Tensor2D, dz as tf.Tensor2D),
    ],
  };
}) as (h: tf.Tensor, w: tf.Tensor) => tf.Tensor2D;
