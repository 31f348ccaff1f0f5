/**
 * Conversations in suites: `messages:` (system, user and assistant turns) instead of one prompt,
 * on the suite (a template filled from each case, like `template:`) or on a case. Also the case's
 * `vars:` map: data that graders read and templates may use, never a case key, so a field named
 * `prompt` or `id` in it can never change what is sent.
 */
import { FileError } from '../errors.js';
import type { ChatMessage } from '../types.js';
import { isRecord } from '../util/record.js';
import type { YamlFile, YamlPath } from '../util/yamlfile.js';
import { formatPath } from '../util/zodmsg.js';
import { placeholders, render } from './template.js';

const ROLES: readonly string[] = ['system', 'user', 'assistant'] satisfies ChatMessage['role'][];

/**
 * Checks a `messages:` list as written at `at` (e.g. ['cases', 3, 'messages']): a non-empty list of
 * `{role, content}` with a known role, non-empty text content and at least one user turn.
 * Throws a FileError naming the file, line and field.
 */
export function checkMessages(v: unknown, yaml: YamlFile, at: YamlPath): ChatMessage[] {
  const fail = (path: YamlPath, key: string | undefined, msg: string) =>
    new FileError(yaml.file, yaml.lineOf(path, key), `${formatPath(key ? [...path, key] : path)}: ${msg}`);
  if (!Array.isArray(v) || !v.length) throw fail(at, undefined, 'must be a non-empty list of {role, content}');
  const out = v.map((o: unknown, j): ChatMessage => {
    const here = [...at, j];
    if (!isRecord(o)) throw fail(here, undefined, 'must be {role, content}');
    for (const k of Object.keys(o))
      if (k !== 'role' && k !== 'content') throw fail(here, k, `unknown field '${k}' (a message has role and content)`);
    if (typeof o.role !== 'string' || !ROLES.includes(o.role))
      throw fail(here, 'role', `unknown role ${JSON.stringify(o.role ?? null)} (use ${ROLES.join(', ')})`);
    if (typeof o.content !== 'string' || !o.content.trim()) throw fail(here, 'content', 'must be a non-empty string');
    return { role: o.role as ChatMessage['role'], content: o.content };
  });
  if (!out.some((m) => m.role === 'user')) throw fail(at, undefined, 'needs at least one user message');
  return out;
}

/** The `{{field}}` names used across a conversation's messages. */
export function messageFields(messages: readonly ChatMessage[]): string[] {
  const out: string[] = [];
  for (const m of messages) for (const f of placeholders(m.content)) if (!out.includes(f)) out.push(f);
  return out;
}

/**
 * A conversation filled from a case, as sent: a `system` (case or suite) is put first when the
 * conversation has no system turn of its own. `prompt` is the last user turn (for graders, judges
 * and the CSVs). `missing` names the first field a message needs that the case does not set.
 */
export function fillConversation(
  template: readonly ChatMessage[],
  values: Record<string, unknown>,
  system: string | undefined,
): { messages: ChatMessage[]; prompt: string; system?: string; missing?: string } {
  const messages: ChatMessage[] = [];
  for (const m of template) {
    const r = render(m.content, values);
    if (r.missing.length) return { messages: [], prompt: '', missing: r.missing[0] };
    messages.push({ role: m.role, content: r.text });
  }
  if (system !== undefined && !messages.some((m) => m.role === 'system'))
    messages.unshift({ role: 'system', content: system });
  const prompt = [...messages].reverse().find((m) => m.role === 'user')!.content;
  const sys = messages.find((m) => m.role === 'system')?.content;
  return { messages, prompt, ...(sys === undefined ? {} : { system: sys }) };
}

/**
 * A case's `vars:` map (undefined when it has none). Values are data: any YAML value. A name set
 * both as a case field and in `vars:` is refused, so it is clear which one a template reads.
 */
export function caseData(
  c: Record<string, unknown>,
  yaml: YamlFile,
  i: number,
  caseKeys: ReadonlySet<string>,
): Record<string, unknown> | undefined {
  const v = c.vars;
  if (v === undefined) return undefined;
  if (!isRecord(v))
    throw new FileError(
      yaml.file,
      yaml.lineOf(['cases', i], 'vars'),
      `cases[${i}].vars: must be a mapping of names to values`,
    );
  for (const k of Object.keys(v))
    if (!caseKeys.has(k) && k in c)
      throw new FileError(
        yaml.file,
        yaml.lineOf(['cases', i, 'vars'], k),
        `cases[${i}].vars.${k}: '${k}' is also a field of the case; set it in one place`,
      );
  return v;
}
