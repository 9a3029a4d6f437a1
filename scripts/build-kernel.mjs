// Builds the fused kernel (assembly/kernel.ts, AssemblyScript) into dist/kernel/laaf-kernel.wasm:
// WebAssembly SIMD, an imported shared memory (threads), the stub runtime (the kernel never
// allocates). Runs as part of `npm run build` (and so of `npm install`, through `prepare`).
// The memory limits here must match src/kernel/runtime.ts (INITIAL_PAGES, MAX_PAGES).
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'kernel', 'laaf-kernel.wasm');
mkdirSync(dirname(out), { recursive: true });
const { error, stderr } = await asc.main([
  join(root, 'assembly', 'kernel.ts'),
  join(root, 'assembly', 'step.ts'), // the step-program executor (src/step/), same module and memory
  join(root, 'assembly', 'net64.ts'), // the float64 network jets (training.precision: float64)
  join(root, 'assembly', 'deep.ts'), // data-set networks: matrix products, im2col, pool gradient (src/kernel/deep.ts)
  '--outFile', out,
  '-O3', '--noAssert',
  '--runtime', 'stub',
  '--enable', 'simd', '--enable', 'threads',
  '--importMemory', '--sharedMemory', '--initialMemory', '17', '--maximumMemory', '32768',
]);
if (error) {
  process.stderr.write(stderr.toString());
  process.stderr.write(`kernel build failed: ${error.message}\n`);
  process.exit(1);
}
