/**
 * Expression text -> mathjs AST (parse only, never evaluate) -> whitelist check -> closure tree
 * over an abstract `Ops<T>`, so one compiled expression runs on numbers and on tensors.
 *
 * mathjs nodes carry no source positions. Errors locate their token with `Locator`, which
 * tokenizes the text and walks it in step with the compiler: the compiler visits nodes in
 * source order, so the k-th identifier visited is the k-th identifier in the text.
 */
import { parse } from 'mathjs';
import { editDistance } from '../spec/errors.js';
import { ExprError, MAX_DERIVATIVE_ORDER, derivKey, parseDerivativeName, type DerivRef } from './names.js';
import { numberOps, type CompareOp, type Ops } from './ops.js';

/**
 * Size limits of one expression (README "Limits"). The parser and the compiled closure tree
 * recurse once per nesting level, so a bounded size keeps both far from the call-stack limit
 * (a sum of 3000 terms overflowed it before these limits).
 */
export const EXPRESSION_LIMITS = {
  /** tokens (names, numbers, operators, brackets) in one expression */
  tokens: 2000,
  /** brackets ( [ { open at once */
  nesting: 50,
} as const;

export interface SymbolTable {
  inputs: string[];
  outputs: string[];
  /** named constants (their values are supplied by the Env); a Set is used as it is (no copy) */
  constants: readonly string[] | ReadonlySet<string>;
  /** trainable unknowns (inverse problems); compiled like constants */
  parameters?: string[];
  /** default true; false for constants, face selectors, reference/target expressions */
  allowOutputs?: boolean;
}

export interface Env<T> {
  input(index: number): T;
  /** constants and parameters */
  symbol(name: string): T;
  /** outputs and their derivatives */
  deriv(ref: DerivRef): T;
}

export interface Compiled {
  source: string;
  /** every output derivative used, deduplicated, in first-use order */
  derivs: DerivRef[];
  /** indices of inputs whose value is read (ascending); D(u, x) does not read x */
  inputsUsed: number[];
  /** constants and parameters read, in first-use order */
  symbolsUsed: string[];
  /** set when the whole expression folded to one number at compile time */
  constantValue?: number;
  evaluate<T>(ops: Ops<T>, env: Env<T>): T;
}

export const ALLOWED_FUNCTIONS = [
  'sin', 'cos', 'tan', 'exp', 'log', 'sqrt', 'abs', 'tanh', 'sinh', 'cosh', 'atan',
] as const;

// ---------------------------------------------------------------------------------------------
// Closure tree

type Run = <T>(ops: Ops<T>, env: Env<T>) => T;
type UnaryFn = <T>(ops: Ops<T>, a: T) => T;
type BinaryFn = <T>(ops: Ops<T>, a: T, b: T) => T;

/** A compiled subtree: a number known at compile time, or a closure. */
type Code = { kind: 'const'; value: number } | { kind: 'run'; run: Run };

const constant = (value: number): Code => ({ kind: 'const', value });

function toRun(code: Code): Run {
  if (code.kind === 'run') return code.run;
  const v = code.value;
  return (ops) => ops.constant(v);
}

function unary(a: Code, f: UnaryFn): Code {
  if (a.kind === 'const') return constant(f(numberOps, a.value));
  const ra = a.run;
  return { kind: 'run', run: (ops, env) => f(ops, ra(ops, env)) };
}

function binary(a: Code, b: Code, f: BinaryFn): Code {
  if (a.kind === 'const' && b.kind === 'const') return constant(f(numberOps, a.value, b.value));
  const ra = toRun(a);
  const rb = toRun(b);
  return { kind: 'run', run: (ops, env) => f(ops, ra(ops, env), rb(ops, env)) };
}

const FUNCTIONS = new Map<string, UnaryFn>([
  ['sin', (o, a) => o.sin(a)],
  ['cos', (o, a) => o.cos(a)],
  ['tan', (o, a) => o.tan(a)],
  ['exp', (o, a) => o.exp(a)],
  ['log', (o, a) => o.log(a)],
  ['sqrt', (o, a) => o.sqrt(a)],
  ['abs', (o, a) => o.abs(a)],
  ['tanh', (o, a) => o.tanh(a)],
  ['sinh', (o, a) => o.sinh(a)],
  ['cosh', (o, a) => o.cosh(a)],
  ['atan', (o, a) => o.atan(a)],
]);

