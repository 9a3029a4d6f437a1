/**
 * A YAML file with source positions: parsing, the position of a path of keys (and of a
 * character inside a string value), and the YAML mistakes as located UserErrors. Spec files
 * (spec/load.ts) and sweep files (sweep/define.ts) both read YAML through this one class.
 */
import YAML, { isAlias, isCollection, isMap, isPair, isScalar, isSeq, LineCounter, visit, type Document, type Node as YamlNode } from 'yaml';
import { UserError, type SpecPath } from './errors.js';

export interface Position { file: string; line: number; col: number }

/** Expanded nodes an alias may stand for before the file is refused as an alias bomb (yaml's maxAliasCount). */
export const MAX_ALIAS_COUNT = 100;

export class YamlSource {
  readonly lines = new LineCounter();
  readonly doc: Document;

  constructor(readonly file: string, readonly source: string) {
    // uniqueKeys is checked below in one pass: yaml's own check is quadratic in the keys of a map.
    this.doc = YAML.parseDocument(source, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: false });
  }

  pos(offset: number): Position {
    const p = this.lines.linePos(offset);
    return { file: this.file, line: p.line, col: p.col };
  }

  /** The first YAML mistake (syntax, a duplicate key), located at its cause where that is known. */
  syntaxError(): UserError | undefined {
    const e = this.doc.errors[0];
    if (e) {
      const opener = unclosedOpener(this.doc, this.source, e.pos[0]);
      const message = e.message.split('\n')[0]!.trim();
      if (opener) {
        return new UserError(`YAML syntax: this ${opener.what} is never closed (${message})`, `close it with ${opener.closer}`, this.pos(opener.at));
      }
      return new UserError(`YAML syntax: ${message}`, 'check indentation, colons and quotes', this.pos(e.pos[0]));
    }
    const dup = duplicateKey(this.doc);
    if (dup) return new UserError(`YAML syntax: the key '${String(dup.value)}' appears twice in one mapping`, 'keep one of them', this.pos(dup.range![0]));
    return undefined;
  }

  /** The document as plain data; an alias bomb is a UserError at the alias that expands the most. */
  toJS(): unknown {
    try {
      return this.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      if (!(e instanceof ReferenceError)) throw e;
      const alias = largestAlias(this.doc);
      throw new UserError(`YAML aliases expand to too many values (${e.message})`, 'write the values out instead of nesting aliases',
        this.pos(alias?.range ? alias.range[0] : 0));
    }
  }

  /** The node at `path` and the key node naming it; the deepest node that exists when the path goes further. */
  nodeAt(path: SpecPath): { node?: YamlNode; keyNode?: YamlNode } {
    let node: unknown = this.doc.contents;
    let keyNode: YamlNode | undefined;
    for (const k of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(k));
        if (!pair) break;
        keyNode = pair.key as YamlNode;
        node = pair.value ?? undefined;
        if (node === undefined) return { node: keyNode, keyNode };
      } else if (isSeq(node) && typeof k === 'number' && node.items[k] !== undefined) {
        keyNode = undefined;
        node = node.items[k];
      } else break;
    }
    return { node: node as YamlNode | undefined, keyNode };
  }

  /** Position of a path: its key with `atKey`, character `offset` of a string value, or the value. */
  at(path: SpecPath, opts: { atKey?: boolean; offset?: number } = {}): Position {
    const { node, keyNode } = this.nodeAt(path);
    if (opts.atKey && keyNode?.range) return this.pos(keyNode.range[0]);
    if (!node?.range) return this.pos(keyNode?.range?.[0] ?? 0);
    if (opts.offset !== undefined && isScalar(node) && typeof node.value === 'string') {
      return this.pos(offsetInScalar(this.source, node, opts.offset));
    }
    return this.pos(node.range[0]);
  }
}

/** Source offset of character `offset` of a string scalar's value. */
function offsetInScalar(source: string, node: YamlNode & { type?: string; value?: unknown }, offset: number): number {
  const [start, end] = node.range!;
  const type = (node as { type?: string }).type;
  if (type === 'PLAIN') return start + offset;
  if (type === 'QUOTE_DOUBLE' || type === 'QUOTE_SINGLE') return start + 1 + offset;
  // Block scalars: find the value's line inside the node's source and the column within it.
  const value = String(node.value);
  const before = value.slice(0, offset);
  const lineIdx = before.split('\n').length - 1;
  const colInLine = offset - (before.lastIndexOf('\n') + 1);
  const lineText = value.split('\n')[lineIdx] ?? '';
  const raw = source.slice(start, end);
  const at = lineText.length > 0 ? raw.indexOf(lineText) : -1;
  return at >= 0 ? start + at + colInLine : start;
}

/**
 * A flow collection `[`/`{` or a quoted scalar that runs up to the error without its closer:
 * yaml reports those where it gave up (often lines later); the opener is what to fix.
 */
function unclosedOpener(doc: Document, source: string, errorAt: number): { at: number; what: string; closer: string } | undefined {
  let found: { at: number; what: string; closer: string } | undefined;
  visit(doc, {
    Node(_, n) {
      const range = n.range;
      if (!range || range[1] !== errorAt) return;
      const text = source.slice(range[0], range[1]).trimEnd();
      let opener: { what: string; closer: string } | undefined;
      if (isCollection(n) && n.flow) opener = text.startsWith('[') ? { what: "'['", closer: ']' } : text.startsWith('{') ? { what: "'{'", closer: '}' } : undefined;
      else if (isScalar(n) && (n.type === 'QUOTE_DOUBLE' || n.type === 'QUOTE_SINGLE')) {
        const q = n.type === 'QUOTE_DOUBLE' ? '"' : "'";
        opener = { what: `${q}quote`, closer: q };
      }
      if (!opener || (text.length > 1 && text.endsWith(opener.closer))) return;
      if (!found || range[0] > found.at) found = { at: range[0], ...opener };
    },
  });
  return found;
}

/** The second occurrence of a key in one mapping, in document order. */
function duplicateKey(doc: Document): (YamlNode & { value?: unknown }) | undefined {
  let dup: (YamlNode & { value?: unknown }) | undefined;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const p of map.items) {
        if (!isScalar(p.key)) continue;
        const k = String(p.key.value);
        if (seen.has(k)) {
          if (!dup || p.key.range![0] < dup.range![0]) dup = p.key;
          break;
        }
        seen.add(k);
      }
    },
  });
  return dup;
}

/** The alias whose anchor expands to the most nodes (the one an alias bomb is built on). */
function largestAlias(doc: Document): YamlNode | undefined {
  const sizes = new Map<unknown, number>();
  const size = (n: unknown): number => {
    if (isAlias(n)) {
      const target = n.resolve(doc);
      return target ? (sizes.get(target) ?? 1) : 1;
    }
    if (isPair(n)) return size(n.key) + size(n.value);
    if (isCollection(n)) {
      let s = 1;
      for (const item of n.items) s = Math.min(Number.MAX_VALUE, s + size(item));
      sizes.set(n, s);
      return s;
    }
    return 1;
  };
  size(doc.contents);
  let best: YamlNode | undefined;
  let bestSize = -1;
  visit(doc, {
    Alias(_, a) {
      const target = a.resolve(doc);
      const s = target ? (sizes.get(target) ?? 1) : 1;
      if (s > bestSize) {
        best = a;
        bestSize = s;
      }
    },
  });
  return best;
}
