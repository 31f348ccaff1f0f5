import type * as zod from 'zod/v3';
import { FileError } from '../errors.js';
import type { YamlFile } from './yamlfile.js';

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : `${out ? '.' : ''}${String(seg)}`;
  return out || '(top level)';
}

/** Turns the first schema issue into a one-line FileError naming the line and field. */
export function schemaError(yaml: YamlFile, error: zod.ZodError, prefix: readonly (string | number)[] = []): FileError {
  const issue = error.issues[0];
  const path = [...prefix, ...(issue.path as (string | number)[])];
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0];
    return new FileError(yaml.file, yaml.lineOf(path, key), `${formatPath([...path, key])}: unknown field '${key}'`);
  }
  let msg = issue.message.replace(/^Invalid input: /, '');
  if (issue.code === 'invalid_enum_value')
    msg = `must be one of ${issue.options.map((v) => JSON.stringify(v)).join(', ')}`;
  // Messages read as the rest of a sentence: "required", "expected number, received string".
  msg = msg.charAt(0).toLowerCase() + msg.slice(1);
  return new FileError(yaml.file, yaml.lineOf(path), `${formatPath(path)}: ${msg}`);
}