const ARITHMETIC = new Map<string, BinaryFn>([
  ['add', (o, a, b) => o.add(a, b)],
  ['subtract', (o, a, b) => o.sub(a, b)],
  ['multiply', (o, a, b) => o.mul(a, b)],
  ['divide', (o, a, b) => o.div(a, b)],
]);

/** mathjs function names of the comparison operators. */
const COMPARISONS = new Map<string, CompareOp>([
  ['smaller', '<'],
  ['smallerEq', '<='],
  ['larger', '>'],
  ['largerEq', '>='],
  ['equal', '=='],
  ['unequal', '!='],
]);

const BUILTIN_CONSTANTS = new Map<string, number>([
  ['pi', Math.PI],
  ['e', Math.E],
]);

const OPERATOR_HINT = 'allowed: numbers, + - * / ^, < <= > >= == != and or not, c ? a : b, ' +
  `${ALLOWED_FUNCTIONS.join(' ')} (one argument each), D(u, x, ...), pi, e`;

// ---------------------------------------------------------------------------------------------
// Source positions

interface Token {
  kind: 'ident' | 'number' | 'string' | 'op';
  text: string;
  start: number;
}

const MULTI_CHAR_OPS = ['>>>', '==', '!=', '<=', '>=', '<<', '>>', '.*', './', '.^', ".'", '^|'];

/** A forgiving tokenizer for locating tokens; it never throws (mathjs does the real parsing). */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (/[\p{L}_$]/u.test(c)) {
      const start = i;
      while (i < text.length && /[\p{L}\p{N}_$]/u.test(text[i]!)) i++;
      tokens.push({ kind: 'ident', text: text.slice(start, i), start });
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const start = i;
      i = scanNumber(text, i);
      tokens.push({ kind: 'number', text: text.slice(start, i), start });
    } else if (c === '"' || (c === "'" && !isTransposeContext(tokens))) {
      const start = i;
      i++;
      while (i < text.length && text[i] !== c) i += text[i] === '\\' ? 2 : 1;
      i = Math.min(i + 1, text.length);
      tokens.push({ kind: 'string', text: text.slice(start, i), start });
    } else {
      const op = MULTI_CHAR_OPS.find((m) => text.startsWith(m, i)) ?? c;
      tokens.push({ kind: 'op', text: op, start: i });
      i += op.length;
    }
  }
  return tokens;
}

function scanNumber(text: string, i: number): number {
  if (text[i] === '0' && /[xXbBoO]/.test(text[i + 1] ?? '')) {
    i += 2;
    while (i < text.length && /[0-9a-zA-Z.]/.test(text[i]!)) i++;
    return i;
  }
  while (i < text.length && /[0-9]/.test(text[i]!)) i++;
  if (text[i] === '.') {
    i++;
    while (i < text.length && /[0-9]/.test(text[i]!)) i++;
  }
  if (/[eE]/.test(text[i] ?? '')) {
    let j = i + 1;
    if (text[j] === '+' || text[j] === '-') j++;
    if (/[0-9]/.test(text[j] ?? '')) {
      while (j < text.length && /[0-9]/.test(text[j]!)) j++;
      i = j;
    }
  }
  return i;
}

/** mathjs reads `x'` as a transpose, `'abc'` as a string. */
function isTransposeContext(tokens: Token[]): boolean {
  const prev = tokens[tokens.length - 1];
  if (prev === undefined) return false;
  return prev.kind === 'ident' || prev.kind === 'number' || [')', ']', "'"].includes(prev.text);
}

/** Finds tokens in source order; offsets it returns are relative to the whole original text. */
class Locator {
  private cursor = 0; // index of the first token after the last identifier visited

  constructor(
    readonly text: string,
    readonly base: number,
    private readonly tokens: Token[] = tokenize(text),
  ) {}

