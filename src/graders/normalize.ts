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
 * and comma have no ASCII equivalent, hence listed here.
 */
const TRAILING_PUNCTUATION = /[\s.!?,;:。！？，、；：…]+$/u;

/** NFKC, trim, collapse inner whitespace, optionally lower-case and strip trailing punctuation. */
export function normalizeText(text: string, options: NormalizeOptions = {}): string {
  let s = text.normalize('NFKC').replace(/\s+/gu, ' ').trim();
  if (options.ignoreCase) s = s.toLowerCase();
  if (options.stripTrailingPunctuation ?? true) s = s.replace(TRAILING_PUNCTUATION, '');
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
