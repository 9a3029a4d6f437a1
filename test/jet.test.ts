/**
 * Jet plans and jet arithmetic (src/jet/): set partitions, channel closure,
 * Faà di Bruno / Leibniz coefficients, and jetCompose / jetMul against exact
 * derivatives of exp(p), sin(p) and p·q for multivariate polynomials p, q.
 *
 * Tolerance: float32 jets vs exact float64 derivatives, per channel
 * |got − exact| ≤ 2e-5 · max_points |exact_channel| + 1e-6.
 * Backend: cpu, or LAAF_TEST_BACKEND=wasm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { makePlan, setPartitions, channelKey, type Channel, type JetPlan } from '../src/jet/plan.js';
import { jetCompose, jetMul, jetAdd, jetScale, jetConst, type Jet } from '../src/jet/jet.js';
import { tower } from '../src/nn/activations.js';
import { Rng } from '../src/domain/rng.js';
import { allChannels } from './helpers.js';

const BACKEND = process.env.LAAF_TEST_BACKEND ?? 'cpu';
if (BACKEND === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
assert.ok(await tf.setBackend(BACKEND), `backend ${BACKEND}`);

// ---------------------------------------------------------------------------
// Multivariate polynomials: Map from exponent vector key "e0,e1,e2" to coefficient.
type Poly = Map<string, number>;
const D = 3; // number of variables used by the polynomial tests

function poly(terms: [number, number[]][]): Poly {
  const p: Poly = new Map();
  for (const [c, e] of terms) addTerm(p, e, c);
  return p;
}
function addTerm(p: Poly, e: number[], c: number): void {
  const k = e.join(',');
  p.set(k, (p.get(k) ?? 0) + c);
}
function pAdd(a: Poly, b: Poly): Poly {
  const r: Poly = new Map(a);
  for (const [k, c] of b) r.set(k, (r.get(k) ?? 0) + c);
  return r;
}
function pMul(a: Poly, b: Poly): Poly {
  const r: Poly = new Map();
  for (const [ka, ca] of a) {
    const ea = ka.split(',').map(Number);
    for (const [kb, cb] of b) {
      const eb = kb.split(',').map(Number);
      addTerm(r, ea.map((v, i) => v + eb[i]!), ca * cb);
    }
  }
  return r;
}
function pDeriv(p: Poly, i: number): Poly {
  const r: Poly = new Map();
  for (const [k, c] of p) {
    const e = k.split(',').map(Number);
    if (e[i]! === 0) continue;
    const f = [...e];
    f[i] = f[i]! - 1;
    addTerm(r, f, c * e[i]!);
  }
  return r;
}
function pEval(p: Poly, x: number[]): number {
  let s = 0;
  for (const [k, c] of p) {
    const e = k.split(',').map(Number);
    s += c * e.reduce((acc, ei, i) => acc * x[i]! ** ei, 1);
  }
  return s;
}
function pDerivMulti(p: Poly, ch: Channel): Poly {
  return ch.reduce((q, i) => pDeriv(q, i), p);
}
const ONE = poly([[1, [0, 0, 0]]]);
const ZERO: Poly = new Map();

// z(x, y, w): a polynomial with all mixed terms up to degree 4 represented.
const P = poly([
  [0.3, [0, 0, 0]], [0.5, [1, 0, 0]], [-0.4, [0, 1, 0]], [0.25, [0, 0, 1]],
  [0.7, [1, 1, 0]], [0.2, [2, 0, 0]], [-0.1, [0, 3, 0]], [0.15, [1, 1, 1]],
  [-0.3, [0, 1, 2]], [0.05, [2, 2, 0]], [0.08, [3, 0, 1]], [-0.06, [0, 0, 4]],
]);
const Q = poly([
  [-0.2, [0, 0, 0]], [0.6, [0, 1, 0]], [0.35, [1, 0, 1]], [-0.45, [2, 1, 0]],
  [0.1, [0, 2, 2]], [0.3, [1, 0, 0]], [0.12, [0, 0, 3]],
]);

function points(n: number, seed: number): number[][] {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => Array.from({ length: D }, () => Math.fround(r.range(-1, 1))));
}

/** Jet of a polynomial at the points: channel α = ∂^α p, each [N, 1]. */
function polyJet(plan: JetPlan, p: Poly, X: number[][]): Jet {
  return plan.channels.map((ch) => {
    const d = pDerivMulti(p, ch);
    return tf.tensor2d(X.map((x) => [pEval(d, x)]), [X.length, 1]);
  });
}


