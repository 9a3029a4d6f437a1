import { test } from 'node:test';
import assert from 'node:assert/strict';
import { burgersColeHopf, burgersColeHopfMany } from '../src/problem/burgers-reference.js';
import { grid } from '../src/domain/sampling.js';

const NU = 0.01 / Math.PI;
const u = (x: number, t: number) => burgersColeHopf(x, t, NU);

/**
 * Second, independent evaluation: composite Simpson directly in η over
 * [−W, W] (G decays below e^-(2k+60) beyond W), trig of π(x−η) taken directly,
 * exponents combined by log-sum-exp. Optionally returns u_x (see below).
 */
function simpsonEta(x: number, t: number, nu: number, intervals = 20000): { u: number; ux: number } {
  const k = 1 / (2 * Math.PI * nu);
  const g = 1 / (4 * nu * t);
  const W = Math.sqrt((2 * k + 60) / g);
  const h = (2 * W) / intervals;
  const a = new Float64Array(intervals + 1);
  let max = -Infinity;
  for (let i = 0; i <= intervals; i++) {
    const eta = -W + i * h;
    a[i] = -k * Math.cos(Math.PI * (x - eta)) - g * eta * eta;
    if (a[i]! > max) max = a[i]!;
  }
  // N = ∫ sin(π(x−η)) f G,  D = ∫ f G,  N' = ∂N/∂x = ∫ [π cos + kπ sin²] f G,  D' = kπ N
  let num = 0;
  let den = 0;
  let dnum = 0;
  for (let i = 0; i <= intervals; i++) {
    const w = i === 0 || i === intervals ? 1 : i % 2 === 1 ? 4 : 2;
    const y = Math.PI * (x - (-W + i * h));
    const e = w * Math.exp(a[i]! - max);
    const s = Math.sin(y);
    num += s * e;
    den += e;
    dnum += (Math.PI * Math.cos(y) + k * Math.PI * s * s) * e;
  }
  const uu = -num / den;
  return { u: uu, ux: -dnum / den + k * Math.PI * uu * uu };
}

/** 50 points spread over the domain, a third of them crowded around the shock (x ≈ 0, t ≥ 0.3). */
function testPoints(): Array<[number, number]> {
  const pts: Array<[number, number]> = [];
  for (let i = 0; i < 34; i++) pts.push([-1 + (2 * ((i * 0.618034) % 1)), 0.02 + 0.98 * ((i * 0.414214) % 1)]);
  for (let i = 0; i < 16; i++) pts.push([(i - 7.5) * 2e-3, 0.3 + (0.7 * i) / 15]);
  return pts;
}

test('t = 0 gives the initial condition exactly', () => {
  for (const x of [-1, -0.73, -0.2, 0, 1e-9, 0.5, 0.99, 1]) {
    assert.equal(u(x, 0), -Math.sin(Math.PI * x));
  }
  const many = burgersColeHopfMany(new Float64Array([0.3, 0, -0.4, 0]), NU);
  assert.deepEqual(Array.from(many), [-Math.sin(0.3 * Math.PI), -Math.sin(-0.4 * Math.PI)]);
  // and continuity into t > 0
  assert.ok(Math.abs(u(0.3, 1e-8) + Math.sin(0.3 * Math.PI)) < 1e-7);
});

test('boundary values u(±1, t) = 0', () => {
  for (const t of [1e-4, 0.01, 0.1, 0.3183, 0.5, 0.75, 1]) {
    assert.ok(Math.abs(u(1, t)) < 1e-10, `u(1, ${t}) = ${u(1, t)}`);
    assert.ok(Math.abs(u(-1, t)) < 1e-10, `u(-1, ${t}) = ${u(-1, t)}`);
  }
});

test('odd symmetry u(−x, t) = −u(x, t)', () => {
  for (const [x, t] of testPoints()) {
    assert.ok(Math.abs(u(-x, t) + u(x, t)) < 1e-13, `at (${x}, ${t})`);
  }
});

test('quadrature converged: halving the step and widening the range change u by < 1e-9', () => {
  let worst = 0;
  for (const [x, t] of testPoints()) {
    const fine = burgersColeHopf(x, t, NU, { step: 0.05, tail: 70 });
    worst = Math.max(worst, Math.abs(u(x, t) - fine));
  }
  assert.ok(worst < 1e-9, `max change ${worst}`);
});

