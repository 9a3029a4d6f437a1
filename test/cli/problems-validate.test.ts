/** The problem library through the CLI: `laaf validate` accepts every shipped spec, `laaf problems` lists them all. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isTrainSpecFile } from '../../src/run/train.js';
import { isSweepFile } from '../../src/sweep/define.js';
import { laaf, repoRoot } from '../helpers.js';

const PROBLEMS = join(repoRoot(), 'problems');
const PAPER = join(repoRoot(), 'configs', 'paper');

test('laaf validate accepts every spec in problems/ and configs/paper/; laaf problems lists them all', () => {
  // Sweep files (configs/paper/fashion-mnist.yaml) are checked by laaf sweep --plan, not validate; data-set specs
  // read their data, so they are validated where Debian's dataset-fashion-mnist is installed (CI installs it).
  const haveData = existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz');
  const specs = [
    ...readdirSync(PROBLEMS).filter((f) => f.endsWith('.yaml')).map((f) => join('problems', f)),
    ...readdirSync(PAPER).filter((f) => f.endsWith('.yaml')).map((f) => join('configs', 'paper', f)),
  ].filter((f) => !isSweepFile(join(repoRoot(), f)) && (haveData || !isTrainSpecFile(join(repoRoot(), f))));
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
