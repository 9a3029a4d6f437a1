/**
 * The `wgsl-step` path's decision (src/step/wgsl-step.ts): a candidate only on the webgpu
 * backend (never listed on the others), it supports the problems in WGSL and declines the
 * rest with a reason a user can act on, so that the training step falls back to the tfjs
 * kernels with that reason in summary.json. No GPU needed: only `supports` is asked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Mlp } from '../src/nn/mlp.js';
import { Rng } from '../src/domain/rng.js';
import { checkSpec, mlpConfig } from '../src/run/solve.js';
import { samplePoints } from '../src/problem/build.js';
import { chooseStep, type StepQuery } from '../src/step/registry.js';
import { STEP_PATHS } from '../src/step/paths.js';
import { wgslStep } from '../src/step/wgsl-step.js';
import { repoRoot } from './helpers.js';

await tf.setBackend('cpu');

function query(file: string, set: string[], backend: string, kernelsOff?: string): StepQuery {
  const { loaded, problem } = checkSpec(join(repoRoot(), 'problems', file), ['model.hidden=[6]', 'sampling.interior=50', ...set]);
  const m = new Mlp(mlpConfig(loaded.spec, problem), new Rng(1));
  const run = { spec: loaded.spec, problem, points: samplePoints(problem, new Rng(2)), slope: { weight: 0, form: 'paper' as const } };
  const q: StepQuery = { net: m.describe(), order: 2, backend, run, ...(kernelsOff ? { kernelsOff } : {}) };
  m.dispose();
  return q;
}

const reason = (q: StepQuery) => {
  const s = wgslStep.supports(q);
  return s.ok ? null : s.reason;
};

test('wgsl-step supports a plain tanh PINN on webgpu, and declines with the reason otherwise', () => {
  assert.equal(reason(query('burgers.yaml', [], 'webgpu')), null);
  assert.equal(reason(query('burgers-inverse.yaml', [], 'webgpu')), null, 'unknown parameters are in WGSL');
  assert.equal(reason(query('rowdy-highfreq.yaml', [], 'webgpu')), 'Rowdy activations are not in the GPU step (their WGSL jets are, gpu/jets.ts)');
  for (const a of ['relu', 'elu', 'leaky_relu']) assert.equal(reason(query('burgers.yaml', [`model.activation=${a}`], 'webgpu')), null, `${a}: its WGSL backward is tested (gpu-jets.test)`);
  assert.equal(reason(query('burgers.yaml', ['training.whole_step=false'], 'webgpu')), 'turned off (training.whole_step: false)');
  assert.equal(reason(query('burgers.yaml', ['training.precision=float64'], 'webgpu')), 'float64: WGSL has no float64');
  assert.equal(reason(query('burgers.yaml', [], 'webgpu', 'turned off (--no-fused, model.fused: false)')), 'turned off (--no-fused, model.fused: false)');
  const saved = process.env['LAAF_WGSL_STEP'];
  process.env['LAAF_WGSL_STEP'] = '0';
  try {
    assert.equal(reason(query('burgers.yaml', [], 'webgpu')), 'turned off (LAAF_WGSL_STEP=0)');
  } finally {
    if (saved === undefined) delete process.env['LAAF_WGSL_STEP'];
    else process.env['LAAF_WGSL_STEP'] = saved;
  }
});

test('wgsl-step is first in the registry, no candidate off webgpu; on webgpu a declined spec falls back to the tfjs kernels with both reasons', () => {
  assert.equal(STEP_PATHS[0], wgslStep);
  const cpu = query('burgers.yaml', [], 'cpu');
  const m = new Mlp({ inputs: 2, hidden: [6], outputs: 1, activation: 'tanh', adaptive: { mode: 'layer', n: 2 }, init: 'xavier' }, new Rng(1));
  const onCpu = chooseStep(STEP_PATHS, cpu, m);
  assert.ok(!onCpu.declined.some((d) => d.path === 'wgsl-step'), JSON.stringify(onCpu.declined));
  const rowdy = chooseStep(STEP_PATHS, query('rowdy-highfreq.yaml', [], 'webgpu'), m);
  assert.equal(rowdy.path.name, 'tfjs-ops');
  assert.deepEqual(rowdy.declined.map((d) => d.path), ['wgsl-step', 'whole-step', 'fused-jets']);
  assert.equal(rowdy.declined[0]!.reason, 'Rowdy activations are not in the GPU step (their WGSL jets are, gpu/jets.ts)');
  m.dispose();
});

test('wgsl-step declines a point set whose largest buffer exceeds the device limit, naming the buffer and the sizes', async () => {
  const { bufferLimitProblem } = await import('../src/gpu/step.js');
  const { gpuStepSource } = await import('../src/step/wgsl-source.js');
  const { loaded, problem } = checkSpec(join(repoRoot(), 'problems', 'burgers.yaml'), ['model.hidden=[20,20]', 'sampling.interior=4000']);
  const m = new Mlp(mlpConfig(loaded.spec, problem), new Rng(1));
  const src = gpuStepSource(problem, m, samplePoints(problem, new Rng(2)), { weight: 1, form: 'paper' });
  m.dispose();
  // DZ: N · C · (20 + 20 + 1) floats, the largest here
  const dz = 4 * src.points.N * src.points.plan.channels.length * 41;
  assert.equal(bufferLimitProblem(src.net, src.points, { maxStorageBufferBindingSize: dz, maxBufferSize: 2 * dz }), null);
  const why = bufferLimitProblem(src.net, src.points, { maxStorageBufferBindingSize: dz - 4, maxBufferSize: 2 * dz });
  assert.match(why ?? '', new RegExp(`^its DZ buffer needs \\d+ MiB for ${src.points.N} points; this GPU allows \\d+ MiB per buffer`));
});
