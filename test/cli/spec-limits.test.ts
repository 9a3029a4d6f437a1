/**
 * Bad input through the CLI: exit 2, `laaf: error: FILE:LINE:COL: ...` (one line per
 * independent mistake, in file order) and nothing written. The cases themselves are
 * tabled in process in test/spec-limits.test.ts; these check the wiring.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { laaf, lineColOf, tempDir } from '../helpers.js';

const SPEC = `name: tiny
inputs: { x: [0, 1] }
outputs: [u]
equations: { pde: u_xx = -1 }
conditions: { ends: { on: boundary, require: u = 0 } }
model: { hidden: [4] }
sampling: { interior: 16 }
training: { adam: { steps: 2 }, log_every: 1 }
`;

test('validate reports every mistake, in file order, and exits 2', () => {
  const dir = tempDir();
  const text = SPEC.replace('name: tiny', 'name: tiny\nbogus: 1').replace('u_xx = -1', 'u_xx = -q').replace('hidden: [4]', 'hidden: [1000000000]');
  writeFileSync(join(dir, 'spec.yaml'), text);
  const r = laaf(['validate', 'spec.yaml'], dir);
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  const at = (needle: string) => { const p = lineColOf(text, needle); return `spec.yaml:${p.line}:${p.col}`; };
  assert.equal(lines.length, 1, 'a schema mistake stops before the expressions are compiled');
  assert.match(lines[0]!, new RegExp(`^laaf: error: ${at('bogus')}: unknown key 'bogus'`));
  writeFileSync(join(dir, 'spec.yaml'), text.replace('bogus: 1\n', ''));
  const r2 = laaf(['validate', 'spec.yaml'], dir);
  const text2 = text.replace('bogus: 1\n', '');
  const at2 = (needle: string) => { const p = lineColOf(text2, needle); return `spec.yaml:${p.line}:${p.col}`; };
  assert.equal(r2.code, 2);
  assert.deepEqual(r2.stderr.trim().split('\n').map((l) => l.split(': ').slice(0, 3).join(': ')),
    [`laaf: error: ${at2('q }')}`, `laaf: error: ${at2('[1000000000]')}`], r2.stderr);
  assert.deepEqual(readdirSync(dir), ['spec.yaml']);
});

test('non-regular and missing spec files, empty --max-steps, --set below a scalar: exit 2', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'spec.yaml'), SPEC);
  for (const [args, message] of [
    [['validate', '/dev/zero'], /^laaf: error: \/dev\/zero: the spec file is not a regular file/],
    [['solve', 'nope.yaml'], /^laaf: error: nope\.yaml: the spec file does not exist/],
    [['solve', 'spec.yaml', '--max-steps', ''], /--max-steps.*expected a whole number/],
    [['solve', 'spec.yaml', '--set', 'name.foo=1'], /^laaf: error: --set name\.foo=1: name is "tiny", not a mapping/],
  ] as const) {
    const r = laaf([...args], dir);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.deepEqual(readdirSync(dir), ['spec.yaml']);
});

test('predict from a run whose spec.resolved.yaml no longer fits its checkpoint: exit 2, nothing written', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'spec.yaml'), SPEC);
  const run = join(dir, 'run');
  const s = laaf(['solve', 'spec.yaml', '--out', 'run', '--quiet', '--no-plots'], dir);
  assert.equal(s.code, 0, s.stderr);
  const resolved = join(run, 'spec.resolved.yaml');
  const text = readFileSync(resolved, 'utf8');
  assert.match(text, /grid:\s*\n\s*x: 201/, 'output.grid is filled in');
  const ok = laaf(['predict', 'run', '--grid', 'x=7', '--out', 'ok.csv'], dir);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(readFileSync(join(dir, 'ok.csv'), 'utf8').trim().split('\n').length, 8);
  writeFileSync(resolved, text.replace(/hidden:\s*\n\s*- 4/, 'hidden:\n    - 5'));
  const r = laaf(['predict', 'run', '--grid', 'x=5', '--out', 'p.csv'], dir);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /spec\.resolved\.yaml no longer matches checkpoint\.json/);
  assert.equal(existsSync(join(dir, 'p.csv')), false);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.')), []);
});
