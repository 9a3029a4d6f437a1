/** Turning errors into the CLI's messages and exit codes (ARCHITECTURE.md, "Conventions"). */
import { UserError, UserErrors } from '../spec/errors.js';
import { DiskFullError } from '../io/files.js';

export const EXIT = { ok: 0, internal: 1, user: 2, diverged: 3, interrupted: 130 } as const;

export function formatUserError(e: UserError): string {
  if (e instanceof UserErrors) return e.errors.map(formatUserError).join('\n');
  const where = e.where ? `${e.where.file}${e.where.line ? `:${e.where.line}:${e.where.col ?? 1}` : ''}: ` : '';
  return `laaf: error: ${where}${e.message}${e.hint ? ` — ${e.hint}` : ''}`;
}

/** Print an error and return the exit code it deserves. */
export function reportError(e: unknown): number {
  if (e instanceof UserError) {
    process.stderr.write(`${formatUserError(e)}\n`);
    return EXIT.user;
  }
  if (e instanceof DiskFullError) {
    // Wherever it happens (a sweep's tables, a prediction): what was there before is intact.
    process.stderr.write(`laaf: error: ${e.message}; the file's earlier version (if any) is intact — free some space and run this again\n`);
    return EXIT.user;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  process.stderr.write(`laaf: internal error: ${err.message}\n`);
  if (process.env['LAAF_DEBUG']) process.stderr.write(`${err.stack}\n`);
  else process.stderr.write('laaf: set LAAF_DEBUG=1 for the stack trace\n');
  return EXIT.internal;
}
