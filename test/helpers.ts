/**
 * Shared test helpers, one import for every test file (`./helpers.js` in test/,
 * `../helpers.js` in test/cli/). They live in test/helpers/:
 *   cli.ts       the repository root, temporary folders, `laaf(...)`, line:col of text
 *   csv.ts       reading CSV files (rows as records, one column as numbers)
 *   fd.ts        float64 finite differences (central, Richardson, tensor-product stencils)
 *   fixtures.ts  small specs and parameter perturbations several tests share
 *   run-dir.ts   a small tmpfs for a full disk, waiting on a run in another process
 *   train-data.ts generated image data sets and a small `laaf train` spec over them
 */
export * from './helpers/cli.js';
export * from './helpers/csv.js';
export * from './helpers/fd.js';
export * from './helpers/fixtures.js';
export * from './helpers/run-dir.js';
export * from './helpers/train-data.js';