  /** The next occurrence of identifier `name`; advances the cursor past it. */
  ident(name: string): number {
    const isIt = (t: Token): boolean => t.kind === 'ident' && t.text === name;
    const k = this.indexFrom(this.cursor, isIt);
    if (k >= 0) {
      this.cursor = k + 1;
      return this.base + this.tokens[k]!.start;
    }
    const any = this.tokens.find(isIt);
    return this.base + (any ? any.start : 0);
  }

  /** The next token (from the cursor on, else anywhere) of the given kind/text; does not advance. */
  find(match: (t: Token) => boolean): number {
    const k = this.indexFrom(this.cursor, match);
    const next = k >= 0 ? this.tokens[k] : this.tokens.find(match);
    return this.base + (next ? next.start : 0);
  }

  private indexFrom(from: number, match: (t: Token) => boolean): number {
    for (let k = from; k < this.tokens.length; k++) if (match(this.tokens[k]!)) return k;
    return -1;
  }

  op(...texts: string[]): number {
    return this.find((t) => (t.kind === 'op' || t.kind === 'ident') && texts.includes(t.text));
  }
}

// ---------------------------------------------------------------------------------------------
// The compiler: one small function per node kind

/** The parts of mathjs nodes this file reads. */
interface RawNode {
  type: string;
}
interface ConstantRaw extends RawNode {
  value: unknown;
}
interface SymbolRaw extends RawNode {
  name: string;
}
interface ParenthesisRaw extends RawNode {
  content: RawNode;
}
interface OperatorRaw extends RawNode {
  op: string;
  fn: string;
  args: RawNode[];
}
interface RelationalRaw extends RawNode {
  conditionals: string[];
  params: RawNode[];
}
interface ConditionalRaw extends RawNode {
  condition: RawNode;
  trueExpr: RawNode;
  falseExpr: RawNode;
}
interface FunctionRaw extends RawNode {
  fn: RawNode;
  args: RawNode[];
}
interface FunctionAssignmentRaw extends RawNode {
  name: string;
}

/** What a compilation (or both sides of an equation) used. */
class Usage {
  readonly derivs: DerivRef[] = [];
  private readonly derivKeys = new Set<string>();
  readonly inputs = new Set<number>();
  readonly symbols: string[] = [];

  deriv(ref: DerivRef): void {
    const key = derivKey(ref);
    if (this.derivKeys.has(key)) return;
    this.derivKeys.add(key);
    this.derivs.push(ref);
  }

  symbol(name: string): void {
    if (!this.symbols.includes(name)) this.symbols.push(name);
  }
}

class Compiler {
  private readonly loc: Locator;
  private readonly inputs: string[];
  private readonly outputs: string[];
  private readonly constants: ReadonlySet<string>;
  private readonly parameters: ReadonlySet<string>;
  private readonly allowOutputs: boolean;

  constructor(
    text: string,
    base: number,
    tokens: Token[],
    private readonly table: SymbolTable,
    private readonly usage: Usage,
  ) {
    this.loc = new Locator(text, base, tokens);
    this.inputs = table.inputs;
    this.outputs = table.outputs;
    this.constants = table.constants instanceof Set ? table.constants : new Set(table.constants);
    this.parameters = new Set(table.parameters ?? []);
    this.allowOutputs = table.allowOutputs ?? true;
  }

  compile(node: RawNode): Code {
    switch (node.type) {
      case 'ConstantNode':
        return this.compileConstant(node as ConstantRaw);
      case 'SymbolNode':
        return this.compileSymbol(node as SymbolRaw);
      case 'ParenthesisNode':
        return this.compile((node as ParenthesisRaw).content);
      case 'OperatorNode':
        return this.compileOperator(node as OperatorRaw);
      case 'RelationalNode':
        return this.compileRelational(node as RelationalRaw);
      case 'ConditionalNode':
        return this.compileConditional(node as ConditionalRaw);
      case 'FunctionNode':
        return this.compileFunction(node as FunctionRaw);
      default:
        return this.reject(node);
    }
  }

