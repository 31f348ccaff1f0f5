import type { Disagreement } from './disagreement.js';
import { pText } from './terminal.js';

/** report.html's tables: every text escaped here (model outputs are untrusted). */
const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/**
 * Model outputs are untrusted: besides markup, control characters (a NUL, an ESC starting a
 * terminal sequence) never reach the page; C0 controls and DEL show as their visible pictures
 * (U+2400 block: ␀, ␛, ␡), C1 controls as U+FFFD. Tabs and line breaks stay.
 */
export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, (c) => {
    const code = c.charCodeAt(0);
    if (code < 0x20) return String.fromCharCode(0x2400 + code);
    if (code === 0x7f) return '\u2421';
    return code >= 0x80 ? '\ufffd' : HTML_ESCAPES[c];
  });

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

/** Characters of a prompt or output shown before "show all". */
const SHOWN = 280;
/** Characters kept behind "show all": a runaway answer does not make the page unreadable. */
const KEPT = 20_000;

/** Text as a block: short text whole; long text shortened, the rest one click away (<details>). */
function clipped(text: string): string {
  if (text.length <= SHOWN) return `<pre>${escapeHtml(text)}</pre>`;
  const rest =
    text.length > KEPT ? `\n… ${(text.length - KEPT).toLocaleString('en')} more characters in results.csv` : '';
  return (
    `<details><summary><span class="cut">${escapeHtml(text.slice(0, SHOWN))}…</span><br>show all ${text.length.toLocaleString('en')} characters</summary>` +
    `<pre>${escapeHtml(text.slice(0, KEPT) + rest)}</pre></details>`
  );
}

const pct = (x: number) => `${round(x * 100)}%`;

/** The cases where the closed models' mean score and the open models' differ most, with what each answered. */
export function disagreementSection(list: readonly Disagreement[] | undefined): string {
  if (!list?.length) return '<p>Closed and open models scored every case alike (or the run has only one group).</p>';
  const answers = (d: Disagreement, g: 'closed' | 'open') =>
    d.answers
      .filter((a) => a.group === g)
      .map((a) => `<div class="out"><b>${escapeHtml(a.model)}</b> · ${pct(a.score)}${clipped(a.output)}</div>`)
      .join('');
  const rows = list
    .map((d) => {
      const expected =
        d.expected === undefined
          ? ''
          : clipped(typeof d.expected === 'string' ? d.expected : JSON.stringify(d.expected));
      const system = d.system ? `<div class="sys"><i>system</i>${clipped(d.system)}</div>` : '';
      return (
        `<tr><td>${escapeHtml(d.suite)}<br>${escapeHtml(d.category)}<br><b>${escapeHtml(d.caseId)}</b></td>` +
        `<td class="num">${pct(d.closed)}<br>${pct(d.open)}</td>` +
        `<td>${system}${clipped(d.prompt ?? '')}</td><td>${expected}</td>` +
        `<td>${answers(d, 'closed')}</td><td>${answers(d, 'open')}</td></tr>`
      );
    })
    .join('');
  return (
    '<p>Most disagreement first; each suite and category gives its most disputed case before any gives a second. ' +
    "Outputs are each model's first repeat; scores are means over repeats.</p>" +
    '<div class="wide"><table class="dis"><thead><tr><th>suite<br>category<br>case</th><th>closed<br>open</th>' +
    `<th>prompt</th><th>expected</th><th>closed models</th><th>open models</th></tr></thead><tbody>${rows}</tbody></table></div>`
  );
}

/** A row list as a table. */
export function rowsTable(rows: readonly object[], known?: readonly string[]): string {
  if (!rows.length) return '<p>(none)</p>';
  // The CSV's own columns when given (a table titled gap.csv shows gap.csv), else every key.
  const columns = known ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown, column: string) =>
    // p-values as the terminal and the headline print them (p < 0.001, else three decimals).
    column === 'p_value' && typeof v === 'number' && Number.isFinite(v)
      ? `<td class="num">${escapeHtml(pText(v).replace(/^p = /, '').replace(/^p /, ''))}</td>`
      : typeof v === 'number'
        ? `<td class="num">${Number.isFinite(v) ? (Number.isInteger(v) ? v : round(v, 4)) : ''}</td>`
        : `<td>${escapeHtml(v === undefined || v === null ? '' : String(v))}</td>`;
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${columns.map((c) => cell((r as Record<string, unknown>)[c], c)).join('')}</tr>`)
    .join('');
  return `<div class="wide"><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}
