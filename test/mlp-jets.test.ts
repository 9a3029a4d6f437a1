/**
 * Activation towers and MLP jets against float64 finite differences.
 *
 * 1. Towers (src/nn/activations.ts), every base activation, orders 0..4:
 *    - towerNumber level k vs a central difference of level k−1 in float64
 *      (h = 1e-4, Richardson-extrapolated): |err| ≤ 1e-7·(1 + |σ^(k)|);
 *    - tower() (float32 tfjs) vs towerNumber(): |err| ≤ 2e-5·(1 + |σ^(k)|).
 * 2. Mlp.forwardJet (float32) vs central finite differences of mlpForwardNumber
 *    (float64) for every channel up to order 4 (all mixed ones, e.g. xx, xt, xxt,
 *    xxxx, xxtt, xyz), for every base activation, 2 and 3 inputs, every adaptive
 *    mode with n = 1 and n = 10, slopes perturbed ±40 % away from 1/n, biases
 *    nonzero, input normalisation on. FD: tensor products of 1-D central stencils
 *    with steps h·(hi−lo)/2 per input: h = 1e-3 with one Richardson step for
 *    order ≤ 2; h = 2e-2 (order 3) or 3e-2 (order 4) with two Richardson steps
 *    (h, h/2, h/4). Tolerance per channel, output and point (4 points):
 *      |jet − fd| ≤ 1e-3 · max_points |fd| + atol,
 *    atol = 1e-5 for orders 0–3 and 3e-4 for order 4, where float64 rounding of the
 *    stencil itself (~16ε|u|/h⁴) reaches ~1e-4 (seen on relu nets, whose true
 *    fourth derivatives are 0). Observed: errors ≲ 1e-4 of the channel scale.
 *    Piecewise activations (relu, leaky_relu, elu) use only points whose FD
 *    stencil box does not cross a kink (same sign pattern of all s·z, margin).
 * 3. forward() equals forwardJet()[0] exactly (bit for bit).
 * Backend: cpu, or LAAF_TEST_BACKEND=wasm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { BASE_ACTIVATIONS, tower, towerNumber, erfNumber, type BaseActivation } from '../src/nn/activations.js';
import { Mlp, mlpForwardNumber, type AdaptiveMode, type MlpConfig, type MlpParams } from '../src/nn/mlp.js';
import { makePlan, channelKey, type Channel } from '../src/jet/plan.js';
import { Rng } from '../src/domain/rng.js';
import { stepFor } from '../src/step/paths.js';

const BACKEND = process.env.LAAF_TEST_BACKEND ?? 'cpu';
if (BACKEND === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
assert.ok(await tf.setBackend(BACKEND), `backend ${BACKEND}`);

const PIECEWISE = new Set<BaseActivation>(['relu', 'leaky_relu', 'elu']);
const MODES: AdaptiveMode[] = ['none', 'global', 'layer', 'neuron'];

// ---------------------------------------------------------------------------
// 1. Towers

/** Sample arguments, avoiding the kink at 0 of the piecewise activations. */
const U = [-4.2, -2.5, -1.3, -0.7, -0.31, -0.08, 0.05, 0.27, 0.66, 1.1, 1.9, 3.3, 4.6];