  private compileConstant(node: ConstantRaw): Code {
    const v = node.value;
    if (typeof v === 'number') {
      if (Number.isFinite(v)) return constant(v);
      const at = this.loc.find((t) => (t.kind === 'ident' && ['Infinity', 'NaN'].includes(t.text)) || (t.kind === 'number' && !Number.isFinite(Number(t.text))));
      throw new ExprError(`'${String(v)}' is not a finite number`, at, 'write a finite number');
    }
    if (typeof v === 'string') {
      const at = this.loc.find((t) => t.kind === 'string');
      throw new ExprError('text strings are not allowed in expressions', at, 'remove the quotes');
    }
    if (typeof v === 'boolean') {
      const at = this.loc.op(String(v));
      throw new ExprError(`'${v}' is not allowed`, at, `write ${v ? 1 : 0} instead`);
    }
    if (v === null || v === undefined) {
      const at = this.loc.op(String(v));
      throw new ExprError(`'${String(v)}' is not allowed`, at, OPERATOR_HINT);
    }
    throw new ExprError('only plain numbers are allowed as literals', this.loc.base, OPERATOR_HINT);
  }

  private compileSymbol(node: SymbolRaw): Code {
    const name = node.name;
    const at = this.loc.ident(name);

    const inputIndex = this.inputs.indexOf(name);
    if (inputIndex >= 0) {
      this.usage.inputs.add(inputIndex);
      return { kind: 'run', run: (_ops, env) => env.input(inputIndex) };
    }

    const ref = this.derivativeRef(name, at);
    if (ref) return this.useDeriv(ref, name, at);

    if (this.isNamed(name)) {
      this.usage.symbol(name);
      return { kind: 'run', run: (_ops, env) => env.symbol(name) };
    }

    const builtin = BUILTIN_CONSTANTS.get(name);
    if (builtin !== undefined) return constant(builtin);

    throw new ExprError(`unknown symbol '${name}'`, at, this.unknownSymbolHint(name));
  }

  /** `name` as an output or output derivative; null when it is neither. */
  private derivativeRef(name: string, at: number): DerivRef | null {
    try {
      return parseDerivativeName(name, this.inputs, this.outputs);
    } catch (e) {
      // `u_max` may be a constant even though it looks like a derivative of u.
      if (this.isNamed(name)) return null;
      if (e instanceof ExprError) throw new ExprError(e.message, at + e.offset, e.hint);
      throw e;
    }
  }

  private useDeriv(ref: DerivRef, name: string, at: number): Code {
    if (!this.allowOutputs) {
      throw new ExprError(
        `cannot use the unknown ${name} here`,
        at,
        'network outputs and their derivatives are only allowed in equations and conditions',
      );
    }
    if (ref.channel.length > MAX_DERIVATIVE_ORDER) {
      throw new ExprError(`${name} is a derivative of order ${ref.channel.length}; laaf supports order ${MAX_DERIVATIVE_ORDER} at most`, at,
        'rewrite the problem as a system of lower-order equations (e.g. a new output v = u_xx)');
    }
    const frozen: DerivRef = Object.freeze({ output: ref.output, channel: Object.freeze([...ref.channel]) as number[] });
    this.usage.deriv(frozen);
    return { kind: 'run', run: (_ops, env) => env.deriv(frozen) };
  }

  private compileOperator(node: OperatorRaw): Code {
    const args = node.args;
    const arithmetic = ARITHMETIC.get(node.fn);
    if (arithmetic && args.length === 2) {
      const a = this.compile(args[0]!);
      return binary(a, this.compile(args[1]!), arithmetic);
    }
    if (node.fn === 'pow' && args.length === 2) return this.compilePow(args[0]!, args[1]!);
    if (node.fn === 'unaryMinus' && args.length === 1) return unary(this.compile(args[0]!), (o, a) => o.neg(a));
    if (node.fn === 'unaryPlus' && args.length === 1) return this.compile(args[0]!);
    const cmp = COMPARISONS.get(node.fn);
    if (cmp && args.length === 2) {
      const a = this.compile(args[0]!);
      return binary(a, this.compile(args[1]!), (o, x, y) => o.compare(cmp, x, y));
    }
    if (node.fn === 'and' && args.length === 2) {
      const a = this.compile(args[0]!);
      return binary(a, this.compile(args[1]!), (o, x, y) => o.and(x, y));
    }
    if (node.fn === 'or' && args.length === 2) {
      const a = this.compile(args[0]!);
      return binary(a, this.compile(args[1]!), (o, x, y) => o.or(x, y));
    }
    if (node.fn === 'not' && args.length === 1) return unary(this.compile(args[0]!), (o, a) => o.not(a));

    const at = this.loc.op(node.op);
    throw new ExprError(`operator '${node.op}' (${node.fn}) is not allowed`, at, OPERATOR_HINT);
  }

