/** The backends a user may name (--backend); apart from select.ts so that the CLI can list them without loading tfjs. */
import { BACKEND_NAMES, type BackendName } from '../base/backends.js';

export type BackendChoice = BackendName;
export const BACKEND_CHOICES: readonly BackendChoice[] = BACKEND_NAMES;
