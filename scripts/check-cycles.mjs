// The folder-level import graph of src/: an arrow A → B when a file in src/A imports
// (statically, re-exports, or `import()`s; types count too) a file in src/B. Prints the
// arrows and exits 1 when they form a cycle (ARCHITECTURE.md: arrows run one way).
//   node scripts/check-cycles.mjs [--quiet] [SRC_DIR]     (default: src/ of this repository)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const args = process.argv.slice(2);
const quiet = args.includes('--quiet');
const src = resolve(args.find((a) => !a.startsWith('--')) ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'src'));

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : /\.m?ts$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The room of a file: its first folder under src/ (files directly in src/ are their own room). */
const roomOf = (file) => relative(src, file).split(sep)[0];

const arrows = new Map(); // room → Map(room → example "file imports spec")
for (const file of files(src)) {
  // TypeScript's own scanner finds imports, re-exports and import() calls (comments and strings
  // cannot hide or fake one, as a regular expression's would).
  for (const { fileName: spec } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec);
    if (!target.startsWith(src + sep)) continue;
    const a = roomOf(file);
    const b = roomOf(target);
    if (a === b) continue;
    if (!arrows.has(a)) arrows.set(a, new Map());
    if (!arrows.get(a).has(b)) arrows.get(a).set(b, `${relative(src, file)} imports ${spec}`);
  }
}

// Depth-first search for a cycle; report the first one found, with an example import per arrow.
const state = new Map(); // room → 'open' | 'done'
const path = [];
let cycle = null;
function visit(room) {
  state.set(room, 'open');
  path.push(room);
  for (const next of [...(arrows.get(room)?.keys() ?? [])].sort()) {
    if (cycle) return;
    if (state.get(next) === 'open') {
      cycle = [...path.slice(path.indexOf(next)), next];
      return;
    }
    if (!state.has(next)) visit(next);
  }
  path.pop();
  state.set(room, 'done');
}
for (const room of [...arrows.keys()].sort()) if (!cycle && !state.has(room)) visit(room);

if (!quiet) {
  for (const a of [...arrows.keys()].sort()) process.stdout.write(`${a} → ${[...arrows.get(a).keys()].sort().join(', ')}\n`);
}
if (cycle) {
  process.stderr.write(`import cycle between folders of src/: ${cycle.join(' → ')}\n`);
  for (let k = 0; k + 1 < cycle.length; k++) process.stderr.write(`  ${cycle[k]} → ${cycle[k + 1]}: ${arrows.get(cycle[k]).get(cycle[k + 1])}\n`);
  process.exit(1);
}
process.stdout.write('no import cycle between the folders of src/\n');
