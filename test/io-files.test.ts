/**
 * Writing results safely, in process: whole-file writes survive short writes and never
 * put a failed file in place of a good one (a disk that fills part way is simulated
 * through the writer's fsOps seam); CSV rows are appended whole or not at all; --out
 * places laaf cannot write into are named with the reason, without creating anything;
 * directory locks refuse a second writer and take over a dead one's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { tempDir } from './helpers.js';
import { CsvLog, DiskFullError, OutDirError, checkOutDir, fsOps, makeDirs, removeTempFiles, writeFileAtomic } from '../src/io/files.js';
import { DirLock, LOCK_FILE, LockedError } from '../src/io/lock.js';

/** Run `f` with fsOps.writeSync replaced; restored afterwards. */
function withWrite(write: typeof fsOps.writeSync, f: () => void): void {
  const saved = fsOps.writeSync;
  fsOps.writeSync = write;
  try {
    f();
  } finally {
    fsOps.writeSync = saved;
  }
}

const realWrite = fsOps.writeSync;
const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

test('writeFileAtomic writes everything through short writes, and syncs before the rename', () => {
  const dir = tempDir();
  const f = join(dir, 'a.json');
  writeFileSync(f, 'old');
  const text = `${'x'.repeat(10_000)}é€\n`;
  let calls = 0;
  withWrite((fd, buf, off, len) => {
    calls++;
    return realWrite(fd, buf, off, Math.min(len, 7));
  }, () => {
    const savedSync = fsOps.fsyncSync;
    let synced = 0;
    fsOps.fsyncSync = (fd) => {
      // At fsync time the new content is not yet in place.
      assert.equal(readFileSync(f, 'utf8'), 'old');
      synced++;
      savedSync(fd);
    };
    try {
      writeFileAtomic(f, text);
    } finally {
      fsOps.fsyncSync = savedSync;
    }
    assert.equal(synced, 1);
  });
  assert.ok(calls > 1000, `${calls} short writes`);
  assert.equal(readFileSync(f, 'utf8'), text);
  assert.deepEqual(readdirSync(dir), ['a.json'], 'no temporary file left');
});

test('a disk that fills part way: the earlier file stays, no temporary file, DiskFullError names file and device', () => {
  const dir = tempDir();
  const f = join(dir, 'checkpoint.json');
  writeFileSync(f, '{"good":true}');
  for (const failAfter of [0, 1, 5000]) {
    let written = 0;
    assert.throws(() => withWrite((fd, buf, off, len) => {
      if (written >= failAfter) throw enospc();
      const n = realWrite(fd, buf, off, Math.min(len, failAfter - written));
      written += n;
      return n;
    }, () => writeFileAtomic(f, 'y'.repeat(20_000))), (e: unknown) => {
      assert.ok(e instanceof DiskFullError, String(e));
      assert.match(e.message, new RegExp(`^no space left on \\S.* writing ${f.replace(/[.]/g, '\\.')}$`));
      return true;
    });
    assert.equal(readFileSync(f, 'utf8'), '{"good":true}', `after ${failAfter} bytes`);
    assert.deepEqual(readdirSync(dir), ['checkpoint.json']);
  }
  // A write that makes no progress (returns 0) is an error too, not a silently short file.
  assert.throws(() => withWrite(() => 0, () => writeFileAtomic(f, 'z')), /no progress/);
  assert.equal(readFileSync(f, 'utf8'), '{"good":true}');
  // EDQUOT is a full disk too.
  assert.throws(() => withWrite(() => {
    throw Object.assign(new Error('EDQUOT'), { code: 'EDQUOT' });
  }, () => writeFileAtomic(f, 'z')), (e: unknown) => e instanceof DiskFullError && /^disk quota exceeded on /.test(e.message));
});

test('a CSV row that cannot be written whole is cut off again: the log keeps whole rows and goes on', () => {
  const dir = tempDir();
  const f = join(dir, 'history.csv');
  const log = new CsvLog(f, ['step', 'loss']);
  log.append([1, 0.5]);
  log.append([2, 0.25]);
  const before = readFileSync(f, 'utf8');
  let first = true;
  assert.throws(() => withWrite((fd, buf, off, len) => {
    if (!first) throw enospc();
    first = false;
    return realWrite(fd, buf, off, Math.min(len, 3)); // half a row, then the disk is full
  }, () => log.append([3, 0.125])), DiskFullError);
  assert.equal(readFileSync(f, 'utf8'), before, 'the half row is gone');
  log.append([3, 0.125]);
  assert.equal(readFileSync(f, 'utf8'), `${before}3,0.125\n`);
});

