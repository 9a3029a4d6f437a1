/**
 * Start-up (issue 14): a command loads only what it runs. `laaf --version`, `--help` and
 * `problems` load neither the spec checker nor tfjs, the kernel or the plotting stack;
 * `validate` checks specs (expressions included) without tfjs, the kernel or vega.
 * Checked through the module loader, not by timing: the CLI runs with a resolve hook that
 * records every module it resolves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot, tempDir } from '../helpers.js';

const root = repoRoot();
const dir = tempDir();
// A resolve hook (it runs on the loader's thread) that appends every URL it resolves to a file.
writeFileSync(join(dir, 'hook.mjs'), `import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(file, r.url + '\\n');
  return r;
}
`);
writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';
register(${JSON.stringify(pathToFileURL(join(dir, 'hook.mjs')).href)}, { data: { file: process.env.LAAF_TEST_LOADED } });
`);

let runs = 0;
/** `laaf ARGS` with the hook: exit code, output and every module resolved. */
function laafLoading(args: string[]): { code: number | null; stdout: string; stderr: string; loaded: string[] } {
  const file = join(dir, `loaded-${runs++}.txt`);
  writeFileSync(file, '');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, join(root, 'bin', 'laaf.js'), ...args], {
    cwd: root, encoding: 'utf8', env: { ...process.env, LAAF_TEST_LOADED: file }, timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, loaded: readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0) };
}

const HEAVY: [what: string, pattern: RegExp][] = [
  ['tfjs', /\/node_modules\/@tensorflow\//],
  ['the kernel', /\/dist\/src\/kernel\//],
  ['the network, training or run code', /\/dist\/src\/(nn|train|jet)\/|\/dist\/src\/run\/(solve|predict)\.js$/],
  // plot/ but band.ts (the band widths --band lists; it imports nothing)
  ['the plotting stack', /\/node_modules\/vega|\/dist\/src\/plot\/(?!band\.js$)/],
  ['all of mathjs', /\/node_modules\/mathjs\//],
];
const SPEC_CHECKER: [string, RegExp][] = [
  ['the spec checker', /\/dist\/src\/(spec\/(load|schema)|problem|expr|bundled)\/?|\/node_modules\/(zod|csv-parse)\//],
];

function loadsNone(loaded: string[], heavy: [string, RegExp][], what: string): void {
  assert.ok(loaded.some((u) => u.endsWith('/dist/src/cli/main.js')), `${what}: the hook saw the CLI load (${loaded.length} modules)`);
  for (const [name, pattern] of heavy) assert.deepEqual(loaded.filter((u) => pattern.test(u)), [], `${what} loads ${name}`);
}

test('laaf --version, --help and problems load neither the spec checker nor tfjs, the kernel or vega', () => {
  const v = laafLoading(['--version']);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
  loadsNone(v.loaded, [...HEAVY, ...SPEC_CHECKER], '--version');
  const h = laafLoading(['--help']);
  assert.equal(h.code, 0, h.stderr);
  assert.match(h.stdout, /validate/);
  loadsNone(h.loaded, [...HEAVY, ...SPEC_CHECKER], '--help');
  const p = laafLoading(['problems']);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /problems\/burgers\.yaml +\S/);
  loadsNone(p.loaded, [...HEAVY, ...SPEC_CHECKER], 'problems');
});

test('laaf validate compiles the expressions without loading tfjs, the kernel or vega', () => {
  const ok = laafLoading(['validate', 'problems/burgers.yaml', 'problems/kovasznay.yaml']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.split('\n').filter((l) => l.startsWith('ok ')).length, 2, ok.stdout);
  assert.ok(ok.loaded.some((u) => u.endsWith('/dist/src/expr/compile.js')), 'the expression compiler ran');
  loadsNone(ok.loaded, HEAVY, 'validate');
  // It still checks expressions: a misspelt function is an error, exit code 2.
  const bad = laafLoading(['validate', 'problems/burgers.yaml', '--set', 'equations.burgers=u_t + u*u_x = nu*sinn(u_xx)']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /^laaf: error: .*sinn/);
  loadsNone(bad.loaded, HEAVY, 'validate (a bad spec)');
});

test('the check can fail: laaf solve --max-steps 0 loads tfjs and the kernel', () => {
  const out = tempDir();
  const s = laafLoading(['solve', 'problems/poisson-1d.yaml', '--out', join(out, 'run'), '--max-steps', '0', '--no-plots', '--quiet']);
  assert.equal(s.code, 0, s.stderr);
  assert.ok(s.loaded.some((u) => HEAVY[0]![1].test(u)), 'solve loads tfjs');
  assert.ok(s.loaded.some((u) => HEAVY[1]![1].test(u)), 'solve loads the kernel');
});
