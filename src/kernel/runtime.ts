/**
 * The fused kernel's runtime: the WebAssembly module (built from assembly/kernel.ts into
 * dist/kernel/laaf-kernel.wasm by scripts/build-kernel.mjs), one shared memory, and a
 * pool of worker threads that run the same module on the same memory.
 *
 * A call's points are cut into chunks of whole blocks (at most 32, a function of the point
 * count and the block size only: fused.ts); the main thread and the workers take chunks
 * in turn from an atomic counter (load balance on a busy machine), each chunk keeping its
 * gradient partial sums in its own area, which fused.ts adds up in chunk order — so the
 * results are the same bit for bit for any number of threads. Hand-off is through a small
 * control block in the shared memory (Atomics.wait/notify: microseconds, no message
 * passing).
 *
 * Threads: LAAF_THREADS (default: os.availableParallelism(), at most 8); each thread gets
 * at least MIN_POINTS_PER_THREAD points, so small problems run on fewer threads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../base/package-root.js';

/** Byte offset where the runtime's own region starts (the module's static data lies below). */
export const ARENA = 65536;
const CTRL_BYTES = 512;
/** control block slots (Int32 at ARENA) */
export const CTRL = { GEN: 0, DONE: 1, READY: 2, CMD: 3, NET: 4, NT: 5, ERR: 6, WORK: 16 } as const;
const PAGE = 65536;
const MAX_PAGES = 32768; // 2 GiB, as declared by the module (scripts/build-kernel.mjs)
const INITIAL_PAGES = 17;
export const MIN_POINTS_PER_THREAD = 512;
/** cmd offset that sends a call to the float64 network kernel (run64) instead of run */
export const RUN64 = 16;
/** cmd offset that sends a call to the data-set network kernels (deepRun, assembly/deep.ts) */
export const RUN_DEEP = 32;
const STALL_MS = 600_000;

interface Exports {
  run(cmd: number, net: number, work: number): void;
  towerOnly(act: number, U: number, T: number, count: number, M1: number): void;
  termTowerOnly(act: number, U: number, T: number, count: number, M1: number): void;
  /** the step-program executor (assembly/step.ts): one term, Σ residual², gradient into the descriptor's dY */
  stepTerm32(desc: number): number;
  stepTerm64(desc: number): number;
  /** the float64 network jets (assembly/net64.ts); runtime.run takes them as cmd + RUN64 */
  run64(cmd: number, net: number, work: number): void;
  tanh64Only(x: number): number;
  /** Adam on a flat float32 parameter buffer (assembly/step.ts) */
  adam32(x: number, g: number, m: number, v: number, n: number, lr: number, b1: number, ob1: number, b2: number, ob2: number, eps: number, c1: number, c2: number): void;
  /** gradient partial sums of every chunk, reduced in fixed order into f64 (kernel.ts, net64.ts) */
  reducePartials(chunks: number, K: number, n: number, out: number): void;
  reducePartials64(chunks: number, K: number, n: number, out: number): void;
  /** a layer's splatted weights from W (kernel.ts, net64.ts) */
  splatWeights(W: number, K: number, Nn: number, Wsp: number, WTsp: number): void;
  splatWeights64(W: number, K: number, Nn: number, Wsp: number, WTsp: number): void;
  adam64(x: number, g: number, m: number, v: number, n: number, lr: number, b1: number, ob1: number, b2: number, ob2: number, eps: number, c1: number, c2: number): void;
  /** the data-set network kernels (assembly/deep.ts); runtime.run takes them as cmd + RUN_DEEP */
  deepRun(cmd: number, desc: number, work: number): void;
}

export function kernelPath(): string {
  return join(packageRoot(), 'dist', 'kernel', 'laaf-kernel.wasm');
}

export class KernelRuntime {
  readonly memory: WebAssembly.Memory;
  readonly exports: Exports;
  private readonly module: WebAssembly.Module;
  private workers: Worker[] = [];
  private workerFailure: string | null = null;
  maxThreads: number;
  /** The op whose forward pass's tape is in memory now (fused.ts), or null. */
  tapeOwner: object | null = null;

