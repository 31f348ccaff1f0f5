/** Cases from a suite's `source:` (JSONL, CSV, JSON, Parquet files or the Hub), one per row. */
import { FileError, UsageError } from '../errors.js';
import type { Case, GraderSpec } from '../types.js';
import type { YamlFile } from '../util/yamlfile.js';
import { checkMessages, fillConversation } from './conversation.js';
import { hubFiles } from './hub.js';
import type { RawSuite } from './schema.js';
import { readHubRows, readSourceRows, resolveSourcePath } from './source.js';
import { render } from './template.js';

/** What loading a source needs of the load options. */
interface SourceLoadOptions {
  cwd: string;
  vars: Record<string, string | undefined>;
  log?: (line: string) => void;
}

export async function loadSourceCases(
  raw: RawSuite,
  yaml: YamlFile,
  dir: string,
  opts: SourceLoadOptions,
  defaultGrader: GraderSpec,
  out: Case[],
): Promise<void> {
  const source = raw.source!;
  const line = yaml.lineOf(['source', 'path']) ?? yaml.lineOf(['source']);
  const path = resolveSourcePath(source, yaml.file, dir, opts.cwd, opts.vars, line);
  // The path's variable is unset and the suite names its Hub files: download (or reuse the cache).
  const rows =
    path === undefined
      ? await readHubRows(source, await hubFiles(source.hub!, { vars: opts.vars, log: opts.log }), yaml.file, line)
      : await readSourceRows(source, path, yaml.file, line);
  const fields = source.fields ?? {};
  const convo = raw.messages ? checkMessages(raw.messages, yaml, ['messages']) : undefined;
  let pattern: RegExp | undefined;
  if (source.expected_pattern) {
    try {
      pattern = new RegExp(source.expected_pattern, 'm');
    } catch (e) {
      throw new FileError(
        yaml.file,
        yaml.lineOf(['source', 'expected_pattern']),
        `source.expected_pattern: invalid regex (${(e as Error).message})`,
      );
    }
  }
  const ids = new Set(out.map((c) => c.id));
  const multiFile = new Set(rows.map((r) => r.path)).size > 1;
  const idTemplate = source.id ?? (multiFile ? '{file}-{index}' : '{index}');
  if (source.choices) for (const r of rows) spreadChoices(r.row, source.choices, fields.expected);
  for (const r of rows) {
    // Built only when needed: the location for an error, the tokens for an id or category template.
    const where = () => `${r.path}${r.line ? `:${r.line}` : ''}`;
    let tokens_: Record<string, unknown> | undefined;
    const tokens = () => (tokens_ ??= { ...r.row, index: r.index, file: r.file, line: r.line });
    const get = (f: string) => r.row[f];
    const id = fields.id
      ? String(get(fields.id) ?? '')
      : idTemplate === '{index}'
        ? String(r.index)
        : fillTokens(idTemplate, tokens());
    if (!id) throw new UsageError(`${where()}: the id field '${fields.id}' is empty`);
    if (ids.has(id))
      throw new UsageError(
        `${where()}: duplicate case id '${id}' (set source.id to a template such as '{file}-{index}')`,
      );
    ids.add(id);
    let prompt: string;
    let sent: { messages: Case['messages']; system?: string } | undefined;
    if (fields.prompt) {
      const p = get(fields.prompt);
      if (p === undefined || p === null || String(p).trim() === '')
        throw new UsageError(`${where()}: field '${fields.prompt}' (the prompt) is missing or empty`);
      prompt = String(p);
    } else if (raw.template) {
      const rendered = render(raw.template, r.row);
      if (rendered.missing.length)
        throw new UsageError(
          `${where()}: the template needs '${rendered.missing[0]}', which this row lacks (fields: ${Object.keys(r.row).join(', ')})`,
        );
      prompt = rendered.text;
    } else if (convo) {
      const filled = fillConversation(convo, r.row, raw.system);
      if (filled.missing) throw new UsageError(`${where()}: a message needs '${filled.missing}', which this row lacks`);
      prompt = filled.prompt;
      sent = filled;
    } else throw new FileError(yaml.file, line, 'source: set fields.prompt or a template to build each prompt');
    let expected: unknown = fields.expected ? get(fields.expected) : undefined;
    if (pattern && expected !== undefined) {
      const m = pattern.exec(String(expected));
      if (!m)
        throw new UsageError(
          `${where()}: expected_pattern /${source.expected_pattern}/ does not match '${String(expected).slice(-60)}'`,
        );
      expected = (m.groups?.answer ?? m[1] ?? m[0]).trim();
    }
    const category = fields.category
      ? String(get(fields.category) ?? 'default')
      : source.category
        ? fillTokens(source.category, tokens())
        : multiFile
          ? r.file
          : 'default';
    const system = sent ? sent.system : raw.system;
    const messages = sent ? { messages: sent.messages } : {};
    out.push({ id, prompt, system, ...messages, expected, category, grader: defaultGrader, vars: r.row });
  }
}

/** `source.choices`: a list of options -> fields A, B, C, ...; an integer answer -> its letter. */
function spreadChoices(row: Record<string, unknown>, field: string, expectedField: string | undefined): void {
  const list = row[field];
  if (!Array.isArray(list)) return;
  list.forEach((option, i) => (row[String.fromCharCode(65 + i)] = option));
  const answer = expectedField ? row[expectedField] : undefined;
  if (expectedField && typeof answer === 'number' && Number.isInteger(answer) && answer >= 0 && answer < list.length)
    row[expectedField] = String.fromCharCode(65 + answer);
}

function fillTokens(template: string, tokens: Record<string, unknown>): string {
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, name: string) =>
    tokens[name] === undefined ? m : String(tokens[name]),
  );
}