test('towerNumber: order 0 matches independent definitions', () => {
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-14 * (1 + Math.abs(b)), `${what}: ${a} vs ${b}`);
  assert.ok(Math.abs(erfNumber(0.5) - 0.5204998778130465) < 1e-15, 'erf(0.5)');
  assert.ok(Math.abs(erfNumber(-1.7) + 0.9837904585907746) < 1e-15, 'erf(-1.7)');
  assert.ok(Math.abs(erfNumber(3.5) - 0.9999992569016276) < 1e-15, 'erf(3.5)');
  for (const u of U) {
    close(towerNumber('tanh', u, 0)[0]!, Math.tanh(u), 'tanh');
    close(towerNumber('sin', u, 0)[0]!, Math.sin(u), 'sin');
    close(towerNumber('cos', u, 0)[0]!, Math.cos(u), 'cos');
    close(towerNumber('sigmoid', u, 0)[0]!, 1 / (1 + Math.exp(-u)), 'sigmoid');
    close(towerNumber('softplus', u, 0)[0]!, Math.log(1 + Math.exp(u)), 'softplus');
    close(towerNumber('silu', u, 0)[0]!, u / (1 + Math.exp(-u)), 'silu');
    close(towerNumber('elu', u, 0)[0]!, u > 0 ? u : Math.exp(u) - 1, 'elu');
    close(towerNumber('relu', u, 0)[0]!, Math.max(0, u), 'relu');
    close(towerNumber('leaky_relu', u, 0)[0]!, u > 0 ? u : 0.01 * u, 'leaky_relu');
  }
  close(towerNumber('gelu', 1, 0)[0]!, 0.8413447460685429, 'gelu(1)');
  close(towerNumber('gelu', -0.5, 0)[0]!, -0.15426876936299347, 'gelu(-0.5)');
  // Closed forms of a few higher derivatives
  const t = Math.tanh(0.7);
  close(towerNumber('tanh', 0.7, 4)[4]!, 8 * t * (1 - t * t) * (2 - 3 * t * t), "tanh''''");
  close(towerNumber('tanh', 0.7, 3)[3]!, (1 - t * t) * (6 * t * t - 2), "tanh'''");
});

for (const act of BASE_ACTIVATIONS) {
  test(`tower ${act}: float64 levels are finite differences of each other; tfjs matches float64`, () => {
    const h = 1e-4;
    for (const u of U) {
      const T = towerNumber(act, u, 4);
      assert.equal(T.length, 5);
      const p1 = towerNumber(act, u + h, 3), m1 = towerNumber(act, u - h, 3);
      const p2 = towerNumber(act, u + h / 2, 3), m2 = towerNumber(act, u - h / 2, 3);
      for (let k = 1; k <= 4; k++) {
        const d1 = (p1[k - 1]! - m1[k - 1]!) / (2 * h);
        const d2 = (p2[k - 1]! - m2[k - 1]!) / h;
        const fd = (4 * d2 - d1) / 3;
        const err = Math.abs(fd - T[k]!);
        assert.ok(err <= 1e-7 * (1 + Math.abs(T[k]!)), `${act}^(${k})(${u}): tower ${T[k]}, fd ${fd}, err ${err.toExponential(2)}`);
      }
    }
    tf.tidy(() => {
      for (const order of [0, 1, 4]) {
        const uf = U.map(Math.fround);
        const got = tower(act, tf.tensor1d(uf), order);
        assert.equal(got.length, order + 1);
        got.forEach((g, k) => {
          const v = g.dataSync();
          uf.forEach((u, i) => {
            const ref = towerNumber(act, u, order)[k]!;
            assert.ok(Math.abs(v[i]! - ref) <= 2e-5 * (1 + Math.abs(ref)), `${act}^(${k})(${u}) tfjs ${v[i]} vs ${ref}`);
          });
        });
      }
    });
  });
}

// ---------------------------------------------------------------------------
// 2. MLP jets vs finite differences

/** 1-D central stencils for derivative order k: [offsets (in h), weights]; O(h²). */
const STENCIL: Record<number, [number[], number[]]> = {
  1: [[-1, 1], [-0.5, 0.5]],
  2: [[-1, 0, 1], [1, -2, 1]],
  3: [[-2, -1, 1, 2], [-0.5, 1, -1, 0.5]],
  4: [[-2, -1, 0, 1, 2], [1, -4, 6, -4, 1]],
};

/**
 * ∂^ch f(x) by tensor-product central differences; the step in input i is
 * h·step[i] (step = half the input range, so h is a step in normalised coordinates).
 */
