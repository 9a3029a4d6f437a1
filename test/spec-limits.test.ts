/**
 * Malformed specs and sizes past the limits, in process: each case must be a user error
 * (exit 2 in the CLI) located at the expected FILE:LINE:COL — the key, value or character
 * that caused it — and must be found without allocating what it asks for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSpec, toUserError, type LoadedSpec } from '../src/spec/load.js';
import { SpecError, UserError, UserErrors } from '../src/spec/errors.js';
import { LIMITS } from '../src/spec/limits.js';
import { buildProblem, evaluationGrid } from '../src/problem/build.js';
import { finiteReference } from '../src/problem/reference.js';
import { EXPRESSION_LIMITS, MAX_DERIVATIVE_ORDER } from '../src/expr/index.js';
import { tokenize } from '../src/expr/compile.js';
import { EXIT, reportError } from '../src/cli/report.js';
import { TINY_BURGERS, lineColOf, tempDir } from './helpers.js';

const BASE = `${TINY_BURGERS}model:
  hidden: [8, 8]
sampling: { interior: 100 }
training:
  adam: { lr: 1.0e-3, steps: 5 }
`;

const dir = tempDir('laaf-limits-');
mkdirSync(join(dir, 'a-directory'));
const big = join(dir, 'big.csv');
writeFileSync(big, 'x,t,u\n');
truncateSync(big, LIMITS.dataFileBytes + 1); // sparse: nothing is written to disk
writeFileSync(join(dir, 'ref.csv'), 'x,t,u\n0,0,1\n');

/** What `laaf validate` (and `solve` before training) reports for a spec: every error, in order. */
function errorsOf(text: string, opts: { set?: string[]; reference?: boolean; file?: string } = {}): UserError[] {
  const file = opts.file ?? join(dir, 'spec.yaml');
  if (!opts.file) writeFileSync(file, text);
  let loaded: LoadedSpec | undefined;
  try {
    loaded = loadSpec(file, { set: opts.set ?? [] });
    const problem = buildProblem(loaded.spec, { baseDir: dir });
    if (opts.reference && problem.reference) finiteReference(problem.reference, evaluationGrid(problem), problem.inputs);
    return [];
  } catch (e) {
    const u = e instanceof SpecError && loaded ? toUserError(e, loaded) : e;
    if (!(u instanceof UserError)) throw e;
    return u instanceof UserErrors ? u.errors : [u];
  }
}

interface Case {
  name: string;
  edit: (s: string) => string;
  /** the error points at this text (nth occurrence), or at `offset` characters after it */
  at: string;
  nth?: number;
  offset?: number;
  message: RegExp;
  set?: string[];
  reference?: boolean;
}

const sum = (n: number) => Array.from({ length: n }, () => 'x').join(' + ');
/** Offset of the first token past EXPRESSION_LIMITS.tokens in an expression. */
const pastLimit = (expr: string) => tokenize(expr)[EXPRESSION_LIMITS.tokens]!.start;
const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...['b', 'c', 'd', 'e', 'f'].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcde'[i]}`).join(', ')}]`)].join('\n');

