import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { BackendInfo } from '../backend/select.js';
import { packageRoot } from '../base/package-root.js';

const require = createRequire(import.meta.url);

function pkgVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
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
