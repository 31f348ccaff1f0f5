/**
 * Deterministic building blocks of the simulator: string hashing, seeds,
 * the token-count approximation, and cutting an answer at stop strings / a token budget.
 * Everything here is pure and cheap: it runs once or twice per simulated request.
 */

/** cyrb53: a fast 53-bit string hash, returned as a fraction in [0, 1). */
export function hashUnit(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)) / 9007199254740992;
}

/** A 32-bit seed derived from several parts (joined with NUL, so 'a','bc' != 'ab','c'). */
export function seedOf(...parts: (string | number)[]): number {
  return Math.floor(hashUnit(parts.join('\u0000')) * 4294967296) >>> 0;
}

/** Hiragana, katakana, CJK ideographs and Hangul: roughly one token per character. */
function isCjk(c: number): boolean {
  return (
    (c >= 0x3040 && c <= 0x30ff) ||
    (c >= 0x3400 && c <= 0x4dbf) ||
    (c >= 0x4e00 && c <= 0x9fff) ||
    (c >= 0xac00 && c <= 0xd7af) ||
    (c >= 0xf900 && c <= 0xfaff)
  );
}

/**
 * The simulator's token count, used for every count it reports (prompt, completion,
 * max_tokens, num_predict, pacing): CJK characters count 1 each, other text ceil(chars / 4).
 */
export function countTokens(s: string): number {
  let cjk = 0;
  let other = 0;
  for (let i = 0; i < s.length; i++) {
    if (isCjk(s.charCodeAt(i))) cjk++;
    else other++;
  }
  return cjk + Math.ceil(other / 4);
}

/**
 * `text` followed by filler up to `tokens` by countTokens (unchanged when it has as many): spaces
 * bring the non-CJK characters to a multiple of 4 (no new token), then each " etc" is one more.
 */
export function padTokens(text: string, tokens: number | undefined): string {
  const have = countTokens(text);
  if (tokens === undefined || have >= tokens) return text;
  let other = 0;
  for (let i = 0; i < text.length; i++) if (!isCjk(text.charCodeAt(i))) other++;
  return text + ' '.repeat((4 - (other % 4)) % 4) + ' etc'.repeat(tokens - have);
}

/** The longest prefix of `s` whose countTokens is at most `max` (never splits a surrogate pair). */
function truncateTokens(s: string, max: number): string {
  if (max <= 0) return '';
  let cjk = 0;
  let other = 0;
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isCjk(c)) cjk++;
    else other++;
    if (cjk + Math.ceil(other / 4) > max) break;
  }
  const low = s.charCodeAt(i);
  if (i > 0 && i < s.length && low >= 0xdc00 && low <= 0xdfff) i--;
  return s.slice(0, i);
}

export type FinishReason = 'stop' | 'length';

/** What the model "generated": cut at the earliest stop string, then at the token budget. */
export function shapeAnswer(
  full: string,
  stop: readonly string[],
  maxTokens: number | undefined,
): { text: string; finishReason: FinishReason } {
  let text = full;
  for (const s of stop) {
    if (s === '') continue;
    const at = text.indexOf(s);
    if (at >= 0) text = text.slice(0, at);
  }
  if (maxTokens !== undefined && countTokens(text) > maxTokens) {
    return { text: truncateTokens(text, maxTokens), finishReason: 'length' };
  }
  return { text, finishReason: 'stop' };
}

/** Streaming pieces of roughly one or two tokens; their concatenation is exactly `text`. */
export function streamPieces(text: string): string[] {
  return text.match(/\s*\S{1,8}|\s+/gu) ?? [];
}