  constructor(bytes: Uint8Array<ArrayBuffer>, maxThreads: number) {
    this.module = new WebAssembly.Module(bytes);
    this.memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared: true });
    const inst = new WebAssembly.Instance(this.module, { env: { memory: this.memory, abort: kernelAbort } });
    this.exports = inst.exports as unknown as Exports;
    this.maxThreads = Math.max(1, maxThreads);
  }

  /** A fresh view of the whole memory (views go stale when it grows). */
  get buffer(): SharedArrayBuffer {
    return this.memory.buffer as unknown as SharedArrayBuffer;
  }

  /** Grow the memory so that [0, bytes) is addressable. */
  ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    const pages = Math.ceil((bytes - have) / PAGE);
    if (have / PAGE + pages > MAX_PAGES) throw new Error(`fused kernel: needs ${(bytes / 2 ** 20).toFixed(0)} MiB, more than its 2 GiB memory`);
    this.memory.grow(pages);
  }

  /** Threads a call over `points` points will use (deterministic in points and the configuration). */
  threadsFor(points: number): number {
    const byWork = Math.max(1, Math.floor(points / MIN_POINTS_PER_THREAD));
    const t = Math.min(this.maxThreads, byWork);
    return t > 1 && this.startWorkers(t - 1) ? t : 1;
  }

  private ctrl(): Int32Array {
    return new Int32Array(this.buffer, ARENA, CTRL_BYTES / 4);
  }

  /** Start workers until there are `n`; false when they cannot be started (single thread then). */
  private startWorkers(n: number): boolean {
    if (this.workerFailure !== null) return false;
    if (this.workers.length >= n) return true;
    const ctrl = this.ctrl();
    const url = new URL('./worker.js', import.meta.url);
    if (!existsSync(fileURLToPath(url))) {
      this.workerFailure = `${fileURLToPath(url)} is missing (run from dist/)`;
      return false;
    }
    const have = this.workers.length;
    Atomics.store(ctrl, CTRL.READY, have);
    for (let k = have; k < n; k++) {
      const w = new Worker(url, { workerData: { module: this.module, memory: this.memory, ctrl: ARENA, index: k } });
      w.unref();
      w.on('error', (e) => {
        this.workerFailure = String(e);
      });
      this.workers.push(w);
    }
    // Worker start-up runs on the workers' own threads: block until every one reports ready.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = Atomics.load(ctrl, CTRL.READY);
      if (r >= n) return true;
      if (Date.now() > deadline) {
        this.workerFailure = 'worker threads did not start within 30 s';
        return false;
      }
      Atomics.wait(ctrl, CTRL.READY, r, 100);
    }
  }

  private call(cmd: number, net: number, work: number): void {
    if (cmd >= RUN_DEEP) this.exports.deepRun(cmd - RUN_DEEP, net, work);
    else if (cmd >= RUN64) this.exports.run64(cmd - RUN64, net, work);
    else this.exports.run(cmd, net, work);
  }

  /**
   * Run `cmd` on every thread: works[t] is thread t's work descriptor (works.length threads).
   * `counter`: address of the call's chunk counter (progress, for the stall check).
   */
  run(cmd: number, net: number, works: number[], counter = 0): void {
    const T = works.length;
    if (T === 1) {
      this.call(cmd, net, works[0]!);
      return;
    }
    const ctrl = this.ctrl();
    Atomics.store(ctrl, CTRL.DONE, 0);
    Atomics.store(ctrl, CTRL.ERR, 0);
    ctrl[CTRL.CMD] = cmd;
    ctrl[CTRL.NET] = net;
    ctrl[CTRL.NT] = T;
    works.forEach((w, t) => (ctrl[CTRL.WORK + t] = w));
    Atomics.add(ctrl, CTRL.GEN, 1);
    Atomics.notify(ctrl, CTRL.GEN);
    let error: unknown = null;
    try {
      this.call(cmd, net, works[0]!);
    } catch (e) {
      error = e;
    }
    // (A worker's 'error' event cannot arrive while this thread blocks: a stall ends the wait.)
    let last = -1;
    let since = Date.now();
    for (;;) {
      const d = Atomics.load(ctrl, CTRL.DONE);
      if (d >= T - 1) break;
      if (this.workerFailure !== null) throw new Error(`fused kernel: a worker thread failed: ${this.workerFailure}`);
      const progress = d + (counter ? 64 * Atomics.load(new Int32Array(this.buffer, counter, 1), 0) : 0);
      if (progress !== last) {
        last = progress;
        since = Date.now();
      } else if (Date.now() - since > STALL_MS) {
        this.workerFailure = 'a worker thread stopped responding';
        throw new Error(`fused kernel: a worker thread stopped responding for ${STALL_MS / 1000} s (LAAF_THREADS=1 runs without workers)`);
      }
      Atomics.wait(ctrl, CTRL.DONE, d, 1000);
    }
    if (error) throw error;
    if (Atomics.load(ctrl, CTRL.ERR) !== 0) throw new Error('fused kernel: a worker thread failed');
  }
}

function kernelAbort(): never {
  throw new Error('fused kernel: abort');
}

let runtime: KernelRuntime | null | undefined;
let loadError: string | null = null;

/** Configured thread count: LAAF_THREADS, else the machine's parallelism (at most 8). */
export function configuredThreads(): number {
  const env = process.env.LAAF_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (Number.isInteger(n) && n >= 1) return Math.min(n, 64);
  }
  return Math.min(availableParallelism(), 8);
}

/** The kernel, loaded on first use; null when it cannot run here (not built, no SIMD or threads). */
export function kernel(): KernelRuntime | null {
  if (runtime !== undefined) return runtime;
  try {
    const path = kernelPath();
    if (!existsSync(path)) throw new Error(`${path} is missing — run npm run build`);
    runtime = new KernelRuntime(new Uint8Array(readFileSync(path)), configuredThreads());
  } catch (e) {
    loadError = (e as Error).message;
    runtime = null;
  }
  return runtime;
}

/** Override the thread count for this process (tests, benchmarks); null restores the configured one. */
export function setKernelThreads(n: number | null): void {
  const rt = kernel();
  if (rt) rt.maxThreads = n === null ? configuredThreads() : Math.max(1, Math.floor(n));
}

/** Why kernel() is null, if it is. */
export function kernelLoadError(): string | null {
  return loadError;
}
