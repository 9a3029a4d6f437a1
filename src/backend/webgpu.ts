/**
 * The tfjs `webgpu` backend: a WebGPU adapter through Dawn (npm package `webgpu`), with
 * tfjs-backend-webgpu's kernels. Loaded lazily: only `--backend webgpu` and `auto`'s
 * probe import this module, and Dawn itself loads in a worker thread.
 *
 * The GPU lives in a worker (webgpu-worker.ts, which says why); here a proxy backend
 * registered with the main thread's tfjs engine forwards each kernel call there and
 * waits for the answer, so laaf's synchronous reads (dataSync) work on the GPU too.
 * Writes and disposals are batched into the next request; kernel calls and reads cost
 * one round trip each.
 *
 * Dawn reaches the GPU through Vulkan on Linux: a GPU driver with a Vulkan ICD (e.g.
 * NVIDIA's) gives a hardware adapter; Mesa's lavapipe (mesa-vulkan-drivers ≥ 24) gives a
 * software one ("architecture: software"), used only when asked for by name.
 */
import { Worker } from 'node:worker_threads';
import { deserialize, serialize } from 'node:v8';
import * as tf from '@tensorflow/tfjs-core';
import type { Answer, BufferLimits, Hello, Queued, Request, Response, WireTensor, WorkerInit } from './webgpu-worker.js';
import type { GpuRead, GpuStepCommand } from '../gpu/step.js';

/** What summary.json records about the adapter a run trained on. */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

/** How to get an adapter, for error messages. */
export const ADAPTER_HINT = 'install a GPU driver with Vulkan support (and the Vulkan loader, libvulkan1), '
  + 'or for testing Mesa\'s lavapipe: apt-get install -t bookworm-backports mesa-vulkan-drivers (Mesa >= 24; Debian 12\'s 22.3 is refused by Dawn)';

/** Whether an adapter describes a software rasteriser rather than a GPU. */
export function isSoftware(info: AdapterInfo): boolean {
  return info.architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(`${info.device} ${info.description}`);
}

/** The GPU device was lost (driver reset, GPU removed, or the test hook). */
export class DeviceLostError extends Error {
  constructor(readonly reason: string) {
    super(`the GPU device was lost (${reason})`);
    this.name = 'DeviceLostError';
  }
}

interface DataId { id: number }

/** Counts since the backend started: kernel calls sent to the GPU thread, the compute dispatches they made, reads back and their bytes, writes and theirs. */
export interface WebgpuCounters { kernels: number; dispatches: number; reads: number; bytesRead: number; writes: number; bytesWritten: number }

class ProxyBackend extends tf.KernelBackend {
  private data: Uint8Array;
  private readonly ctrl: Int32Array;
  private readonly ids = new Map<number, DataId>();
  private readonly refs = new Map<number, number>();
  private readonly shapes = new Map<number, { size: number; dtype: tf.DataType }>();
  private nextId = 2; // even ids here, odd ids in the worker
  private queue: Queued = { writes: [], disposes: [] };
  private lost: string | undefined;
  readonly counters: Omit<WebgpuCounters, 'dispatches'> = { kernels: 0, reads: 0, bytesRead: 0, writes: 0, bytesWritten: 0 };

  /** Compute dispatches so far (asks the worker; flushes pending writes). */
  dispatches(): number {
    return this.request({ op: 'stats' }).dispatches!;
  }

  constructor(private readonly worker: Worker, init: WorkerInit) {
    super();
    this.data = new Uint8Array(init.data);
    this.ctrl = new Int32Array(init.ctrl);
  }

  private request(req: Request): Answer {
    if (this.lost) throw new DeviceLostError(this.lost);
    let bytes = serialize(req);
    this.ensureCapacity(bytes.length + 4);
    new DataView(this.data.buffer).setUint32(0, bytes.length, true);
    this.data.set(bytes, 4);
    Atomics.store(this.ctrl, 0, 1);
    Atomics.notify(this.ctrl, 0);
    while (Atomics.load(this.ctrl, 0) === 1) Atomics.wait(this.ctrl, 0, 1);
    const len = new DataView(this.data.buffer).getUint32(0, true);
    bytes = Buffer.from(this.data.slice(4, 4 + len)); // a copy: deserialised typed arrays are views on their input
    Atomics.store(this.ctrl, 0, 0);
    const res = deserialize(bytes) as Response;
    if (!res.ok) {
      if (res.lost) {
        this.lost = res.lost;
        throw new DeviceLostError(res.lost);
      }
      throw new Error(res.error);
    }
    return res as Answer;
  }

