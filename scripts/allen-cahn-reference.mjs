#!/usr/bin/env node
// Writes the Allen–Cahn reference table used by problems/allen-cahn.yaml:
//   u_t = D u_xx + k (u - u^3), x in [-1, 1] periodic, t in [0, 1], u(x, 0) = x^2 cos(pi x),
// solved by laaf's own Fourier pseudo-spectral ETDRK4 solver (src/problem/references/allen-cahn.ts)
// and sampled on the spec's output grid (so rel-L2 is computed at the table's nodes, with no
// interpolation). Needs `npm run build` first.
//   node scripts/allen-cahn-reference.mjs [--D 0.001] [--k 2] [--nx 201] [--nt 101] [--modes 2048] [--dt 5e-4] [--out problems/data/allen-cahn.csv]
import { writeFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { allenCahnReference } = await import(join(root, 'dist/src/problem/references/allen-cahn.js'));

const args = { D: 0.001, k: 2, nx: 201, nt: 101, modes: 2048, dt: 5e-4, out: 'problems/data/allen-cahn.csv' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i].replace(/^--/, '');
  if (!(key in args)) throw new Error(`unknown option ${argv[i]}`);
  args[key] = key === 'out' ? argv[i + 1] : Number(argv[i + 1]);
}
const { D, k, nx, nt, modes, dt } = args;
const pts = new Float64Array(nx * nt * 2);
const xs = Array.from({ length: nx }, (_, i) => (i === nx - 1 ? 1 : -1 + (2 * i) / (nx - 1)));
const ts = Array.from({ length: nt }, (_, i) => (i === nt - 1 ? 1 : i / (nt - 1)));
let p = 0;
for (const x of xs) for (const t of ts) { pts[p++] = x; pts[p++] = t; }
const started = Date.now();
const u = allenCahnReference(pts, { diffusion: D, reaction: k, x: [-1, 1], t: [0, 1], initial: (x) => x * x * Math.cos(Math.PI * x), modes, dt });
const lines = [
  `# Allen-Cahn u_t = ${D} u_xx + ${k} (u - u^3), x in [-1, 1] periodic, t in [0, 1], u(x,0) = x^2 cos(pi x)`,
  `# laaf Fourier pseudo-spectral ETDRK4 (src/problem/references/allen-cahn.ts): ${modes} modes, dt = ${dt}`,
  `# written by: node scripts/allen-cahn-reference.mjs --D ${D} --k ${k} --nx ${nx} --nt ${nt} --modes ${modes} --dt ${dt}`,
  'x,t,u',
];
p = 0;
for (const x of xs) for (const t of ts) { lines.push(`${x},${t},${u[p].toPrecision(10)}`); p++; }
const out = resolve(root, args.out);
writeFileSync(out + '.tmp', lines.join('\n') + '\n');
renameSync(out + '.tmp', out);
console.log(`wrote ${args.out}: ${nx} x ${nt} points in ${((Date.now() - started) / 1000).toFixed(1)} s`);
