import { describe, expect, it } from 'vitest';
import { CheckError, checkMatches, evaluateCheck, expectedNumber } from '../src/suite/check.js';

function errorOf(expr: string): CheckError {
  try {
    evaluateCheck(expr);
  } catch (e) {
    expect(e).toBeInstanceOf(CheckError);
    return e as CheckError;
  }
  throw new Error(`expected ${JSON.stringify(expr)} to throw`);
}

describe('evaluateCheck: numbers and operators', () => {
  it.each([
    ['42', 42],
    ['3.25', 3.25],
    ['.5', 0.5],
    ['007', 7],
    ['  1 +\n 2\t', 3],
    ['10 - 4 - 3', 3],
    ['100 / 10 / 5', 2],
    ['7 / 2', 3.5],
    ['17 % 5', 2],
    ['-17 % 5', -2],
    ['5.5 % 2', 1.5],
    ['2 * 3 % 4', 2],
  ])('%s = %s', (expr, value) => {
    expect(evaluateCheck(expr)).toBeCloseTo(value, 12);
  });

  it('follows precedence: * / % before + -', () => {
    expect(evaluateCheck('2 + 3 * 4')).toBe(14);
    expect(evaluateCheck('2 * 3 + 4')).toBe(10);
    expect(evaluateCheck('20 - 6 / 3')).toBe(18);
    expect(evaluateCheck('1 + 10 % 4')).toBe(3);
    expect(evaluateCheck('(2 + 3) * 4')).toBe(20);
    expect(evaluateCheck('((2))')).toBe(2);
    expect(evaluateCheck('2 * (3 + (4 - 1)) / 3')).toBe(4);
  });

  it('** binds tighter than * and is right-associative', () => {
    expect(evaluateCheck('2 ** 3 ** 2')).toBe(512);
    expect(evaluateCheck('(2 ** 3) ** 2')).toBe(64);
    expect(evaluateCheck('3 * 2 ** 3')).toBe(24);
    expect(evaluateCheck('2 ** 3 * 3')).toBe(24);
    expect(evaluateCheck('1000 * 1.05 ** 2')).toBeCloseTo(1102.5, 9);
    expect(evaluateCheck('4 ** 0.5')).toBe(2);
    expect(evaluateCheck('2 ** 10 % 1000')).toBe(24);
  });

  it('handles unary minus, including with **', () => {
    expect(evaluateCheck('-5')).toBe(-5);
    expect(evaluateCheck('--5')).toBe(5);
    expect(evaluateCheck('- -5')).toBe(5);
    expect(evaluateCheck('3 - -2')).toBe(5);
    expect(evaluateCheck('3 * -2')).toBe(-6);
    expect(evaluateCheck('-(2 + 3)')).toBe(-5);
    expect(evaluateCheck('-2 ** 2')).toBe(-4);
    expect(evaluateCheck('(-2) ** 2')).toBe(4);
    expect(evaluateCheck('2 ** -1')).toBe(0.5);
    expect(evaluateCheck('2 ** -1 ** 2')).toBe(0.5);
    expect(evaluateCheck('-3 + 10')).toBe(7);
    expect(evaluateCheck('-0')).toBe(0);
    expect(Object.is(evaluateCheck('-0'), -0)).toBe(false);
  });
});

describe('evaluateCheck: functions', () => {
  it.each([
    ['floor(7.9)', 7],
    ['floor(-7.1)', -8],
    ['ceil(7.1)', 8],
    ['ceil(-7.9)', -7],
    ['round(2.5)', 3],
    ['round(-2.5)', -3],
    ['round(2.49)', 2],
    ['abs(-4.5)', 4.5],
    ['sqrt(144)', 12],
    ['sqrt(2) ** 2', 2],
    ['min(3, 1, 2)', 1],
    ['max(3, 1, 2)', 3],
    ['max(4)', 4],
    ['min(-1, -2 * 3)', -6],
    ['max(0, 10 - 25)', 0],
    ['floor(17 / 5) + 17 % 5', 5],
    ['round(sqrt(3 ** 2 + 4 ** 2) * 10) / 10', 5],
    ['ceil(250 / 12)', 21],
    ['2 * floor(9 / 2)', 8],
    ['-abs(-3)', -3],
    ['abs(2 - 5) ** 2', 9],
  ])('%s = %s', (expr, value) => {
    expect(evaluateCheck(expr)).toBeCloseTo(value, 12);
  });

  it('rounds what a person would compute, not float noise', () => {
    expect(4.35 * 100).toBeLessThan(435);
    expect(evaluateCheck('floor(4.35 * 100)')).toBe(435);
    expect(evaluateCheck('round(1.005 * 100)')).toBe(101);
    expect(evaluateCheck('ceil(0.1 * 3 * 10)')).toBe(3);
    expect(evaluateCheck('round(1234.5678 * 100) / 100')).toBeCloseTo(1234.57, 12);
  });
});

