/**
 * Choosing the tfjs backend. wasm (the default), cpu and webgpu ship inside their npm
 * packages (webgpu needs a Vulkan driver at run time); the tensorflow backend
 * (@tensorflow/tfjs-node-gpu or -node) is used only when the user has installed it.
 * One other place asks which backend is active: the step-path registry
 * (src/step/paths.ts) hands it to each path's `supports` check (ARCHITECTURE.md,
 * "Step paths").
 *
 * `auto` prefers a hardware GPU: tensorflow when installed (tfjs-node-gpu), else a
 * WebGPU adapter that is not a software rasteriser, else the CPU kernels (wasm). A
 * software adapter (Mesa's lavapipe) is used only when webgpu is asked for by name.
 */
import * as tf from '@tensorflow/tfjs-core';
import './gradients.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';
import { createRequire } from 'node:module';
import { UserError } from '../spec/errors.js';
import { BACKEND_NAMES, type BackendName } from '../spec/schema.js';
import type { AdapterInfo } from './webgpu.js';

export type BackendChoice = BackendName;
export const BACKEND_CHOICES: readonly BackendChoice[] = BACKEND_NAMES;

const TF_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

export interface BackendInfo {
  name: string;
  package: string;
  version: string;
  /** webgpu: the adapter it runs on */
  adapter?: AdapterInfo;
}

const require = createRequire(import.meta.url);

function installed(pkg: string): boolean {
  try {
    require.resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}

function version(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Activate a backend; throws UserError when the requested one is not available. */
export async function selectBackend(choice: BackendChoice): Promise<BackendInfo> {
  if (choice === 'tensorflow' || choice === 'auto') {
    const pkg = TF_PACKAGES.find(installed);
    if (pkg) {
      await import(pkg); // registers the 'tensorflow' backend with tfjs-core
      if (await tf.setBackend('tensorflow')) return { name: 'tensorflow', package: pkg, version: version(pkg) };
      if (choice === 'tensorflow') throw new UserError(`${pkg} is installed but its backend did not start`, 'check its install log (libtensorflow must be present)');
    } else if (choice === 'tensorflow') {
      throw new UserError('the tensorflow backend is not installed',
        'npm install @tensorflow/tfjs-node-gpu (NVIDIA GPU, CUDA) or npm install @tensorflow/tfjs-node (CPU); both download libtensorflow when installed');
    }
  }
  if (choice === 'webgpu' || choice === 'auto') {
    const info = await startWebgpu(choice === 'webgpu');
    if (info) return info;
  }
  if (choice === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
    if (!(await tf.setBackend('cpu'))) throw new Error('internal: tfjs cpu backend failed to start');
    return { name: 'cpu', package: '@tensorflow/tfjs-backend-cpu', version: version('@tensorflow/tfjs-backend-cpu') };
  }
  await import('@tensorflow/tfjs-backend-wasm');
  registerWasmTrainingKernels();
  if (!(await tf.setBackend('wasm'))) throw new Error('internal: tfjs wasm backend failed to start');
  return { name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', version: version('@tensorflow/tfjs-backend-wasm') };
}

const WEBGPU_PKG = '@tensorflow/tfjs-backend-webgpu';
let webgpuLoaded = false;

/**
 * Start tfjs's webgpu backend on this machine's adapter. `byName`: webgpu was asked for,
 * so a software adapter will do and no adapter is an error; otherwise (auto) only a
 * hardware adapter is taken and undefined means "fall back to the CPU".
 */
async function startWebgpu(byName: boolean): Promise<BackendInfo | undefined> {
  const webgpu = await import('./webgpu.js');
  webgpuLoaded = true;
  const started = await webgpu.startWebgpu((_, software) => byName || !software);
  if (started) return { name: 'webgpu', package: WEBGPU_PKG, version: version(WEBGPU_PKG), adapter: started.adapter };
  if (!byName) return undefined;
  const why = webgpu.noAdapterReason();
  throw new UserError(`no WebGPU adapter found (${why ?? 'Dawn found no usable Vulkan driver'})`, webgpu.ADAPTER_HINT);
}

/**
 * Release what the backend holds outside the JavaScript heap so that the process can
 * exit (Dawn keeps Node's event loop alive). Call when a command is done with tfjs.
 */
export async function closeBackend(): Promise<void> {
  if (webgpuLoaded) (await import('./webgpu.js')).closeWebgpu();
}

/** webgpu: kernel calls, dispatches, reads and writes so far (undefined on other backends). */
export async function backendCounters(): Promise<import('./webgpu.js').WebgpuCounters | undefined> {
  if (!webgpuLoaded || tf.getBackend() !== 'webgpu') return undefined;
  return (await import('./webgpu.js')).webgpuCounters();
}
