/** Test helpers: the repository root, temporary folders, running the CLI as a user would, locating text. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder with laaf's package.json (tests run from test/ under tsx or dist/test compiled). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || existsSync(join(dir, 'tsconfig.json')) === false) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found');
    dir = up;
  }
  return dir;
}

export function tempDir(prefix = 'laaf-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface CliResult { code: number | null; stdout: string; stderr: string }

/** Run `laaf ARGS` in `cwd` with the compiled CLI. */
export function laaf(args: string[], cwd: string, timeoutMs = 600_000): CliResult {
  const r = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'laaf.js'), ...args], { cwd, encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** 1-based line and column of the first occurrence of `needle` in `text`. */
export function lineColOf(text: string, needle: string, nth = 0): { line: number; col: number } {
  let at = -1;
  for (let k = 0; k <= nth; k++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`'${needle}' not in text`);
  }
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  return { line, col: at - before.lastIndexOf('\n') };
}
