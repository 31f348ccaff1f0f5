/**
 * Model outputs are untrusted text: a NUL, an ESC sequence or a C1 control in an answer never
 * reaches report.html raw, whatever else is kept (matrix outputs, the xlsx). Text normalisation is
 * linear: the fast whitespace and punctuation passes give what the regular expressions gave.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeText } from '../src/graders/normalize.js';
import { escapeHtml } from '../src/report/html-tables.js';
import { cli, csvRows, suiteYaml, tempDir, writeFiles } from './helpers.js';

const cases = Array.from({ length: 6 }, (_, i) => ({ id: `q${i}`, prompt: `What is ${i} + 1?`, expected: i + 1 }));
const HOSTILE = 'nope\u0000\u001b[2J\u001b]0;pwned\u0007\u009b31m</pre><script>alert(1)</script>\u007f';

describe('control characters from outputs', () => {
  it('escapeHtml shows C0 controls and DEL as their pictures, C1 as U+FFFD, markup escaped', () => {
    expect(escapeHtml('a\u0000b\u001bc\u007fd\u0085e<f>\tg\nh')).toBe('a\u2400b\u241bc\u2421d\ufffde&lt;f&gt;\tg\nh');
  });

  it('never reach report.html, with --matrix-outputs and --xlsx', async () => {
    const dir = tempDir();
    const answers = (right: boolean) =>
      cases
        .map((c, i) => JSON.stringify({ id: c.id, output: right || i % 2 ? String(c.expected) : HOSTILE }))
        .join('\n');
    writeFiles(dir, {
      's.yaml': suiteYaml('s', cases),
      'closed.jsonl': answers(true),
      'open.jsonl': answers(false),
      'gapbench.config.yaml': [
        'models:',
        '  - { id: closed, provider: replay, model: closed.jsonl, group: closed }',
        '  - { id: open, provider: replay, model: open.jsonl, group: open }',
      ].join('\n'),
    });
    const r = await cli(['run', '--suite', 's.yaml', '--run-id', 'r', '--matrix-outputs', '--xlsx', '--quiet'], {
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(join(dir, 'results', 'r', 'report.html'), 'utf8');
    expect(html).toContain('nope\u2400\u241b[2J'); // the answer is shown, its controls visible
    expect(html).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/);
    expect(html).not.toContain('<script>');
    // matrix.csv has each answer, read back from the journal as it is written.
    const matrix = csvRows(join(dir, 'results', 'r', 'matrix.csv'));
    expect(matrix.map((m) => [m.case_id, m.output_closed, m.output_open.slice(0, 4)])).toEqual(
      cases.map((c, i) => [c.id, String(c.expected), i % 2 ? String(c.expected) : 'nope']),
    );
  });
});

describe('normalizeText, linear', () => {
  /** The definition it replaced (regular expressions, quadratic on some texts). */
  const reference = (text: string, ignoreCase = false) => {
    let out = text.normalize('NFKC').replace(/\s+/gu, ' ').trim();
    if (ignoreCase) out = out.toLowerCase();
    return out.replace(/[\s.!?,;:。！？，、；：…]+$/u, '');
  };

  it('agrees with the regular-expression definition on random texts', () => {
    const alphabet = [...'ab 1.,!?;:\t\n\r\u00a0\u3000\u2028\ufeff。！？，、；：…Ａ１ｘ答案 é\u0301']; // full-width and combining forms too
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 3000; i++) {
      const text = Array.from({ length: rand(40) }, () => alphabet[rand(alphabet.length)]).join('');
      expect(normalizeText(text)).toBe(reference(text));
      expect(normalizeText(text, { ignoreCase: true })).toBe(reference(text, true));
      expect(normalizeText(text, { stripTrailingPunctuation: false })).toBe(
        text.normalize('NFKC').replace(/\s+/gu, ' ').trim(),
      );
    }
  });

  it('1 MiB answers of the shapes that were slow (see npm run bench normalize for their cost)', () => {
    // The regular expression takes minutes on the first: each run of '. ' was retried to the end.
    expect(normalizeText('x' + '. '.repeat(1 << 19) + 'y')).toBe('x' + '. '.repeat((1 << 19) - 1) + '. y');
    expect(normalizeText('a\n'.repeat(1 << 19))).toBe('a '.repeat((1 << 19) - 1) + 'a');
    expect(normalizeText(' '.repeat(1 << 20) + '42.')).toBe('42');
  });
});