function fdOnce(f: (x: number[]) => number[], x: number[], ch: Channel, h: number, step: number[]): number[] {
  const counts = new Map<number, number>();
  for (const i of ch) counts.set(i, (counts.get(i) ?? 0) + 1);
  let pts: { x: number[]; w: number }[] = [{ x: [...x], w: 1 }];
  let denom = 1;
  for (const [i, k] of counts) {
    const [off, wt] = STENCIL[k]!;
    const hi = h * step[i]!;
    denom *= hi ** k;
    pts = pts.flatMap((p) => off.map((o, j) => {
      const y = [...p.x];
      y[i] = y[i]! + o * hi;
      return { x: y, w: p.w * wt[j]! };
    }));
  }
  let acc: number[] | null = null;
  for (const p of pts) {
    const v = f(p.x);
    acc = acc === null ? v.map((q) => p.w * q) : acc.map((a, o) => a + p.w * v[o]!);
  }
  return acc!.map((a) => a / denom);
}

/** Richardson step for an O(h^q) scheme: a at h, b at h/2, p = 2^q. */
function rich(a: number[], b: number[], p: number): number[] {
  return b.map((bv, o) => (p * bv - a[o]!) / (p - 1));
}

/**
 * FD reference. Order ≤ 2: h = 1e-3, one Richardson step (h, h/2), O(h⁴).
 * Order 3: h = 2e-2, order 4: h = 3e-2, two Richardson steps (h, h/2, h/4), O(h⁶).
 */
function fd(f: (x: number[]) => number[], x: number[], ch: Channel, step: number[]): number[] {
  if (ch.length === 0) return f(x);
  if (ch.length <= 2) return rich(fdOnce(f, x, ch, 1e-3, step), fdOnce(f, x, ch, 5e-4, step), 4);
  const h = ch.length === 3 ? 2e-2 : 3e-2;
  const d = [h, h / 2, h / 4].map((hh) => fdOnce(f, x, ch, hh, step));
  return rich(rich(d[0]!, d[1]!, 4), rich(d[1]!, d[2]!, 4), 16);
}

/** Absolute tolerance per order: float32 rounding, and float64 rounding of the FD stencils (~16ε|u|/h⁴ at order 4). */
const ATOL = [1e-5, 1e-5, 1e-5, 1e-5, 3e-4];

function allChannels(n: number, order: number): Channel[] {
  const out: Channel[] = [];
  const rec = (start: number, cur: number[]) => {
    if (cur.length > 0) out.push([...cur]);
    if (cur.length === order) return;
    for (let i = start; i < n; i++) rec(i, [...cur, i]);
  };
  rec(0, []);
  return out;
}

const BOX: Record<number, { lo: number[]; hi: number[] }> = {
  2: { lo: [-1, 0], hi: [1, 1] },                 // x, t
  3: { lo: [-1, 0, -0.5], hi: [1, 2, 0.5] },      // x, y, z
};

/** Perturb a fresh network: weights ×gain (more curvature), biases ~ N(0, 0.5²), slopes a·(1 ± 0.1…0.4). */
function perturb(p: MlpParams, rng: Rng, gain: number): MlpParams {
  return {
    weights: p.weights.map((w) => w.map((row) => row.map((v) => Math.fround(gain * v)))),
    biases: p.biases.map((b) => b.map(() => Math.fround(0.5 * rng.normal()))),
    // a·(1 ± (0.1 … 0.4)): every slope moves at least 10 % away from its initial value
    slopes: p.slopes.map((s) => s.map((a) => Math.fround(a * (1 + (rng.uniform() < 0.5 ? -1 : 1) * (0.1 + 0.3 * rng.uniform()))))),
  };
}

/** Points whose FD stencil box stays on one side of every kink (piecewise activations). */
function pickPoints(cfg: MlpConfig, params: MlpParams, scales: number[], rng: Rng, count: number): number[][] {
  const { lo, hi } = BOX[cfg.inputs]!;
  const pts: number[][] = [];
  const pattern = (x: number[]) => {
    let sig = '';
    let margin = Infinity;
    mlpForwardNumber(cfg, params, scales, x, (_, u) => {
      for (const v of u) {
        sig += v > 0 ? '+' : '-';
        margin = Math.min(margin, Math.abs(v));
      }
    });
    return { sig, margin };
  };
  for (let attempt = 0; attempt < 5000 && pts.length < count; attempt++) {
    const x = lo.map((l, i) => Math.fround(l + (hi[i]! - l) * (0.1 + 0.8 * rng.uniform())));
    if (!PIECEWISE.has(cfg.activation)) {
      pts.push(x);
      continue;
    }
    const c = pattern(x);
    if (c.margin < 0.02) continue;
    let ok = true;
    const R = 0.065; // > 2 stencil steps of the largest h (in normalised coordinates)
    for (let mask = 0; mask < 1 << x.length && ok; mask++) {
      const y = x.map((v, i) => v + (mask & (1 << i) ? R : -R) * (hi[i]! - lo[i]!) / 2);
      ok = pattern(y).sig === c.sig;
    }
    if (ok) pts.push(x);
  }
  assert.equal(pts.length, count, 'found enough test points');
  return pts;
}

