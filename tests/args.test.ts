/** The option tables of src/util/args.ts: one table gives the parser (values converted, defaults applied) and the help text. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import {
  duration,
  fraction,
  helpText,
  nonNegativeInt,
  numberWhere,
  parse,
  positiveInt,
  SET_OPTION,
  type CommandSpec,
} from '../src/util/args.js';
import { cli, tempDir } from './helpers.js';

const SPEC = {
  name: 'try',
  usage: 'try [options] FILE...',
  about: 'Tries things. '.repeat(12).trim(),
  options: {
    level: { value: 'N', help: 'how hard to try', parse: positiveInt, default: 3 },
    tag: { multiple: true, value: 'TAG', help: 'a label' },
    wait: { value: 'TIME', help: 'how long', parse: (flag, text) => duration(flag, text) },
    set: SET_OPTION,
    'a-very-long-option-name-indeed': { value: 'VALUE', help: 'long' },
    quiet: { type: 'boolean', help: 'say less '.repeat(20).trim() },
  },
  positionals: true,
  footer: 'Exit codes: 0 tried.',
} as const satisfies CommandSpec;

describe('parse(spec, argv)', () => {
  it('reads the table: values converted by parse, repeatable ones as lists, -h as --help, positionals when allowed', () => {
    const { values, positionals } = parse(SPEC, ['--level', '5', '--tag', 'a', '--tag=b', '--wait', '2m', 'f1', 'f2']);
    expect(values).toEqual({ level: 5, tag: ['a', 'b'], wait: 120_000, quiet: false, help: false });
    expect(positionals).toEqual(['f1', 'f2']);
    // Typed from the table: no cast at the call site.
    const level: number = values.level;
    const wait: number | undefined = values.wait;
    const quiet: boolean = values.quiet;
    expect([level, wait, quiet]).toEqual([5, 120_000, false]);
  });

  it("an option's default is applied when it is not given; a string option without one is undefined", () => {
    const { values } = parse(SPEC, []);
    expect(values.level).toBe(3);
    expect(values.wait).toBeUndefined();
    // A flag is false when absent (never undefined): `if (values.quiet)` and `quiet: values.quiet` both read right.
    expect(values.quiet).toBe(false);
    expect('wait' in values).toBe(false);
  });

  it('a repeatable option with a parse gives a list of converted values (--set: pairs, the last wins)', () => {
    const { values } = parse(SPEC, ['--set', 'A=1', '--set', 'B=x=y', '--set', 'A=2']);
    expect(values.set).toEqual([
      ['A', '1'],
      ['B', 'x=y'],
      ['A', '2'],
    ]);
    expect(Object.fromEntries(values.set ?? [])).toEqual({ A: '2', B: 'x=y' });
  });

  it('a default list is a copy: a command changing its value leaves the table alone', () => {
    const spec = { ...SPEC, options: { names: { multiple: true, help: 'names', default: ['a'] } } } as const;
    const first = parse(spec, []).values.names;
    first.push('b');
    expect(parse(spec, []).values.names).toEqual(['a']);
  });

  it('--help wins: nothing else is converted (a bad value beside it still prints the help)', () => {
    expect(parse(SPEC, ['--level', 'x', '-h']).values).toEqual({ help: true });
  });

  it('a negative number reaches the option (its own check judges it)', () => {
    expect(() => parse(SPEC, ['--level', '-2'])).toThrow(
      new UsageError('--level -2: expected a whole number from 1 and up'),
    );
  });

  it('an unknown option is a usage error with the nearest name and where to look', () => {
    expect(() => parse(SPEC, ['--levle', '1'])).toThrow(
      new UsageError("unknown option '--levle' (did you mean --level? see gapbench try --help)"),
    );
    expect(() => parse({ ...SPEC, positionals: false }, ['file'])).toThrow(UsageError);
  });
});

describe('converters: a bad value is a one-line usage error naming the flag', () => {
  const cases: [string, () => unknown, string][] = [
    ['positiveInt', () => positiveInt('--n', '0'), '--n 0: expected a whole number from 1 and up'],
    ['positiveInt', () => positiveInt('--n', '1.5'), '--n 1.5: expected a whole number from 1 and up'],
    ['nonNegativeInt', () => nonNegativeInt('--n', 'x'), '--n x: expected a whole number from 0 and up'],
    ['fraction', () => fraction('--f', '1.5'), '--f 1.5: expected a number from 0 to 1'],
    ['duration', () => duration('--t', '10x'), '--t 10x: expected a duration such as 90s, 30m, 1h30m or 7d'],
    ['duration', () => duration('--t', '0'), '--t 0: expected a duration above 0, such as 90s, 30m or 1h30m'],
    [
      'numberWhere',
      () => numberWhere('a whole number', Number.isInteger)('--s', '1.5'),
      '--s 1.5: expected a whole number',
    ],
    ['SET_OPTION', () => SET_OPTION.parse('--set', 'novalue'), '--set novalue: expected KEY=VALUE'],
  ];
  it.each(cases)('%s', (_name, call, message) => {
    expect(call).toThrow(new UsageError(message));
  });

  it('good values convert', () => {
    expect([positiveInt('--n', '7'), nonNegativeInt('--n', '0'), fraction('--f', '0.25')]).toEqual([7, 0, 0.25]);
    expect([duration('--t', '1h30m'), duration('--t', '0s', true), duration('--t', '90')]).toEqual([
      5_400_000, 0, 90_000,
    ]);
  });
});

describe('through the CLI: a bad option value exits 2 with one line, before anything else is read', () => {
  const cases: [string[], string][] = [
    [['run', '--repeat', 'two'], 'gapbench run: --repeat two: expected a whole number from 1 and up'],
    [['run', '--order-seed', '-1'], 'gapbench run: --order-seed -1: expected a whole number from 0 and up'],
    [['run', '--fail-under', 'gpt=2'], 'gapbench run: --fail-under 2: expected a number from 0 to 1'],
    [
      ['run', '--max-duration', '10x'],
      'gapbench run: --max-duration 10x: expected a duration such as 90s, 30m, 1h30m or 7d',
    ],
    [['run', '--cache', 'maybe'], 'gapbench run: --cache maybe: expected use, refresh or off'],
    [
      ['run', '--concurrency', '10001'],
      'gapbench run: --concurrency 10001: at most 10000 requests in flight per model',
    ],
    [['run', '--until-ci', 'wide'], 'gapbench run: --until-ci wide: expected a number of percentage points'],
    [
      ['compare', 'a', 'b', '--alpha', '1'],
      'gapbench compare: --alpha 1: expected a significance level above 0 and below 0.5',
    ],
    [['capacity', '--slo', 'ttft_p95_s=0'], 'gapbench capacity: --slo ttft_p95_s=0: expected a number above 0'],
    [['sim', '--seed', '1.5'], 'gapbench sim: --seed 1.5: expected a whole number'],
    [['regrade', 'dir', '--set', 'x'], 'gapbench regrade: --set x: expected KEY=VALUE'],
  ];
  it.each(cases)('%j', async (argv, line) => {
    const r = await cli(argv, { cwd: tempDir() });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`${line}\n`);
    expect(r.stdout).toBe('');
  });
});

describe('helpText(spec)', () => {
  const text = helpText(SPEC);
  const lines = text.split('\n');

  it('has the usage, what it does, every option with its value name, and the footer', () => {
    expect(lines[0]).toBe('Usage: gapbench try [options] FILE...');
    expect(text).toContain('Tries things.');
    for (const label of ['--level N', '--tag TAG', '--quiet', '-h, --help']) expect(text).toContain(`  ${label}`);
    expect(lines.at(-1)).toBe('Exit codes: 0 tried.');
  });

  it('says what the table says besides the help: repeatable, the default', () => {
    expect(text).toMatch(/--level N +how hard to try \(default: 3\)/);
    expect(text).toMatch(/--tag TAG +a label \(repeatable\)/);
  });

  it('wraps at 100 columns under the help column; a long label gets a line of its own', () => {
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(100);
    const at = lines.findIndex((l) => l.includes('--a-very-long-option-name-indeed'));
    expect(lines[at].trim()).toBe('--a-very-long-option-name-indeed VALUE');
    expect(lines[at + 1]).toMatch(/^ {10,}long$/);
    const quiet = lines.findIndex((l) => l.startsWith('  --quiet'));
    const column = lines[quiet].indexOf('say');
    expect(lines[quiet + 1].indexOf('say')).toBe(column);
  });
});
