/**
 * The `check` expressions of suite cases: a tiny arithmetic language, parsed and evaluated by a
 * recursive-descent parser (never `eval` / `Function`), so a suite file cannot run code.
 *
 * Grammar (lowest precedence first):
 *
 *   expr    := term (('+' | '-') term)*
 *   term    := unary (('*' | '/' | '%') unary)*
 *   unary   := '-' unary | power
 *   power   := primary ('**' unary)?          right-associative: 2 ** 3 ** 2 = 2 ** 9
 *   primary := NUMBER | '(' expr ')' | NAME '(' expr (',' expr)* ')'
 *   NUMBER  := digits ['.' digits] | '.' digits
 *   NAME    := floor | ceil | round | abs | sqrt  (one argument) | min | max  (one or more)
 *
 * As in Python, `**` binds tighter than a unary minus on its left (-2 ** 2 = -4) and accepts one on
 * its right (2 ** -1 = 0.5). `%` is the remainder with the sign of the dividend (JavaScript's).
 * `round` rounds halves away from zero (2.5 -> 3, -2.5 -> -3). floor, ceil and round first snap
 * their argument to 15 significant digits, so float noise (4.35 * 100 = 434.99999999999994) does
 * not change the whole number a person would compute.
 */

/** A `check` expression that does not parse or cannot be evaluated. The message is one line. */
export class CheckError extends Error {
  constructor(
    /** What went wrong, without the location. */
    readonly problem: string,
    /** 1-based character position in the expression. */
    readonly position: number,
    readonly expression: string,
  ) {
    super(`check ${oneLine(expression)}: ${problem} at position ${position}`);
    this.name = 'CheckError';
  }
}

function oneLine(expression: string): string {
  const shown = expression.length > 120 ? `${expression.slice(0, 117)}...` : expression;
  return JSON.stringify(shown);
}

type TokenKind = 'num' | 'name' | 'op' | '(' | ')' | ',' | 'end';

interface Token {
  kind: TokenKind;
  text: string;
  /** 0-based index in the expression. */
  index: number;
}

// Looked up with Object.hasOwn only: `name in table` would find "toString", "constructor", ...
const ONE_ARG: Record<string, (x: number) => number> = {
  floor: (x) => Math.floor(snap(x)),
  ceil: (x) => Math.ceil(snap(x)),
  round: (x) => {
    const s = snap(x);
    return Math.sign(s) * Math.floor(Math.abs(s) + 0.5);
  },
  abs: Math.abs,
  sqrt: Math.sqrt,
};
const MANY_ARGS: Record<string, (xs: number[]) => number> = {
  min: (xs) => Math.min(...xs),
  max: (xs) => Math.max(...xs),
};
const FUNCTIONS = [...Object.keys(ONE_ARG), ...Object.keys(MANY_ARGS)];

/** Nesting deeper than this is refused (it is never needed, and it would overflow the stack). */
const MAX_DEPTH = 100;
const MAX_LENGTH = 10_000;

function snap(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(15)) : x;
}

