/** `laaf solve` with `model.rowdy` / `model.kronecker` end to end: parameter counts in summary.json, amplitude columns. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HIGHFREQ_1D as BASE, laaf, tempDir } from '../helpers.js';

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
