/// <reference types="@webgpu/types" />
/**
 * The worker thread that owns the GPU: Dawn's adapter and device, and tfjs's webgpu
 * backend on it. The main thread's tfjs engine runs a proxy backend (webgpu.ts) that
 * sends every kernel call here and blocks (Atomics.wait) for the answer.
 *
 * Why a worker: WebGPU reads GPU memory back only asynchronously (mapAsync), and Dawn
 * completes a map only when Node's event loop turns. laaf's training reads values
 * synchronously (loss, slopes, checkpoints), and tfjs-backend-webgpu's own readSync
 * needs a browser's OffscreenCanvas. Here the event loop stays free while the main
 * thread waits, so a synchronous read on the main thread is an awaited read here.
 *
 * Protocol (one request at a time): the main thread writes a v8-serialised request
 * into `data` (4-byte length, then the bytes), sets ctrl[0] = 1 and waits; this thread
 * answers in the same buffer and sets ctrl[0] = 2. A request larger than the buffer
 * first sends a bigger buffer by postMessage; this thread acknowledges with ctrl[0] = 3.
 *
 * Besides tfjs's kernels this thread runs the GPU step's engine (gpu/step.ts; `wgsl`
 * requests, one per Adam step): its buffers stay here on the device between requests.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { deserialize, serialize } from 'node:v8';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { runCommands, type GpuRead, type GpuStepCommand, type GpuStepEngine } from '../gpu/step.js';

export interface WorkerInit {
  ctrl: SharedArrayBuffer;
  data: SharedArrayBuffer;
  /** test hook: destroy the device after this many kernel runs and GPU step evaluations (provokes "device lost") */
  loseAfterRuns?: number;
}

/** One tensor as it crosses the thread boundary. */
export interface WireTensor { id: number; shape: number[]; dtype: tf.DataType }

export type Request =
  /** `array`: the kernel takes its inputs as an array (AddN, Concat, Pack) */
  | { op: 'run'; name: string; inputs: [string, WireTensor | null][]; array: boolean; attrs: unknown; queue: Queued }
  | { op: 'read'; id: number; queue: Queued }
  | { op: 'flush'; queue: Queued }
  /** the GPU step (gpu/step.ts): commands to its engine, which lives here with the device */
  | { op: 'wgsl'; cmds: GpuStepCommand[]; queue: Queued }
  | { op: 'stats' };

/** Writes and disposals the main thread batched since its last request. */
export interface Queued {
  writes: { id: number; values: tf.backend_util.BackendValues; shape: number[]; dtype: tf.DataType }[];
  disposes: number[];
}

export interface Answer {
  ok: true;
  outputs?: WireTensor[];
  values?: tf.backend_util.BackendValues;
  /** what a `wgsl` request read back */
  read?: GpuRead;
  /** compute dispatches recorded so far (every GPU program a kernel ran; kernels computed on the CPU dispatch none) */
  dispatches?: number;
}
export type Response = Answer | { ok: false; error: string; lost?: string };

/** What the worker reports once it has looked for an adapter. */
export type Hello =
  | { adapter: null; why?: string }
  | { adapter: { vendor: string; architecture: string; device: string; description: string }; kernels: string[]; limits: BufferLimits };

/** The device's buffer limits (the GPU step checks its largest buffer against them before it runs). */
export interface BufferLimits { maxStorageBufferBindingSize: number; maxBufferSize: number }

