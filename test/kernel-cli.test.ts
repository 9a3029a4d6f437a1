/**
 * The fused kernel end to end: `laaf solve` uses it by default, `--no-fused` and the spec
 * key `model.fused: false` turn it off (recorded in spec.resolved.yaml), and both paths
 * train the same network to the same losses within float32 (the first logged loss, before
 * any update, agrees to 1e-5 relative; after 20 Adam steps to 1e-3), and summary.json says
 * which path ran. The same for a Rowdy and a Kronecker network (Burgers with
 * `--set model.rowdy=…` / `model.kronecker=…`, α and F/ω per neuron and per layer).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import YAML from 'yaml';
import { laaf, repoRoot, tempDir } from './helpers.js';

const SMALL = [
  '--set', 'model.hidden=[16,16,16]',
  '--set', 'sampling.interior=1500',
  '--set', 'conditions.initial.points=60',
  '--set', 'conditions.walls.points=40',
  '--set', 'training.adam.steps=20',
  '--set', 'training.log_every=10',
  '--set', 'output.grid={x: 11, t: 5}',
  '--quiet', '--no-plots',
];

function losses(run: string): number[] {
  const rows = parseCsv(readFileSync(join(run, 'history.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
  return rows.map((r) => Number(r['loss']));
}

function fusedKey(run: string): unknown {
  return (YAML.parse(readFileSync(join(run, 'spec.resolved.yaml'), 'utf8')) as { model: { fused?: unknown } }).model.fused;
}

test('solve: fused by default, --no-fused and model.fused=false switch it off; the losses agree', () => {
  const dir = tempDir();
  const spec = join(repoRoot(), 'problems', 'burgers.yaml');
  const on = laaf(['solve', spec, '--out', 'on', ...SMALL], dir);
  assert.equal(on.code, 0, on.stderr);
  const off = laaf(['solve', spec, '--out', 'off', '--no-fused', ...SMALL], dir);
  assert.equal(off.code, 0, off.stderr);
  const key = laaf(['solve', spec, '--out', 'key', '--set', 'model.fused=false', ...SMALL], dir);
  assert.equal(key.code, 0, key.stderr);
  assert.equal(fusedKey(join(dir, 'on')), true);
  assert.equal(fusedKey(join(dir, 'off')), false);
  assert.equal(fusedKey(join(dir, 'key')), false);
  const network = (run: string): { path: string; fused: boolean; threads?: number; why_not?: string; declined: unknown[] } =>
    (JSON.parse(readFileSync(join(dir, run, 'summary.json'), 'utf8')) as { network: { path: string; fused: boolean; declined: unknown[] } }).network;
  assert.equal(network('on').fused, true, 'summary.json records that the kernel ran');
  assert.ok((network('on').threads ?? 0) >= 1);
  assert.equal(network('on').path, 'fused-jets');
  assert.deepEqual(network('on').declined, []);
  const why = 'turned off (--no-fused, model.fused: false)';
  assert.deepEqual(network('off'), { path: 'tfjs-ops', fused: false, why_not: why, declined: [{ path: 'fused-jets', reason: why }] });
  assert.deepEqual(network('key'), network('off'));
  const a = losses(join(dir, 'on'));
  const b = losses(join(dir, 'off'));
  assert.deepEqual(losses(join(dir, 'key')), b, 'model.fused=false is the same run as --no-fused');
  assert.equal(a.length, b.length);
  assert.ok(Math.abs(a[0]! - b[0]!) <= 1e-5 * Math.abs(b[0]!), `initial loss ${a[0]} vs ${b[0]}`);
  assert.ok(Math.abs(a.at(-1)! - b.at(-1)!) <= 1e-3 * Math.abs(b.at(-1)!), `final loss ${a.at(-1)} vs ${b.at(-1)}`);
  assert.ok(a.at(-1)! < a[0]!, 'the fused run trains');
});

test('solve: Rowdy and Kronecker PDE nets run fused; fused and --no-fused losses agree', () => {
  const dir = tempDir();
  const spec = join(repoRoot(), 'problems', 'burgers.yaml');
  for (const [name, set] of [
    ['rowdy', 'model.rowdy={K: 4, family: sin, mode: neuron}'],
    ['kron', 'model.kronecker={functions: [tanh, sin, cos]}'],
  ]) {
    const on = laaf(['solve', spec, '--out', `${name}-on`, '--set', set!, ...SMALL], dir);
    assert.equal(on.code, 0, on.stderr);
    const off = laaf(['solve', spec, '--out', `${name}-off`, '--no-fused', '--set', set!, ...SMALL], dir);
    assert.equal(off.code, 0, off.stderr);
    const network = (run: string): { fused: boolean; threads?: number; why_not?: string } =>
      (JSON.parse(readFileSync(join(dir, run, 'summary.json'), 'utf8')) as { network: { fused: boolean } }).network;
    assert.equal(network(`${name}-on`).fused, true, `${name}: the kernel ran (${JSON.stringify(network(`${name}-on`))})`);
    assert.equal(network(`${name}-off`).fused, false);
    const a = losses(join(dir, `${name}-on`));
    const b = losses(join(dir, `${name}-off`));
    assert.equal(a.length, b.length);
    assert.ok(Math.abs(a[0]! - b[0]!) <= 1e-5 * Math.abs(b[0]!), `${name}: initial loss ${a[0]} vs ${b[0]}`);
    assert.ok(Math.abs(a.at(-1)! - b.at(-1)!) <= 1e-3 * Math.abs(b.at(-1)!), `${name}: final loss ${a.at(-1)} vs ${b.at(-1)}`);
    assert.ok(a.at(-1)! < a[0]!, `${name}: the fused run trains`);
  }
});
