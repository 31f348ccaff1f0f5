import type * as zod from 'zod/v3';
import { requireCjs } from '../util/cjs.js';

const { z } = requireCjs('zod/v3') as typeof zod;

const graderSpecSchema = z.union([z.string().min(1), z.object({ type: z.string().min(1) }).passthrough()]);

const sourceSchema = z
  .object({
    /** File or directory (all files of the format in it). `${VAR}` and `${VAR:-default}` are expanded. */
    path: z.string().min(1),
    format: z.enum(['jsonl', 'csv', 'json', 'parquet']).optional(),
    /**
     * Where to fetch the files when `path` names an unset variable: a Hub dataset repository, a pinned
     * revision, and each file's SHA-256 (null = not recorded yet; see scripts/hub-pins.mjs).
     */
    hub: z
      .object({
        // Names become URL and cache path parts: each segment starts with a letter or digit (never `..`).
        repo: z.string().regex(/^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/, 'must be owner/name'),
        revision: z.string().regex(/^[A-Za-z0-9][\w.-]*$/, 'must be a commit hash, tag or branch (no / or ..)'),
        files: z.record(
          z
            .string()
            .regex(
              /^(?!\.\.?(\/|$))(?!.*\/\.\.?(\/|$))[^/\\\u0000-\u001f\u007f]+(\/[^/\\\u0000-\u001f\u007f]+)*$/,
              'must be a path inside the repository (no leading /, no . or .. segments)',
            ),
          z
            .string()
            .regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256')
            .nullable(),
        ),
      })
      .strict()
      .optional(),
    /** CSV only: whether the first row names the columns (default true). */
    header: z.boolean().optional(),
    /** CSV only: column names for a file without a header row. */
    columns: z.array(z.string().min(1)).optional(),
    /** Case field -> source field: `prompt`, `expected`, `id`, `category`. */
    fields: z
      .object({
        prompt: z.string().min(1).optional(),
        expected: z.string().min(1).optional(),
        id: z.string().min(1).optional(),
        category: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    /** Regex applied to the expected field; group 1 (or the group named `answer`) is the expected answer. */
    expected_pattern: z.string().min(1).optional(),
    /** Case id template: `{index}` (0-based row in its file), `{file}`, `{line}`, or any `{field}`. */
    id: z.string().min(1).optional(),
    /** A fixed category, or `{file}` / `{field}` template. */
    category: z.string().min(1).optional(),
    /**
     * A row field holding the options as a list (the Hub's MMLU): they become the fields A, B, C, ...
     * and an integer expected answer becomes its letter. Rows without such a list are left alone.
     */
    choices: z.string().min(1).optional(),
    /** Load at most this many cases (first N). */
    limit: z.number().int().positive().optional(),
  })
  .strict();

export const suiteSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be letters, digits, ".", "-" or "_"'),
    description: z.string().optional(),
    system: z.string().optional(),
    template: z.string().optional(),
    /** A conversation template instead of `template`: each message's content is filled from the case. */
    messages: z.array(z.record(z.string(), z.unknown())).optional(),
    grader: graderSpecSchema.optional(),
    /** Graders every case must also pass, besides its own (promptfoo's defaultTest asserts). */
    grader_all: z.array(graderSpecSchema).min(1).optional(),
    cases: z.array(z.record(z.string(), z.unknown())).optional(),
    source: sourceSchema.optional(),
  })
  .strict();

export type RawSuite = zod.infer<typeof suiteSchema>;
export type RawSource = zod.infer<typeof sourceSchema>;

/** Keys a case may carry besides its template's fields. */
export const CASE_KEYS = new Set([
  'id',
  'prompt',
  'expected',
  'category',
  'grader',
  'check',
  'examples',
  'system',
  'description',
  'messages',
  'vars',
]);

/** Top-level keys starting `x-` are free for YAML anchors and tool metadata; they are dropped before checking. */
export function withoutExtensions(data: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).filter(([k]) => !k.startsWith('x-')));
}