  /** `a^k` with an integer constant k goes to powInt (exact gradients, negative bases fine). */
  private compilePow(baseNode: RawNode, expNode: RawNode): Code {
    const base = this.compile(baseNode);
    const exponent = this.compile(expNode);
    if (base.kind === 'const' && exponent.kind === 'const') return constant(Math.pow(base.value, exponent.value));
    if (exponent.kind === 'const' && Number.isSafeInteger(exponent.value)) {
      const k = exponent.value;
      return unary(base, (o, a) => o.powInt(a, k));
    }
    return binary(base, exponent, (o, a, b) => o.pow(a, b));
  }

  /** Chained comparisons `a < b <= c` mean `a < b and b <= c`. */
  private compileRelational(node: RelationalRaw): Code {
    const params = node.params.map((p, i) => {
      const code = this.compile(p);
      const fn = node.conditionals[i];
      if (fn !== undefined && !COMPARISONS.has(fn)) {
        throw new ExprError(`comparison '${fn}' is not allowed`, this.loc.base, OPERATOR_HINT);
      }
      return code;
    });
    let result: Code | undefined;
    for (let i = 0; i + 1 < params.length; i++) {
      const cmp = COMPARISONS.get(node.conditionals[i]!)!;
      const pair = binary(params[i]!, params[i + 1]!, (o, x, y) => o.compare(cmp, x, y));
      result = result === undefined ? pair : binary(result, pair, (o, x, y) => o.and(x, y));
    }
    if (result === undefined) throw new ExprError('empty comparison', this.loc.base);
    return result;
  }

  private compileConditional(node: ConditionalRaw): Code {
    const cond = this.compile(node.condition);
    const a = this.compile(node.trueExpr);
    const b = this.compile(node.falseExpr);
    if (cond.kind === 'const') return cond.value !== 0 ? a : b;
    const rc = cond.run;
    const ra = toRun(a);
    const rb = toRun(b);
    return { kind: 'run', run: (ops, env) => ops.where(rc(ops, env), ra(ops, env), rb(ops, env)) };
  }

  private compileFunction(node: FunctionRaw): Code {
    if (node.fn.type !== 'SymbolNode') {
      const at = this.loc.op('.', '[', '(');
      throw new ExprError('only the named functions can be called', at, OPERATOR_HINT);
    }
    const name = (node.fn as SymbolRaw).name;
    const at = this.loc.ident(name);
    if (name === 'D') return this.compileD(node.args, at);

    const fn = FUNCTIONS.get(name);
    if (fn) {
      if (node.args.length !== 1) {
        throw new ExprError(
          `${name} takes exactly one argument, got ${node.args.length}`,
          at,
          `write ${name}(<expression>)`,
        );
      }
      return unary(this.compile(node.args[0]!), fn);
    }

    if (this.isKnownSymbol(name)) {
      throw new ExprError(`'${name}' is not a function`, at, `for a product write ${name}*(...)`);
    }
    const close = closest(name, [...ALLOWED_FUNCTIONS, 'D']);
    const list = `allowed functions are ${ALLOWED_FUNCTIONS.join(', ')} and D(u, x, ...)`;
    throw new ExprError(
      `function '${name}' is not allowed`,
      at,
      close.length > 0 ? `did you mean ${close.map((c) => `'${c}'`).join(' or ')}?` : list,
    );
  }

