import type * as zod from 'zod/v3';
import { requireCjs } from '../util/cjs.js';

const { z } = requireCjs('zod/v3') as typeof zod;

export const graderSpecSchema = z.union([z.string().min(1), z.object({ type: z.string().min(1) }).passthrough()]);

export const sourceSchema = z
  .object({
    /** File or directory (all files of the format in it). `${VAR}` and `${VAR:-default}` are expanded. */
    path: z.string().min(1),
    format: z.enum(['jsonl', 'csv', 'json']).optional(),
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
    grader: graderSpecSchema.optional(),
    cases: z.array(z.record(z.string(), z.unknown())).optional(),
    source: sourceSchema.optional(),
  })
  .strict();

export type RawSuite = zod.infer<typeof suiteSchema>;
export type RawSource = zod.infer<typeof sourceSchema>;

/** Keys a case may carry besides its template's fields. */
export const CASE_KEYS = new Set(['id', 'prompt', 'expected', 'category', 'grader', 'check', 'examples', 'system']);