function assertJetClose(plan: JetPlan, got: Jet, exact: (ch: Channel, x: number[]) => number, X: number[][], what: string): void {
  plan.channels.forEach((ch, c) => {
    const g = got[c]!.dataSync();
    const ex = X.map((x) => exact(ch, x));
    const scale = Math.max(...ex.map(Math.abs));
    const tol = 2e-5 * scale + 1e-6;
    ex.forEach((e, p) => {
      const err = Math.abs(g[p]! - e);
      assert.ok(err <= tol, `${what}: channel [${channelKey(ch)}] point ${p}: got ${g[p]}, exact ${e}, |err| ${err.toExponential(2)} > tol ${tol.toExponential(2)}`);
    });
  });
}

// ---------------------------------------------------------------------------

test('setPartitions: counts are the Bell numbers and each is a partition', () => {
  const bell = [1, 1, 2, 5, 15, 52, 203];
  bell.forEach((b, n) => {
    const parts = setPartitions(n);
    assert.equal(parts.length, b, `Bell(${n})`);
    const keys = new Set<string>();
    for (const p of parts) {
      const flat = p.flat().sort((x, y) => x - y);
      assert.deepEqual(flat, Array.from({ length: n }, (_, i) => i), 'blocks cover {0..n-1} exactly once');
      assert.ok(p.every((blk) => blk.length > 0), 'no empty blocks');
      keys.add(JSON.stringify(p.map((blk) => [...blk].sort()).sort()));
    }
    assert.equal(keys.size, b, 'partitions are distinct');
  });
});

test('makePlan: closure, order, index', () => {
  const plan = makePlan(2, [[0, 0, 1]]);
  assert.deepEqual(plan.channels, [[], [0], [1], [0, 0], [0, 1], [0, 0, 1]]);
  assert.equal(plan.maxOrder, 3);
  assert.equal(plan.nInputs, 2);
  assert.equal(plan.index([]), 0);
  assert.equal(plan.index([1, 0]), 4, 'unsorted channel is normalised');
  assert.ok(plan.has([0, 1]));
  assert.ok(!plan.has([1, 1]));
  assert.throws(() => plan.index([1, 1]), /not in this jet plan/);
  assert.throws(() => makePlan(2, [[2]]), /out of range/);

  const p2 = makePlan(3, [[2, 0], [1], [0, 0, 0, 0]]);
  assert.deepEqual(p2.channels, [[], [0], [1], [2], [0, 0], [0, 2], [0, 0, 0], [0, 0, 0, 0]]);
  assert.equal(makePlan(3, []).channels.length, 1, 'value only');
  assert.equal(makePlan(3, allChannels(3, 4)).channels.length, 35, 'C(7,4) channels up to order 4');
});

test('Faà di Bruno and Leibniz coefficients', () => {
  const plan = makePlan(2, [[0, 0, 0, 0], [0, 0, 1, 1]]);
  const x = plan.index([0]);
  const xx = plan.index([0, 0]);
  const xxx = plan.index([0, 0, 0]);
  const xxxx = plan.index([0, 0, 0, 0]);
  const terms = (ch: Channel) =>
    plan.faa[plan.index(ch)]!.map((t) => `${t.coef}*f${t.order}[${t.factors.join(',')}]`).sort();
  // (f∘z)_xxxx = f' z4 + f''(4 z1 z3 + 3 z2²) + 6 f''' z1² z2 + f'''' z1⁴
  assert.deepEqual(
    terms([0, 0, 0, 0]),
    [`1*f1[${xxxx}]`, `4*f2[${x},${xxx}]`, `3*f2[${xx},${xx}]`, `6*f3[${x},${x},${xx}]`, `1*f4[${x},${x},${x},${x}]`].sort(),
  );
  plan.channels.forEach((ch, c) => {
    if (c === 0) return;
    const bell = [1, 1, 2, 5, 15][ch.length]!;
    assert.equal(plan.faa[c]!.reduce((s, t) => s + t.coef, 0), bell, `Σ coef = Bell(${ch.length}) for [${ch}]`);
    assert.equal(plan.leibniz[c]!.reduce((s, t) => s + t.coef, 0), 2 ** ch.length, `Σ coef = 2^m for [${ch}]`);
  });
  // (uv)_xx = u v_xx + 2 u_x v_x + u_xx v
  const lx = plan.leibniz[xx]!.map((t) => `${t.coef}:${t.a},${t.b}`).sort();
  assert.deepEqual(lx, [`1:0,${xx}`, `2:${x},${x}`, `1:${xx},0`].sort());
  // (uv)_xxyy has 16 splittings merged into 9 distinct terms with coefficients C(2,i)C(2,j)
  const l22 = plan.leibniz[plan.index([0, 0, 1, 1])]!;
  assert.equal(l22.length, 9);
  assert.deepEqual(l22.map((t) => t.coef).sort(), [1, 1, 1, 1, 2, 2, 2, 2, 4]);
});

