/**
 * The whole-step path through the CLI: 20 Adam steps give the same losses as the
 * fused-jets + tfjs path (within a stated tolerance), summary.json records which path ran
 * and why the others did not, runs are deterministic (and the same on 1 and 2 threads),
 * float64 where only tfjs could run is a spec error at training.precision.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { laaf, lineColOf, repoRoot, tempDir } from '../helpers.js';

const SMALL = [
  'model.hidden=[20,20,20]', 'sampling.interior=500', 'training.adam.steps=20', 'training.log_every=1',
  'training.lbfgs.max_iterations=0', 'conditions.initial.points=60', 'conditions.walls.points=40', 'output.grid={x: 11, t: 6}',
].flatMap((s) => ['--set', s]);

/**
 * Tolerance for 20 Adam steps on the two paths: their gradients differ by float32 rounding
 * (~1e-7 relative, test/step.test.ts), and Adam's normalised steps carry that on without
 * amplifying it much over 20 steps; measured ≤ 2e-7 relative. We allow 1e-5.
 */
const PATH_TOL = 1e-5;

const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'));
const column = (file: string, name: string): number[] => {
  const [head, ...rows] = readFileSync(file, 'utf8').trim().split('\n');
  const k = head!.split(',').indexOf(name);
  return rows.map((r) => Number(r.split(',')[k]));
};
/** history.csv without the elapsed time column */
const history = (dir: string) => readFileSync(join(dir, 'history.csv'), 'utf8').trim().split('\n').map((r) => r.split(',').filter((_, i) => i !== 2).join(','));

function withEnv<T>(env: Record<string, string>, f: () => T): T {
  const old = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return f();
  } finally {
    for (const [k, v] of Object.entries(old)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

test('20 Adam steps: whole-step and fused-jets losses agree; summary.json says which path ran and why not the others', () => {
  const cwd = tempDir();
  const spec = join(repoRoot(), 'problems', 'burgers.yaml');
  const a = laaf(['solve', spec, '-q', '--out', 'whole', ...SMALL], cwd);
  assert.equal(a.code, 0, a.stderr);
  const b = laaf(['solve', spec, '-q', '--out', 'fused', ...SMALL, '--set', 'training.whole_step=false'], cwd);
  assert.equal(b.code, 0, b.stderr);
  const c = laaf(['solve', spec, '-q', '--out', 'tfjs', ...SMALL, '--no-fused', '--set', 'training.adam.steps=2'], cwd);
  assert.equal(c.code, 0, c.stderr);
  assert.deepEqual(readJson(join(cwd, 'whole', 'summary.json')).step_path, { ran: 'whole-step', precision: 'float32', why_not: {} });
  assert.deepEqual(readJson(join(cwd, 'fused', 'summary.json')).step_path,
    { ran: 'fused-jets', precision: 'float32', why_not: { 'whole-step': 'turned off (training.whole_step: false)' } });
  const t = readJson(join(cwd, 'tfjs', 'summary.json')).step_path;
  assert.equal(t.ran, 'tfjs-ops');
  assert.match(t.why_not['whole-step'], /--no-fused/);
  assert.match(t.why_not['fused-jets'], /--no-fused/);
  const lw = column(join(cwd, 'whole', 'history.csv'), 'loss');
  const lf = column(join(cwd, 'fused', 'history.csv'), 'loss');
  assert.equal(lw.length, 21);
  let worst = 0;
  lw.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - lf[i]!) / Math.abs(lf[i]!))));
  console.log(`20 steps: worst relative loss difference ${worst.toExponential(2)} (tolerance ${PATH_TOL})`);
  assert.ok(worst <= PATH_TOL, `losses differ by ${worst}`);
  assert.ok(lw[20]! < lw[0]!, 'the loss fell');
});

