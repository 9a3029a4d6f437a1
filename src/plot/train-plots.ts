/**
 * The pictures of a `laaf train` run (history.csv with epoch and test columns):
 *   plots/epochs.svg   training loss at each epoch's end and the test loss vs epoch (log),
 *                      and the test accuracy vs epoch
 * loss.svg (training loss vs step) and slopes.svg come from run-plots.ts as for PDE runs.
 */
import { column, type Table } from './read.js';
import type { VlSpec } from './render.js';

/** Rows at an epoch's end: those with a test column filled (or, without a test set, the last row of each epoch). */
function epochRows(h: Table): number[] {
  const epoch = column(h, 'epoch');
  if (!epoch) return [];
  const test = column(h, 'test_loss');
  const idx: number[] = [];
  for (let i = 0; i < h.rows.length; i++) {
    if (test ? Number.isFinite(test[i]!) : i === h.rows.length - 1 || epoch[i + 1] !== epoch[i]) idx.push(i);
  }
  return idx;
}

export function epochPlot(h: Table, name: string): VlSpec | undefined {
  const idx = epochRows(h);
  const epoch = column(h, 'epoch');
  const loss = column(h, 'loss');
  if (!epoch || !loss || idx.length === 0) return undefined;
  const testLoss = column(h, 'test_loss');
  const acc = column(h, 'test_accuracy');
  const lossValues: object[] = [];
  for (const i of idx) {
    if (loss[i]! > 0) lossValues.push({ epoch: epoch[i], value: loss[i], series: 'training (mean since the last row)' });
    if (testLoss && testLoss[i]! > 0) lossValues.push({ epoch: epoch[i], value: testLoss[i], series: 'test' });
  }
  const x = { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } };
  const panels: VlSpec[] = [{
    title: 'Loss vs epoch', width: 320, height: 220, data: { values: lossValues },
    mark: { type: 'line', point: true },
    encoding: { x, y: { field: 'value', type: 'quantitative', title: 'loss (log)', scale: { type: 'log' } }, color: { field: 'series', type: 'nominal', title: null } },
  }];
  if (acc) {
    panels.push({
      title: 'Test accuracy vs epoch', width: 320, height: 220,
      data: { values: idx.map((i) => ({ epoch: epoch[i], accuracy: acc[i] })) },
      mark: { type: 'line', point: true },
      encoding: { x, y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', axis: { format: '.0%' }, scale: { zero: false } } },
    });
  }
  return { title: { text: `${name}: per epoch`, subtitle: 'losses at each epoch\'s end' }, hconcat: panels };
}
