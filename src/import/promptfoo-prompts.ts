/** promptfoo prompts -> a suite's `template:` (and `system:`) or `messages:` conversation. */
import { basename, extname } from 'node:path';
import type { ChatMessage } from '../types.js';
import { parseData } from './files.js';
import { isRecord } from '../util/record.js';
import { readRef, type TestCtx } from './promptfoo-tests.js';

type Obj = Record<string, unknown>;

export interface Prompt {
  name: string;
  template?: string;
  system?: string;
  /** A chat prompt of more than one system and one user message: sent as a conversation. */
  messages?: ChatMessage[];
}

export function loadPrompts(p: unknown, i: number, ctx: TestCtx): Prompt[] {
  const o: Obj = typeof p === 'string' ? { raw: p } : isRecord(p) ? p : {};
  const raw = typeof o.raw === 'string' ? o.raw : typeof o.id === 'string' ? o.id : '';
  const label = typeof o.label === 'string' ? o.label : undefined;
  if (!raw.startsWith('file://')) return toPrompt(raw, label ?? `prompt-${i + 1}`, i, ctx);
  if (/[*?[{]/.test(raw)) {
    ctx.unsupported.push(`prompts[${i}]: ${raw}: glob patterns are not supported (skipped)`);
    return [];
  }
  const { path, shown, text } = readRef(raw, ctx, `prompts[${i}]`);
  const stem = slug(label ?? basename(path, extname(path)));
  // promptfoo renders a JSON chat prompt with Nunjucks before parsing it: one with {% %} tags is not JSON yet.
  if (/\.json$/i.test(path) && /\{%/.test(text)) return toPrompt(text, stem, i, ctx);
  if (/\.(json|ya?ml)$/i.test(path)) return toPrompt(parseData(text, shown), stem, i, ctx);
  if (!/\.(txt|md|j2|njk)$/i.test(path)) {
    ctx.unsupported.push(`prompts[${i}]: ${raw}: only text, JSON and YAML prompt files are supported (skipped)`);
    return [];
  }
  const parts = text.split(/^---$/m).map((s) => s.trim());
  return parts.flatMap((t, k) => toPrompt(t, parts.length > 1 ? `${stem}-${k + 1}` : stem, i, ctx));
}

/** A text prompt, or a chat prompt (a JSON/YAML list of {role, content} messages). */
function toPrompt(v: unknown, name: string, i: number, ctx: TestCtx): Prompt[] {
  let value: unknown = v;
  if (typeof v === 'string' && /^\s*\[/.test(v)) {
    try {
      value = JSON.parse(v);
    } catch {
      /* a text prompt that starts with [ */
    }
  }
  const skip = (why: string): Prompt[] => {
    ctx.unsupported.push(`prompts[${i}]: ${why} (skipped)`);
    return [];
  };
  let prompt: Prompt;
  if (Array.isArray(value)) {
    const msgs = value.filter(
      (m): m is ChatMessage =>
        isRecord(m) && ['system', 'user', 'assistant'].includes(m.role as string) && typeof m.content === 'string',
    );
    if (msgs.length !== value.length || !msgs.length)
      return skip('a chat prompt must be a list of {role: system|user|assistant, content: text}');
    if (!msgs.some((m) => m.role === 'user') || msgs.some((m) => !m.content.trim()))
      return skip('a chat prompt needs a user message and no empty message');
    const simple =
      msgs.length <= 2 && msgs[msgs.length - 1].role === 'user' && (msgs.length === 1 || msgs[0].role === 'system');
    prompt = simple
      ? {
          name: slug(name),
          template: msgs[msgs.length - 1].content,
          ...(msgs.length === 2 ? { system: msgs[0].content } : {}),
        }
      : { name: slug(name), messages: msgs.map((m) => ({ role: m.role, content: m.content })) };
  } else if (typeof value === 'string' && value.trim()) prompt = { name: slug(name), template: value };
  else return skip('not a text or chat prompt');
  const texts = [prompt.template ?? '', prompt.system ?? '', ...(prompt.messages ?? []).map((m) => m.content)];
  if (texts.some((t) => /\{%|\{\{[^}]*\|/.test(t))) return skip('Nunjucks filters and {% %} tags are not supported');
  if (texts.some((t) => /\{\{\s*_conversation/.test(t))) return skip('the _conversation variable is not supported');
  if (texts.some((t) => /\{\{\s*[A-Za-z_]\w*\s*[.[]/.test(t)))
    return skip('nested var access ({{a.b}}, {{a[0]}}) is not supported');
  return [prompt];
}

export const slug = (s: string) =>
  s
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+|-+$/g, '')
    .slice(0, 60) || 'prompt';
