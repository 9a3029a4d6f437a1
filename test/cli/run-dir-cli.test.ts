/** The run-directory contract from the command line: a sweep threshold on any column `solve` writes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { laaf, repoRoot, tempDir } from '../helpers.js';

test('laaf sweep --plan accepts a threshold on a slope column (na_1 in layer mode), and names the columns for an unknown one', () => {
  const dir = tempDir();
  const spec = join(repoRoot(), 'problems', 'poisson-1d.yaml');
  const ok = laaf(['sweep', spec, '--grid', 'model.adaptive.mode=layer', '--threshold', 'na_1=2', '--plan'], dir);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /mode=layer/);
  const bad = laaf(['sweep', spec, '--grid', 'model.adaptive.mode=layer', '--threshold', 'na_4=2', '--plan'], dir);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /'na_4' is not a column of these runs' history.csv/);
  assert.match(bad.stderr, /na_1|na_3/);
});
