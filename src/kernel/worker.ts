/**
 * A kernel worker thread (see runtime.ts): instantiates the kernel module on the shared
 * memory, then waits for work on the control block, runs its range, reports done.
 */
import { workerData } from 'node:worker_threads';

const GEN = 0, DONE = 1, READY = 2, CMD = 3, NET = 4, ERR = 6, WORK = 16;

const { module, memory, ctrl: ctrlOffset, index } = workerData as {
  module: WebAssembly.Module; memory: WebAssembly.Memory; ctrl: number; index: number;
};
const inst = new WebAssembly.Instance(module, {
  env: { memory, abort: () => { throw new Error('fused kernel: abort'); } },
});
const run32 = inst.exports.run as (cmd: number, net: number, work: number) => void;
const run64 = inst.exports.run64 as (cmd: number, net: number, work: number) => void;
const deepRun = inst.exports.deepRun as (cmd: number, desc: number, work: number) => void;
const RUN64 = 16, RUN_DEEP = 32; // runtime.ts
const run = (cmd: number, net: number, work: number) =>
  (cmd >= RUN_DEEP ? deepRun(cmd - RUN_DEEP, net, work) : cmd >= RUN64 ? run64(cmd - RUN64, net, work) : run32(cmd, net, work));
const ctrl = new Int32Array(memory.buffer as unknown as SharedArrayBuffer, ctrlOffset, 128);
let gen = Atomics.load(ctrl, GEN);
Atomics.add(ctrl, READY, 1);
Atomics.notify(ctrl, READY);
const thread = index + 1; // the main thread is thread 0
for (;;) {
  Atomics.wait(ctrl, GEN, gen);
  const g = Atomics.load(ctrl, GEN);
  if (g === gen) continue;
  gen = g;
  // A work slot is consumed atomically, so a thread that wakes late can never run a call twice.
  const work = Atomics.exchange(ctrl, WORK + thread, 0);
  if (work === 0) continue;
  try {
    run(ctrl[CMD]!, ctrl[NET]!, work);
  } catch {
    Atomics.store(ctrl, ERR, 1);
  }
  Atomics.add(ctrl, DONE, 1);
  Atomics.notify(ctrl, DONE);
}
