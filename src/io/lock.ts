/**
 * One writer per directory: `.laaf.lock` holds the owner's pid, host and start time,
 * created exclusively (O_EXCL), removed when the owner ends. A lock whose pid no
 * longer runs on this host is stale and taken over; a lock held by a live process —
 * or by a process on another host, which cannot be checked from here — refuses the
 * second writer with LockedError.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export const LOCK_FILE = '.laaf.lock';

export interface LockOwner { pid: number; host: string; started: string; command: string }

export class LockedError extends Error {
  constructor(readonly dir: string, readonly owner: LockOwner | undefined, readonly lockFile: string) {
    super(owner
      ? `${dir} is in use by laaf (pid ${owner.pid} on ${owner.host}, since ${owner.started}: ${owner.command})`
      : `${dir} is locked by ${lockFile}, which cannot be read`);
  }
}

/** Whether process `pid` runs on this machine (EPERM: it runs, as another user). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The owner recorded in `dir`'s lock file, if there is a readable one. */
export function lockOwner(dir: string): LockOwner | undefined {
  try {
    const o = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as LockOwner;
    return typeof o.pid === 'number' && typeof o.host === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

/** A lock held by a live process (or by one on another host): its owner; undefined when the directory is free or the lock is stale. */
export function liveOwner(dir: string): LockOwner | undefined {
  const o = lockOwner(dir);
  if (!o) return undefined;
  if (o.host === hostname() && !pidAlive(o.pid)) return undefined;
  return o;
}

const held = new Set<string>();
let exitHook = false;

export class DirLock {
  private constructor(readonly dir: string, readonly file: string) {}

  /**
   * Take `dir`'s lock. `onStale` hears about a stale lock that is taken over.
   * Throws LockedError when another live process holds it.
   */
  static acquire(dir: string, onStale: (message: string) => void = () => {}): DirLock {
    const file = join(dir, LOCK_FILE);
    const me: LockOwner = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command: process.argv.slice(2).join(' ') };
    for (let attempt = 0; ; attempt++) {
      let fd: number;
      try {
        fd = openSync(file, 'wx');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
        const o = lockOwner(dir);
        if (o && (o.host !== hostname() || pidAlive(o.pid))) throw new LockedError(dir, o, file);
        if (!o) {
          // Unreadable: a writer that died between creating and filling it, or one filling it right now.
          throw new LockedError(dir, undefined, file);
        }
        onStale(`taking over the stale lock of ${dir} (pid ${o.pid} on ${o.host} is no longer running)`);
        rmSync(file, { force: true });
        continue;
      }
      try {
        writeSync(fd, `${JSON.stringify(me)}\n`);
      } finally {
        closeSync(fd);
      }
      held.add(file);
      if (!exitHook) {
        exitHook = true;
        // process.exit (a second Ctrl-C) skips finally blocks: still leave no lock behind.
        process.on('exit', () => {
          for (const f of held) rmSync(f, { force: true });
        });
      }
      return new DirLock(dir, file);
    }
  }

  release(): void {
    if (!held.delete(this.file)) return;
    rmSync(this.file, { force: true });
  }
}
