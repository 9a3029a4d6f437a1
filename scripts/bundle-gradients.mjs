// tfjs-core's CommonJS build (what Node loads) registers no gradient functions; the
// @tensorflow/tfjs umbrella package does, but drags in layers, converter, data and webgl.
// This bundles tfjs-core's own `register_all_gradients` into one CommonJS file that
// registers them with the running tfjs engine (its registries live on the global object).
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const core = dirname(require.resolve('@tensorflow/tfjs-core/package.json'));
await build({
  entryPoints: [join(core, 'dist', 'register_all_gradients.js')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: 'dist/tfjs-gradients.cjs',
  logLevel: 'warning',
  legalComments: 'none',
});
