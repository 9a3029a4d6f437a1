// Prints this machine's WebGPU adapter (what `laaf solve --backend webgpu` would run on)
// as JSON and exits 0, or says there is none and exits 1. Needs `npm run build` first.
import { probeAdapter } from '../dist/src/backend/webgpu.js';

const adapter = await probeAdapter();
if (adapter) {
  process.stdout.write(`${JSON.stringify(adapter)}\n`);
} else {
  process.stdout.write('no WebGPU adapter\n');
  process.exitCode = 1;
}