test('--out places that cannot hold a run are refused with the reason, creating nothing', () => {
  const dir = tempDir();
  const file = join(dir, 'file');
  writeFileSync(file, 'x');
  symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
  const cases: [string, RegExp][] = [
    ['', /path is empty/],
    ['   ', /path is empty/],
    [file, /exists and is not a directory/],
    [join(file, 'run'), /is a file, not a directory|a part of that path is a file/],
    [join(file, 'a', 'b'), /is a file, not a directory|a part of that path is a file/],
    [join(dir, 'dangling'), /symbolic link to .*nowhere, which does not exist/],
    [join(dir, 'dangling', 'run'), /symbolic link to .*nowhere, which does not exist/],
  ];
  if (existsSync('/proc/self')) cases.push(['/proc/laaf-run', /proc pseudo file system/], ['/proc/self/laaf/run', /proc pseudo file system/]);
  for (const [out, want] of cases) {
    assert.throws(() => checkOutDir(out), (e: unknown) => e instanceof OutDirError && want.test(e.message), `--out '${out}'`);
  }
  assert.deepEqual(readdirSync(dir).sort(), ['dangling', 'file']);
  // Allowed: a new path below a folder, an existing (empty) folder.
  checkOutDir(join(dir, 'new', 'run'));
  checkOutDir(dir);
  makeDirs(join(dir, 'new', 'run'));
  assert.ok(existsSync(join(dir, 'new', 'run')));
  // Node's recursive mkdir never returns under /proc; makeDirs fails at once.
  if (existsSync('/proc/self')) assert.throws(() => makeDirs('/proc/laaf-x/y'), OutDirError);
});

test('a read-only file system is named as such (tmpfs mounted read-only, where mounting is allowed)', (t) => {
  const dir = tempDir();
  const ro = join(dir, 'ro');
  mkdirSync(ro);
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=16k', 'tmpfs', ro]);
  if (m.status !== 0) {
    t.skip('cannot mount a tmpfs here (not root or no CAP_SYS_ADMIN)');
    return;
  }
  try {
    assert.throws(() => checkOutDir(join(ro, 'run')), /is a read-only file system/);
    assert.throws(() => checkOutDir(ro), /is a read-only file system/);
  } finally {
    spawnSync('umount', [ro]);
  }
});

test('directory locks: a second writer is refused, a dead owner\'s lock is taken over, a foreign host\'s is not', () => {
  const dir = tempDir();
  const a = DirLock.acquire(dir);
  assert.throws(() => DirLock.acquire(dir), (e: unknown) => e instanceof LockedError && new RegExp(`in use by laaf \\(pid ${process.pid} on `).test(e.message));
  a.release();
  assert.ok(!existsSync(join(dir, LOCK_FILE)));

  // A lock left by a process that has ended (its pid is no longer running).
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const deadPid = Number(dead.stdout);
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid, host: hostname(), started: 'then', command: 'solve' }));
  const heard: string[] = [];
  const b = DirLock.acquire(dir, (m) => heard.push(m));
  assert.equal(heard.length, 1);
  assert.match(heard[0]!, new RegExp(`stale lock .*pid ${deadPid} .*no longer running`));
  assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
  b.release();

  // Another host: whether it runs cannot be checked from here.
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid, host: `${hostname()}-elsewhere`, started: 'then', command: 'solve' }));
  assert.throws(() => DirLock.acquire(dir), LockedError);
});

test('temporary files of a killed write are removed, nothing else', () => {
  const dir = tempDir();
  for (const f of ['.1764479000000-1234-abc123.tmp', 'history.csv', '.laaf.lock', 'notes.tmp']) writeFileSync(join(dir, f), '');
  assert.deepEqual(removeTempFiles(dir), ['.1764479000000-1234-abc123.tmp']);
  assert.deepEqual(readdirSync(dir).sort(), ['.laaf.lock', 'history.csv', 'notes.tmp']);
});
