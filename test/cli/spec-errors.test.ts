/**
 * Every user mistake in a spec gets `laaf: error: FILE:LINE:COL: what — hint`, exit
 * code 2, and nothing on disk (no run directory).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TINY_BURGERS, laaf, lineColOf, tempDir } from '../helpers.js';

const BASE = `${TINY_BURGERS}model:
  hidden: [8, 8]
  activation: tanh
  adaptive: { mode: layer, n: 10 }
training:
  adam: { lr: 1.0e-3, steps: 5 }
`;

interface Case {
  name: string;
  /** text replacements applied to BASE (or a whole spec) */
  edit: (s: string) => string;
  /** the error must point at this text in the edited spec (nth occurrence) */
  at: string;
  nth?: number;
  /** the message must match */
  message: RegExp;
  args?: string[];
}

const cases: Case[] = [
  { name: 'YAML syntax', edit: (s) => s.replace('outputs: [u]', 'outputs: [u'), at: '[u', message: /YAML syntax: this '\[' is never closed/ },
  { name: 'unknown top-level key', edit: (s) => s.replace('equations:', 'equatons:'), at: 'equatons', message: /unknown key 'equatons'.*did you mean 'equations'/ },
  { name: 'unknown nested key', edit: (s) => s.replace('activation: tanh', 'activaton: tanh'), at: 'activaton', message: /unknown key 'activaton' in model/ },
  { name: 'wrong type', edit: (s) => s.replace('hidden: [8, 8]', 'hidden: twenty'), at: 'twenty', message: /model\.hidden: expected array/ },
  { name: 'bad choice', edit: (s) => s.replace('activation: tanh', 'activation: tahn'), at: 'tahn', message: /model\.activation.*did you mean 'tanh'/ },
  { name: 'missing required key', edit: (s) => s.replace('outputs: [u]\n', ''), at: 'name', message: /outputs is required/ },
  { name: 'not a whole number', edit: (s) => s.replace('steps: 5', 'steps: 2.5'), at: '2.5', message: /steps: must be a whole number/ },
  { name: 'negative count', edit: (s) => s.replace('hidden: [8, 8]', 'hidden: [8, -8]'), at: '-8', message: /model\.hidden\.1: must be at least 1/ },
  { name: 'unknown symbol in equation', edit: (s) => s.replace('nu*u_xx', 'nuu*u_xx'), at: 'nuu', message: /nuu/ },
  { name: 'derivative of unknown input', edit: (s) => s.replace('u*u_x -', 'u*u_z -'), at: 'u_z', message: /unknown input 'z'/ },
  { name: 'expression syntax', edit: (s) => s.replace('u = -sin(pi*x)', 'u = -sin(pi*)'), at: ')', message: /Value expected|Unexpected/ },
  { name: 'function not allowed', edit: (s) => s.replace('u = -sin(pi*x)', 'u = import(x)'), at: 'import', message: /import/ },
  { name: 'property access', edit: (s) => s.replace('u = -sin(pi*x)', 'u = x.constructor'), at: '.constructor', message: /property access/ },
  { name: 'face not on the box', edit: (s) => s.replace('on: t = 0', 'on: t = 2'), at: '2,', message: /t = 2 is not a face/ },
  { name: 'face of unknown input', edit: (s) => s.replace('x = 1]', 'y = 1]'), at: 'y = 1', message: /'y' is not an input/ },
  { name: 'empty input range', edit: (s) => s.replace('x: [-1, 1]', 'x: [1, -1]'), at: '[1, -1]', message: /range \[1, -1\] is empty/ },
  { name: 'constants in a cycle', edit: (s) => s.replace('nu: 0.01/pi', 'nu: 2*mu\n  mu: nu/2'), at: '2*mu', message: /defined in terms of each other/ },
  { name: 'output used in a constant', edit: (s) => s.replace('nu: 0.01/pi', 'nu: 0.01*u'), at: 'u\n', message: /\bu\b/ },
  { name: 'grid over an unknown input', edit: (s) => `${s}output: { grid: { y: 10 } }\n`, at: 'y: 10', message: /'y' is not an input/ },
  { name: 'bad --set value', edit: (s) => s, at: '', args: ['--set', 'model.hidden=oops'], message: /--set model\.hidden=oops: model\.hidden: expected array/ },
];

for (const c of cases) {
  test(`spec error: ${c.name}`, () => {
    const dir = tempDir();
    const text = c.edit(BASE);
    const file = join(dir, 'spec.yaml');
    writeFileSync(file, text);
    for (const cmd of ['validate', 'solve']) {
      const r = laaf([cmd, 'spec.yaml', ...(c.args ?? [])], dir);
      assert.equal(r.code, 2, `${cmd}: exit code (stderr: ${r.stderr})`);
      const line = r.stderr.trim().split('\n')[0]!;
      assert.match(line, /^laaf: error: /, line);
      assert.match(line, c.message, line);
      if (c.at) {
        const { line: l, col } = lineColOf(text, c.at, c.nth ?? 0);
        assert.ok(line.startsWith(`laaf: error: spec.yaml:${l}:${col}: `), `${cmd}: expected spec.yaml:${l}:${col}, got: ${line}`);
      }
      assert.deepEqual(readdirSync(dir), ['spec.yaml'], `${cmd} must not create anything`);
      assert.equal(existsSync(join(dir, 'runs')), false);
    }
  });
}

test('a valid spec validates with exit 0', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'spec.yaml'), BASE);
  const r = laaf(['validate', 'spec.yaml'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ok spec\.yaml/);
});

test('a missing spec file is a user error', () => {
  const dir = tempDir();
  const r = laaf(['solve', 'nope.yaml'], dir);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /laaf: error: nope\.yaml: the spec file does not exist/);
  assert.deepEqual(readdirSync(dir), []);
});

test('an unknown flag exits 2', () => {
  const dir = tempDir();
  const r = laaf(['solve', 'x.yaml', '--frobnicate'], dir);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option '--frobnicate'/);
});
