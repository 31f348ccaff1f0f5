import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';

/**
 * One option of a command, declared once: the parser (each value converted by `parse`, `default`
 * applied), the command's --help and the option tables in docs/ are all made from it (docs: `npm
 * run docs`; tests/docs.test.ts keeps them in step).
 */
interface OptionSpec {
  /** A string option (the value follows the flag) unless `boolean`. */
  type?: 'boolean';
  multiple?: boolean;
  short?: string;
  /** The value's placeholder in help and docs (FILE, N, ...); string options only. */
  value?: string;
  /** One sentence or two, plain text (it is printed on a terminal and in a markdown table). */
  help: string;
  /** String options: the flag (`--repeat`) and its text -> the value, or a one-line UsageError naming the flag. */
  parse?: (flag: string, text: string) => unknown;
  /** The value applied when the option is not given (of the type `parse` returns); help and docs print it. */
  default?: unknown;
  /**
   * What applies when the option is not given where the command decides it (the config's, a resumed
   * run's, ...), as help and docs print it; the value is then undefined, so the command can tell.
   */
  fallback?: string;
}

export type OptionTable = Record<string, OptionSpec>;

/** A command's --help and option table. */
export interface CommandSpec<O extends OptionTable = OptionTable> {
  name: string;
  /** What follows `gapbench`: `run [options]`. */
  usage: string;
  /** What the command does, before its options. */
  about: string;
  options: O;
  /** Positional arguments (run directories, suite files) are accepted. */
  positionals?: boolean;
  /** Printed after the options: exit codes, how to point a client at it, ... */
  footer?: string;
}

/** Every command takes -h/--help; declared here so no table forgets it. */
export const HELP_OPTION = {
  help: { type: 'boolean', short: 'h', help: 'show this help' },
} as const satisfies OptionTable;

/**
 * `--set KEY=VALUE` (run, capacity, regrade, validate, sim): a list of [KEY, VALUE] pairs, which
 * Object.fromEntries turns into variables (the last one given wins).
 */
export const SET_OPTION = {
  multiple: true,
  value: 'KEY=VALUE',
  help: "value for ${KEY} in suite source paths, over the environment's",
  parse: keyValue,
} as const satisfies OptionSpec;

type One<S> = S extends { type: 'boolean' } ? boolean : S extends { parse: (...a: never[]) => infer T } ? T : string;
type ValueOf<S> = S extends { multiple: true } ? One<S>[] : One<S>;
type WithHelp<O extends OptionTable> = O & typeof HELP_OPTION;

/**
 * What parse returns for a table, typed from it: each value as its `parse` returns it (a list when
 * repeatable); when absent, a flag is false and another option its `default`, else undefined.
 */
export type Values<O extends OptionTable> = {
  -readonly [K in keyof WithHelp<O>]:
    ValueOf<WithHelp<O>[K]> | (WithHelp<O>[K] extends { default: {} } | { type: 'boolean' } ? never : undefined);
};

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * The parser of a command: its table (plus --help), strict; unknown options are errors with a "did you
 * mean". Each value given goes through its option's `parse` (table order); absent ones get their
 * `default`. With --help nothing else is read: the command prints its help, even beside a bad value.
 */
export function parse<O extends OptionTable>(
  spec: CommandSpec<O>,
  argv: string[],
): { values: Values<O>; positionals: string[] } {
  const table: OptionTable = { ...spec.options, ...HELP_OPTION };
  const options: Options = {};
  for (const [name, o] of Object.entries(table))
    options[name] = {
      type: o.type ?? 'string',
      ...(o.multiple ? { multiple: true } : {}),
      ...(o.short ? { short: o.short } : {}),
    };
  let raw: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };
  try {
    raw = parseArgs({
      args: joinNegatives(argv, options),
      strict: true,
      options,
      allowPositionals: Boolean(spec.positionals),
    });
  } catch (e) {
    let msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '').replace(/\s+/g, ' ');
    msg = msg.charAt(0).toLowerCase() + msg.slice(1);
    const unknown = /^unknown option '--([^'=]+)/.exec(msg)?.[1];
    const near = unknown === undefined ? undefined : closest(unknown, Object.keys(options));
    throw new UsageError(`${msg} (${near ? `did you mean --${near}? ` : ''}see gapbench ${spec.name} --help)`);
  }
  if (raw.values.help) return { values: { help: true } as unknown as Values<O>, positionals: raw.positionals };
  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(table)) {
    const given = raw.values[name];
    const convert = (text: string | boolean) => (o.parse ? o.parse(`--${name}`, String(text)) : text);
    if (given !== undefined) values[name] = Array.isArray(given) ? given.map(convert) : convert(given);
    else if (o.default !== undefined || o.type === 'boolean') values[name] = structuredClone(o.default ?? false);
  }
  return { values: values as Values<O>, positionals: raw.positionals };
}

