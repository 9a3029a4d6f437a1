/**
 * Sweeps end to end through the CLI: located errors with nothing written, the local pool,
 * resume, failures recorded, and the cluster path (--plan, --index one by one, --collect,
 * --slurm) giving the same tables. Planning and statistics in process: test/sweep.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { laaf, lineColOf, readCsv, repoRoot, tempDir } from '../helpers.js';

const BURGERS = join(repoRoot(), 'problems', 'burgers.yaml');

/** A tiny Burgers sweep file: 2×8 net, ~100 points, 20 steps per run. */
function tinySweep(dir: string, extra = ''): string {
  const f = join(dir, 'tiny.yaml');
  writeFileSync(f, `name: tiny
spec: ${BURGERS}
set:
  model.hidden: [8, 8]
  sampling.interior: 100
  conditions.initial.points: 30
  conditions.walls.points: 20
  training.adam.steps: 20
  training.adam.lr: 0.01
  training.log_every: 5
  output.grid: { x: 21, t: 11 }
grid:
  zip:
    label: [fixed, N-LAAF]
    model.adaptive.mode: [none, neuron]
    model.slope_recovery: [0, 1]
seeds: 2
thresholds: { rel_l2: [0.95], loss: [0.5] }
${extra}`);
  return f;
}

test('bad sweep input is reported at FILE:LINE:COL with exit 2, and nothing is written', () => {
  const dir = tempDir();
  const cases: { body: string; needle: string; message: RegExp; nth?: number }[] = [
    { body: `spec: ${BURGERS}\ngrid:\n  model.adaptive.mode: [none, globl]\n`, needle: 'globl', message: /model\.adaptive\.mode.*'global'/ },
    { body: `spec: ${BURGERS}\ngird:\n  model.adaptive.n: [1, 5]\n`, needle: 'gird', message: /unknown key 'gird'.*did you mean 'grid'/ },
    { body: `spec: ${BURGERS}\nzip:\n  model.adaptive.mode: [none, layer]\n  model.slope_recovery: [0, 1, 1]\n`, needle: '[0, 1, 1]', message: /zip: model\.slope_recovery has 3 values but model\.adaptive\.mode has 2/ },
    { body: `spec: ${BURGERS}\ngrid:\n  model.adaptve.mode: [none]\n`, needle: 'model.adaptve.mode', message: /unknown key 'adaptve'/ },
    { body: `spec: ${BURGERS}\ngrid:\n  training.seed: [1, 2]\n`, needle: 'training.seed', message: /training\.seed is set by the sweep/ },
    { body: `spec: ${BURGERS}\nseeds: 0\n`, needle: '0', message: /seeds: expected a whole number >= 1/, nth: 0 },
    { body: `spec: ${BURGERS}\nthresholds: { rel_l3: [0.1] }\n`, needle: 'rel_l3', message: /'rel_l3' is not a column.*did you mean 'rel_l2'/ },
    { body: `spec: ${BURGERS}\ngrid: [\n`, needle: '', message: /YAML syntax/ },
  ];
  for (const c of cases) {
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, c.body);
    const r = laaf(['sweep', 'bad.yaml', '--out', 'out'], dir);
    assert.equal(r.code, 2, `${c.body}\n${r.stderr}`);
    assert.match(r.stderr, c.message);
    if (c.needle) {
      const idx = c.needle === '0' ? c.body.indexOf('seeds: 0') + 7 : c.body.indexOf(c.needle);
      const before = c.body.slice(0, idx);
      const line = before.split('\n').length;
      const col = idx - before.lastIndexOf('\n');
      assert.match(r.stderr, new RegExp(`^laaf: error: bad\\.yaml:${line}:${col}: `), r.stderr);
    } else {
      assert.match(r.stderr, /^laaf: error: bad\.yaml:\d+:\d+: /);
    }
    assert.deepEqual(readdirSync(dir).sort(), ['bad.yaml'], 'nothing written');
  }
  // Flags: a grid value that the spec refuses, named by its flag.
  const r = laaf(['sweep', BURGERS, '--grid', 'model.adaptive.mode=none,sometimes', '--out', 'out'], dir);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^laaf: error: --grid model\.adaptive\.mode=none,sometimes: model\.adaptive\.mode/);
  const r2 = laaf(['sweep', BURGERS, '--index', '5', '--out', 'out'], dir);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /--index 5: the plan has runs 0 to 0/);
  assert.deepEqual(readdirSync(dir).sort(), ['bad.yaml']);
  void lineColOf;
});

