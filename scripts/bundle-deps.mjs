// Bundles the third-party modules on laaf's start-up path into one CommonJS file each under
// dist/, loaded by src/bundled/. Node 20 loads an npm package file by file: mathjs's entry
// also creates every one of its ~600 functions (about 0.9 s of CPU on this project's
// machine), zod is ~200 ES modules (its locales among them, ~40 ms). The bundles hold only
// what laaf uses (esbuild drops the rest; both packages are side-effect free):
//  - dist/mathjs-parse.cjs: mathjs's public `create` with `parseDependencies`, from its
//    number-only entry (`mathjs/number`): the full entry's parser also creates BigNumber,
//    Fraction and matrix functions laaf never uses (0.15 s vs 0.01 s to load). The trees
//    and syntax errors are the same (test/expr.test.ts compares them with mathjs's `parse`).
//  - dist/zod.cjs: zod's `z`.
import { build } from 'esbuild';

const bundles = {
  'mathjs-parse.cjs': "import { create, parseDependencies } from 'mathjs/number';\nexport const parse = create({ parseDependencies }).parse;\n",
  'zod.cjs': "export { z } from 'zod';\n",
};
for (const [file, contents] of Object.entries(bundles)) {
  await build({
    stdin: { contents, resolveDir: process.cwd(), loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: `dist/${file}`,
    logLevel: 'warning',
    legalComments: 'none',
  });
}
