import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** The folder holding laaf's package.json (src/base under tsx, dist/src/base when compiled). */
export function packageRoot(): string {
  for (const up of ['../..', '../../..']) {
    const dir = fileURLToPath(new URL(`${up}/`, import.meta.url));
    try {
      const pkg = require(join(dir, 'package.json')) as { name?: string };
      if (pkg.name === 'laaf') return dir;
    } catch {
      // try the next level
    }
  }
  throw new Error('internal: cannot find laaf package.json');
}