let seedCounter = 100;
/** Weight gain per activation, so that higher derivatives are not negligible (sigmoid' ≤ 1/4). */
const GAIN: Partial<Record<BaseActivation, number>> = { sigmoid: 4, softplus: 2.5, silu: 2, gelu: 2 };

for (const act of BASE_ACTIVATIONS) {
  for (const nIn of [2, 3]) {
    test(`forwardJet ${act}, ${nIn} inputs: all channels ≤ order 4 match float64 FD`, async (t) => {
      const plan = makePlan(nIn, allChannels(nIn, 4));
      for (const mode of MODES) {
        for (const n of [1, 10]) {
          if (mode === 'none' && n === 10) continue;
          await t.test(`${mode} n=${n}`, () => {
            const rng = new Rng(seedCounter++);
            const cfg: MlpConfig = {
              inputs: nIn, hidden: [6, 7, 5], outputs: 2, activation: act,
              adaptive: { mode, n }, init: 'xavier', inputLo: BOX[nIn]!.lo, inputHi: BOX[nIn]!.hi,
            };
            const mlp = new Mlp(cfg, rng);
            try {
              mlp.load(perturb(mlp.toJSON(), rng, GAIN[act] ?? 1.5));
              const params = mlp.toJSON();
              if (mode !== 'none') {
                const a0 = 1 / n;
                assert.ok(params.slopes.flat().some((a) => Math.abs(a - a0) > 0.05 * a0), 'slopes moved away from 1/n');
              }
              const X = pickPoints(cfg, params, mlp.scales, rng, 4);
              const f = (x: number[]) => mlpForwardNumber(cfg, params, mlp.scales, x);
              const step = BOX[nIn]!.hi.map((h, i) => (h - BOX[nIn]!.lo[i]!) / 2);
              const { jets, values } = tf.tidy(() => {
                const Xt = tf.tensor2d(X);
                const J = stepFor(mlp, plan.maxOrder).impl.forwardJet(plan, Xt);
                assert.equal(J.length, plan.channels.length);
                for (const j of J) assert.deepEqual(j.shape, [X.length, 2]);
                return { jets: J.map((j) => j.arraySync()), values: stepFor(mlp, 0).impl.forward(Xt).arraySync() };
              });
              // forward() equals forwardJet()[0] bit for bit (same operations)
              assert.deepEqual(values, jets[0], 'forward() vs forwardJet()[0]');
              let worst = 0;
              plan.channels.forEach((ch, c) => {
                const ref = X.map((x) => fd(f, x, ch, step));
                const scales = [0, 1].map((o) => Math.max(...ref.map((r) => Math.abs(r[o]!))));
                if (!PIECEWISE.has(act) || ch.length <= 1) {
                  assert.ok(Math.max(...scales) > 1e-2, `channel [${channelKey(ch)}] is not trivially small (${scales})`);
                }
                scales.forEach((scale, o) => {
                  const tol = 1e-3 * scale + ATOL[ch.length]!;
                  ref.forEach((r, p) => {
                    const got = jets[c]![p]![o]!;
                    const err = Math.abs(got - r[o]!);
                    worst = Math.max(worst, err / tol);
                    assert.ok(err <= tol, `${act} ${mode} n=${n} channel [${channelKey(ch)}] out ${o} point ${p}: jet ${got}, fd ${r[o]}, |err| ${err.toExponential(2)} > tol ${tol.toExponential(2)}`);
                  });
                });
              });
              t.diagnostic(`worst err/tol ${worst.toFixed(3)}`);
            } finally {
              mlp.dispose();
            }
          });
        }
      }
    });
  }
}