  /** D(u, x, x) == u_xx; the first argument may itself be a derivative: D(u_x, t) == u_xt. */
  private compileD(args: RawNode[], at: number): Code {
    const usageHint = 'write D(<output>, <input>, ...), one input per differentiation, e.g. D(u, x, x)';
    const first = args[0];
    if (args.length < 2 || first === undefined) {
      throw new ExprError(`D needs an output and at least one input, got ${args.length} argument(s)`, at, usageHint);
    }
    if (first.type !== 'SymbolNode') {
      throw new ExprError('the first argument of D must be an output name', at, usageHint);
    }
    const outName = (first as SymbolRaw).name;
    const outAt = this.loc.ident(outName);
    const ref = this.derivativeRef(outName, outAt);
    if (!ref) {
      throw new ExprError(
        `'${outName}' is not an output (outputs: ${this.outputs.join(', ') || 'none'})`,
        outAt,
        usageHint,
      );
    }
    const channel = [...ref.channel];
    for (const arg of args.slice(1)) {
      if (arg.type !== 'SymbolNode') {
        throw new ExprError('D differentiates with respect to input names only', at, usageHint);
      }
      const name = (arg as SymbolRaw).name;
      const argAt = this.loc.ident(name);
      const index = this.inputs.indexOf(name);
      if (index < 0) {
        throw new ExprError(
          `'${name}' is not an input (inputs: ${this.inputs.join(', ') || 'none'})`,
          argAt,
          usageHint,
        );
      }
      channel.push(index);
    }
    channel.sort((a, b) => a - b);
    return this.useDeriv({ output: ref.output, channel }, outName, outAt);
  }

  private reject(node: RawNode): never {
    switch (node.type) {
      case 'AccessorNode':
      case 'IndexNode':
        throw new ExprError(
          'property access and indexing (a.b, a[i]) are not allowed',
          this.loc.op('.', '['),
          OPERATOR_HINT,
        );
      case 'ArrayNode':
        throw new ExprError('arrays and matrices ([...]) are not allowed', this.loc.op('['), OPERATOR_HINT);
      case 'ObjectNode':
        throw new ExprError('objects ({...}) are not allowed', this.loc.op('{'), OPERATOR_HINT);
      case 'AssignmentNode':
        throw new ExprError(
          "'=' is not allowed here",
          this.loc.op('='),
          "an equation has exactly one '=' (lhs = rhs); to compare use ==",
        );
      case 'FunctionAssignmentNode':
        throw new ExprError(
          'defining functions (f(x) = ...) is not allowed',
          this.loc.ident((node as FunctionAssignmentRaw).name),
          OPERATOR_HINT,
        );
      case 'BlockNode': {
        const semicolon = this.loc.op(';');
        const newline = this.loc.text.indexOf('\n');
        const hasSemicolon = this.loc.text.includes(';');
        throw new ExprError(
          'only one expression is allowed',
          hasSemicolon || newline < 0 ? semicolon : this.loc.base + newline,
          "remove the ';' or line break; to continue on the next line, wrap the expression in parentheses",
        );
      }
      case 'RangeNode':
        throw new ExprError('ranges (a:b) are not allowed', this.loc.op(':'), OPERATOR_HINT);
      default:
        throw new ExprError(`${node.type} is not allowed in expressions`, this.loc.base, OPERATOR_HINT);
    }
  }

  /** a constant or a parameter */
  private isNamed(name: string): boolean {
    return this.constants.has(name) || this.parameters.has(name);
  }

  private isKnownSymbol(name: string): boolean {
    return (
      this.inputs.includes(name) ||
      this.outputs.includes(name) ||
      this.isNamed(name) ||
      BUILTIN_CONSTANTS.has(name)
    );
  }

  private unknownSymbolHint(name: string): string {
    const outputs = this.allowOutputs ? this.outputs : [];
    const known = [...this.inputs, ...outputs, ...this.constants, ...this.parameters, ...BUILTIN_CONSTANTS.keys()];
    if (FUNCTIONS.has(name) || name === 'D') return `${name} is a function: write ${name}(...)`;
    const close = closest(name, known);
    if (close.length > 0) return `did you mean ${close.map((c) => `'${c}'`).join(' or ')}?`;
    const groups: string[] = [];
    if (this.inputs.length) groups.push(`inputs ${this.inputs.join(', ')}`);
    if (outputs.length) groups.push(`outputs ${outputs.join(', ')} (and derivatives like ${outputs[0]}_${this.inputs[0] ?? 'x'})`);
    if (this.constants.size) groups.push(`constants ${[...this.constants].slice(0, 20).join(', ')}${this.constants.size > 20 ? ', ...' : ''}`);
    if (this.table.parameters?.length) groups.push(`parameters ${this.table.parameters.join(', ')}`);
    groups.push('pi, e');
    return `known names: ${groups.join('; ')}`;
  }
}

