/**
 * Reading tables of points from CSV files (observations, reference solutions):
 * a header row names the columns; spec names map to column names through `columns`
 * where they differ. Every mistake names FILE:LINE:COL.
 */
import { parse } from 'csv-parse/sync';
import { SpecError, UserError, type SpecPath } from '../spec/errors.js';
import { FileReadError, LIMITS, readTextFile } from '../spec/limits.js';

export interface PointTable {
  /** row-major [n, inputs.length] */
  X: Float64Array;
  /** one array per requested value column */
  values: Float64Array[];
  rows: number;
}

/** Run `f`; a file that cannot be read becomes a SpecError at the spec key that names it. */
export function atKey<T>(path: SpecPath, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof FileReadError) throw new SpecError(e.message, path, e.hint);
    throw e;
  }
}

/**
 * Read `inputs` and `valueNames` columns from a CSV file. `columns` maps a spec name to
 * its CSV header where they differ. `shownAs` is the path printed in messages.
 */
export function readPointTable(path: string, shownAs: string, inputs: string[], valueNames: string[], columns: Record<string, string> = {}): PointTable {
  // A FileReadError (missing, a directory, a device, too large) goes to the caller, who knows the key or flag that named the file.
  const text = readTextFile(path, LIMITS.dataFileBytes, `file ${shownAs}`);
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { info: true, skip_empty_lines: true, trim: true, comment: '#' }) as unknown as typeof records;
  } catch (e) {
    const err = e as { message: string; lines?: number };
    throw new UserError(`CSV: ${err.message.split('\n')[0]}`, undefined, { file: shownAs, line: err.lines ?? 1, col: 1 });
  }
  if (records.length < 2) throw new UserError('CSV needs a header row and at least one data row', undefined, { file: shownAs, line: 1, col: 1 });
  const header = records[0]!.record;
  const headerLine = records[0]!.info.lines;
  const col = (name: string): number => {
    const want = columns[name] ?? name;
    const k = header.indexOf(want);
    if (k < 0) {
      throw new UserError(`no column '${want}'${columns[name] ? ` (for ${name})` : ''} in the header`, `columns are ${header.join(', ')}; map names with columns: { ${name}: <header> }`, { file: shownAs, line: headerLine, col: 1 });
    }
    return k;
  };
  const inCols = inputs.map(col);
  const valCols = valueNames.map(col);
  const n = records.length - 1;
  const X = new Float64Array(n * inputs.length);
  const values = valueNames.map(() => new Float64Array(n));
  for (let r = 0; r < n; r++) {
    const { record, info } = records[r + 1]!;
    const num = (k: number): number => {
      const cell = record[k];
      const v = cell === undefined || cell === '' ? NaN : Number(cell);
      if (!Number.isFinite(v)) {
        const colPos = record.slice(0, k).reduce((p, c) => p + c.length + 1, 1);
        throw new UserError(`'${cell ?? ''}' in column '${header[k]}' is not a finite number`, undefined, { file: shownAs, line: info.lines, col: colPos });
      }
      return v;
    };
    inCols.forEach((k, j) => (X[r * inputs.length + j] = num(k)));
    valCols.forEach((k, j) => (values[j]![r] = num(k)));
  }
  return { X, values, rows: n };
}
