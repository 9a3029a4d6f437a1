// mathjs's package entry creates every one of its ~600 functions when it is imported
// (about 0.9 s of CPU on this project's machine), while laaf needs its expression parser
// only. This bundles mathjs's public `create` with `parseDependencies` into one CommonJS
// file that holds the parser and what it depends on (esbuild drops the rest; mathjs is
// side-effect free), loaded by src/expr/mathjs-parse.ts. From mathjs's number-only entry
// (`mathjs/number`): the full one's parser creates BigNumber, Fraction and matrix
// functions it never uses in laaf (0.15 s vs 0.01 s to load); the trees and the syntax
// errors are the same (test/expr.test.ts compares them with `import { parse } from 'mathjs'`).
import { build } from 'esbuild';

await build({
  stdin: {
    contents: "import { create, parseDependencies } from 'mathjs/number';\nexport const parse = create({ parseDependencies }).parse;\n",
    resolveDir: process.cwd(),
    loader: 'js',
  },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: 'dist/mathjs-parse.cjs',
  logLevel: 'warning',
  legalComments: 'none',
});
