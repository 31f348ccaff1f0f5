/**
 * Model outputs are untrusted text: a NUL, an ESC sequence or a C1 control in an answer never
 * reaches report.html raw, whatever else is kept (matrix outputs, the xlsx).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../src/report/html.js';
import { cli, suiteYaml, tempDir, writeFiles } from './helpers.js';

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
  });
});