function describe(t: Token): string {
  return t.kind === 'end' ? 'end of expression' : `"${t.text}"`;
}

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  const fail = (problem: string, index: number) => new CheckError(problem, index + 1, expr);
  let i = 0;
  while (i < expr.length) {
    const c = expr[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[0-9.]/.test(c)) {
      const m = /^(?:\d+(?:\.\d+)?|\.\d+)/.exec(expr.slice(i));
      if (!m) throw fail(`malformed number "${/^[0-9.]+/.exec(expr.slice(i))![0]}"`, i);
      const after = expr[i + m[0].length];
      if (after !== undefined && /[0-9.A-Za-z_]/.test(after)) {
        const bad = /^[0-9.A-Za-z_]+/.exec(expr.slice(i))![0];
        throw fail(`malformed number "${bad}"`, i);
      }
      tokens.push({ kind: 'num', text: m[0], index: i });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(expr.slice(i))![0];
      tokens.push({ kind: 'name', text: name, index: i });
      i += name.length;
      continue;
    }
    if (c === '*' && expr[i + 1] === '*') {
      tokens.push({ kind: 'op', text: '**', index: i });
      i += 2;
      continue;
    }
    if ('+-*/%'.includes(c)) {
      tokens.push({ kind: 'op', text: c, index: i });
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, text: c, index: i });
      i++;
      continue;
    }
    throw fail(`unexpected character ${JSON.stringify(c)}`, i);
  }
  tokens.push({ kind: 'end', text: '', index: expr.length });
  return tokens;
}

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly expr: string,
    private readonly tokens: Token[],
  ) {}

  private fail(problem: string, at: Token | number): CheckError {
    const index = typeof at === 'number' ? at : at.index;
    return new CheckError(problem, index + 1, this.expr);
  }

  private peek(): Token {
    return this.tokens[this.pos];
  }

  private next(): Token {
    return this.tokens[this.pos++];
  }

  private isOp(text: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === text;
  }

  /** A finite result, or an error at the operator that produced it. */
  private finite(value: number, at: Token, what: string): number {
    if (!Number.isFinite(value)) throw this.fail(`${what} is not a finite number`, at);
    return value;
  }

  parseAll(): number {
    if (this.peek().kind === 'end') throw this.fail('empty expression', 0);
    const value = this.expression();
    const t = this.peek();
    if (t.kind !== 'end') {
      throw this.fail(t.kind === ')' ? 'unmatched ")"' : `unexpected ${describe(t)} (expected an operator)`, t);
    }
    return value;
  }

  private enter(at: Token): void {
    if (++this.depth > MAX_DEPTH) throw this.fail(`nested more than ${MAX_DEPTH} levels deep`, at);
  }

  private expression(): number {
    this.enter(this.peek());
    let value = this.term();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.next();
      const right = this.term();
      value = this.finite(op.text === '+' ? value + right : value - right, op, 'the result');
    }
    this.depth--;
    return value;
  }

  private term(): number {
    let value = this.unary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const op = this.next();
      const right = this.unary();
      if (op.text === '*') value = this.finite(value * right, op, 'the product');
      else if (right === 0) throw this.fail(op.text === '/' ? 'division by zero' : 'remainder by zero', op);
      else value = this.finite(op.text === '/' ? value / right : value % right, op, 'the result');
    }
    return value;
  }

  private unary(): number {
    if (this.isOp('-')) {
      const op = this.next();
      this.enter(op);
      const value = -this.unary();
      this.depth--;
      return value;
    }
    return this.power();
  }

  private power(): number {
    const base = this.primary();
    if (!this.isOp('**')) return base;
    const op = this.next();
    this.enter(op);
    const exponent = this.unary();
    this.depth--;
    const value = base ** exponent;
    if (Number.isNaN(value)) throw this.fail(`${base} ** ${exponent} is not a real number`, op);
    return this.finite(value, op, 'the power');
  }

  private primary(): number {
    const t = this.next();
    switch (t.kind) {
      case 'num':
        return Number(t.text);
      case '(': {
        const value = this.expression();
        const close = this.peek();
        if (close.kind !== ')') {
          throw this.fail(`expected ")" to close the "(" at position ${t.index + 1}, found ${describe(close)}`, close);
        }
        this.next();
        return value;
      }
      case 'name':
        return this.call(t);
      case 'end':
        throw this.fail('unexpected end of expression (expected a number, "(" or a function)', t);
      case 'op':
        if (t.text === '+') throw this.fail('unary "+" is not allowed', t);
        throw this.fail(`unexpected ${describe(t)} (expected a number, "(" or a function)`, t);
      default:
        throw this.fail(`unexpected ${describe(t)} (expected a number, "(" or a function)`, t);
    }
  }

  private call(name: Token): number {
    const known = Object.hasOwn(ONE_ARG, name.text) || Object.hasOwn(MANY_ARGS, name.text);
    if (!known) {
      const called = this.peek().kind === '(';
      throw this.fail(
        called
          ? `unknown function "${name.text}" (known: ${FUNCTIONS.join(', ')})`
          : `unknown name "${name.text}" (variables are not allowed; functions: ${FUNCTIONS.join(', ')})`,
        name,
      );
    }
    const open = this.next();
    if (open.kind !== '(') throw this.fail(`expected "(" after function "${name.text}", found ${describe(open)}`, open);
    const args: number[] = [];
    if (this.peek().kind === ')') throw this.fail(`function "${name.text}" needs at least one argument`, this.peek());
    for (;;) {
      args.push(this.expression());
      const t = this.next();
      if (t.kind === ',') continue;
      if (t.kind === ')') break;
      throw this.fail(`expected "," or ")" in the arguments of "${name.text}", found ${describe(t)}`, t);
    }
    if (Object.hasOwn(ONE_ARG, name.text)) {
      const one = ONE_ARG[name.text];
      if (args.length !== 1) throw this.fail(`function "${name.text}" takes 1 argument, got ${args.length}`, name);
      if (name.text === 'sqrt' && args[0] < 0) throw this.fail(`sqrt of a negative number (${args[0]})`, name);
      return one(args[0]);
    }
    return MANY_ARGS[name.text](args);
  }
}

/** Evaluates a `check` expression. Throws `CheckError` (one line, with the position) when it is invalid. */
export function evaluateCheck(expr: string): number {
  if (typeof expr !== 'string')
    throw new CheckError(`expected an expression string, got ${typeof expr}`, 1, String(expr));
  if (expr.length > MAX_LENGTH) throw new CheckError(`longer than ${MAX_LENGTH} characters`, MAX_LENGTH + 1, expr);
  const value = new Parser(expr, tokenize(expr)).parseAll();
  // -0 reads as 0 everywhere else; keep it out of messages.
  return value === 0 ? 0 : value;
}

const NUMBER_TEXT = /^[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)$/;

/** `expected` as a number: a finite number, or a string holding just one ("12,500", "-3", "7.5"); else null. */
export function expectedNumber(expected: unknown): number | null {
  if (typeof expected === 'number') return Number.isFinite(expected) ? expected : null;
  if (typeof expected !== 'string') return null;
  const text = expected.trim().replace(/^−/, '-');
  if (!NUMBER_TEXT.test(text)) return null;
  const n = Number(text.replace(/,/g, ''));
  return Number.isFinite(n) ? n : null;
}

/**
 * Whether a check's value equals a case's expected answer: within 1e-9 relative to the expected
 * magnitude (absolute 1e-9 when that magnitude is below 1). False when expected is not a number.
 */
export function checkMatches(value: number, expected: unknown): boolean {
  const want = expectedNumber(expected);
  if (want === null || typeof value !== 'number' || !Number.isFinite(value)) return false;
  return Math.abs(value - want) <= 1e-9 * Math.max(1, Math.abs(want));
}
