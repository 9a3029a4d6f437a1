export { ExprError, MAX_DERIVATIVE_ORDER, derivKey, derivName, parseDerivativeName, type DerivRef } from './names.js';
export { numberOps, tensorOps, type Ops, type CompareOp } from './ops.js';
export {
  ALLOWED_FUNCTIONS,
  compileEquation,
  compileConstant,
  compileExpr,
  constantOf,
  EXPRESSION_LIMITS,
  evalConstant,
  splitEquation,
  type Compiled,
  type Env,
  type SymbolTable,
} from './compile.js';