describe('evaluateCheck: errors', () => {
  it.each([
    ['', 'empty expression', 1],
    ['   ', 'empty expression', 1],
    ['2 +', 'unexpected end of expression', 4],
    ['2 + * 3', 'unexpected "*"', 5],
    ['2 * * 3', 'unexpected "*"', 5],
    ['(2 + 3', 'expected ")" to close the "(" at position 1', 7],
    ['2 + 3)', 'unmatched ")"', 6],
    ['2 3', 'unexpected "3"', 3],
    ['2 $ 3', 'unexpected character "$"', 3],
    ['x + 1', 'unknown name "x"', 1],
    ['1 + pow(2, 3)', 'unknown function "pow"', 5],
    ['floor 2', 'expected "(" after function "floor"', 7],
    ['floor()', 'needs at least one argument', 7],
    ['floor(1, 2)', 'takes 1 argument, got 2', 1],
    ['max(1 2)', 'expected "," or ")"', 7],
    ['max(1,)', 'unexpected ")"', 7],
    ['1.2.3', 'malformed number "1.2.3"', 1],
    ['5.', 'malformed number "5."', 1],
    ['1e3', 'malformed number "1e3"', 1],
    ['2x', 'malformed number "2x"', 1],
    ['10 / (5 - 5)', 'division by zero', 4],
    ['10 % 0', 'remainder by zero', 4],
    ['1 + sqrt(-4)', 'sqrt of a negative number', 5],
    ['(-8) ** 0.5', 'is not a real number', 6],
    ['10 ** 400', 'not a finite number', 4],
    ['+3', 'unary "+" is not allowed', 1],
    ['2 ^ 3', 'unexpected character "^"', 3],
    ['1,5', 'unexpected ","', 2],
    ['()', 'unexpected ")"', 2],
  ])('%j -> %s at position %i', (expr, problem, position) => {
    const e = errorOf(expr);
    expect(e.problem).toContain(problem);
    expect(e.position).toBe(position);
    expect(e.message).toContain(`at position ${position}`);
    expect(e.message).toContain(problem);
    expect(e.message).not.toContain('\n');
  });

  it('keeps the message on one line for multi-line expressions and names the expression', () => {
    const e = errorOf('1 +\n(2 *');
    expect(e.message).not.toContain('\n');
    expect(e.message).toContain('"1 +\\n(2 *"');
    expect(e.name).toBe('CheckError');
    expect(e).toBeInstanceOf(Error);
  });

  it('refuses absurd nesting instead of overflowing the stack', () => {
    expect(errorOf(`${'('.repeat(2000)}1${')'.repeat(2000)}`).problem).toContain('nested more than');
    expect(errorOf(`${'-'.repeat(2000)}1`).problem).toContain('nested more than');
    expect(evaluateCheck(`${'('.repeat(50)}1${')'.repeat(50)}`)).toBe(1);
    expect(errorOf('1'.repeat(10_001)).problem).toContain('longer than 10000 characters');
  });

  it('never evaluates JavaScript', () => {
    expect(() => evaluateCheck('process.exit(1)')).toThrow(CheckError);
    expect(() => evaluateCheck('constructor')).toThrow(CheckError);
    expect(() => evaluateCheck('toString(1)')).toThrow(/unknown function "toString"/);
    expect(() => evaluateCheck('__proto__(1)')).toThrow(/unknown function/);
  });
});

describe('checkMatches / expectedNumber', () => {
  it('parses expected numbers and numeric strings', () => {
    expect(expectedNumber(34)).toBe(34);
    expect(expectedNumber('34')).toBe(34);
    expect(expectedNumber(' 7.5 ')).toBe(7.5);
    expect(expectedNumber('-3')).toBe(-3);
    expect(expectedNumber('12,500')).toBe(12500);
    expect(expectedNumber('1,234.5')).toBe(1234.5);
    expect(expectedNumber('12,50')).toBeNull();
    expect(expectedNumber('34 apples')).toBeNull();
    expect(expectedNumber('')).toBeNull();
    expect(expectedNumber(null)).toBeNull();
    expect(expectedNumber(['34'])).toBeNull();
    expect(expectedNumber(Number.NaN)).toBeNull();
  });

  it('compares with a 1e-9 relative tolerance', () => {
    expect(checkMatches(0.1 + 0.2, '0.3')).toBe(true);
    expect(checkMatches(34, '34')).toBe(true);
    expect(checkMatches(34, 34)).toBe(true);
    expect(checkMatches(12500, '12,500')).toBe(true);
    expect(checkMatches(1e12 + 1, 1e12)).toBe(true);
    expect(checkMatches(1e6 + 0.01, 1e6)).toBe(false);
    expect(checkMatches(34.01, '34')).toBe(false);
    expect(checkMatches(-3, '3')).toBe(false);
    expect(checkMatches(1e-12, 0)).toBe(true);
    expect(checkMatches(1e-6, 0)).toBe(false);
  });

  it('is false when expected is not a number', () => {
    expect(checkMatches(34, 'thirty-four')).toBe(false);
    expect(checkMatches(34, undefined)).toBe(false);
    expect(checkMatches(34, { value: 34 })).toBe(false);
    expect(checkMatches(Number.NaN, 'NaN')).toBe(false);
    expect(checkMatches(Number.POSITIVE_INFINITY, 'Infinity')).toBe(false);
  });

  it('works end to end with evaluateCheck', () => {
    expect(checkMatches(evaluateCheck('40 * (1 - 0.15)'), '34')).toBe(true);
    expect(checkMatches(evaluateCheck('40 * (1 - 0.15)'), '35')).toBe(false);
  });
});
