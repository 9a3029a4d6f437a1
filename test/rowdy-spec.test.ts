/**
 * The `model.rowdy` and `model.kronecker` spec sections: defaults, every mistake
 * reported at FILE:LINE:COL by the schema (ARCHITECTURE.md, "Conventions"), and `laaf solve` end to end
 * (parameter counts in summary.json).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSpec } from '../src/spec/load.js';
import { UserError } from '../src/spec/errors.js';
import { laaf, lineColOf, tempDir } from './helpers.js';

const BASE = `name: hf
inputs: { x: [-1, 1] }
outputs: [u]
data:
  fit: { target: sin(20*x), points: 50 }
model:
  hidden: [8, 8]
  activation: tanh
  adaptive: { mode: layer, n: 10 }
`;

test('rowdy and kronecker: defaults', () => {
  const plain = parseSpec(BASE, 'hf.yaml').spec.model;
  assert.equal(plain.rowdy, undefined);
  assert.equal(plain.kronecker, undefined);
  const r = parseSpec(`${BASE}  rowdy: { K: 5 }\n`, 'hf.yaml').spec.model.rowdy;
  assert.deepEqual(r, { K: 5, family: 'sin', mode: 'layer' });
  const r2 = parseSpec(`${BASE}  rowdy: { K: 3, family: cos, n: [5, 10], mode: neuron }\n`, 'hf.yaml').spec.model.rowdy;
  assert.deepEqual(r2, { K: 3, family: 'cos', n: [5, 10], mode: 'neuron' });
  const k = parseSpec(`${BASE}  kronecker: { functions: [tanh, sin, cos] }\n`, 'hf.yaml').spec.model.kronecker;
  assert.deepEqual(k, { functions: ['tanh', 'sin', 'cos'], mode: 'layer' });
  const k2 = parseSpec(`${BASE}  kronecker:\n    functions: [tanh, sin]\n    alpha: [1, 0.1]\n    omega: [1, 20]\n`, 'hf.yaml').spec.model.kronecker;
  assert.deepEqual(k2, { functions: ['tanh', 'sin'], mode: 'layer', alpha: [1, 0.1], omega: [1, 20] });
  // false or null switch a section off (`--set model.rowdy=false`, sweeps)
  const off = parseSpec(`${BASE}  rowdy: false\n  kronecker: { functions: [tanh, sin] }\n`, 'hf.yaml').spec.model;
  assert.equal(off.rowdy, false);
  assert.equal(parseSpec(`${BASE}  kronecker: ~\n`, 'hf.yaml').spec.model.kronecker, null);
  const set = parseSpec(`${BASE}  rowdy: { K: 4 }\n`, 'hf.yaml', { set: ['model.rowdy=false'] }).spec.model;
  assert.equal(set.rowdy, false);
});

const cases: { name: string; add: string; at: string; nth?: number; message: RegExp; hint?: RegExp; text?: string }[] = [
  { name: 'unknown family', add: '  rowdy: { K: 5, family: tan }\n', at: 'tan }', message: /model\.rowdy\.family.*sin.*cos/ },
  { name: 'K = 1', add: '  rowdy: { K: 1 }\n', at: '1 }', message: /model\.rowdy\.K: .*at least 2/ },
  { name: 'K not whole', add: '  rowdy: { K: 2.5 }\n', at: '2.5', message: /model\.rowdy\.K: must be a whole number/ },
  { name: 'K missing', add: '  rowdy: { family: sin }\n', at: '{ family', message: /model\.rowdy\.K is required/ },
  { name: 'unknown rowdy key', add: '  rowdy: { K: 3, terms: 4 }\n', at: 'terms', message: /unknown key 'terms' in model\.rowdy/ },
  { name: 'rowdy n per layer, wrong count', add: '  rowdy: { K: 3, n: [5, 5, 5] }\n', at: '[5, 5, 5]', message: /model\.rowdy\.n: has 3 entries for 2 hidden layers/ },
  { name: 'rowdy n < 1', add: '  rowdy: { K: 3, n: 0.5 }\n', at: '0.5', message: /model\.rowdy\.n.*>= 1/ },
  { name: 'unknown rowdy mode', add: '  rowdy: { K: 3, mode: global }\n', at: 'global', message: /model\.rowdy\.mode/ },
  { name: 'unknown kronecker function', add: '  kronecker: { functions: [tanh, sine] }\n', at: 'sine', message: /model\.kronecker\.functions\.1: expected one of/, hint: /'sin'/ },
  { name: 'one kronecker function', add: '  kronecker: { functions: [tanh] }\n', at: '[tanh]', message: /model\.kronecker\.functions: .*at least two/ },
  { name: 'alpha length', add: '  kronecker: { functions: [tanh, sin], alpha: [1] }\n', at: '[1]', message: /model\.kronecker\.alpha: has 1 entries for 2 functions/ },
  { name: 'omega length', add: '  kronecker: { functions: [tanh, sin], omega: [1, 2, 3] }\n', at: '[1, 2, 3]', message: /model\.kronecker\.omega: has 3 entries for 2 functions/ },
  { name: 'both rowdy and kronecker', add: '  rowdy: { K: 3 }\n  kronecker: { functions: [tanh, sin] }\n', at: '{ functions', message: /model\.kronecker: rowdy and kronecker are alternatives/ },
  {
    name: 'adaptive n per layer, wrong count', add: '', text: BASE.replace('n: 10 }', 'n: [10, 10, 10] }'),
    at: '[10, 10, 10]', message: /model\.adaptive\.n: has 3 entries for 2 hidden layers/,
  },
];

for (const c of cases) {
  test(`spec error: ${c.name} — located at its line and column`, () => {
    const text = c.text ?? BASE + c.add;
    let err: unknown;
    try {
      parseSpec(text, 'hf.yaml');
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof UserError, `${c.name}: a UserError (${String(err)})`);
    assert.match(err.message, c.message);
    if (c.hint) assert.match(err.hint ?? '', c.hint);
    const want = lineColOf(text, c.at, c.nth ?? 0);
    assert.deepEqual({ line: err.where?.line, col: err.where?.col }, want, `${c.name}: ${err.message}`);
    assert.equal(err.where?.file, 'hf.yaml');
  });
}

test('laaf solve with rowdy / kronecker: trains, and summary.json counts α and F/ω as adaptive parameters', () => {
  const dir = tempDir();
  // 1-8-8-1, L-LAAF: 97 weights and biases + 2 slopes
  const variants: [string, string, { total: number; adaptive: number }][] = [
    ['rowdy', '  rowdy: { K: 4, family: cos }\n', { total: 97 + 2 + 2 * 6, adaptive: 2 + 2 * 6 }],
    ['kron', '  kronecker: { functions: [tanh, sin, sin], mode: neuron }\n', { total: 97 + 2 + 2 * 8 * 6, adaptive: 2 + 2 * 8 * 6 }],
  ];
  for (const [name, add, params] of variants) {
    writeFileSync(join(dir, `${name}.yaml`), BASE + add);
    const r = laaf(['solve', `${name}.yaml`, '--out', name, '--quiet', '--max-steps', '3', '--set', 'training.log_every=1'], dir);
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    const summary = JSON.parse(readFileSync(join(dir, name, 'summary.json'), 'utf8'));
    assert.equal(summary.status, 'completed');
    assert.deepEqual(summary.parameters, params, name);
    assert.equal(summary.network.fused, true, `${name}: the fused kernel ran (${JSON.stringify(summary.network)})`);
    assert.ok(Number.isFinite(summary.final.loss));
    const history = readFileSync(join(dir, name, 'history.csv'), 'utf8').trim().split('\n');
    assert.equal(history.length, 1 + 4, `${name}: header and steps 0..3`);
    // Amplitude columns per hidden layer: 0 at init (α = 0), moving after the first steps.
    const head = history[0]!.split(',');
    const amp = head.indexOf(name === 'rowdy' ? 'rowdy_1_amp' : 'kron_1_amp');
    assert.ok(amp > 0 && head.includes(name === 'rowdy' ? 'rowdy_2_amp' : 'kron_2_lead'), head.join(','));
    assert.equal(Number(history[1]!.split(',')[amp]), 0);
    assert.ok(Number(history[4]!.split(',')[amp]) > 0);
    assert.match(readFileSync(join(dir, name, 'spec.resolved.yaml'), 'utf8'), name === 'rowdy' ? /rowdy:/ : /kronecker:/);
  }
});