function ensureRuntimeDir(): void {
  if (process.env['XDG_RUNTIME_DIR']) return;
  const dir = join(tmpdir(), `laaf-xdg-${process.getuid?.() ?? 'user'}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  process.env['XDG_RUNTIME_DIR'] = dir;
}

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  const port = parentPort!;
  ensureRuntimeDir();
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals); // GPUBufferUsage, GPUMapMode, … used by the backend
  const gpu = create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    port.postMessage({ adapter: null } satisfies Hello);
    return;
  }
  const a = adapter.info;
  const info = { vendor: a.vendor, architecture: a.architecture, device: a.device, description: a.description };
  // tfjs-backend-webgpu registers its own backend (on its own adapter) when imported with
  // navigator.gpu present; import it first, then give its backend the navigator it checks for.
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  const g0 = globalThis as unknown as { navigator?: { gpu?: GPU; userAgent?: string } };
  g0.navigator ??= { userAgent: 'node' };
  g0.navigator.gpu = gpu;
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    },
  });
  let lost: string | undefined;
  void device.lost.then((l) => {
    lost = `${l.reason}${l.message ? `: ${l.message}` : ''}`;
  });
  const backend = new WebGPUBackend(device, adapter.info);
  // Count compute dispatches: every GPU program tfjs-backend-webgpu records goes through runWebGPUProgram.
  let dispatches = 0;
  const runProgram = backend.runWebGPUProgram.bind(backend);
  backend.runWebGPUProgram = (...args: Parameters<typeof runProgram>) => {
    dispatches++;
    return runProgram(...args);
  };
  const kernels = tf.getKernelsForBackend('webgpu');
  const byName = new Map(kernels.map((k) => [k.kernelName, k]));
  const bufferLimits = { maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize, maxBufferSize: device.limits.maxBufferSize };
  port.postMessage({ adapter: info, kernels: [...byName.keys()], limits: bufferLimits } satisfies Hello);

  const dataIds = new Map<number, tf.DataId>();
  const idOf = new WeakMap<tf.DataId, number>();
  let nextId = 1; // this side numbers new tensors with odd ids, the main thread with even ones
  let runs = 0;
  /** the GPU step's engine, once a `wgsl` request made one */
  const step: { engine?: GpuStepEngine } = {};
  const register = (t: tf.TensorInfo): WireTensor => {
    let id = idOf.get(t.dataId);
    if (id === undefined) {
      id = nextId;
      nextId += 2;
      idOf.set(t.dataId, id);
      dataIds.set(id, t.dataId);
    }
    return { id, shape: t.shape, dtype: t.dtype };
  };
  const dataId = (id: number): tf.DataId => {
    const d = dataIds.get(id);
    if (!d) throw new Error(`internal: webgpu worker has no tensor ${id}`);
    return d;
  };
  const applyQueue = (q: Queued): void => {
    for (const w of q.writes) {
      const d = backend.write(w.values, w.shape, w.dtype);
      idOf.set(d, w.id);
      dataIds.set(w.id, d);
    }
    for (const id of q.disposes) {
      const d = dataIds.get(id);
      if (!d) continue;
      backend.disposeData(d, true);
      dataIds.delete(id);
    }
  };

  const handle = async (req: Request): Promise<Response> => {
    if (req.op === 'stats') return { ok: true, dispatches };
    applyQueue(req.queue);
    if (lost) return { ok: false, error: 'the GPU device was lost', lost };
    if (req.op === 'flush') return { ok: true };
    if (req.op === 'wgsl') {
      const before = step.engine?.dispatches ?? 0;
      const read = await runCommands(device, step, req.cmds);
      dispatches += (step.engine?.dispatches ?? 0) - (req.cmds.some((c) => c.do === 'init') ? 0 : before);
      // (the test hook counts evaluations of the GPU step like kernel runs)
      for (const c of req.cmds) {
        if (c.do !== 'evaluate') continue;
        runs++;
        if (init.loseAfterRuns !== undefined && runs === init.loseAfterRuns) device.destroy();
      }
      if (lost) return { ok: false, error: 'the GPU device was lost', lost };
      return { ok: true, read };
    }
    if (req.op === 'read') {
      const values = await backend.read(dataId(req.id));
      if (lost) return { ok: false, error: 'the GPU device was lost', lost };
      return { ok: true, values };
    }
    const kernel = byName.get(req.name);
    if (!kernel) return { ok: false, error: `Kernel '${req.name}' not registered for backend 'webgpu'` };
    const info = (t: WireTensor): tf.TensorInfo => ({ dataId: dataId(t.id), shape: t.shape, dtype: t.dtype });
    let inputs: tf.NamedTensorInfoMap;
    if (req.array) {
      inputs = req.inputs.map(([, t]) => info(t!)) as unknown as tf.NamedTensorInfoMap;
    } else {
      inputs = {};
      for (const [k, t] of req.inputs) if (t) inputs[k] = info(t);
    }
    const out = kernel.kernelFunc({ inputs, attrs: req.attrs as tf.NamedAttrMap, backend });
    runs++;
    if (init.loseAfterRuns !== undefined && runs === init.loseAfterRuns) device.destroy();
    const outs = Array.isArray(out) ? out : [out];
    return { ok: true, outputs: outs.map(register) };
  };

  let data = new Uint8Array(init.data);
  const ctrl = new Int32Array(init.ctrl);
  port.on('message', (m: { data?: SharedArrayBuffer }) => {
    if (m.data) {
      data = new Uint8Array(m.data);
      Atomics.store(ctrl, 0, 3);
      Atomics.notify(ctrl, 0);
    }
  });
  for (;;) {
    if (Atomics.load(ctrl, 0) !== 1) {
      // (Node 20 has Atomics.waitAsync; TypeScript's ES2022 library does not declare it.)
      const w = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } })
        .waitAsync(ctrl, 0, Atomics.load(ctrl, 0));
      if (w.async) await w.value;
      continue;
    }
    const len = new DataView(data.buffer).getUint32(0, true);
    // A copy: deserialised typed arrays are views on their input, and the backend keeps written values.
    const req = deserialize(data.slice(4, 4 + len)) as Request;
    let res: Response;
    try {
      res = await handle(req);
    } catch (e) {
      res = lost ? { ok: false, error: 'the GPU device was lost', lost } : { ok: false, error: (e as Error).message ?? String(e) };
    }
    let bytes = serialize(res);
    if (bytes.length + 4 > data.length) {
      bytes = serialize({ ok: false, error: `internal: webgpu worker answer of ${bytes.length} bytes does not fit its ${data.length}-byte buffer` } satisfies Response);
    }
    new DataView(data.buffer).setUint32(0, bytes.length, true);
    data.set(bytes, 4);
    Atomics.store(ctrl, 0, 2);
    Atomics.notify(ctrl, 0);
  }
}

void main().catch((e: unknown) => {
  parentPort!.postMessage({ adapter: null, why: (e as Error).message ?? String(e) } satisfies Hello);
});
