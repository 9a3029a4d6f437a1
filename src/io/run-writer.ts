/**
 * The run directory and its files:
 *   spec.resolved.yaml  the spec with every default filled in (written first)
 *   history.csv         one row per logged step, appended as training goes
 *   solution.csv        the evaluation grid: inputs, outputs, reference and error
 *   parameters.csv      inverse problems: every unknown's value at every logged step
 *   summary.json        status, final losses and errors, seed, backend, versions
 * summary.json and solution.csv are replaced atomically, so a killed run leaves
 * complete files (summary.json then says "running").
 */
import { join } from 'node:path';
import YAML from 'yaml';
import { CsvLog, createRunDir, csvText, writeFileAtomic } from './files.js';

export class RunWriter {
  private historyLog?: CsvLog;

  constructor(readonly dir: string) {
    createRunDir(dir);
  }

  writeResolvedSpec(spec: unknown, header: string): void {
    const body = YAML.stringify(spec, { lineWidth: 0 });
    writeFileAtomic(join(this.dir, 'spec.resolved.yaml'), `# ${header}\n${body}`);
  }

  history(header: string[]): CsvLog {
    this.historyLog ??= new CsvLog(join(this.dir, 'history.csv'), header);
    return this.historyLog;
  }

  /** Another appended CSV log in the run directory (e.g. parameters.csv). */
  csvLog(name: string, header: string[]): CsvLog {
    return new CsvLog(join(this.dir, name), header);
  }

  writeSolution(header: string[], rows: number[][]): void {
    writeFileAtomic(join(this.dir, 'solution.csv'), csvText(header, rows));
  }

  writeSummary(summary: object): void {
    writeFileAtomic(join(this.dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  }
}
