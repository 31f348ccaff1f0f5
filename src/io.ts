/** Where a command writes and what it sees. Tests pass captured streams and a temp cwd. */
export interface Out {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface IO {
  stdout: Out;
  stderr: Out;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Process signals (SIGINT/SIGTERM); tests can pass their own emitter. */
  signals?: {
    on(event: 'SIGINT' | 'SIGTERM', fn: () => void): unknown;
    off(event: 'SIGINT' | 'SIGTERM', fn: () => void): unknown;
  };
}

export function processIO(): IO {
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env, signals: process };
}

/** Exit codes: the public contract (README, DESIGN.md). */
export const EXIT = { ok: 0, threshold: 1, usage: 2, interrupted: 130 } as const;

export function useColor(out: Out, env: NodeJS.ProcessEnv): boolean {
  return Boolean(out.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
}

export function paint(on: boolean, code: number, text: string): string {
  return on ? `\u001b[${code}m${text}\u001b[0m` : text;
}