const DROP = new Set(['wall_time_s', 'wall_time_s_mean', 'wall_time_s_std', 'wall_time_s_min', 'wall_time_s_max']);
const strip = (rows: Record<string, string>[]) => rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !DROP.has(k))));

test('a sweep runs in parallel, resumes, and --index one by one + --collect gives the same tables', () => {
  const dir = tempDir();
  const f = tinySweep(dir);

  // --plan lists the runs and writes nothing.
  const p = laaf(['sweep', f, '--plan', '--out', 'A'], dir);
  assert.equal(p.code, 0, p.stderr);
  const lines = p.stdout.trim().split('\n').filter((l) => !l.startsWith('#'));
  assert.equal(lines.length, 1 + 4);
  assert.match(lines[1]!, /^0\truns\/fixed\/s1\t1234\tpending\tfixed$/);
  assert.match(lines[4]!, /^3\truns\/N-LAAF\/s2\t\d+\tpending\tN-LAAF$/);
  assert.ok(!existsSync(join(dir, 'A')));

  // The local pool.
  const a = laaf(['sweep', f, '--jobs', '2', '--out', 'A'], dir);
  assert.equal(a.code, 0, a.stderr + a.stdout);
  assert.match(a.stdout, /4 runs/);
  const A = join(dir, 'A');
  const sweep = readCsv(join(A, 'sweep.csv'));
  assert.equal(sweep.length, 4);
  assert.deepEqual(sweep.map((r) => r['status']), ['completed', 'completed', 'completed', 'completed']);
  for (const c of ['index', 'run', 'variant', 'model.adaptive.mode', 'model.slope_recovery', 'seed', 'steps', 'wall_time_s', 'loss', 'burgers', 'initial', 'walls', 'rel_l2', 'steps_to_rel_l2<=0.95', 'steps_to_loss<=0.5', 'error']) {
    assert.ok(c in sweep[0]!, `sweep.csv column ${c}`);
  }
  // Each run: its own directory, the seed recorded, the final rel-L2 = its summary's.
  for (const r of sweep) {
    const s = JSON.parse(readFileSync(join(A, r['run']!, 'summary.json'), 'utf8'));
    assert.equal(String(s.seed), r['seed']);
    assert.ok(Math.abs(Number(r['rel_l2']) - s.final.rel_l2) <= 1e-8 * s.final.rel_l2);
    assert.ok(existsSync(join(A, r['run']!, 'plots', 'loss.svg')), 'per-run plots');
  }
  // Same seed across variants (paired comparison), different seeds across s1/s2.
  assert.equal(sweep[0]!['seed'], sweep[1]!['seed']);
  assert.notEqual(sweep[0]!['seed'], sweep[2]!['seed']);
  // Steps to a threshold: the first logged step at or below it.
  const hist = readCsv(join(A, sweep[0]!['run']!, 'history.csv'));
  const first = hist.find((h) => Number(h['rel_l2']) <= 0.95);
  assert.equal(sweep[0]!['steps_to_rel_l2<=0.95'], first ? first['step'] : '');

  // summary.csv: per variant, mean/std/min/max over seeds, recomputed here.
  const summary = readCsv(join(A, 'summary.csv'));
  assert.deepEqual(summary.map((s) => s['variant']), ['fixed', 'N-LAAF']);
  for (const s of summary) {
    const vals = sweep.filter((r) => r['variant'] === s['variant']).map((r) => Number(r['rel_l2']));
    const mean = (vals[0]! + vals[1]!) / 2;
    const std = Math.abs(vals[0]! - vals[1]!) / Math.SQRT2;
    assert.equal(s['completed'], '2');
    assert.ok(Math.abs(Number(s['rel_l2_mean']) - mean) < 1e-7, `${s['rel_l2_mean']} vs ${mean}`);
    assert.ok(Math.abs(Number(s['rel_l2_std']) - std) < 1e-7);
    assert.equal(Number(s['rel_l2_min']), Math.min(...vals));
    assert.equal(Number(s['rel_l2_max']), Math.max(...vals));
  }
  for (const p of ['convergence.svg', 'final.svg']) assert.match(readFileSync(join(A, 'plots', p), 'utf8'), /^<svg/);

  // Resume: finished runs are skipped; a run whose results are gone is run again.
  const victim = join(A, 'runs', 'N-LAAF', 's1');
  rmSync(join(victim, 'summary.json'));
  rmSync(join(victim, 'checkpoint.json'), { force: true });
  const again = laaf(['sweep', f, '--jobs', '2', '--out', 'A'], dir);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /\(3 done before\)/);
  assert.equal((again.stdout.match(/^\[\d+\/4\]/gm) ?? []).length, 1, again.stdout);
  assert.deepEqual(strip(readCsv(join(A, 'sweep.csv'))), strip(sweep));

  // The cluster path: every index alone, then --collect.
  for (let i = 0; i < 4; i++) {
    const r = laaf(['sweep', f, '--index', String(i), '--out', 'B', '--no-plots'], dir);
    assert.equal(r.code, 0, r.stderr);
  }
  const c = laaf(['sweep', f, '--collect', '--out', 'B'], dir);
  assert.equal(c.code, 0, c.stderr);
  const B = join(dir, 'B');
  assert.deepEqual(strip(readCsv(join(B, 'sweep.csv'))), strip(sweep));
  assert.deepEqual(strip(readCsv(join(B, 'summary.csv'))), strip(summary));
  assert.ok(existsSync(join(B, 'plots', 'final.svg')));
  assert.ok(!existsSync(join(B, 'runs', 'fixed', 's1', 'plots')), '--no-plots reaches the runs');

  // --slurm: a job array over the plan's indices.
  const s = laaf(['sweep', f, '--slurm', '--out', 'B'], dir);
  assert.equal(s.code, 0, s.stderr);
  const script = readFileSync(join(B, 'sweep.sbatch'), 'utf8');
  assert.match(script, /^#SBATCH --array=0-3$/m);
  assert.match(script, /sweep \S+tiny\.yaml --out \S+ --index "\$SLURM_ARRAY_TASK_ID"/);

  // Another sweep into the same directory is refused.
  const other = laaf(['sweep', f, '--seeds', '5,6', '--out', 'A', '--plan'], dir);
  assert.equal(other.code, 0);
  const clash = laaf(['sweep', f, '--seeds', '5,6', '--out', 'A'], dir);
  assert.equal(clash.code, 2);
  assert.match(clash.stderr, /A holds a different sweep/);
});

