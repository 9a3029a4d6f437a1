/**
 * Expanding a sweep into its runs: variants (the union over grid blocks of the
 * product of their axes) × seeds, ordered seed by seed so that adding seeds later
 * only appends runs. Every variant is checked against the base spec before anything
 * is written; a bad override is reported where it was written.
 */
import YAML from 'yaml';
import { checkSpec, historyShape } from '../run/solve.js';
import { checkTrainSpec, isTrainSpecFile } from '../run/train.js';
import { historyColumns as runColumns, measureColumns, trainHistoryColumns } from '../io/run-dir.js';
import { UserError, didYouMean } from '../spec/errors.js';
import type { Override, SweepDef } from './define.js';
import { mix32 } from '../domain/rng.js';

export interface Variant {
  index: number;
  label: string;
  /** directory name under runs/ */
  slug: string;
  /** this variant's overrides as KEY=VALUE texts (the sweep's `set` not included) */
  overrides: string[];
  /** spec path → value text, for the table columns */
  values: Record<string, string>;
}

export interface PlannedRun {
  index: number;
  /** run directory relative to the sweep directory: runs/<variant>/s<k> */
  id: string;
  variant: number;
  /** 1-based seed number */
  seedIndex: number;
  seed: number;
  /** everything passed to `laaf solve` as --set, the seed last */
  sets: string[];
}

export interface Plan {
  name: string;
  about?: string;
  sweepFile?: string;
  specFile: string;
  specName: string;
  baseSeed: number;
  /** overrides for every run, KEY=VALUE */
  set: string[];
  variants: Variant[];
  seeds: number[];
  /** spec paths that vary between variants, in order of appearance */
  paths: string[];
  thresholds: Record<string, number[]>;
  /** history columns of these runs that thresholds may use (loss, terms, slopes, rel_l2, ...; io/run-dir.ts) */
  historyColumns: string[];
  runs: PlannedRun[];
  /** the sweep file's plots: section */
  plots?: SweepDef['plots'];
}

/** YAML flow text of a value, as `--set` reads it back. */
export function valueText(v: unknown): string {
  // Strings as YAML (unquoted where YAML allows); lists and mappings compactly as JSON, which YAML reads too.
  return typeof v === 'string' ? YAML.stringify(v, { lineWidth: 0 }).trim() : JSON.stringify(v);
}

/**
 * The seed of seed number k (1-based) of a sweep whose base spec has seed `base`:
 * k = 1 is the spec's own seed (so the first seed reproduces a plain `laaf solve`),
 * later ones a hash of (base, k) in [0, 2^31).
 */
export function deriveSeed(base: number, k: number): number {
  if (k === 1) return base;
  return mix32(mix32(base >>> 0) ^ Math.imul(k, 0x9e3779b9)) >>> 1;
}

function slugOf(label: string): string {
  const s = label.replace(/\s*\+\s*/g, '+').replace(/=/g, '-').replace(/,\s*|\s+/g, '_').replace(/[^A-Za-z0-9._+-]/g, '');
  return s.length > 0 ? s.slice(0, 80) : 'base';
}

function overrideText(o: Override): string {
  return `${o.path}=${valueText(o.value)}`;
}

