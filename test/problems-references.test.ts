/**
 * The built-in reference generators (src/problem/references/) against exact solutions and
 * their own convergence, and the shipped Allen–Cahn table against a fresh solve.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Fft } from '../src/problem/references/fft.js';
import { allenCahnReference, solveReactionDiffusion1D } from '../src/problem/references/allen-cahn.js';
import { loadSpec } from '../src/spec/load.js';
import { Rng } from '../src/domain/rng.js';
import { repoRoot } from './helpers.js';

function randomPoints(n: number, x: [number, number], t: [number, number], seed = 7): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    out[2 * i] = x[0] + (x[1] - x[0]) * rng.uniform();
    out[2 * i + 1] = t[0] + (t[1] - t[0]) * rng.uniform();
  }
  return out;
}

function maxAbs(a: Float64Array, b: (i: number) => number): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b(i)));
  return m;
}

test('FFT matches the direct DFT and inverts', () => {
  const n = 16;
  const re = Float64Array.from({ length: n }, (_, j) => Math.sin(j * 1.3) + 0.2 * j);
  const im = Float64Array.from({ length: n }, (_, j) => Math.cos(j * 0.7));
  const r0 = re.slice();
  const i0 = im.slice();
  const fft = new Fft(n);
  fft.forward(re, im);
  for (let k = 0; k < n; k++) {
    let sr = 0;
    let si = 0;
    for (let j = 0; j < n; j++) {
      const a = (-2 * Math.PI * j * k) / n;
      sr += r0[j]! * Math.cos(a) - i0[j]! * Math.sin(a);
      si += r0[j]! * Math.sin(a) + i0[j]! * Math.cos(a);
    }
    assert.ok(Math.abs(re[k]! - sr) < 1e-12 && Math.abs(im[k]! - si) < 1e-12, `bin ${k}`);
  }
  fft.inverse(re, im);
  assert.ok(maxAbs(re, (i) => r0[i]!) < 1e-14 && maxAbs(im, (i) => i0[i]!) < 1e-14);
  assert.throws(() => new Fft(12), /power of two/);
});

test('pure diffusion: the spectral solution matches the exact decaying modes anywhere in (x, t)', () => {
  const D = 0.05;
  const P = randomPoints(300, [-1, 1], [0, 1]);
  const sol = solveReactionDiffusion1D({
    diffusion: D, reaction: () => 0, x: [-1, 1], t: [0, 1], modes: 64, dt: 0.005,
    initial: (x) => Math.cos(Math.PI * x) + 0.3 * Math.sin(3 * Math.PI * x),
  });
  const u = sol.evaluate(P);
  const err = maxAbs(u, (i) => {
    const x = P[2 * i]!;
    const t = P[2 * i + 1]!;
    return Math.exp(-D * Math.PI ** 2 * t) * Math.cos(Math.PI * x) + 0.3 * Math.exp(-9 * D * Math.PI ** 2 * t) * Math.sin(3 * Math.PI * x);
  });
  assert.ok(err < 1e-8, `max error ${err}`);
});

test('reaction only (constant data): ETDRK4 converges at fourth order to the exact Allen–Cahn ODE solution', () => {
  const c = 0.3;
  const k = 5;
  const P = randomPoints(200, [-1, 1], [0, 1]);
  const exact = (i: number) => {
    const t = P[2 * i + 1]!;
    return (c * Math.exp(k * t)) / Math.sqrt(1 - c * c + c * c * Math.exp(2 * k * t));
  };
  const errs = [0.1, 0.05, 0.025].map((dt) =>
    maxAbs(allenCahnReference(P, { diffusion: 1e-3, reaction: k, x: [-1, 1], t: [0, 1], initial: () => c, modes: 16, dt }), exact));
  assert.ok(errs[2]! < 1e-5, `errors ${errs}`);
  for (let j = 1; j < errs.length; j++) {
    const order = Math.log2(errs[j - 1]! / errs[j]!);
    assert.ok(order > 3.4, `observed order ${order.toFixed(2)} (errors ${errs})`);
  }
});

test('Allen–Cahn (D = 1e-3, k = 5, x^2 cos(pi x)): resolution and time-step refinement converge', () => {
  const P = randomPoints(150, [-1, 1], [0.05, 1]);
  const solve = (modes: number, dt: number) => allenCahnReference(P, {
    diffusion: 1e-3, reaction: 5, x: [-1, 1], t: [0, 1], initial: (x) => x * x * Math.cos(Math.PI * x), modes, dt,
  });
  const fine = solve(2048, 1e-3);
  const d256 = maxAbs(solve(256, 1e-3), (i) => fine[i]!);
  const d512 = maxAbs(solve(512, 1e-3), (i) => fine[i]!);
  const dDt = maxAbs(solve(2048, 4e-3), (i) => fine[i]!);
  // x^2 cos(pi x) has a kink at the periodic seam (u_x = 2 vs -2), so refinement in x
  // converges algebraically (second order), not spectrally; time stepping is much finer.
  assert.ok(d512 < 4e-5 && d512 < d256 / 3, `256 modes: ${d256}, 512 modes: ${d512}`);
  assert.ok(dDt < 1e-7, `dt 4e-3 vs 1e-3: ${dDt}`);
  // the solution goes to the stable states ±1 and stays within them
  const grid = solveReactionDiffusion1D({ diffusion: 1e-3, reaction: (u) => 5 * (u - u ** 3), x: [-1, 1], t: [0, 1], initial: (x) => x * x * Math.cos(Math.PI * x), modes: 256, dt: 1e-3 });
  const last = grid.gridValues(grid.steps);
  assert.ok(Math.max(...last) > 0.99 && Math.min(...last) < -0.99 && last.every((v) => Math.abs(v) <= 1 + 1e-6));
});

test('problems/data/allen-cahn.csv is what the solver gives for the constants in allen-cahn.yaml', () => {
  const root = repoRoot();
  const { spec } = loadSpec(join(root, 'problems', 'allen-cahn.yaml'));
  const D = Number(spec.constants['D']);
  const k = Number(spec.constants['k']);
  assert.ok(spec.reference && 'file' in spec.reference);
  const lines = readFileSync(join(root, 'problems', spec.reference.file), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  assert.equal(lines[0], 'x,t,u');
  const rows = lines.slice(1).map((l) => l.split(',').map(Number));
  const grid = spec.output.grid!;
  assert.equal(rows.length, grid['x']! * grid['t']!, 'the table is on the output grid');
  const pick = rows.filter((_, i) => i % 97 === 0);
  const P = Float64Array.from(pick.flatMap((r) => [r[0]!, r[1]!]));
  const u = allenCahnReference(P, { diffusion: D, reaction: k, x: [-1, 1], t: [0, 1], initial: (x) => x * x * Math.cos(Math.PI * x), modes: 1024, dt: 1e-3 });
  const err = maxAbs(u, (i) => pick[i]![2]!);
  assert.ok(err < 3e-5, `table vs a fresh 1024-mode solve: ${err}`);
});