test('a failing run is recorded with its error and does not stop the others', () => {
  const dir = tempDir();
  const f = tinySweep(dir);
  // The tensorflow backend is not installed here: every run fails at start, after the plan was checked.
  const r = laaf(['sweep', f, '--seeds', '1', '--backend', 'tensorflow', '--out', 'T'], dir);
  assert.equal(r.code, 4, r.stderr + r.stdout);
  const rows = readCsv(join(dir, 'T', 'sweep.csv'));
  assert.deepEqual(rows.map((x) => x['status']), ['failed', 'failed'], 'both runs were tried');
  for (const x of rows) assert.match(x['error']!, /^exit 2: laaf: error: the tensorflow backend is not installed/);
  const summary = readCsv(join(dir, 'T', 'summary.csv'));
  assert.deepEqual(summary.map((s) => s['failed']), ['1', '1']);
  assert.match(readFileSync(join(dir, 'T', 'logs', 'fixed', 's1.log'), 'utf8'), /tensorflow backend is not installed/);
});

test('the shipped comparison sweeps plan: Burgers 13 variants (Rowdy included) x 5 seeds, discontinuous 4 x 5', () => {
  const dir = tempDir();
  const b = laaf(['sweep', join(repoRoot(), 'configs', 'sweeps', 'burgers-activations.yaml'), '--plan', '--out', 'b'], dir);
  assert.equal(b.code, 0, b.stderr);
  const rows = b.stdout.trim().split('\n').filter((l) => /^\d+\t/.test(l));
  assert.equal(rows.length, 65);
  const variants = [...new Set(rows.map((r) => r.split('\t')[4]))];
  assert.deepEqual(variants, ['fixed', ...[1, 5, 10].flatMap((n) => ['GAAF', 'L-LAAF', 'N-LAAF'].map((v) => `${v}, n=${n}`)), 'Rowdy, n=1', 'Rowdy, n=5', 'Rowdy, n=10']);
  const d = laaf(['sweep', join(repoRoot(), 'configs', 'sweeps', 'discontinuous.yaml'), '--plan', '--out', 'd'], dir);
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /^2\truns\/L-LAAF\+SR\/s1\t1\tpending\tL-LAAF \+ SR$/m);
  assert.equal(d.stdout.trim().split('\n').filter((l) => /^\d+\t/.test(l)).length, 20);
  assert.deepEqual(readdirSync(dir), [], '--plan writes nothing');
});