const X = points(6, 7);

test('jetCompose(exp) on a polynomial matches exact derivatives up to order 4', () => {
  const plan = makePlan(3, allChannels(3, 4));
  // D_α exp(p) = Q_α exp(p), Q_∅ = 1, Q_{α+i} = ∂_i Q_α + Q_α ∂_i p
  const qs = new Map<string, Poly>([['', ONE]]);
  for (const ch of plan.channels.slice(1)) {
    const parent = qs.get(channelKey(ch.slice(0, -1)))!;
    const i = ch[ch.length - 1]!;
    qs.set(channelKey(ch), pAdd(pDeriv(parent, i), pMul(parent, pDeriv(P, i))));
  }
  tf.tidy(() => {
    const z = polyJet(plan, P, X);
    const e = tf.exp(z[0]!);
    const h = jetCompose(plan, z, new Array(plan.maxOrder + 1).fill(e));
    assertJetClose(plan, h, (ch, x) => pEval(qs.get(channelKey(ch))!, x) * Math.exp(pEval(P, x)), X, 'exp');
  });
});

test('jetCompose(sin) with the activation tower matches exact derivatives (sparse plan)', () => {
  const plan = makePlan(3, [[0, 0, 1, 2], [1, 1, 1, 1], [0, 2, 2]]);
  // D_α sin(p) = A_α sin p + B_α cos p
  const ab = new Map<string, [Poly, Poly]>([['', [ONE, ZERO]]]);
  const get = (ch: Channel): [Poly, Poly] => {
    const k = channelKey(ch);
    let v = ab.get(k);
    if (!v) {
      const [A, B] = get(ch.slice(0, -1));
      const i = ch[ch.length - 1]!;
      const pi = pDeriv(P, i);
      v = [pAdd(pDeriv(A, i), pMul(B, pMul(pi, poly([[-1, [0, 0, 0]]])))), pAdd(pDeriv(B, i), pMul(A, pi))];
      ab.set(k, v);
    }
    return v;
  };
  tf.tidy(() => {
    const z = polyJet(plan, P, X);
    const h = jetCompose(plan, z, tower('sin', z[0]!, plan.maxOrder));
    assertJetClose(plan, h, (ch, x) => {
      const [A, B] = get(ch);
      const p = pEval(P, x);
      return pEval(A, x) * Math.sin(p) + pEval(B, x) * Math.cos(p);
    }, X, 'sin');
  });
});

test('jetMul matches the derivatives of the product polynomial; add/scale/const', () => {
  const plan = makePlan(3, allChannels(3, 4));
  const PQ = pMul(P, Q);
  tf.tidy(() => {
    const u = polyJet(plan, P, X);
    const v = polyJet(plan, Q, X);
    assertJetClose(plan, jetMul(plan, u, v), (ch, x) => pEval(pDerivMulti(PQ, ch), x), X, 'mul');
    const lin = jetAdd(jetScale(u, 2), jetScale(v, tf.scalar(-3)));
    assertJetClose(plan, lin, (ch, x) => 2 * pEval(pDerivMulti(P, ch), x) - 3 * pEval(pDerivMulti(Q, ch), x), X, 'add/scale');
    // (c·u) via jetMul with a constant jet equals scaling
    const c = jetConst(plan, tf.fill([X.length, 1], 1.5));
    assertJetClose(plan, jetMul(plan, c, u), (ch, x) => 1.5 * pEval(pDerivMulti(P, ch), x), X, 'const');
  });
});

test('jetCompose rejects a short tower or a mismatched jet', () => {
  const plan = makePlan(2, [[0, 1]]);
  tf.tidy(() => {
    const z = plan.channels.map(() => tf.ones([2, 1]));
    assert.throws(() => jetCompose(plan, z, [tf.ones([2, 1])]), /tower has 1 entries/);
    assert.throws(() => jetCompose(plan, z.slice(1), tower('tanh', z[0]!, 2)), /channels/);
  });
});
