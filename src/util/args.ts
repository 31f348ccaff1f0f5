import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';

/**
 * One option of a command, declared once: the parser, the command's --help and the option tables
 * in docs/ are all made from it (docs: `npm run docs`; tests/docs.test.ts keeps them in step).
 * Values stay text here: each command converts and checks its own (positiveInt, duration, ...),
 * with the messages its users know.
 */
interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** The value's placeholder in help and docs (FILE, N, ...); string options only. */
  value?: string;
  /** One sentence or two, plain text (it is printed on a terminal and in a markdown table). */
  help: string;
  /** What applies when the option is not given, as help and docs print it. */
  default?: string;
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

/** What the parser sees of a table: `default` is text for help and docs, never a parsed value. */
type WithHelp<O extends OptionTable> = {
  [K in keyof (O & typeof HELP_OPTION)]: Omit<(O & typeof HELP_OPTION)[K], 'default'>;
};
type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs, strict, with its errors turned into one-line usage errors. */
type Parsed<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: true }>
>;

/** The parser of a command: its table (plus --help), strict; unknown options are errors with a "did you mean". */
export function parse<O extends OptionTable>(spec: CommandSpec<O>, argv: string[]): Parsed<WithHelp<O>> {
  const table = { ...spec.options, ...HELP_OPTION } as WithHelp<O>;
  const options: Options = {};
  for (const [name, o] of Object.entries(table as OptionTable))
    options[name] = { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) };
  try {
    return parseArgs({
      args: joinNegatives(argv, options),
      strict: true,
      options,
      allowPositionals: Boolean(spec.positionals),
    }) as unknown as Parsed<WithHelp<O>>;
  } catch (e) {
    let msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '').replace(/\s+/g, ' ');
    msg = msg.charAt(0).toLowerCase() + msg.slice(1);
    const unknown = /^unknown option '--([^'=]+)/.exec(msg)?.[1];
    const near = unknown === undefined ? undefined : closest(unknown, Object.keys(options));
    throw new UsageError(`${msg} (${near ? `did you mean --${near}? ` : ''}see gapbench ${spec.name} --help)`);
  }
}

/** `--name VALUE` (or `-h, --help`), as help and docs show an option. */
export function optionLabel(name: string, o: OptionSpec): string {
  const flag = `${o.short ? `-${o.short}, ` : ''}--${name}`;
  return o.type === 'string' ? `${flag} ${o.value ?? 'VALUE'}` : flag;
}

/** The help sentence with what the table says besides: repeatable, the default. */
export function optionMeaning(o: OptionSpec): string {
  const extra = [o.multiple ? 'repeatable' : '', o.default !== undefined ? `default: ${o.default}` : '']
    .filter(Boolean)
    .join('; ');
  return extra ? `${o.help} (${extra})` : o.help;
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
