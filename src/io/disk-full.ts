/**
 * A disk (or quota) that is full. `device` names the file system the file is on. Apart from
 * files.ts (which re-exports it) so that the CLI's error report can recognise it without
 * loading the file writers (and csv-stringify) at start-up.
 */
export class DiskFullError extends Error {
  constructor(readonly file: string, readonly device: string, readonly code: string) {
    super(`${code === 'EDQUOT' ? 'disk quota exceeded' : 'no space left'} on ${device} writing ${file}`);
  }
}