/** `--name VALUE` (or `-h, --help`), as help and docs show an option. */
export function optionLabel(name: string, o: OptionSpec): string {
  const flag = `${o.short ? `-${o.short}, ` : ''}--${name}`;
  return o.type === 'boolean' ? flag : `${flag} ${o.value ?? 'VALUE'}`;
}

/** The help sentence with what the table says besides: repeatable, the default. */
export function optionMeaning(o: OptionSpec): string {
  const extra = [o.multiple ? 'repeatable' : '', defaultText(o) !== undefined ? `default: ${defaultText(o)}` : '']
    .filter(Boolean)
    .join('; ');
  return extra ? `${o.help} (${extra})` : o.help;
}

/** The default as help and docs print it: the value the parser applies (a list's items joined), or the fallback text. */
function defaultText(o: OptionSpec): string | undefined {
  if (o.default === undefined) return o.fallback;
  return Array.isArray(o.default) ? o.default.join(', ') : String(o.default);
}

const HELP_WIDTH = 100;

/** `gapbench CMD --help`: usage, what it does, every option of its table, the footer. */
export function helpText(spec: CommandSpec): string {
  const rows = Object.entries({ ...spec.options, ...HELP_OPTION } as OptionTable).map(([n, o]) => [
    optionLabel(n, o),
    optionMeaning(o),
  ]);
  const col = Math.min(26, Math.max(...rows.map(([l]) => l.length)) + 2);
  const lines = [`Usage: gapbench ${spec.usage}`, '', ...wrap(spec.about, HELP_WIDTH, ''), '', 'Options:'];
  for (const [label, meaning] of rows) {
    const body = wrap(meaning, HELP_WIDTH - col - 2, ' '.repeat(col + 2));
    // A label too long for the column gets a line of its own, so two spaces always part it from its help.
    if (label.length > col - 2) lines.push(`  ${label}`, ...body.map((l, i) => (i ? l : ' '.repeat(col + 2) + l)));
    else lines.push(`  ${label}`.padEnd(col + 2) + body[0], ...body.slice(1));
  }
  if (spec.footer) lines.push('', ...wrap(spec.footer, HELP_WIDTH, ''));
  return lines.join('\n');
}

/** Greedy word wrap of each paragraph (blank lines kept); lines after the first get `indent`. */
function wrap(text: string, width: number, indent: string): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(/ +/)) {
      if (line && line.length + 1 + word.length > width) {
        out.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(line);
  }
  return out.map((l, i) => (i && l ? indent + l : l));
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

/** A converter to a whole number from `min` up, else `--flag TEXT: expected a whole number from MIN and up`. */
function wholeFrom(min: number): (flag: string, text: string) => number {
  return (flag, text) => {
    const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n) || n < min)
      throw new UsageError(`${flag} ${text}: expected a whole number from ${min} and up`);
    return n;
  };
}

export const positiveInt = wholeFrom(1);
export const nonNegativeInt = wholeFrom(0);

/** A converter to a number that passes `ok`, else `--flag TEXT: expected WHAT`. */
export function numberWhere(what: string, ok: (n: number) => boolean): (flag: string, text: string) => number {
  return (flag, text) => {
    const n = Number(text);
    if (!ok(n)) throw new UsageError(`${flag} ${text}: expected ${what}`);
    return n;
  };
}

export const fraction = numberWhere('a number from 0 to 1', (n) => Number.isFinite(n) && n >= 0 && n <= 1);

/** `90s`, `30m`, `1h30m`, `7d`, `1500ms`, or plain seconds -> ms; `zero`: 0 (`0`, `0s`, ...) is a value too. */
export function duration(name: string, v: string, zero = false): number {
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

/** `KEY=VALUE` -> [KEY, VALUE]. */
function keyValue(name: string, v: string): [string, string] {
  const i = v.indexOf('=');
  if (i <= 0) throw new UsageError(`${name} ${v}: expected KEY=VALUE`);
  return [v.slice(0, i), v.slice(i + 1)];
}
