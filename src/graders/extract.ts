/**
 * Pure answer extraction: the final number or the chosen letter in a model's output.
 * Explicit answers (a JSON `answer` field, `####`, `\boxed{}`, "the answer is") beat the last
 * number, because models often append explanations that hold other numbers.
 */
import { isRecord } from '../util/record.js';

interface NumberAnswer {
  value: number;
  /** The text the number was read from, as written (e.g. `$9,500`). */
  text: string;
  /** Where it was found, for grade reasons (e.g. `JSON answer`, `last number`). */
  how: string;
}

interface ChoiceAnswer {
  letter: string;
  how: string;
}

// Sign only where it cannot be a subtraction ("16-7"); currency on either side of it.
const NUM_BODY = String.raw`(?:\d{1,3}(?:,\d{3})+(?!\d|,\d)|\d+)(?:\.\d+)?(?:e[+-]?\d+(?![\d.]))?|\.\d+`;
const TOKEN = new RegExp(
  String.raw`(?<![\w)\]}.])([-−－]?)((?:\\?[$€¥£₹]|USD\s?)?)([-−]?)` +
    String.raw`(?<![A-Za-z_\d])(?:(\d+) +(\d+)\/(\d+)(?![\d.\/])|(${NUM_BODY})(?:\/(\d+(?:\.\d+)?)(?![\d\/])|:(\d{2})(?!\d))?)` +
    String.raw`(?:\s*(million|billion|trillion|thousand)\b)?`,
  'gi',
);
const SCALE: Record<string, number> = { thousand: 1e3, million: 1e6, billion: 1e9, trillion: 1e12 };

interface Token {
  value: number;
  text: string;
  index: number;
}

/** Every rewrite below needs one of these characters. */
const LATEXISH = /[\\{\u000c\u0008]/;

/** Rewrites LaTeX numbers into plain text: `\frac{3}{4}` -> `3/4`, `1{,}000` -> `1,000`, `\$5` -> `$5`. */
function delatex(text: string): string {
  if (!LATEXISH.test(text)) return text;
  return text
    .replace(/\u000c(?=rac)/g, '\\f') // "\frac" read as a JSON form feed
    .replace(/\u0008(?=oxed)/g, '\\b')
    .replace(
      /(\d)?\s*\\[dt]?frac\s*\{\s*([^{}]+?)\s*\}\s*\{\s*([^{}]+?)\s*\}/g,
      (_m, w: string | undefined, a: string, b: string) => `${w === undefined ? '' : `${w} `}${a}/${b}`,
    )
    .replace(/\{,\}/g, ',')
    .replace(/(\d)\\[,!;: ](?=\d{3})/g, '$1,')
    .replace(/\\(?:text|mathrm|textbf|mbox)\s*\{([^{}]*)\}/g, ' $1 ')
    .replace(/\\[%$]/g, (m) => m.slice(1))
    .replace(/\\(?:left|right)\b/g, '');
}

function numberTokens(text: string): Token[] {
  const out: Token[] = [];
  for (const m of delatex(text).matchAll(TOKEN)) {
    const [full, sign1, , sign2, whole, num, den, body, over, minutes, scale] = m;
    let value: number;
    if (whole !== undefined) value = Number(whole) + Number(num) / Number(den);
    else {
      value = Number(body.replace(/,/g, ''));
      if (over !== undefined) value /= Number(over);
      if (minutes !== undefined) value += Number(minutes) / 60;
    }
    if (scale !== undefined) value *= SCALE[scale.toLowerCase()];
    if (sign1 || sign2) value = -value;
    if (Number.isFinite(value)) out.push({ value, text: full.trim(), index: m.index });
  }
  return out;
}

/**
 * The number an answer text states: the right side of its last `=` if any ("200 + 250 = 450"),
 * else its first number ("16 hours", "$9,500", "2/3", "Sally has 9 books").
 */
function numberInAnswerText(text: string): Token | null {
  const body = lastBoxed(text) ?? text;
  const eq = Math.max(body.lastIndexOf('='), body.lastIndexOf('≈'));
  const tail = eq >= 0 ? numberTokens(body.slice(eq + 1).replace(/^[\s*_(]+/, ''))[0] : undefined;
  return (tail?.index === 0 ? tail : undefined) ?? numberTokens(body)[0] ?? null;
}

/** Parses a gold answer written as text: "2,125", "# 18", "#### -3", "$5.00", "3/4". */
export function parseNumber(text: string): number | null {
  return numberInAnswerText(text.replace(/^\s*#+/, ''))?.value ?? null;
}

/** Contents of every `\boxed{...}` / `\fbox{...}`, with nested braces. */
function boxedContents(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\\(?:boxed|fbox)\s*\{/g)) {
    let depth = 1;
    let i = m.index + m[0].length;
    const start = i;
    for (; i < text.length && depth > 0; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}') depth--;
    }
    if (depth === 0) out.push(text.slice(start, i - 1));
  }
  return out;
}

function lastBoxed(text: string): string | undefined {
  return boxedContents(text).at(-1);
}

/**
 * Balanced `{...}` spans, outermost only. Quotes are not tracked: the strings of broken JSON
 * (an unescaped `64"` in the reasoning) would throw the count off more than braces in strings do.
 */
function jsonObjectSpans(text: string): string[] {
  const spans: string[] = [];
  let depth = 0;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && depth > 0 && --depth === 0) spans.push(text.slice(start, i + 1));
  }
  return spans;
}

