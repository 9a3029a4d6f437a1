/**
 * Adam (Kingma & Ba), written out in tfjs float32 ops so that its whole state — the
 * step count and the moment estimates m, v — is ours to save and restore exactly
 * (tfjs's optimizer rebuilds its bias-correction powers differently on restore).
 * The update is the one tfjs applies:
 *   m ← β1 m + (1 − β1) g,  v ← β2 v + (1 − β2) g²,
 *   θ ← θ − lr · (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + ε).
 */
import * as tf from '@tensorflow/tfjs-core';

export interface AdamState {
  /** updates applied so far */
  t: number;
  m: Float32Array[];
  v: Float32Array[];
}

export class AdamOptimizer {
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private t = 0;

  constructor(readonly vars: tf.Variable[], readonly beta1 = 0.9, readonly beta2 = 0.999, readonly epsilon = 1e-8) {
    this.m = vars.map((x) => tf.variable(tf.zerosLike(x), false));
    this.v = vars.map((x) => tf.variable(tf.zerosLike(x), false));
  }

  get steps(): number {
    return this.t;
  }

  /** One update with gradients `grads` (same order as `vars`) and learning rate `lr`. */
  apply(grads: tf.Tensor[], lr: number): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    tf.tidy(() => {
      this.vars.forEach((x, i) => {
        const g = grads[i]!;
        const m = tf.add(tf.mul(this.m[i]!, this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(this.v[i]!, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
        const step = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), this.epsilon));
        x.assign(tf.sub(x, tf.mul(step, lr)));
      });
    });
  }

  state(): AdamState {
    return { t: this.t, m: this.m.map((a) => Float32Array.from(a.dataSync())), v: this.v.map((a) => Float32Array.from(a.dataSync())) };
  }

  load(s: AdamState): void {
    if (s.m.length !== this.m.length || s.v.length !== this.v.length) throw new Error('Adam state does not match the variables');
    tf.tidy(() => {
      this.m.forEach((a, i) => {
        if (s.m[i]!.length !== a.size || s.v[i]!.length !== a.size) throw new Error(`Adam state: variable ${i} has the wrong size`);
        a.assign(tf.tensor(s.m[i]!, a.shape));
        this.v[i]!.assign(tf.tensor(s.v[i]!, a.shape));
      });
    });
    this.t = s.t;
  }

  dispose(): void {
    for (const a of [...this.m, ...this.v]) a.dispose();
  }
}
