/** scripts/check-cycles.mjs: src/ has no import cycle between its folders, and a cycle is caught. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, tempDir } from './helpers.js';

const script = () => join(repoRoot(), 'scripts', 'check-cycles.mjs');

test('src/: the folder-level import graph has no cycle', () => {
  const r = spawnSync(process.execPath, [script()], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /no import cycle/);
  assert.match(r.stdout, /^train → .*step/m, 'the arrows are listed');
  assert.doesNotMatch(r.stdout, /^nn → .*kernel/m, 'the network code does not import the kernel');
});

test('check-cycles: a cycle through three folders (a type import counts) fails and names its arrows', () => {
  const src = join(tempDir(), 'src');
  for (const d of ['a', 'b', 'c']) mkdirSync(join(src, d), { recursive: true });
  writeFileSync(join(src, 'a', 'x.ts'), "import { y } from '../b/y.js';\nexport const x = y;\n");
  writeFileSync(join(src, 'b', 'y.ts'), "import type { Z } from '../c/z.js';\nexport const y = 1 as Z;\n");
  writeFileSync(join(src, 'c', 'z.ts'), "// import '../a/x.js' in a comment does not count\nexport type Z = number;\nexport async function load() {\n  return import('../a/x.js');\n}\n");
  const r = spawnSync(process.execPath, [script(), '--quiet', src], { encoding: 'utf8' });
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, /import cycle between folders of src\/: a → b → c → a/);
  assert.match(r.stderr, /c → a: c\/z\.ts imports \.\.\/a\/x\.js/);
  writeFileSync(join(src, 'c', 'z.ts'), 'export type Z = number;\n');
  assert.equal(spawnSync(process.execPath, [script(), '--quiet', src], { encoding: 'utf8' }).status, 0);
});
