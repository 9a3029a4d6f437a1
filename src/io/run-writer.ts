/**
 * The run directory and its files:
 *   spec.resolved.yaml  the spec with every default filled in (written first)
 *   history.csv         one row per logged step, appended as training goes
 *   solution.csv        the evaluation grid: inputs, outputs, reference and error
 *   parameters.csv      inverse problems: every unknown's value at every logged step
 *   summary.json        status, final losses and errors, seed, backend, versions
 *   checkpoint.json     weights, optimizer state, points: what `solve --resume` continues from
 * summary.json and solution.csv are replaced atomically, so a killed run leaves
 * complete files (summary.json then says "running").
 */
import { join } from 'node:path';
import YAML from 'yaml';
import { CsvLog, createRunDir, csvText, writeFileAtomic } from './files.js';
import { writeCheckpoint } from './checkpoint.js';

export class RunWriter {
  private historyLog?: CsvLog;

  /** A new run directory (refused when it exists and is not empty), or with `reopen` an existing one to continue. */
  constructor(readonly dir: string, readonly reopen = false) {
    if (!reopen) createRunDir(dir);
  }

  writeResolvedSpec(spec: unknown, header: string): void {
    const body = YAML.stringify(spec, { lineWidth: 0 });
    writeFileAtomic(join(this.dir, 'spec.resolved.yaml'), `# ${header}\n${body}`);
  }

  history(header: string[]): CsvLog {
    this.historyLog ??= this.csvLog('history.csv', header);
    return this.historyLog;
  }

  /** Another appended CSV log in the run directory (e.g. parameters.csv); reopened (appended to) when continuing. */
  csvLog(name: string, header: string[]): CsvLog {
    const path = join(this.dir, name);
    return this.reopen ? CsvLog.reopen(path, header) : new CsvLog(path, header);
  }

  /** checkpoint.json, replaced atomically. */
  writeCheckpoint(content: object): void {
    writeCheckpoint(this.dir, content);
  }

  writeSolution(header: string[], rows: number[][]): void {
    writeFileAtomic(join(this.dir, 'solution.csv'), csvText(header, rows));
  }

  writeSummary(summary: object): void {
    writeFileAtomic(join(this.dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  }
}