test('forwardJet with a small requested plan returns exactly its channels', () => {
  const rng = new Rng(5);
  const mlp = new Mlp({ inputs: 2, hidden: [8, 8], outputs: 1, activation: 'tanh', adaptive: { mode: 'layer', n: 5 }, init: 'xavier' }, rng);
  const plan = makePlan(2, [[0], [1], [0, 0]]);
  assert.equal(plan.channels.length, 4);
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const X = tf.tensor2d([[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]]);
    const J = stepFor(mlp, plan.maxOrder).impl.forwardJet(plan, X);
    assert.equal(J.length, 4);
    const params = mlp.toJSON();
    const f = (x: number[]) => mlpForwardNumber(mlp.cfg, params, mlp.scales, x);
    const xs = X.arraySync();
    plan.channels.forEach((ch, c) => {
      const v = J[c]!.dataSync();
      xs.forEach((x, p) => {
        const r = fd(f, x, ch, [1, 1])[0]!;
        assert.ok(Math.abs(v[p]! - r) <= 1e-3 * (1 + Math.abs(r)), `[${ch}] ${v[p]} vs ${r}`);
      });
    });
    assert.throws(() => mlp.forwardJet(makePlan(3, [[0]]), X), /inputs/);
  });
  assert.equal(tf.memory().numTensors, before, 'no tensors leak out of tf.tidy');
  mlp.dispose();
});

test('a network without hidden layers is affine: exact jets', () => {
  const mlp = new Mlp({ inputs: 2, hidden: [], outputs: 3, activation: 'tanh', adaptive: { mode: 'none', n: 1 }, init: 'normal', inputLo: [0, -2], inputHi: [4, 2] }, new Rng(3));
  const p = mlp.toJSON();
  const plan = makePlan(2, [[0, 1], [1, 1]]);
  tf.tidy(() => {
    const J = stepFor(mlp, plan.maxOrder).impl.forwardJet(plan, tf.tensor2d([[1, 0.5], [3, -1]]));
    const gx = 2 / (4 - 0), gy = 2 / (2 - -2);
    for (let o = 0; o < 3; o++) {
      for (const [ch, want] of [[[0], gx * p.weights[0]![0]![o]!], [[1], gy * p.weights[0]![1]![o]!], [[0, 1], 0], [[1, 1], 0]] as [Channel, number][]) {
        const v = J[plan.index(ch)]!.arraySync() as number[][];
        for (const row of v) assert.ok(Math.abs(row[o]! - want) < 1e-6, `[${ch}] ${row[o]} vs ${want}`);
      }
    }
  });
  mlp.dispose();
});

// ---------------------------------------------------------------------------
// 4. Rowdy and Kronecker activations (src/nn/rowdy.ts): jets vs float64 FD to order 4

/**
 * The same check as section 2 for nets whose hidden activation is a Rowdy or Kronecker
 * sum, with α moved away from 0 (amplitudes n_R·α ≈ 0.2…0.8) and F/ω ±10…40 % away from
 * their initial values, so every term of the sum contributes. mlpForwardNumber evaluates
 * Rowdy in the raw z (φ(s z) + Σ n_R α_k ψ(n_R k F_k z)) while the jets evaluate it in
 * u = s·z; the comparison also checks that rewriting.
 */
const MIXED: { name: string; act: BaseActivation; extra: Partial<MlpConfig>; gain?: number }[] = [
  { name: 'rowdy tanh+sin K=4', act: 'tanh', extra: { rowdy: { K: 4, family: 'sin' } } },
  { name: 'rowdy gelu+cos K=3 per neuron', act: 'gelu', extra: { rowdy: { K: 3, family: 'cos', mode: 'neuron' } } },
  { name: 'rowdy sigmoid+sin K=3 n_R=5', act: 'sigmoid', extra: { rowdy: { K: 3, family: 'sin', n: 5 } }, gain: 2 },
  { name: 'kronecker tanh,sin,sin,softplus', act: 'tanh', extra: { kronecker: { functions: ['tanh', 'sin', 'sin', 'softplus'] } } },
  { name: 'kronecker elu,cos,silu per neuron', act: 'elu', extra: { kronecker: { functions: ['elu', 'cos', 'silu'], mode: 'neuron' } } },
];