  /** A bigger shared buffer, handed over by postMessage (the worker's event loop is free while it waits). */
  private ensureCapacity(n: number): void {
    if (n <= this.data.length) return;
    let size = this.data.length;
    while (size < n) size *= 2;
    const sab = new SharedArrayBuffer(size);
    this.worker.postMessage({ data: sab });
    while (Atomics.load(this.ctrl, 0) !== 3) Atomics.wait(this.ctrl, 0, Atomics.load(this.ctrl, 0), 50);
    Atomics.store(this.ctrl, 0, 0);
    this.data = new Uint8Array(sab);
  }

  /** Commands to the GPU step's engine in the worker; `answerBytes`: room the answer may need. */
  wgsl(cmds: GpuStepCommand[], answerBytes: number): GpuRead {
    this.ensureCapacity(answerBytes + 4096);
    const read = this.request({ op: 'wgsl', cmds, queue: this.takeQueue() }).read ?? {};
    const bytes = (read.values ? 4 * (read.values.terms.length + 2) : 0) + [read.grad, read.params, read.m, read.v].reduce((p, a) => p + (a?.byteLength ?? 0), 0);
    if (bytes > 0) {
      this.counters.reads++;
      this.counters.bytesRead += bytes;
    }
    return read;
  }

  private takeQueue(): Queued {
    const q = this.queue;
    this.queue = { writes: [], disposes: [] };
    return q;
  }

  private wire(t: tf.TensorInfo): WireTensor {
    return { id: (t.dataId as DataId).id, shape: t.shape, dtype: t.dtype };
  }

  run(name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap | undefined): tf.TensorInfo | tf.TensorInfo[] {
    const ins: [string, WireTensor | null][] = Object.entries(inputs).map(([k, t]) => [k, t ? this.wire(t) : null]);
    const res = this.request({ op: 'run', name, inputs: ins, array: Array.isArray(inputs), attrs: attrs ?? {}, queue: this.takeQueue() });
    this.counters.kernels++;
    const outs = res.outputs!.map((o) => {
      let d = this.ids.get(o.id);
      if (d) {
        this.refs.set(o.id, this.refs.get(o.id)! + 1); // the kernel returned a tensor it was given (reshape, identity)
      } else {
        d = { id: o.id };
        this.ids.set(o.id, d);
        this.refs.set(o.id, 1);
        this.shapes.set(o.id, { size: tf.util.sizeFromShape(o.shape), dtype: o.dtype });
      }
      return { dataId: d, shape: o.shape, dtype: o.dtype };
    });
    return outs.length === 1 ? outs[0]! : outs;
  }

  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): tf.DataId {
    const id = this.nextId;
    this.nextId += 2;
    const d = { id };
    this.ids.set(id, d);
    this.refs.set(id, 1);
    this.shapes.set(id, { size: tf.util.sizeFromShape(shape), dtype });
    this.queue.writes.push({ id, values, shape, dtype });
    this.counters.writes++;
    this.counters.bytesWritten += (values as ArrayBufferView).byteLength ?? 0;
    return d;
  }

  override move(dataId: tf.DataId, values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
    const id = (dataId as DataId).id;
    this.ids.set(id, dataId as DataId);
    this.refs.set(id, refCount);
    this.shapes.set(id, { size: tf.util.sizeFromShape(shape), dtype });
    this.queue.writes.push({ id, values, shape, dtype });
  }

  override readSync(dataId: tf.DataId): tf.backend_util.BackendValues {
    const id = (dataId as DataId).id;
    const s = this.shapes.get(id);
    if (s) this.ensureCapacity(s.size * 4 + 4096);
    const values = this.request({ op: 'read', id, queue: this.takeQueue() }).values!;
    this.counters.reads++;
    this.counters.bytesRead += (values as ArrayBufferView).byteLength ?? 0;
    return values;
  }

  override async read(dataId: tf.DataId): Promise<tf.backend_util.BackendValues> {
    return this.readSync(dataId);
  }

  override refCount(dataId: tf.DataId): number {
    return this.refs.get((dataId as DataId).id) ?? 0;
  }

  override incRef(dataId: tf.DataId): void {
    const id = (dataId as DataId).id;
    this.refs.set(id, (this.refs.get(id) ?? 0) + 1);
  }

  override disposeData(dataId: tf.DataId, force = false): boolean {
    const id = (dataId as DataId).id;
    const r = this.refs.get(id);
    if (r === undefined) return true;
    if (!force && r > 1) {
      this.refs.set(id, r - 1);
      return false;
    }
    this.refs.delete(id);
    this.ids.delete(id);
    this.shapes.delete(id);
    this.queue.disposes.push(id);
    return true;
  }

  override numDataIds(): number {
    return this.ids.size;
  }

  override memory(): { unreliable: boolean; reasons?: string[] } {
    return { unreliable: true, reasons: ['the GPU memory is held by a worker thread'] };
  }

  override floatPrecision(): 32 {
    return 32;
  }

  override epsilon(): number {
    return 1e-7;
  }

  override timerAvailable(): boolean {
    return false;
  }

  override dispose(): void {
    // The worker (and with it the device) is terminated by closeWebgpu.
  }
}

