/**
 * Reasoning that a server returns beside or inside the answer. Reasoning models answer with a
 * separate field (DeepSeek and DashScope `reasoning_content`, OpenRouter and vLLM `reasoning`,
 * Ollama `thinking`) or, when the server does not parse it out, with the thinking inline as a
 * leading `<think>…</think>` block. Either way the answer graded is what follows the thinking; a
 * `<think>` never closed (the token limit cut it) leaves no answer at all.
 */
export function splitReasoning(content: string, field: unknown): { text: string; reasoning?: string } {
  const separate = typeof field === 'string' && field !== '' ? field : undefined;
  const m = /^\s*<think>([\s\S]*?)(?:<\/think>|$)/.exec(content);
  if (!m) return { text: content, ...(separate ? { reasoning: separate } : {}) };
  const inline = m[1].trim();
  const reasoning = [separate, inline].filter(Boolean).join('\n\n');
  return { text: content.slice(m[0].length).trim(), ...(reasoning ? { reasoning } : {}) };
}

/** A non-negative integer token count, or undefined. */
export function tokenCount(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}
