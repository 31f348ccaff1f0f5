/**
 * A streamed reply (OpenAI SSE, Ollama NDJSON): headers, the thinking pieces, the answer pieces,
 * the tail. Paced at the model's tokens/s when it has one, else written in one go; a stream fault
 * strikes halfway through the pieces.
 */
import type { ServerResponse } from 'node:http';
import type { ChatCall, Protocol, ReplyContext, SimCompletion } from './protocol.js';
import { streamPieces } from './text.js';

type StreamFault = 'cut' | 'garbage' | 'stall';

interface StreamPlan {
  /** Headers now, first token at `firstMs` (a model with a time to first token); else both at `firstMs`. */
  headersFirst: boolean;
  firstMs: number;
  /** Time to generate every piece after the first token (0: unpaced). */
  totalMs: number;
  /** Time to generate every piece at the rate of this moment (a serving model's batch changes it). */
  decodeMs?: () => number;
  fault?: StreamFault;
  /** Extra response headers (the rate limit's x-ratelimit-*). */
  headers?: Record<string, string>;
  /** Runs `fn` after `ms` (the first call counts from the request's arrival). */
  later(ms: number, fn: () => void): void;
  /** Runs `fn` at a performance.now() deadline. */
  at(deadline: number, fn: () => void): void;
  /** The reply ended whole. */
  done(): void;
}

type Piece = { text: string; kind: 'reasoning' | 'content' };

export function sendStream(
  res: ServerResponse,
  proto: Protocol,
  call: ChatCall,
  c: SimCompletion,
  ctx: ReplyContext,
  plan: StreamPlan,
): void {
  const pieces: Piece[] = [
    ...streamPieces(c.reasoning ?? '').map((text) => ({ text, kind: 'reasoning' as const })),
    ...streamPieces(c.text).map((text) => ({ text, kind: 'content' as const })),
  ];
  const chars = pieces.reduce((a, p) => a + p.text.length, 0) || 1;
  // Where a fault strikes: after half the pieces, at least one token in.
  const faultAt = plan.fault ? Math.min(pieces.length, Math.max(1, Math.floor(pieces.length / 2))) : -1;
  let started = false;
  const start = (): string => {
    if (started) return '';
    started = true;
    res.writeHead(200, { 'content-type': proto.streamContentType, 'cache-control': 'no-cache', ...plan.headers });
    return proto.streamHead(call, ctx);
  };
  const frame = (p: Piece) => proto.streamPiece(call, ctx, p.text, p.kind);
  /** What goes out at the fault point; true when the reply ends there. */
  const strike = (): { out: string; ends: boolean } => {
    if (plan.fault === 'garbage') return { out: proto.streamGarbage(call), ends: false };
    if (plan.fault === 'cut') return { out: '', ends: true };
    return { out: '', ends: true }; // stall: nothing more, the socket stays open
  };
  const finish = (out: string, ended: boolean) => {
    if (!ended) {
      res.end(out + proto.streamTail(call, c, ctx));
      plan.done();
    } else if (plan.fault === 'cut') res.end(out);
    else if (out !== '') res.write(out);
  };
  if (plan.headersFirst) {
    const head = start();
    if (head !== '') res.write(head);
  }
  plan.later(plan.firstMs, () => {
    let out = start();
    if (plan.totalMs === 0) {
      for (let i = 0; i <= pieces.length; i++) {
        if (i === faultAt) {
          const s = strike();
          out += s.out;
          if (s.ends) return finish(out, true);
        }
        if (i < pieces.length) out += frame(pieces[i]);
      }
      return finish(out, false);
    }
    if (out !== '') res.write(out);
    // Each piece is due at its share of the generation time after the first token, so timer
    // errors do not add up over a long answer.
    const t0 = performance.now();
    let sent = 0;
    // With a rate that changes, each piece's share is added at the rate of its moment.
    let due = t0;
    let i = 0;
    const next = (): void => {
      if (res.destroyed) return;
      if (i === faultAt) {
        const s = strike();
        if (s.ends) return finish(s.out, true);
        if (s.out !== '') res.write(s.out);
      }
      if (i === pieces.length) return finish('', false);
      const p = pieces[i++];
      res.write(frame(p));
      sent += p.text.length;
      due += plan.decodeMs ? (plan.decodeMs() * p.text.length) / chars : 0;
      plan.at(plan.decodeMs ? due : t0 + (plan.totalMs * sent) / chars, next);
    };
    next();
  });
}
