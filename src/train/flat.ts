/** The trainable variables as one flat float64 vector (L-BFGS works on it) and back. */
import * as tf from '@tensorflow/tfjs-core';

export function flatSize(vars: tf.Variable[]): number {
  return vars.reduce((p, v) => p + v.size, 0);
}

/** Current values, concatenated in `vars` order. */
export function readFlat(vars: tf.Variable[]): Float64Array {
  const out = new Float64Array(flatSize(vars));
  let off = 0;
  for (const v of vars) {
    out.set(v.dataSync(), off);
    off += v.size;
  }
  return out;
}

/** Assign x (rounded to float32) to the variables. */
export function writeFlat(vars: tf.Variable[], x: Float64Array): void {
  let off = 0;
  tf.tidy(() => {
    for (const v of vars) {
      v.assign(tf.tensor(Float32Array.from(x.subarray(off, off + v.size)), v.shape));
      off += v.size;
    }
  });
}

/** Gradient tensors (in `vars` order) to one float64 vector. */
export function flattenTensors(ts: tf.Tensor[], size: number): Float64Array {
  const out = new Float64Array(size);
  let off = 0;
  for (const t of ts) {
    out.set(t.dataSync(), off);
    off += t.size;
  }
  return out;
}

/** Per variable values (checkpoints): float32 copies in `vars` order. */
export function readVariables(vars: tf.Variable[]): Float32Array[] {
  return vars.map((v) => Float32Array.from(v.dataSync()));
}

export function writeVariables(vars: tf.Variable[], values: Float32Array[]): void {
  if (values.length !== vars.length) throw new Error(`checkpoint has ${values.length} variables, the model ${vars.length}`);
  tf.tidy(() => {
    vars.forEach((v, i) => {
      if (values[i]!.length !== v.size) throw new Error(`checkpoint variable ${i} has ${values[i]!.length} values, the model ${v.size}`);
      v.assign(tf.tensor(values[i]!, v.shape));
    });
  });
}
