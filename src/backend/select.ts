/**
 * Choosing the tfjs backend. wasm (the default) and cpu ship inside their npm
 * packages; the tensorflow backend (@tensorflow/tfjs-node-gpu or -node) is used only
 * when the user has installed it. One other place asks which backend is active: the
 * step-path registry (src/step/paths.ts) hands it to each path's `supports` check
 * (ARCHITECTURE.md, "Step paths").
 */
import * as tf from '@tensorflow/tfjs-core';
import './gradients.js';
import { createRequire } from 'node:module';
import { UserError } from '../spec/errors.js';

export type BackendChoice = 'auto' | 'wasm' | 'cpu' | 'tensorflow';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'wasm', 'cpu', 'tensorflow'];

const TF_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

export interface BackendInfo { name: string; package: string; version: string }

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
  if (choice === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
    if (!(await tf.setBackend('cpu'))) throw new Error('internal: tfjs cpu backend failed to start');
    return { name: 'cpu', package: '@tensorflow/tfjs-backend-cpu', version: version('@tensorflow/tfjs-backend-cpu') };
  }
  await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) throw new Error('internal: tfjs wasm backend failed to start');
  return { name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', version: version('@tensorflow/tfjs-backend-wasm') };
}