export function expandPlan(def: SweepDef): Plan {
  // Variants: the product of each block's axes, the blocks one after another.
  const raw: { overrides: Override[] }[] = [];
  for (const block of def.blocks) {
    let acc: Override[][] = [[]];
    for (const axis of block) acc = acc.flatMap((a) => axis.entries.map((e) => [...a, ...e.overrides]));
    raw.push(...acc.map((overrides) => ({ overrides })));
  }
  const allPaths = [...new Set(raw.flatMap((r) => r.overrides.map((o) => o.path)))];
  const lastSeg = (p: string) => p.split('.').at(-1)!;
  const short = (p: string) => (allPaths.filter((q) => lastSeg(q) === lastSeg(p)).length > 1 ? p : lastSeg(p));

  const variants: Variant[] = [];
  const slugs = new Set<string>();
  const seenSets = new Map<string, string>();
  for (const r of raw) {
    const label = variantLabel(def, r.overrides, short);
    const texts = r.overrides.map(overrideText);
    const key = texts.join('\n');
    if (seenSets.has(key)) {
      const o = r.overrides[0]!;
      throw located(o, `variant '${label}' appears twice (same overrides as '${seenSets.get(key)}')`, 'remove the duplicate from the grid');
    }
    seenSets.set(key, label);
    let slug = slugOf(label);
    for (let k = 2; slugs.has(slug); k++) slug = `${slugOf(label)}-${k}`;
    slugs.add(slug);
    const values: Record<string, string> = {};
    for (const o of r.overrides) values[o.path] = valueText(o.value);
    variants.push({ index: variants.length, label, slug, overrides: texts, values });
  }

  // Check every variant against the base spec now, so a bad override writes nothing.
  const setTexts = def.set.map(overrideText);
  let specName = '';
  let baseSeed = 0;
  const columns = new Set<string>();
  variants.forEach((v, i) => {
    const overrides = [...def.set, ...raw[i]!.overrides];
    let checked;
    try {
      checked = checkAnySpec(def.specFile, [...setTexts, ...v.overrides]);
    } catch (e) {
      throw attribute(e, def.specFile, overrides);
    }
    if (i === 0) {
      specName = checked.name;
      baseSeed = checked.seed;
    }
    for (const c of checked.columns) columns.add(c);
  });
  const historyColumns = [...columns];
  for (const k of Object.keys(def.thresholds)) {
    if (!columns.has(k)) {
      const msg = `thresholds: '${k}' is not a column of these runs' history.csv`;
      const hint = didYouMean(k, historyColumns) ?? `columns: ${historyColumns.join(', ')}`;
      const where = def.thresholdWhere?.[k];
      throw where && !('flag' in where) ? new UserError(msg, hint, where) : new UserError(where ? `${where.flag}: ${msg}` : msg, hint);
    }
  }

  const seeds = 'list' in def.seeds ? def.seeds.list : Array.from({ length: def.seeds.count }, (_, k) => deriveSeed(baseSeed, k + 1));
  const runs: PlannedRun[] = [];
  seeds.forEach((seed, k) => {
    for (const v of variants) {
      runs.push({
        index: runs.length,
        id: `runs/${v.slug}/s${k + 1}`,
        variant: v.index,
        seedIndex: k + 1,
        seed,
        sets: [...setTexts, ...v.overrides, `training.seed=${seed}`],
      });
    }
  });
  return {
    name: def.name,
    ...(def.about !== undefined ? { about: def.about } : {}),
    ...(def.file !== undefined ? { sweepFile: def.file } : {}),
    specFile: def.specFile,
    specName,
    baseSeed,
    set: setTexts,
    variants,
    seeds,
    paths: allPaths,
    thresholds: def.thresholds,
    historyColumns,
    runs,
    ...(def.plots ? { plots: def.plots } : {}),
  };
}

function variantLabel(def: SweepDef, overrides: Override[], short: (p: string) => string): string {
  // Entries with an explicit label stand for their overrides; find them through the axes.
  const parts: string[] = [];
  const used = new Set<Override>();
  for (const block of def.blocks) {
    for (const axis of block) {
      for (const e of axis.entries) {
        if (e.label === undefined || e.overrides.length === 0) continue;
        if (e.overrides.every((o) => overrides.includes(o))) {
          parts.push(e.label);
          e.overrides.forEach((o) => used.add(o));
        }
      }
    }
  }
  for (const o of overrides) if (!used.has(o)) parts.push(`${short(o.path)}=${valueText(o.value)}`);
  return parts.length > 0 ? parts.join(', ') : 'base';
}

function located(o: Override, message: string, hint?: string): UserError {
  if ('flag' in o.where) return new UserError(`${o.where.flag}: ${message}`, hint);
  return new UserError(message, hint, o.where);
}

/**
 * A spec error of a variant, pointed at the override that causes it: the loader names
 * `--set KEY=VALUE` when the error lies inside an overridden value; otherwise (an
 * unknown key, a clash between values) the first override whose addition makes the
 * spec fail is the culprit. Errors of the base spec itself stay where they are.
 */
/** A PDE spec (`laaf solve`) or a data-set spec (`laaf train`), checked: its name, seed and history columns. */
function checkAnySpec(specFile: string, sets: string[]): { name: string; seed: number; columns: string[] } {
  if (isTrainSpecFile(specFile)) {
    const { loaded, data, acts } = checkTrainSpec(specFile, sets);
    const shape = { adaptive: loaded.spec.model.adaptive.mode, acts, test: data.test !== undefined, accuracy: data.task === 'classification' };
    return { name: loaded.spec.name, seed: loaded.spec.training.seed, columns: measureColumns(trainHistoryColumns(shape)) };
  }
  const { loaded, problem } = checkSpec(specFile, sets);
  const columns = measureColumns(runColumns(historyShape(loaded.spec, problem)));
  return { name: loaded.spec.name, seed: loaded.spec.training.seed, columns };
}

function attribute(e: unknown, specFile: string, overrides: Override[]): unknown {
  if (!(e instanceof UserError)) return e;
  for (const o of overrides) {
    const prefix = `--set ${overrideText(o)}: `;
    if (e.message.startsWith(prefix)) return located(o, e.message.slice(prefix.length), e.hint);
  }
  for (let k = 0; k <= overrides.length; k++) {
    try {
      checkAnySpec(specFile, overrides.slice(0, k).map(overrideText));
    } catch {
      if (k === 0) return e;
      const o = overrides[k - 1]!;
      const at = /unknown key/.test(e.message) && o.keyWhere ? { ...o, where: o.keyWhere } : o;
      return located(at, e.message.replace(/^--set \S+: /, ''), e.hint);
    }
  }
  return e;
}
