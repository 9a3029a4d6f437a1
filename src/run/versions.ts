import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendInfo } from '../backend/select.js';

const require = createRequire(import.meta.url);

function pkgVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The folder holding laaf's package.json (src/run under tsx, dist/src/run when compiled). */
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

/** laaf's own version (from package.json). */
export function laafVersion(): string {
  return (require(join(packageRoot(), 'package.json')) as { version: string }).version;
}

export function versions(backend?: BackendInfo): Record<string, string> {
  return {
    laaf: laafVersion(),
    node: process.versions.node,
    'tfjs-core': pkgVersion('@tensorflow/tfjs-core'),
    ...(backend ? { [backend.package]: backend.version } : {}),
  };
}
