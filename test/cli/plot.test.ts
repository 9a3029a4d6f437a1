/** Plots through the CLI: `laaf solve` draws them unless --no-plots, `laaf plot` redraws, a wrong directory is exit 2. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { laaf, repoRoot, tempDir } from '../helpers.js';

test('laaf solve draws plots unless --no-plots; laaf plot redraws; a wrong directory is exit 2', () => {
  const dir = tempDir();
  const spec = join(repoRoot(), 'problems', 'burgers.yaml');
  const small = ['--set', 'model.hidden=[8,8]', '--set', 'sampling.interior=100', '--set', 'conditions.initial.points=30',
    '--set', 'conditions.walls.points=20', '--set', 'training.adam.steps=10', '--set', 'training.log_every=5', '--set', 'output.grid={x: 21, t: 11}', '--quiet'];
  const a = laaf(['solve', spec, '--out', 'a', ...small], dir);
  assert.equal(a.code, 0, a.stderr);
  assert.deepEqual(readdirSync(join(dir, 'a', 'plots')).sort(), ['loss.svg', 'slices.svg', 'slopes.svg', 'solution.svg']);
  const b = laaf(['solve', spec, '--out', 'b', '--no-plots', ...small], dir);
  assert.equal(b.code, 0, b.stderr);
  assert.ok(!existsSync(join(dir, 'b', 'plots')));
  const p = laaf(['plot', 'b'], dir);
  assert.equal(p.code, 0, p.stderr);
  assert.equal(readdirSync(join(dir, 'b', 'plots')).length, 4);
  mkdirSync(join(dir, 'empty'));
  const bad = laaf(['plot', 'empty'], dir);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^laaf: error: empty is neither a run directory/);
  assert.deepEqual(readdirSync(join(dir, 'empty')), []);
});
