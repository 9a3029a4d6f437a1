/**
 * Writing a run directory (its files and their contents are named in run-dir.ts).
 * summary.json and solution.csv are replaced atomically, so a killed run leaves
 * complete files (summary.json then says "running").
 */
import { join } from 'node:path';
import YAML from 'yaml';
import { CsvLog, createRunDir, csvText, writeFileAtomic } from './files.js';
import { writeCheckpoint } from './checkpoint.js';
import { RUN_FILES, type FailedSummary, type RunningSummary, type RunSummary, type TrainRunningSummary, type TrainSummary } from './run-dir.js';

export class RunWriter {
  private historyLog?: CsvLog;

  /** A new run directory (refused when it exists and is not empty), or with `reopen` an existing one to continue. */
  constructor(readonly dir: string, readonly reopen = false) {
    if (!reopen) createRunDir(dir);
  }

  writeResolvedSpec(spec: unknown, header: string): void {
    const body = YAML.stringify(spec, { lineWidth: 0 });
    writeFileAtomic(join(this.dir, RUN_FILES.spec), `# ${header}\n${body}`);
  }

  history(header: string[]): CsvLog {
    this.historyLog ??= this.csvLog(RUN_FILES.history, header);
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
    writeFileAtomic(join(this.dir, RUN_FILES.solution), csvText(header, rows));
  }

  writeSummary(summary: RunSummary | RunningSummary | FailedSummary | TrainSummary | TrainRunningSummary): void {
    writeFileAtomic(join(this.dir, RUN_FILES.summary), `${JSON.stringify(summary, null, 2)}\n`);
  }
}