function perturbMixture(p: MlpParams, rng: Rng): MlpParams {
  const sign = () => (rng.uniform() < 0.5 ? -1 : 1);
  return {
    ...p,
    alphas: p.alphas!.map((s) => s.map((a) => Math.fround(a + sign() * (0.02 + 0.06 * rng.uniform())))),
    freqs: p.freqs!.map((s) => s.map((f) => Math.fround(f * (1 + sign() * (0.1 + 0.3 * rng.uniform()))))),
  };
}

MIXED.forEach(({ name, act, extra, gain }, mi) => {
  test(`forwardJet ${name}, 2 inputs: all channels ≤ order 4 match float64 FD`, async (t) => {
    const plan = makePlan(2, allChannels(2, 4));
    for (const [mj, mode] of (['none', 'layer', 'neuron'] as AdaptiveMode[]).entries()) {
      await t.test(`${mode} n=10`, () => {
        const rng = new Rng(500 + 10 * mi + mj);
        const cfg: MlpConfig = {
          inputs: 2, hidden: [6, 7, 5], outputs: 2, activation: act,
          adaptive: { mode, n: 10 }, init: 'xavier', inputLo: BOX[2]!.lo, inputHi: BOX[2]!.hi, ...extra,
        };
        const mlp = new Mlp(cfg, rng);
        try {
          const p0 = mlp.toJSON();
          // Weight gain 1 (2 for sigmoid, σ' ≤ 1/4): the sinusoids bring curvature enough, and
          // larger gains push the order-4 FD reference past its accuracy.
          mlp.load(perturbMixture({ ...perturb(p0, rng, gain ?? 1), alphas: p0.alphas!, freqs: p0.freqs! }, rng));
          const params = mlp.toJSON();
          assert.ok(params.alphas!.flat().filter((a, i) => a !== p0.alphas!.flat()[i]).length === p0.alphas!.flat().length, 'every α moved');
          const X = pickPoints(cfg, params, mlp.scales, rng, 4);
          const f = (x: number[]) => mlpForwardNumber(cfg, params, mlp.scales, x);
          const step = BOX[2]!.hi.map((h, i) => (h - BOX[2]!.lo[i]!) / 2);
          const { jets, values } = tf.tidy(() => {
            const Xt = tf.tensor2d(X);
            const J = stepFor(mlp, plan.maxOrder).impl.forwardJet(plan, Xt);
            return { jets: J.map((j) => j.arraySync()), values: stepFor(mlp, 0).impl.forward(Xt).arraySync() };
          });
          assert.deepEqual(values, jets[0], 'forward() vs forwardJet()[0]');
          let worst = 0;
          plan.channels.forEach((ch, c) => {
            const ref = X.map((x) => fd(f, x, ch, step));
            const scales = [0, 1].map((o) => Math.max(...ref.map((r) => Math.abs(r[o]!))));
            assert.ok(Math.max(...scales) > 1e-2, `channel [${channelKey(ch)}] is not trivially small (${scales})`);
            scales.forEach((scale, o) => {
              const tol = 1e-3 * scale + ATOL[ch.length]!;
              ref.forEach((r, q) => {
                const got = jets[c]![q]![o]!;
                const err = Math.abs(got - r[o]!);
                worst = Math.max(worst, err / tol);
                assert.ok(err <= tol, `${name} ${mode} channel [${channelKey(ch)}] out ${o} point ${q}: jet ${got}, fd ${r[o]}, |err| ${err.toExponential(2)} > tol ${tol.toExponential(2)}`);
              });
            });
          });
          t.diagnostic(`${mode}: worst err/tol ${worst.toFixed(3)}`);
        } finally {
          mlp.dispose();
        }
      });
    }
  });
});