/** Known names within Levenshtein distance 2 (case-insensitive, and less than the name's length), closest first. */
function closest(name: string, candidates: string[]): string[] {
  const scored = [...new Set(candidates)]
    .map((c) => ({ c, d: editDistance(name.toLowerCase(), c.toLowerCase()) }))
    .filter(({ d }) => d <= 2 && d < name.length);
  if (scored.length === 0) return [];
  const best = Math.min(...scored.map((s) => s.d));
  return scored.filter((s) => s.d === best).slice(0, 3).map((s) => s.c);
}

// ---------------------------------------------------------------------------------------------
// Entry points

/** Parse with mathjs (never evaluate); syntax errors become ExprErrors with an offset. */
function parseText(text: string, base: number): RawNode {
  try {
    return parse(text) as unknown as RawNode;
  } catch (e) {
    if (e instanceof RangeError) throw new ExprError('the expression is nested too deeply to parse', base, 'simplify it: fewer nested brackets or unary signs');
    const message = e instanceof Error ? e.message : String(e);
    const char = (e as { char?: unknown }).char;
    const match = /\(char (\d+)\)/.exec(message);
    const oneBased = typeof char === 'number' ? char : match ? Number(match[1]) : 1;
    const offset = Math.min(Math.max(oneBased - 1, 0), text.length);
    const what = message.replace(/\s*\(char \d+\)/, '');
    throw new ExprError(`syntax error: ${what}`, base + offset, syntaxHint(what));
  }
}

function syntaxHint(what: string): string {
  if (/Parenthesis \) expected/.test(what)) return "a '(' is not closed";
  if (/Unexpected end/.test(what)) return 'the expression ends too early';
  if (/conditional/.test(what)) return 'a conditional is written c ? a : b';
  return 'expressions use numbers, names, + - * / ^, comparisons, c ? a : b and functions like sin(x)';
}

/** Compile `text` (which starts at `base` in the caller's full text) into `usage`. */
function compileInto(text: string, base: number, table: SymbolTable, usage: Usage): Code {
  // Leading/trailing whitespace (YAML block scalars end in '\n') is not part of the expression.
  const body = text.trim();
  if (body === '') throw new ExprError('empty expression', base, 'write an expression, e.g. u_t + u*u_x');
  const lead = text.length - text.trimStart().length;
  const tokens = tokenize(body);
  checkSize(tokens, base + lead);
  const node = parseText(body, base + lead);
  try {
    return new Compiler(body, base + lead, tokens, table, usage).compile(node);
  } catch (e) {
    // A safety net under EXPRESSION_LIMITS: never let a deep expression become an internal error.
    if (e instanceof RangeError) throw new ExprError('the expression is nested too deeply to compile', base + lead, 'split it using constants or shorter terms');
    throw e;
  }
}

/** Refuse expressions over EXPRESSION_LIMITS, at the first token beyond the limit. */
function checkSize(tokens: Token[], base: number): void {
  const { tokens: maxTokens, nesting } = EXPRESSION_LIMITS;
  if (tokens.length > maxTokens) {
    throw new ExprError(`the expression has ${tokens.length} tokens; at most ${maxTokens} are allowed`, base + tokens[maxTokens]!.start,
      'split it: give parts their own constants, equations or outputs');
  }
  let depth = 0;
  for (const t of tokens) {
    if (t.kind !== 'op') continue;
    if (t.text === '(' || t.text === '[' || t.text === '{') {
      if (++depth > nesting) throw new ExprError(`brackets nested more than ${nesting} deep`, base + t.start, 'simplify the expression');
    } else if (t.text === ')' || t.text === ']' || t.text === '}') depth = Math.max(0, depth - 1);
  }
}

function finish(source: string, code: Code, usage: Usage): Compiled {
  const run = toRun(code);
  const compiled: Compiled = {
    source,
    derivs: usage.derivs,
    inputsUsed: [...usage.inputs].sort((a, b) => a - b),
    symbolsUsed: usage.symbols,
    evaluate: <T>(ops: Ops<T>, env: Env<T>): T => run(ops, env),
  };
  if (code.kind === 'const') compiled.constantValue = code.value;
  return compiled;
}

