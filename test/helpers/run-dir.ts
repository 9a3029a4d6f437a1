/** Run directories under stress: a small tmpfs for a full disk, waiting on a run in another process. */
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

/** Mount a tmpfs of `size` (e.g. '16k') at `dir`; false where mounting is not allowed (not root, no CAP_SYS_ADMIN). */
export function mountTmpfs(dir: string, size: string): boolean {
  mkdirSync(dir, { recursive: true });
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]).status === 0;
}

/** Whether this machine lets a test mount a tmpfs (tried once at `probe`, unmounted again). */
export function canMountTmpfs(probe: string): boolean {
  if (!mountTmpfs(probe, '16k')) return false;
  spawnSync('umount', [probe]);
  return true;
}

/** Poll `cond` every 10 ms until it holds; throws after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 300_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * `--out` places that must be refused at once (exit 2) with the reason: makes a file
 * `afile` and a dangling link `dangling` in `dir`, and returns each place with the
 * message expected for it.
 */
export function badOutPlaces(dir: string): [string, RegExp][] {
  writeFileSync(join(dir, 'afile'), 'x');
  symlinkSync(join(dir, 'gone'), join(dir, 'dangling'));
  const cases: [string, RegExp][] = [
    ['', /the directory path is empty — choose another --out/],
    ['afile', /afile exists and is not a directory/],
    ['afile/run', /afile is a file, not a directory|a part of that path is a file/],
    ['dangling', /dangling is a symbolic link to \S+gone, which does not exist/],
  ];
  if (existsSync('/proc/self')) cases.push(['/proc/laaf-run', /\/proc is the proc pseudo file system/]);
  return cases;
}
