/**
 * `npm run bench`, data-set networks: ms per training step of the papers' LeNet variant
 * and of a 784-256-256-10 MLP (batch 64, SGD momentum, softmax cross-entropy) on laaf's
 * wasm backend (conv, dense and pool kernels from src/kernel/deep.ts on LAAF_THREADS = 1
 * and 2 threads), beside the PyTorch peer bench/torch_deep_step.py on 1 and 2 threads.
 *
 * Each case runs in its own process on random inputs of Fashion-MNIST's shape: laaf
 * through its real training loop (src/deep/trainer.ts: batch assembly, forward,
 * gradients, the SGD update, reading the loss), `warmup` steps, then the median of
 * `steps` timed steps. A 60000-image epoch (938 steps) is extrapolated from that median —
 * a slice of the epoch, not a whole one (say so wherever the number is quoted).
 *
 *   node dist/bench/deep.js [--steps N] [--quick] [--write FILE]
 *
 * Imported by bench/bench.ts (runs after the PINN benchmarks and adds its section to
 * BENCHMARKS.md); also runnable alone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './root.js';

interface DeepCase { name: string; kind: 'laaf' | 'torch'; model: 'lenet' | 'mlp'; adaptive: 'none' | 'neuron'; threads?: number; steps: number; warmup: number }

const STEPS_PER_EPOCH = Math.ceil(60000 / 64);

const LENET = [{ conv: 64, size: 5 }, { pool: 2 }, 'act', { conv: 64, size: 5 }, { pool: 2 }, 'act', 'flatten', { dense: 1024 }, 'act', { dropout: 0.5 }];

async function child(c: DeepCase): Promise<void> {
  const { selectBackend } = await import('../src/backend/select.js');
  const { trainSpecSchema } = await import('../src/spec/train-schema.js');
  const { Network } = await import('../src/deep/network.js');
  const { trainDeep } = await import('../src/deep/trainer.js');
  const { Rng } = await import('../src/domain/rng.js');
  await selectBackend('wasm');
  const model = trainSpecSchema.parse({
    name: 'bench', dataset: { train: { csv: 'unused' } },
    model: { ...(c.model === 'lenet' ? { layers: LENET } : { hidden: [256, 256] }), activation: 'relu', adaptive: { mode: c.adaptive, n: 1 }, slope_recovery: c.adaptive === 'none' ? 0 : 1 },
  }).model;
  const rng = new Rng(1);
  const n = 64 * (c.steps + c.warmup);
  const x = Float32Array.from({ length: n * 784 }, () => rng.uniform());
  const y = Float32Array.from({ length: n }, () => rng.int(10));
  const data = { task: 'classification' as const, sampleShape: [28, 28, 1], outputs: 10, train: { x, y, n }, scaling: { kind: 'none', shift: [0], scale: [1] }, sources: {} };
  const net = new Network({ sampleShape: [28, 28, 1], outputs: 10, spec: model }, rng.derive('m'));
  const stamps: number[] = [];
  await trainDeep(net, data, {
    epochs: 1, batch: 64, testBatch: 100, optimizer: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 0, milestones: [], gamma: 0.1,
    slopeRecovery: c.adaptive === 'none' ? 0 : 1, logEvery: 1_000_000, checkpointEvery: 1_000_000,
  }, rng, { onRow: () => {}, onCheckpoint: () => {}, onStep: () => stamps.push(performance.now()) });
  // Step k's time: from the end of step k − 1 to the end of step k (the first timed step follows the warm-up).
  const times = stamps.slice(c.warmup).map((t, i) => t - stamps[c.warmup - 1 + i]!);
  times.sort((a, b) => a - b);
  process.stdout.write(`ms_per_step ${times[Math.floor(times.length / 2)]}\n`);
}

function runCase(c: DeepCase): number | null {
  const env = { ...process.env, ...(c.kind === 'laaf' ? { LAAF_THREADS: String(c.threads ?? 1) } : {}) };
  const args = c.kind === 'torch'
    ? ['/usr/bin/python3', [join(ROOT, 'bench', 'torch_deep_step.py'), '--model', c.model, '--adaptive', c.adaptive, '--threads', String(c.threads ?? 1), '--steps', String(c.steps), '--warmup', String(c.warmup)]] as const
    : [process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify(c)]] as const;
  const r = spawnSync(args[0], [...args[1]], { encoding: 'utf8', cwd: ROOT, timeout: 3_600_000, env });
  const m = /ms_per_step ([\d.eE+-]+)/.exec(r.stdout ?? '');
  if (!m) process.stderr.write(`bench ${c.name}: ${r.stderr?.split('\n').slice(-3).join(' ')}\n`);
  return m ? Number(m[1]) : null;
}

function torchAvailable(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
}

export async function deepBench(argv: string[]): Promise<string[]> {
  const quick = argv.includes('--quick');
  const si = argv.indexOf('--deep-steps');
  const steps = si >= 0 ? Number(argv[si + 1]) : quick ? 5 : 30;
  const lines: string[] = [];
  const say = (s = '') => {
    lines.push(s);
    process.stdout.write(`${s}\n`);
  };
  const torch = torchAvailable();
  say('## Data-set networks (laaf train): LeNet variant and MLP on Fashion-MNIST-shaped batches of 64');
  say();
  say(`Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, load average at start ${loadavg().map((v) => v.toFixed(1)).join(' ')}; ${new Date().toISOString()}.`);
  say(`ms per SGD step (momentum 0.9), median of ${steps} timed steps after 3 warm-up steps; an epoch = ${STEPS_PER_EPOCH} steps, **extrapolated** from that median (a slice, not a whole epoch). laaf: wasm backend, its conv/dense/pool kernels replaced by laaf's own (src/kernel/deep.ts) on LAAF_THREADS threads; the rest of tfjs-backend-wasm runs single-threaded in Node.`);
  say();
  say('| network | adaptive | path | ms/step | epoch (s, extrapolated) | × PyTorch best |');
  say('|---|---|---|---|---|---|');
  for (const model of ['lenet', 'mlp'] as const) {
    for (const adaptive of ['none', 'neuron'] as const) {
      const cases: DeepCase[] = [1, 2].map((t) => ({ name: `laaf wasm, ${t} thread${t > 1 ? 's' : ''}`, kind: 'laaf' as const, model, adaptive, threads: t, steps, warmup: 3 }));
      if (torch) for (const t of [1, 2]) cases.push({ name: `PyTorch ${t} thread${t > 1 ? 's' : ''}`, kind: 'torch', model, adaptive, threads: t, steps: model === 'mlp' ? steps * 4 : steps, warmup: 3 });
      const ms = cases.map(runCase);
      const torchMs = ms.filter((v, i): v is number => v !== null && cases[i]!.kind === 'torch');
      const best = torchMs.length ? Math.min(...torchMs) : null;
      cases.forEach((c, i) => {
        const v = ms[i]!;
        say(`| ${model === 'lenet' ? 'LeNet' : 'MLP 784-256-256-10'} | ${adaptive === 'none' ? 'fixed ReLU' : 'N-LAAF + SR'} | ${c.name} | ${v === null ? '—' : v.toFixed(1)} | ${v === null ? '—' : ((v * STEPS_PER_EPOCH) / 1000).toFixed(0)} | ${v === null || best === null ? '—' : `${(v / best).toFixed(2)}×`} |`);
      });
    }
  }
  say();
  say(`Load average at the end: ${loadavg().map((v) => v.toFixed(1)).join(' ')}. Targets: LeNet epoch within 1.5× of PyTorch's best thread count; MLP at least 2× faster than PyTorch (× < 0.5).`);
  say();
  return lines;
}

/** Put the section into BENCHMARKS.md before the hand-kept notes (replacing an earlier one). */
export function writeDeepSection(file: string, lines: string[]): void {
  const MARK = '<!-- notes below are kept by npm run bench -->';
  const START = '<!-- deep: begin -->';
  const END = '<!-- deep: end -->';
  let text = existsSync(file) ? readFileSync(file, 'utf8') : `# Benchmarks\n\n${MARK}\n`;
  const block = `${START}\n${lines.join('\n')}\n${END}\n`;
  if (text.includes(START) && text.includes(END)) text = text.slice(0, text.indexOf(START)) + block + text.slice(text.indexOf(END) + END.length + 1);
  else if (text.includes(MARK)) text = text.slice(0, text.indexOf(MARK)) + block + text.slice(text.indexOf(MARK));
  else text += block;
  writeFileSync(file, text);
}

const argv = process.argv.slice(2);
const ci = argv.indexOf('--child');
if (ci >= 0) {
  await child(JSON.parse(argv[ci + 1]!) as DeepCase);
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const lines = await deepBench(argv);
  const wi = argv.indexOf('--write');
  if (wi >= 0) writeDeepSection(argv[wi + 1]!, lines);
}

/** bench/bench.ts's hook: the section, written where bench.ts writes (BENCHMARKS.md, or --write FILE; nothing with --quick). */
export async function runFromBench(argv: string[]): Promise<void> {
  const lines = await deepBench(argv);
  const wi = argv.indexOf('--write');
  const file = wi >= 0 ? argv[wi + 1]! : argv.includes('--quick') ? null : join(ROOT, 'BENCHMARKS.md');
  if (file) writeDeepSection(file, lines);
}
