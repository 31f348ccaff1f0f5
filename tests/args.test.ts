/** The option tables of src/util/args.ts: one table gives the parser and the help text. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { helpText, parse, type CommandSpec } from '../src/util/args.js';

const SPEC = {
  name: 'try',
  usage: 'try [options] FILE...',
  about: 'Tries things. '.repeat(12).trim(),
  options: {
    level: { type: 'string', value: 'N', help: 'how hard to try', default: '3' },
    tag: { type: 'string', multiple: true, value: 'TAG', help: 'a label' },
    'a-very-long-option-name-indeed': { type: 'string', value: 'VALUE', help: 'long' },
    quiet: { type: 'boolean', help: 'say less '.repeat(20).trim() },
  },
  positionals: true,
  footer: 'Exit codes: 0 tried.',
} as const satisfies CommandSpec;

describe('parse(spec, argv)', () => {
  it('reads the table: values as text, repeatable ones as lists, -h as --help, positionals when allowed', () => {
    const { values, positionals } = parse(SPEC, ['--level', '5', '--tag', 'a', '--tag=b', '-h', 'f1', 'f2']);
    expect(values).toEqual({ level: '5', tag: ['a', 'b'], help: true });
    expect(positionals).toEqual(['f1', 'f2']);
  });

  it("a table's default is help text, never a value the command receives", () => {
    expect(parse(SPEC, []).values.level).toBeUndefined();
  });

  it('a negative number reaches the option (its own check judges it)', () => {
    expect(parse(SPEC, ['--level', '-2']).values.level).toBe('-2');
  });

  it('an unknown option is a usage error with the nearest name and where to look', () => {
    expect(() => parse(SPEC, ['--levle', '1'])).toThrow(
      new UsageError("unknown option '--levle' (did you mean --level? see gapbench try --help)"),
    );
    expect(() => parse({ ...SPEC, positionals: false }, ['file'])).toThrow(UsageError);
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
