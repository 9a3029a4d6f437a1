/**
 * Reading tables of points from CSV files (observations, reference solutions):
 * a header row names the columns; spec names map to column names through `columns`
 * where they differ. Every mistake names FILE:LINE:COL.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { UserError } from '../spec/errors.js';

export interface PointTable {
  /** row-major [n, inputs.length] */
  X: Float64Array;
  /** one array per requested value column */
  values: Float64Array[];
  rows: number;
}

/**
 * Read `inputs` and `valueNames` columns from a CSV file. `columns` maps a spec name to
 * its CSV header where they differ. `shownAs` is the path printed in messages.
 */
export function readPointTable(path: string, shownAs: string, inputs: string[], valueNames: string[], columns: Record<string, string> = {}): PointTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${shownAs}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, 'paths are relative to the spec file');
  }
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
