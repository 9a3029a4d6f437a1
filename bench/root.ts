/** Where the benchmarks find the repository and the PyTorch peer (LAAF_TORCH_SCRIPT overrides: from another checkout ../shared is elsewhere). */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return d;
}

export const ROOT = repoRoot();
export const TORCH_SCRIPT = process.env['LAAF_TORCH_SCRIPT'] ?? resolve(ROOT, '..', 'shared', 'bench', 'torch_burgers_step.py');
