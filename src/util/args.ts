import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs, strict, with its errors turned into one-line usage errors. */
type Parsed<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: true }>
>;

export function parse<O extends Options>(
  command: string,
  argv: string[],
  options: O,
  allowPositionals = false,
): Parsed<O> {
  try {
    return parseArgs({ args: joinNegatives(argv, options), strict: true, options, allowPositionals }) as Parsed<O>;
  } catch (e) {
    let msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '').replace(/\s+/g, ' ');
    msg = msg.charAt(0).toLowerCase() + msg.slice(1);
    const unknown = /^unknown option '--([^'=]+)/.exec(msg)?.[1];
    const near = unknown === undefined ? undefined : closest(unknown, Object.keys(options));
    throw new UsageError(`${msg} (${near ? `did you mean --${near}? ` : ''}see gapbench ${command} --help)`);
  }
}

/**
 * `--opt -5` as `--opt=-5` for options that take a value, so a negative number reaches the
 * option's own check (with its own message) instead of Node's "argument is ambiguous".
 */
function joinNegatives(argv: readonly string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = /^--([^=]+)$/.exec(argv[i])?.[1];
    const next = argv[i + 1];
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\d|^-\.\d/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(argv[i]);
  }
  return out;
}

/** The name within two edits of `word` (the nearest), for "did you mean". */
function closest(word: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const n of names) {
    const d = editDistance(word, n);
    if (d < bestD) [best, bestD] = [n, d];
  }
  return best;
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

export function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${name} ${v}: expected a whole number from 1 and up`);
  return n;
}

export function nonNegativeInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`${name} ${v}: expected a whole number from 0 and up`);
  return n;
}

export function fraction(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`${name} ${v}: expected a number from 0 to 1`);
  return n;
}

/** `90s`, `30m`, `1h30m`, `7d`, `1500ms`, or plain seconds; `zero`: 0 (`0`, `0s`, ...) is a value too. */
export function duration(name: string, v: string | undefined, zero = false): number | undefined {
  if (v === undefined) return undefined;
  if (zero && /^0+(\.0+)?(ms|s|m|h|d)?$/.test(v)) return 0;
  if (/^\d+(\.\d+)?$/.test(v)) {
    if (Number(v) > 0) return Number(v) * 1000;
    throw new UsageError(`${name} ${v}: expected a duration above 0, such as 90s, 30m or 1h30m`);
  }
  const re = /(\d+(?:\.\d+)?)(ms|d|h|m|s)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(v); m; m = re.exec(v)) {
    const n = Number(m[1]);
    total +=
      m[2] === 'ms'
        ? n
        : m[2] === 's'
          ? n * 1000
          : m[2] === 'm'
            ? n * 60_000
            : m[2] === 'h'
              ? n * 3_600_000
              : n * 86_400_000;
    pos = re.lastIndex;
  }
  if (pos !== v.length || total <= 0)
    throw new UsageError(`${name} ${v}: expected a duration such as 90s, 30m, 1h30m or 7d`);
  return total;
}

/** `KEY=VALUE` pairs. */
export function keyValues(name: string, vs: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of vs ?? []) {
    const i = v.indexOf('=');
    if (i <= 0) throw new UsageError(`${name} ${v}: expected KEY=VALUE`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}