/** Compile an expression. Throws ExprError with the offset of the offending token. */
export function compileExpr(text: string, table: SymbolTable): Compiled {
  const usage = new Usage();
  const code = compileInto(text, 0, table, usage);
  return finish(text, code, usage);
}

/**
 * Split `lhs = rhs` at the single top-level '=' (outside parentheses, brackets, braces and
 * strings; '==', '<=', '>=', '!=' do not count). Returns null when there is none. Both sides are
 * trimmed; the offsets say where each side starts in `text`. With several top-level '=' it
 * splits at the first (compiling the right side then reports the second '=').
 */
export function splitEquation(
  text: string,
): { lhs: string; rhs: string; rhsOffset: number; lhsOffset: number; eqOffset: number } | null {
  let depth = 0;
  for (const t of tokenize(text)) {
    if (t.kind !== 'op') continue;
    if (t.text === '(' || t.text === '[' || t.text === '{') depth++;
    else if (t.text === ')' || t.text === ']' || t.text === '}') depth = Math.max(0, depth - 1);
    else if (t.text === '=' && depth === 0) {
      const left = text.slice(0, t.start);
      const right = text.slice(t.start + 1);
      return {
        lhs: left.trim(),
        rhs: right.trim(),
        lhsOffset: left.length - left.trimStart().length,
        rhsOffset: t.start + 1 + (right.length - right.trimStart().length),
        eqOffset: t.start,
      };
    }
  }
  return null;
}

/** `lhs = rhs` -> residual lhs - rhs; text without a top-level '=' is the residual itself. */
export function compileEquation(text: string, table: SymbolTable): Compiled & { lhsText: string; rhsText: string } {
  const semicolon = tokenize(text).find((t) => t.kind === 'op' && t.text === ';');
  if (semicolon) {
    throw new ExprError(
      'only one expression is allowed',
      semicolon.start,
      "remove the ';'; an equation is written lhs = rhs",
    );
  }
  const split = splitEquation(text);
  if (split === null) {
    return { ...compileExpr(text, table), lhsText: text.trim(), rhsText: '0' };
  }
  if (split.lhs === '') {
    throw new ExprError("the equation has nothing left of '='", split.eqOffset, 'write lhs = rhs');
  }
  if (split.rhs === '') {
    throw new ExprError("the equation has nothing right of '='", split.eqOffset, 'write lhs = rhs');
  }
  const second = splitEquation(split.rhs);
  if (second) {
    throw new ExprError(
      "an equation has exactly one '='",
      split.rhsOffset + second.eqOffset,
      'write lhs = rhs; to compare use ==',
    );
  }
  const usage = new Usage();
  const lhs = compileInto(split.lhs, split.lhsOffset, table, usage);
  const rhs = compileInto(split.rhs, split.rhsOffset, table, usage);
  const residual = binary(lhs, rhs, (o, a, b) => o.sub(a, b));
  return { ...finish(text, residual, usage), lhsText: split.lhs, rhsText: split.rhs };
}

/** Compile a constant expression: numbers, pi, e, functions and the named constants (no inputs, no outputs). */
export function compileConstant(text: string, names: SymbolTable['constants']): Compiled {
  return compileExpr(text, { inputs: [], outputs: [], constants: names, allowOutputs: false });
}

/** The value of a compiled expression that reads no inputs or outputs, given its named values, in float64. */
export function constantOf(compiled: Compiled, values: Readonly<Record<string, number>>): number {
  return compiled.evaluate(numberOps, {
    input: () => {
      throw new Error('constantOf: no inputs');
    },
    deriv: () => {
      throw new Error('constantOf: no outputs');
    },
    symbol: (name) => {
      const v = Object.hasOwn(values, name) ? values[name] : undefined;
      if (v === undefined) throw new Error(`constantOf: no value for '${name}'`);
      return v;
    },
  });
}

/** Evaluate a constant expression (numbers, pi, e, functions, and the given named values) in float64. */
export function evalConstant(text: string, values: Record<string, number>): number {
  return constantOf(compileConstant(text, Object.keys(values)), values);
}