test('agrees with an independent Simpson integral in η to 1e-8 (20 points, shock included)', () => {
  const pts = testPoints().filter((_, i) => i % 4 === 0 || i >= 44);
  assert.ok(pts.length >= 16);
  pts.push([0, 1], [5e-3, 1], [-0.5, 0.01]);
  let worst = 0;
  for (const [x, t] of pts) worst = Math.max(worst, Math.abs(u(x, t) - simpsonEta(x, t, NU).u));
  assert.ok(worst < 1e-8, `max difference ${worst}`);
});

test('known value: max |u_x(0, t)| = 152.00516 at t = 1.6037/π (Basdevant et al. 1986)', () => {
  // slope from central differences of the main method, maximised over t by golden section
  const slope = (t: number) => {
    const d = 1e-6;
    return -(u(d, t) - u(-d, t)) / (2 * d);
  };
  let a = 0.49;
  let b = 0.53;
  const r = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 40; i++) {
    const c = b - r * (b - a);
    const d = a + r * (b - a);
    if (slope(c) > slope(d)) b = d;
    else a = c;
  }
  const tMax = (a + b) / 2;
  assert.ok(Math.abs(slope(tMax) - 152.00516) < 2e-5, `max slope ${slope(tMax)}`);
  assert.ok(Math.abs(tMax * Math.PI - 1.6037) < 1e-3, `at t·π = ${tMax * Math.PI}`);
  // and the analytic derivative of the independent integral agrees
  assert.ok(Math.abs(simpsonEta(0, tMax, NU).ux + 152.00516) < 2e-5);
});

test('the shock at t = 1: u jumps by about 1.4 across x = 0 within |x| < 0.02', () => {
  const left = u(-0.02, 1);
  const right = u(0.02, 1);
  assert.ok(left > 0.7 && right < -0.7, `${left} ${right}`);
  assert.ok(Math.abs(u(0, 1)) < 1e-13);
  assert.ok(u(-0.01, 1) - u(0.01, 1) > 1.15, 'most of the jump lies within |x| < 0.01');
  assert.ok(u(-0.1, 1) < left && u(0.1, 1) > right, 'the extremes of u sit at the shock');
});

test('satisfies the PDE: finite-difference residual small away from the shock', () => {
  const dx = 2.5e-4;
  const dt = 1e-4;
  let worst = 0;
  let where = '';
  for (let i = 0; i <= 38; i++) {
    for (const t of [0.02, 0.05, 0.1, 0.15, 0.19, 0.3, 0.5, 0.75, 0.99]) {
      const x = -0.95 + 0.05 * i + 0.0123;
      if (x >= 1 || (Math.abs(x) <= 0.1 && t >= 0.2)) continue;
      const u0 = u(x, t);
      const ut = (u(x, t + dt) - u(x, t - dt)) / (2 * dt);
      const ux = (u(x + dx, t) - u(x - dx, t)) / (2 * dx);
      const uxx = (u(x + dx, t) - 2 * u0 + u(x - dx, t)) / (dx * dx);
      const scale = Math.abs(ut) + Math.abs(u0 * ux) + Math.abs(NU * uxx);
      const rel = Math.abs(ut + u0 * ux - NU * uxx) / scale;
      if (rel > worst) {
        worst = rel;
        where = `(${x}, ${t})`;
      }
    }
  }
  assert.ok(worst < 1e-4, `relative residual ${worst} at ${where}`);
});

test('burgersColeHopfMany matches pointwise evaluation; 256×100 grid is fast', (t) => {
  const g = grid({ names: ['x', 't'], lo: [-1, 0], hi: [1, 1] }, [256, 100]);
  const start = performance.now();
  const many = burgersColeHopfMany(g, NU);
  const ms = performance.now() - start;
  t.diagnostic(`256x100 grid: ${ms.toFixed(0)} ms`);
  assert.equal(many.length, 25600);
  assert.ok(ms < 10000, `took ${ms} ms`);
  for (const i of [0, 99, 100, 12850, 12899, 25599, 7777]) {
    assert.equal(many[i], u(g[2 * i]!, g[2 * i + 1]!));
  }
  assert.ok(many.every(Number.isFinite));
});

test('rejects bad arguments', () => {
  assert.throws(() => burgersColeHopf(0, -0.1, NU), /t >= 0/);
  assert.throws(() => burgersColeHopf(0, 0.5, 0), /nu > 0/);
  assert.throws(() => burgersColeHopfMany(new Float64Array(3), NU));
});