function parseJsonLoosely(span: string): unknown {
  const attempts = [
    span,
    // Raw newlines inside strings, LaTeX backslashes, and trailing commas are the usual breakages.
    span
      .replace(/[\n\r\t]/g, ' ')
      .replace(/\\(.?)/gs, (m, c: string) => (c !== '' && '"\\/bfnrtu'.includes(c) ? m : `\\\\${c}`))
      .replace(/,\s*([}\]])/g, '$1'),
  ];
  for (const attempt of attempts) {
    try {
      return JSON.parse(attempt) as unknown;
    } catch {
      // try the next repair
    }
  }
  return undefined;
}

const ANSWER_KEYS = ['answer', 'final_answer', 'finalAnswer', 'Answer', 'final answer'];

/**
 * The values of `answer` fields (shared by the number and choice readers), in order of appearance: from parsable JSON objects, else from a
 * regex over malformed JSON (`"answer": "18"` with a broken string elsewhere, Python dicts).
 */
export function jsonAnswerFields(output: string): { value: string; how: string }[] {
  const found: { value: string; how: string }[] = [];
  for (const span of jsonObjectSpans(output)) {
    // Only a JSON object with a key can hold an answer field (`\boxed{42}` and `{'a': 1}` are not
    // JSON; the field regex below reads the latter).
    if (!/^\{\s*"/.test(span)) continue;
    const parsed = parseJsonLoosely(span);
    if (!isRecord(parsed)) continue;
    const key = ANSWER_KEYS.find((k) => k in parsed);
    if (key === undefined) continue;
    const v = parsed[key];
    const value = typeof v === 'string' ? v : typeof v === 'number' ? String(v) : JSON.stringify(v);
    found.push({ value, how: 'JSON answer' });
  }
  if (found.length > 0) return found;
  const field =
    /["']?(?:final_)?answer["']?\s*:\s*(?:"answer"\s*:\s*)?(?:"((?:[^"\\]|\\.)*)"|'([^'\n]*)'|([^,}\n]+))/gi;
  for (const m of output.matchAll(field)) {
    if (!/["']/.test(m[0].slice(0, 1)) && m[3] !== undefined) continue; // a bare "Answer: 18" is a phrase, not JSON
    found.push({ value: (m[1] ?? m[2] ?? m[3] ?? '').replace(/\\"/g, '"'), how: 'JSON-like answer field' });
  }
  return found;
}

const NUMBER_PHRASE =
  /final answer[*_]*(?=[ \t]*\n)|(?:(?:final|correct)\s+)?answer[*_]*\s*(?:is\b|would be|will be|should be|=|:|：)|(?:最终)?答案\s*(?:是|为|應為|应为|:|：)|最终答案/gi;

/** A marker as named in grade reasons: `**Answer:**` -> `"Answer:"`. */
function quoted(marker: string): string {
  return `"${marker.replace(/[*_]/g, '').trim()}"`;
}

/** The text a phrase like "the answer is" introduces, up to the end of its line or sentence. */
function afterMarker(output: string, end: number): string {
  const rest = output.slice(end).replace(/^[\s*_:：]+/, '');
  const line = rest.split('\n')[0];
  return line.split(/\.(?=\s|$)|。/)[0];
}

/** The model's final numeric answer, or null when it gave none. */
export function extractFinalNumber(output: string): NumberAnswer | null {
  const fields = jsonAnswerFields(output);
  for (const field of [...fields].reverse()) {
    const t = numberInAnswerText(field.value);
    if (t) return { value: t.value, text: t.text, how: field.how };
  }
  const hashes = [...output.matchAll(/####\s*([^\n]*)/g)].reverse();
  for (const m of hashes) {
    const t = numberTokens(m[1])[0];
    if (t && t.index === 0) return { value: t.value, text: t.text, how: '#### marker' };
  }
  for (const content of boxedContents(output).reverse()) {
    const t = numberInAnswerText(content);
    if (t) return { value: t.value, text: t.text, how: '\\boxed{}' };
  }
  for (const m of [...output.matchAll(NUMBER_PHRASE)].reverse()) {
    const t = numberInAnswerText(afterMarker(output, m.index + m[0].length));
    if (t) return { value: t.value, text: t.text, how: quoted(m[0]) };
  }
  // An answer field that holds no number ("Cannot determine") is the model's answer: do not guess.
  if (fields.length > 0) return null;
  const last = numberTokens(output).at(-1);
  return last ? { value: last.value, text: last.text, how: 'last number' } : null;
}

// ---------------------------------------------------------------------------------------------
// Multiple choice

function normaliseOption(text: string): string {
  return text
    .toLowerCase()
    .replace(/[*_`"'“”‘’]/g, '')
    .replace(/\s+/g, ' ')
    .replace(/^[\s:：-]+|[\s.。!:：]+$/g, '');
}

function letterClass(letters: string): string {
  return `[${letters.replace(/[^A-Za-z]/g, '')}]`;
}

/** A letter in brackets, or bare and followed by punctuation or the end: not "A" starting a sentence. */
function letterAlone(L: string): string {
  return String.raw`(?:[(\[]\s*(${L})\s*[)\]]|(${L})[*_]*(?:$|[.):：]|\s+-\s))`;
}

/** The letter a short value names: "C", "(C)", "c)", "Option C", "C. Paris"; not "A cat". */
function letterOfValue(value: string, letters: string): string | null {
  const L = letterClass(letters);
  const m = new RegExp(String.raw`^[*_]*\s*(?:option|choice|选项)?\s*${letterAlone(L)}`, 'i').exec(value.trim());
  return m ? (m[1] ?? m[2]).toUpperCase() : null;
}

function optionByText(text: string, options: string[] | undefined, letters: string): string | null {
  if (!options || options.length === 0) return null;
  const wanted = normaliseOption(text);
  if (!wanted) return null;
  const hits = options.map((o, i) => (normaliseOption(o) === wanted ? i : -1)).filter((i) => i >= 0);
  return hits.length === 1 && hits[0] < letters.length ? letters[hits[0]] : null;
}

const CHOICE_PHRASE = String.raw`(?:(?:correct|final|right|best)\s+)?(?:answer|option|choice)\s*(?:is\b|would be|will be|should be|=|:|：|-)|\b(?:choose|select|pick|go with)|(?:正确)?答案\s*(?:应该是|应为|是|为)?\s*[:：]?|(?:正确)?选项\s*(?:应该是|应为|是|为|[:：])|故?选(?:择)?`;

/** The multiple-choice letter the model chose, or null. `options` lets a bare option text count. */
export function extractChoice(output: string, lettersIn = 'ABCDEFGHIJ', options?: string[]): ChoiceAnswer | null {
  const letters = lettersIn.toUpperCase();
  const L = letterClass(letters);
  for (const field of jsonAnswerFields(output).reverse()) {
    const letter = letterOfValue(field.value, letters) ?? optionByText(field.value, options, letters);
    if (letter) return { letter, how: field.how };
  }
  for (const content of boxedContents(output).reverse()) {
    const letter = letterOfValue(delatex(content), letters);
    if (letter) return { letter, how: '\\boxed{}' };
  }
  // After a phrase, a capital letter (or any letter in brackets) standing alone, not "A" starting a word.
  const phrase = new RegExp(
    String.raw`(${CHOICE_PHRASE})[\s*_:：]*(?:(?:option|choice|选项)\s*)?(?:[(\[]\s*(${L})\s*[)\]]|(${L})(?![A-Za-z0-9'’]))`,
    'gi',
  );
  const phrases = [...output.matchAll(phrase)]
    .filter((m) => m[3] === undefined || /[A-Z]/.test(m[3]))
    .map((m) => ({ index: m.index, letter: m[2] ?? m[3], how: quoted(m[1]) }));
  // The letter first: "B is correct", "(C) is the right answer", "Option D is the best choice".
  const letterFirst = new RegExp(
    String.raw`(?<![A-Za-z])[(\[]?(${L})[)\]]?[*_]*(?:\s+is\s+(?:the\s+)?(?:correct|right|best)\b|\s*(?:是|为)正确)`,
    'g',
  );
  for (const m of output.matchAll(letterFirst)) phrases.push({ index: m.index, letter: m[1], how: '"X is correct"' });
  const lastPhrase = phrases.sort((x, y) => x.index - y.index).at(-1);
  if (lastPhrase) return { letter: lastPhrase.letter.toUpperCase(), how: lastPhrase.how };

  if (output.trim().length <= 5) {
    const lone = letterOfValue(output, letters);
    if (lone) return { letter: lone, how: 'lone letter' };
  }
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const listed = new Set(
    lines.map((l) => new RegExp(String.raw`^[*_]*\(?(${L})[).:]`).exec(l)?.[1]).filter((x) => x !== undefined),
  );
  const first = lines[0] ?? '';
  // "A. x B. y C. z" on one line restates the options; "(D) both (A) and (C)" is a choice.
  const firstMarks = [...first.matchAll(new RegExp(String.raw`(?:^|\s)[*_]*[(\[]?(${L})[).\]]`, 'g'))].map((m) => m[1]);
  const sameLineListing = firstMarks.length >= 2 && firstMarks[0] === letters[0] && firstMarks[1] === letters[1];
  if (listed.size <= 1 && !sameLineListing) {
    const m = new RegExp(String.raw`^[*_]*${letterAlone(L)}`).exec(first);
    if (m) return { letter: m[1] ?? m[2], how: lines.length === 1 && first.length <= 6 ? 'lone letter' : 'first line' };
  }
  const marked = [...output.matchAll(new RegExp(String.raw`\((${L})\)|\*\*(${L})\*\*|\[(${L})\]`, 'g'))].map(
    (m) => m[1] ?? m[2] ?? m[3],
  );
  // "(A) x (B) y (C) z" restates the options; only a mark after such a listing is a choice.
  let listing = 0;
  while (listing < marked.length && marked[listing] === letters[listing]) listing++;
  const mark = (listing >= Math.min(3, letters.length) ? marked.slice(listing) : marked).at(-1);
  if (mark) return { letter: mark, how: 'marked letter' };
  for (const m of [...output.matchAll(new RegExp(CHOICE_PHRASE, 'gi'))].reverse()) {
    const letter = optionByText(afterMarker(output, m.index + m[0].length), options, letters);
    if (letter) return { letter, how: 'option text' };
  }
  const whole = optionByText(output, options, letters) ?? optionByText(lines.at(-1) ?? '', options, letters);
  return whole ? { letter: whole, how: 'option text' } : null;
}
