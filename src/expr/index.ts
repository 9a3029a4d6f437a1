export { ExprError, derivKey, derivName, parseDerivativeName, type DerivRef } from './names.js';
export { numberOps, type Ops, type CompareOp } from './ops.js';
export {
  ALLOWED_FUNCTIONS,
  compileEquation,
  compileExpr,
  evalConstant,
  splitEquation,
  type Compiled,
  type Env,
  type SymbolTable,
} from './compile.js';
