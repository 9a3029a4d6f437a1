/** The problem library through the CLI: `laaf validate` accepts every shipped spec, `laaf problems` lists them all. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { laaf, repoRoot } from '../helpers.js';

const PROBLEMS = join(repoRoot(), 'problems');
const PAPER = join(repoRoot(), 'configs', 'paper');

test('laaf validate accepts every spec in problems/ and configs/paper/; laaf problems lists them all', () => {
  const specs = [
    ...readdirSync(PROBLEMS).filter((f) => f.endsWith('.yaml')).map((f) => join('problems', f)),
    ...readdirSync(PAPER).filter((f) => f.endsWith('.yaml')).map((f) => join('configs', 'paper', f)),
  ];
  const v = laaf(['validate', ...specs], repoRoot());
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout.trim().split('\n').filter((l) => l.startsWith('ok ')).length, specs.length, v.stdout);
  const p = laaf(['problems'], repoRoot());
  assert.equal(p.code, 0, p.stderr);
  for (const f of readdirSync(PROBLEMS).filter((g) => g.endsWith('.yaml'))) {
    const line = p.stdout.split('\n').find((l) => l.startsWith(join('problems', f) + ' '));
    assert.ok(line && line.slice(join('problems', f).length).trim().length > 10, `laaf problems shows ${f} with its about line`);
  }
});
