/**
 * Model outputs are untrusted text: before they reach a terminal, escape sequences and control
 * characters go (nothing can move the cursor, recolour or retitle the window), and line breaks
 * become spaces so one cell stays one line.
 */
// CSI, OSC (ended by BEL or ST), and other ESC sequences; then C0/C1 controls and DEL.
const ANSI =
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[PX^_][^\u001b]*(?:\u001b\\)?|\u001b[@-Z\\-_]?|\u009b[0-?]*[ -/]*[@-~]/g;
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function terminalSafe(text: string, maxLen?: number): string {
  let s = text
    .replace(ANSI, '')
    .replace(/[\t\n\r]+/g, ' ')
    .replace(CONTROL, '');
  if (maxLen !== undefined && displayWidth(s) > maxLen) {
    let out = '';
    let w = 0;
    for (const ch of s) {
      const cw = charWidth(ch.codePointAt(0)!);
      if (w + cw > maxLen - 1) break;
      out += ch;
      w += cw;
    }
    s = `${out}…`;
  }
  return s;
}

/** Columns a character takes in a terminal: East Asian wide and most emoji take 2. */
function charWidth(c: number): number {
  if (c === 0 || (c >= 0x300 && c <= 0x36f) || c === 0x200b || c === 0xfe0f) return 0;
  if (
    (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0x303e) ||
    (c >= 0x3041 && c <= 0x33ff) ||
    (c >= 0x3400 && c <= 0x4dbf) ||
    (c >= 0x4e00 && c <= 0x9fff) ||
    (c >= 0xa000 && c <= 0xa4cf) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) ||
    (c >= 0x1f300 && c <= 0x1f64f) ||
    (c >= 0x1f900 && c <= 0x1f9ff) ||
    (c >= 0x20000 && c <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += charWidth(ch.codePointAt(0)!);
  return w;
}

export function padEnd(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - displayWidth(s)));
}

export function padStart(s: string, width: number): string {
  return ' '.repeat(Math.max(0, width - displayWidth(s))) + s;
}
