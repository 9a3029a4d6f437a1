/**
 * Reference solutions for error columns: an exact expression per output, or a built-in
 * generator (the Burgers Cole–Hopf solution, computed by laaf itself).
 */
import type { Spec } from '../spec/schema.js';
import { SpecError } from '../spec/errors.js';
import { compileExpr, numberOps, type Compiled } from '../expr/index.js';
import type { Box } from '../domain/box.js';
import { burgersColeHopfMany } from './burgers-reference.js';
import { located } from './located.js';

export interface Reference {
  /** one line for the console and summary.json */
  describe: string;
  /** reference values at points (row-major [n, d]): one array of length n per output */
  evaluate(points: Float64Array): Float64Array[];
}

interface Context { inputs: string[]; outputs: string[]; constants: Record<string, number>; box: Box }

export function makeReference(ref: NonNullable<Spec['reference']>, ctx: Context): Reference {
  if ('builtin' in ref) return burgersReference(ref, ctx);
  return exactReference(ref.exact, ctx);
}

function burgersReference(ref: { builtin: string; nu?: number | string }, ctx: Context): Reference {
  const ix = ctx.inputs.indexOf('x');
  const it = ctx.inputs.indexOf('t');
  if (ix < 0 || it < 0 || ctx.inputs.length !== 2 || ctx.outputs.length !== 1) {
    throw new SpecError('burgers-cole-hopf needs inputs x and t and one output', ['reference', 'builtin']);
  }
  if (ctx.box.lo[it]! < 0) throw new SpecError('burgers-cole-hopf is defined for t >= 0', ['inputs', 't']);
  let nu: number;
  if (ref.nu === undefined) {
    if (!('nu' in ctx.constants)) throw new SpecError('burgers-cole-hopf needs the viscosity', ['reference'], "add nu: to reference: or a constant named nu");
    nu = ctx.constants['nu']!;
  } else if (typeof ref.nu === 'number') nu = ref.nu;
  else {
    const text = ref.nu;
    const c = located(['reference', 'nu'], () => compileExpr(text, { inputs: [], outputs: [], constants: Object.keys(ctx.constants), allowOutputs: false }));
    nu = c.evaluate(numberOps, { input: () => NaN, deriv: () => NaN, symbol: (s) => ctx.constants[s]! });
  }
  if (!(nu > 0)) throw new SpecError(`burgers-cole-hopf needs nu > 0, got ${nu}`, ['reference']);
  return {
    describe: `Burgers Cole-Hopf, u(x,0) = -sin(pi x), nu = ${nu}`,
    evaluate(points) {
      const n = points.length / 2;
      const xt = new Float64Array(2 * n);
      for (let i = 0; i < n; i++) {
        xt[2 * i] = points[2 * i + ix]!;
        xt[2 * i + 1] = points[2 * i + it]!;
      }
      return [burgersColeHopfMany(xt, nu)];
    },
  };
}

function exactReference(exact: string | Record<string, string>, ctx: Context): Reference {
  const table = { inputs: ctx.inputs, outputs: ctx.outputs, constants: Object.keys(ctx.constants), allowOutputs: false };
  const byOutput: Compiled[] = [];
  if (typeof exact === 'string') {
    if (ctx.outputs.length !== 1) {
      throw new SpecError('with several outputs, give one exact expression per output', ['reference', 'exact'], `exact: { ${ctx.outputs.map((o) => `${o}: ...`).join(', ')} }`);
    }
    byOutput.push(located(['reference', 'exact'], () => compileExpr(exact, table)));
  } else {
    for (const k of Object.keys(exact)) {
      if (!ctx.outputs.includes(k)) throw new SpecError(`'${k}' is not an output`, ['reference', 'exact', k], `outputs are ${ctx.outputs.join(', ')}`, undefined, true);
    }
    for (const o of ctx.outputs) {
      if (!(o in exact)) throw new SpecError(`no exact expression for output '${o}'`, ['reference', 'exact']);
      byOutput.push(located(['reference', 'exact', o], () => compileExpr(exact[o]!, table)));
    }
  }
  const d = ctx.inputs.length;
  return {
    describe: `exact: ${byOutput.map((c, k) => `${ctx.outputs[k]} = ${c.source}`).join('; ')}`,
    evaluate(points) {
      const n = points.length / d;
      return byOutput.map((c) => {
        const out = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          out[i] = c.evaluate(numberOps, { input: (j) => points[i * d + j]!, deriv: () => NaN, symbol: (s) => ctx.constants[s]! });
        }
        return out;
      });
    },
  };
}
