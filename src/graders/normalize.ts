/**
 * Text normalisation and tokenisation shared by exact, contains, similarity and length.
 *
 * Chinese and Japanese are written without spaces, so splitting on whitespace would make a whole
 * Chinese sentence one "word". We make each Han / kana character a token instead (the usual
 * choice for character-level CJK metrics). Hangul is written with spaces, so Korean words stay words.
 */

interface NormalizeOptions {
  /** Lower-case (after NFKC). Default false. */
  ignoreCase?: boolean;
  /** Drop trailing punctuation such as `.` `!` `。` `！`. Default true. */
  stripTrailingPunctuation?: boolean;
}

/** A character written without spaces between words. */
const CJK_CHAR = String.raw`[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]`;
/** A word character that is not CJK (letters with their combining marks, digits, underscore). */
const WORD_CHAR = String.raw`(?:(?!${CJK_CHAR})[\p{L}\p{M}\p{N}_])`;
/**
 * Decimals and thousands (`3.5`, `1,000`) are one token, as are `don't` and `well-known`:
 * models write them that way and a reader counts them as one word.
 */
let token: RegExp | undefined;
// Built on first use: Unicode property classes take milliseconds to build, and most runs never tokenise.
const TOKEN = () =>
  (token ??= new RegExp(String.raw`\p{N}+(?:[.,]\p{N}+)+|${WORD_CHAR}+(?:['’\-]${WORD_CHAR}+)*|${CJK_CHAR}`, 'gu'));

/**
 * NFKC turns full-width forms into ASCII (`１２` -> `12`, `！` -> `!`); the ideographic full stop
 * and comma have no ASCII equivalent, hence listed here. Stripped by a scan from the end: the
 * regex `/[...]+$/` retries from every punctuation run in the text, quadratic on a long answer
 * full of `. . .`.
 */
const TRAILING_PUNCTUATION = new Set([...'.!?,;:。！？，、；：…'].map((c) => c.charCodeAt(0)));

/** The characters JavaScript's `\s` matches (all in the BMP). */
function isSpace(c: number): boolean {
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

const utf16 = new TextDecoder('utf-16le');

/**
 * Every run of whitespace as one space, in one pass over the text. A text whose only whitespace
 * is single spaces is returned as it is; otherwise characters are copied into a buffer once
 * (a regex replace, or string concatenation, costs several times more on an answer with
 * hundreds of thousands of line breaks).
 */
function collapseWhitespace(s: string): string {
  const n = s.length;
  let out: Uint16Array | undefined;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if ((c > 32 && c < 0xa0) || !isSpace(c)) {
      if (out) out[k++] = c;
      continue;
    }
    let j = i + 1;
    while (j < n && isSpace(s.charCodeAt(j))) j++;
    if (c === 32 && j === i + 1) {
      if (out) out[k++] = c;
      continue;
    }
    if (!out) {
      out = new Uint16Array(n);
      for (let m = 0; m < i; m++) out[m] = s.charCodeAt(m);
      k = i;
    }
    out[k++] = 32;
    i = j - 1;
  }
  return out ? utf16.decode(out.subarray(0, k)) : s;
}

/** NFKC, trim, collapse inner whitespace, optionally lower-case and strip trailing punctuation. Linear in the text. */
export function normalizeText(text: string, options: NormalizeOptions = {}): string {
  let s = collapseWhitespace(text.normalize('NFKC')).trim();
  if (options.ignoreCase) s = s.toLowerCase();
  if (options.stripTrailingPunctuation ?? true) {
    let end = s.length;
    while (end > 0 && (TRAILING_PUNCTUATION.has(s.charCodeAt(end - 1)) || isSpace(s.charCodeAt(end - 1)))) end--;
    if (end < s.length) s = s.slice(0, end);
  }
  return s;
}

/** Tokens: latin/cyrillic/... words, numbers, and single CJK characters; punctuation is dropped. */
export function tokenize(text: string, options: { ignoreCase?: boolean } = {}): string[] {
  const s = text.normalize('NFKC');
  const tokens = s.match(TOKEN()) ?? [];
  return options.ignoreCase ? tokens.map((t) => t.toLowerCase()) : tokens;
}

/** Word count as a reader would do it: each CJK character counts one, each other word one. */
export function countWords(text: string): number {
  return tokenize(text).length;
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * The characters of a text as a reader sees them (grapheme clusters, so an emoji or an accented
 * letter written with a combining mark is one character).
 */
export function characters(text: string): string[] {
  return Array.from(segmenter.segment(text), (s) => s.segment);
}
