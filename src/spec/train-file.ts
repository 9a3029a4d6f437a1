/** Whether a YAML file is a data-set training spec (`laaf train`: it has a `dataset:` key); apart from run/train.ts so that `laaf validate` can tell without loading tfjs. */
import { readFileSync, statSync } from 'node:fs';
import YAML from 'yaml';

export function isTrainSpecFile(file: string): boolean {
  try {
    // Only a regular file is read here (/dev/zero would never end); anything else is left to
    // the spec loader, which reports it.
    if (!statSync(file).isFile()) return false;
    const doc = YAML.parse(readFileSync(file, 'utf8')) as unknown;
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc) && 'dataset' in doc;
  } catch {
    return false;
  }
}