for (const precision of ['float32', 'float64']) {
  test(`whole-step ${precision} runs are deterministic, and the same on 1 and 2 threads`, () => {
    const cwd = tempDir();
    const spec = join(repoRoot(), 'problems', 'burgers.yaml');
    // enough points for 2 threads (runtime.ts: at least 512 points per thread)
    const sets = [...SMALL, '--set', 'training.lbfgs.max_iterations=10', '--set', 'sampling.interior=1500', '--set', `training.precision=${precision}`];
    const runs = ['t1a', 't1b', 't2'].map((out) => {
      const r = withEnv({ LAAF_THREADS: out === 't2' ? '2' : '1' }, () => laaf(['solve', spec, '-q', '--out', out, ...sets], cwd));
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(readJson(join(cwd, out, 'summary.json')).step_path, { ran: 'whole-step', precision, why_not: {} });
      return history(join(cwd, out));
    });
    assert.deepEqual(runs[1], runs[0]);
    assert.deepEqual(runs[2], runs[0]);
  });

  test(`whole-step ${precision}: killed (SIGKILL) in each phase and resumed, the run ends bit for bit as an uninterrupted one`, async () => {
    const cwd = tempDir();
    const spec = join(repoRoot(), 'problems', 'burgers.yaml');
    const sets = [...SMALL, '--set', 'training.adam.steps=150', '--set', 'training.log_every=10', '--set', 'training.lbfgs.max_iterations=150',
      '--set', 'training.checkpoint_every=10', '--set', `training.precision=${precision}`];
    const full = laaf(['solve', spec, '-q', '--out', 'full', ...sets], cwd);
    assert.equal(full.code, 0, full.stderr);
    const ckpt = join(cwd, 'parts', 'checkpoint.json');
    const at = () => {
      try {
        return readJson(ckpt).train as { phase: string; step: number };
      } catch {
        return undefined; // not there yet (it is replaced atomically)
      }
    };
    const killWhen = async (args: string[], ready: (c: { phase: string; step: number }) => boolean) => {
      const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'laaf.js'), ...args], { cwd, stdio: 'ignore' });
      let gone = false;
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve((gone = true, undefined))));
      for (let t = 0; t < 120_000 / 10 && !gone; t++) {
        const c = at();
        if (c && ready(c)) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      child.kill('SIGKILL');
      await exited;
    };
    await killWhen(['solve', spec, '-q', '--out', 'parts', ...sets], (c) => c.phase === 'adam' && c.step >= 20);
    assert.equal(at()?.phase, 'adam', 'killed in the Adam phase');
    await killWhen(['solve', '--resume', 'parts', '-q'], (c) => c.phase === 'lbfgs');
    assert.equal(at()?.phase, 'lbfgs', 'killed in the L-BFGS phase');
    const r = laaf(['solve', '--resume', 'parts', '-q'], cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(history(join(cwd, 'parts')), history(join(cwd, 'full')));
    assert.equal(readFileSync(join(cwd, 'parts', 'solution.csv'), 'utf8'), readFileSync(join(cwd, 'full', 'solution.csv'), 'utf8'));
  });
}

test('training.precision: float64 where the whole-step path cannot run is a spec error at the key (exit 2, nothing written)', () => {
  const cwd = tempDir();
  const text = readFileSync(join(repoRoot(), 'problems', 'rowdy-highfreq.yaml'), 'utf8').replace(/^training:\n/m, 'training:\n  precision: float64\n');
  assert.match(text, /precision: float64/);
  writeFileSync(join(cwd, 'spec.yaml'), text);
  const r = laaf(['validate', 'spec.yaml'], cwd);
  assert.equal(r.code, 2, r.stderr);
  const { line } = lineColOf(text, 'precision');
  assert.match(r.stderr, new RegExp(`spec\\.yaml:${line}:\\d+: float64 runs only on the whole-step path.*Rowdy`));
  const s = laaf(['solve', 'spec.yaml', '-q', '--out', 'run'], cwd);
  assert.equal(s.code, 2);
  assert.throws(() => readFileSync(join(cwd, 'run', 'summary.json')));
});