const cases: Case[] = [
  // sizes nobody checked
  { name: 'a layer of 10^9 neurons', edit: (s) => s.replace('hidden: [8, 8]', 'hidden: [1000000000]'), at: '[1000000000]', message: /needs about .* of memory \(.*network parameters and .* per training point.*this machine has/ },
  { name: 'an output grid of 10^10 points', edit: (s) => `${s}output: { grid: { x: 100000, t: 100000 } }\n`, at: '{ x: 100000', message: /output grid has 1\.00e\+10 points; at most 1000000/ },
  { name: '10^12 interior points', edit: (s) => s.replace('interior: 100', 'interior: 1000000000000'), at: '1000000000000', message: /1000000000000 interior points/ },
  { name: '10^12 points on a condition', edit: (s) => s.replace('require: u = 0 }', 'require: u = 0, points: 1000000000000 }'), at: '1000000000000', message: /points of condition 'walls'/ },
  { name: 'generated data of 10^12 points', edit: (s) => `${s}data:\n  fit: { target: "sin(x)", points: 1000000000000 }\n`, at: '1000000000000', message: /points of data 'fit'/ },
  { name: '10^12 refinement candidates', edit: (s) => s.replace('steps: 5 }', 'steps: 5 }\n  refine: { every: 2, candidates: 1000000000000 }'), at: '1000000000000', message: /refinement candidates/ },
  // expressions
  { name: `a sum of 5001 terms`, edit: (s) => s.replace('nu*u_xx', `nu*u_xx + ${sum(5001)}`), at: 'u_t + u*u_x', offset: pastLimit(`u_t + u*u_x - nu*u_xx + ${sum(5001)}`), message: /expression has 10011 tokens; at most 2000/ },
  { name: 'a sum of 5001 terms in a constant', edit: (s) => s.replace('nu: 0.01/pi', `nu: ${sum(5001)}`), at: 'x + x', offset: pastLimit(sum(5001)), message: /at most 2000/ },
  { name: 'a sum of 5001 terms in a face', edit: (s) => s.replace('on: t = 0', `on: t = ${sum(5001).replaceAll('x', '0')}`), at: 't = 0 + 0', offset: 4 + pastLimit(sum(5001)), message: /at most 2000/ },
  { name: 'brackets nested 51 deep', edit: (s) => s.replace('u = -sin(pi*x)', `u = ${'('.repeat(51)}x${')'.repeat(51)}`), at: '((((', offset: 50, message: /nested more than 50 deep/ },
  { name: 'a derivative of order 5', edit: (s) => s.replace('nu*u_xx', 'nu*u_xxxxx'), at: 'u_xxxxx', message: new RegExp(`order 5; laaf supports order ${MAX_DERIVATIVE_ORDER} at most`) },
  { name: 'D() of order 5', edit: (s) => s.replace('nu*u_xx', 'nu*D(u, x, x, x, t, t)'), at: 'u, x, x', message: /order 5/ },
  { name: 'Infinity as a symbol', edit: (s) => s.replace('u*u_x', 'Infinity*u_x'), at: 'Infinity', message: /'Infinity' is not a finite number/ },
  { name: 'NaN as a symbol', edit: (s) => s.replace('u = 0 }', 'u = NaN }'), at: 'NaN', message: /'NaN' is not a finite number/ },
  { name: 'a literal that overflows', edit: (s) => s.replace('u = 0 }', 'u = 2e999 }'), at: '2e999', message: /'Infinity' is not a finite number/ },
  // references that are not finite (checked on the output grid before training)
  { name: 'exact: 1e999', edit: (s) => `${s}reference: { exact: "1e999*x" }\n`, at: '1e999', message: /not a finite number/ },
  { name: 'exact: 0/0', edit: (s) => `${s}reference: { exact: "0/0 + x" }\n`, at: '"0/0', reference: true, message: /the reference is NaN at x = -1, t = 0 \(not finite at 10201 of 10201 points\)/ },
  { name: 'exact: exp(1000)', edit: (s) => `${s}reference: { exact: "exp(1000*t)" }\n`, at: '"exp', reference: true, message: /the reference is Infinity at x = -1, t = 0\.71 \(not finite at 3030 of 10201/ },
  { name: 'exact: log(-1)', edit: (s) => `${s}reference: { exact: { u: "log(x)" } }\n`, at: '"log', reference: true, message: /the reference is NaN at x = -1, t = 0/ },
  // files
  { name: 'a missing data file', edit: (s) => `${s}data:\n  obs: { file: missing.csv }\n`, at: 'missing.csv', message: /file missing\.csv does not exist/ },
  { name: 'a directory as a data file', edit: (s) => `${s}data:\n  obs: { file: a-directory }\n`, at: 'a-directory', message: /is a directory, not a file/ },
  { name: '/dev/zero as a data file', edit: (s) => `${s}data:\n  obs: { file: /dev/zero }\n`, at: '/dev/zero', message: /is not a regular file/ },
  { name: 'an oversize data file', edit: (s) => `${s}data:\n  obs: { file: big.csv }\n`, at: 'big.csv', message: /is 32\.0 MiB; at most 32\.0 MiB is read/ },
  { name: 'a missing reference file', edit: (s) => `${s}reference: { file: nope.csv }\n`, at: 'nope.csv', message: /file nope\.csv does not exist/ },
  // YAML
  { name: 'an alias bomb', edit: (s) => `${s}${bomb}\n`, at: '*e', message: /YAML aliases expand to too many values/ },
  { name: 'an unclosed [', edit: (s) => s.replace('hidden: [8, 8]', 'hidden: [8, 8'), at: '[8, 8', message: /this '\[' is never closed/ },
  { name: 'an unclosed {', edit: (s) => s.replace('sampling: { interior: 100 }', 'sampling: { interior: 100'), at: '{ interior', message: /this '\{' is never closed/ },
  { name: 'an unclosed "', edit: (s) => s.replace('name: tiny', 'name: "tiny'), at: '"tiny', message: /this "quote is never closed/ },
  { name: 'a duplicate key', edit: (s) => s.replace('model:', 'sampling: { interior: 5 }\nmodel:'), at: 'sampling', nth: 1, message: /the key 'sampling' appears twice/ },
  // values
  { name: 'a 300-character name', edit: (s) => s.replace('name: tiny', `name: ${'n'.repeat(300)}`), at: 'nnnn', message: /at most 100 characters/ },
  { name: 'two --set of one key: the last one is blamed', edit: (s) => s, at: '', set: ['model.hidden=[4]', 'model.hidden=oops'], message: /^--set model\.hidden=oops: model\.hidden: expected array/ },
  { name: '--set below a scalar', edit: (s) => s, at: '', set: ['name.foo=1'], message: /--set name\.foo=1: name is "tiny", not a mapping, so it has no key 'foo'/ },
];

for (const c of cases) {
  test(`limits: ${c.name}`, () => {
    const text = c.edit(BASE);
    const errors = errorsOf(text, { ...(c.set ? { set: c.set } : {}), ...(c.reference ? { reference: true } : {}) });
    assert.ok(errors.length > 0, 'no error');
    const e = errors[0]!;
    assert.equal(reportErrorQuiet(e), EXIT.user);
    assert.match(e.message, c.message);
    if (c.at === '') {
      assert.equal(e.where, undefined);
      return;
    }
    const at = lineColOf(text, c.at, c.nth ?? 0);
    const col = at.col + (c.offset ?? 0);
    assert.deepEqual([e.where?.line, e.where?.col], [at.line, col], `${e.message} at ${e.where?.line}:${e.where?.col}`);
  });
}

test('limits: two --set of one key: the last one holds', () => {
  assert.deepEqual(errorsOf(BASE, { set: ['model.hidden=oops', 'model.hidden=[4]'] }), []);
});

test('limits: the spec file itself: missing, a device, a directory, too large', () => {
  const oversize = join(dir, 'huge.yaml');
  writeFileSync(oversize, BASE);
  truncateSync(oversize, LIMITS.specFileBytes + 1);
  for (const [file, message] of [
    [join(dir, 'none.yaml'), /the spec file does not exist/],
    ['/dev/zero', /the spec file is not a regular file/],
    [join(dir, 'a-directory'), /the spec file is a directory/],
    [oversize, /the spec file is 1\.00 MiB; at most 1\.00 MiB is read/],
  ] as const) {
    const [e] = errorsOf('', { file });
    assert.match(e!.message, message);
    assert.deepEqual(e!.where, { file });
  }
});

test('limits: every independent mistake of a spec is reported, in file order', () => {
  // schema mistakes (lines 13, 1, 11)
  const schema = BASE.replace('name: tiny', 'name: 3 tiny').replace('hidden: [8, 8]', 'hidden: [8, -8]').replace('sampling: {', 'sampling: { bogus: 1,');
  assert.deepEqual(errorsOf(schema).map((e) => `${e.where?.line}:${e.where?.col}`), ['1:7', '12:15', '13:13']);
  // mistakes in expressions, faces and references
  const semantic = BASE.replace('nu: 0.01/pi', 'nu: 0.01/pie').replace('u*u_x', 'u*u_y').replace('on: t = 0', 'on: t = 3')
    .replace('model:', '  more: { on: x = -1, require: v = 0 }\nmodel:') + 'reference: { exact: "sin(q)" }\n';
  const found = errorsOf(semantic);
  assert.deepEqual(found.map((e) => e.where?.line), [5, 7, 9, 11, 17], found.map((e) => e.message).join('\n'));
  // a cycle, a constant that needs a broken one (not reported again), and an independent one
  const constants = BASE.replace('nu: 0.01/pi', 'nu: 2*mu\n  mu: nu/2\n  a: 1/q\n  b: a + 1\n  c: log(-1)');
  assert.deepEqual(errorsOf(constants).map((e) => `${e.where?.line}: ${e.message}`),
    ["5: constants nu, mu are defined in terms of each other", "7: unknown symbol 'q'", '9: constant \'c\' evaluates to NaN']);
  // one error alone is reported as one
  assert.equal(errorsOf(BASE.replace('u*u_x', 'u*u_y')).length, 1);
});

test('limits: a 1D face is one point by default; output.grid is filled in', () => {
  writeFileSync(join(dir, 'oned.yaml'), `name: oned
inputs: { x: [0, 1] }
outputs: [u]
equations: { pde: u_xx = 0 }
conditions:
  ends: { on: boundary, require: u = x }
  left: { on: x = 0, require: u_x = 1 }
  many: { on: x = 1, require: u = 1, points: 7 }
  listed: { on: [boundary], require: u = x }
`);
  const loaded = loadSpec(join(dir, 'oned.yaml'));
  assert.deepEqual(loaded.spec.output.grid, { x: 201 });
  const problem = buildProblem(loaded.spec, { baseDir: dir });
  const points = Object.fromEntries(problem.terms.map((t) => [t.name, 'points' in t ? t.points : -1]));
  assert.deepEqual(points, { pde: 2000, ends: 2, left: 1, many: 7, listed: 2 });
});

function reportErrorQuiet(e: unknown): number {
  const write = process.stderr.write;
  process.stderr.write = () => true;
  try {
    return reportError(e);
  } finally {
    process.stderr.write = write;
  }
}