export interface WebgpuStart {
  adapter: AdapterInfo;
  software: boolean;
}

let worker: Worker | undefined;
let proxy: ProxyBackend | undefined;
let hello: Hello | undefined;

/** Start the GPU worker and wait until it has looked for an adapter. */
async function startWorker(): Promise<{ hello: Hello; init: WorkerInit }> {
  const lose = process.env['LAAF_WEBGPU_LOSE_AFTER'];
  const init: WorkerInit = {
    ctrl: new SharedArrayBuffer(16),
    data: new SharedArrayBuffer(1 << 22),
    ...(lose ? { loseAfterRuns: Number(lose) } : {}),
  };
  worker = new Worker(new URL('./webgpu-worker.js', import.meta.url), { workerData: init });
  const w = worker;
  const h = await new Promise<Hello>((resolve, reject) => {
    w.once('message', (m: Hello) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => resolve({ adapter: null, why: `the GPU thread exited (code ${code})` }));
  });
  return { hello: h, init };
}

/**
 * Look for this machine's WebGPU adapter (once per process) and, unless `accept` turns it
 * down, register tfjs's `webgpu` backend on it. Undefined: no adapter, or turned down.
 */
export async function startWebgpu(accept: (adapter: AdapterInfo, software: boolean) => boolean): Promise<WebgpuStart | undefined> {
  closeWebgpu();
  const { hello: h, init } = await startWorker();
  hello = h;
  if (!h.adapter || !accept(h.adapter, isSoftware(h.adapter))) {
    closeWebgpu();
    return undefined;
  }
  const p = new ProxyBackend(worker!, init);
  proxy = p;
  for (const name of h.kernels) {
    if (tf.getKernel(name, 'webgpu')) tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel({ kernelName: name, backendName: 'webgpu', kernelFunc: ({ inputs, attrs }) => proxy!.run(name, inputs, attrs) });
  }
  tf.registerBackend('webgpu', () => p, 1);
  if (!(await tf.setBackend('webgpu'))) throw new Error('internal: the webgpu proxy backend did not start');
  return { adapter: h.adapter, software: isSoftware(h.adapter) };
}

/** This machine's WebGPU adapter (software or not), without starting the backend; undefined: none. */
export async function probeAdapter(): Promise<AdapterInfo | undefined> {
  let found: AdapterInfo | undefined;
  await startWebgpu((a) => {
    found = a;
    return false;
  });
  return found;
}

/** Why no adapter was found, when the GPU thread said (a Dawn error). */
export function noAdapterReason(): string | undefined {
  return hello && !hello.adapter ? hello.why : undefined;
}

/** Kernel calls, reads and writes since the backend started (undefined when it is not running). */
export function webgpuCounters(): WebgpuCounters | undefined {
  return proxy ? { ...proxy.counters, dispatches: proxy.dispatches() } : undefined;
}

/**
 * Run commands on the GPU step's engine (gpu/step.ts), in the worker that owns the device;
 * blocks until they are submitted (and, for a read, read back). `answerBytes`: the most a
 * read may return. Throws DeviceLostError when the device is gone.
 */
export function gpuStepCall(cmds: GpuStepCommand[], answerBytes = 0): GpuRead {
  if (!proxy) throw new Error('internal: the GPU step without the webgpu backend');
  return proxy.wgsl(cmds, answerBytes);
}

/** The running device's buffer limits (undefined when the webgpu backend is not running). */
export function webgpuLimits(): BufferLimits | undefined {
  return proxy && hello?.adapter ? hello.limits : undefined;
}

/** Stop the GPU thread and unregister the backend; lets the process exit. */
export function closeWebgpu(): void {
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  proxy = undefined;
  if (worker) void worker.terminate();
  worker = undefined;
}
