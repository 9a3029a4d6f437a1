/** Reading the CSV files laaf writes (history.csv, solution.csv, sweep.csv, ...). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';

export type CsvRow = Record<string, string>;

/** Every row of a CSV file with a header, as a record keyed by column name. */
export function readCsv(file: string): CsvRow[] {
  return parseCsv(readFileSync(file, 'utf8'), { columns: true }) as CsvRow[];
}

/** One column of a CSV file with a header, as numbers; fails when the column is missing. */
export function csvColumn(file: string, name: string): number[] {
  const rows = readCsv(file);
  assert.ok(rows.length === 0 || name in rows[0]!, `${name} in ${Object.keys(rows[0] ?? {}).join(',')}`);
  return rows.map((r) => Number(r[name]));
}
