// A lane thread (see threads.ts): runs the lanes the main thread gives it, with the real
// providers, and answers each request with its outcome and the lane's live figures.
import { parentPort, workerData } from 'node:worker_threads';
import { ProviderError, redact } from '../errors.js';
import { createProvider } from '../providers/index.js';
import type { Provider } from '../providers/provider.js';
import { requireCjs } from '../util/cjs.js';
import { reapplyV8Flags } from '../util/v8flags.js';
import { Lane } from './lane.js';
import type { FromThread, LaneStats, ToThread } from './threads.js';

const port = parentPort!;
// The process's run-time V8 flags, which starting this thread has reset (see util/v8flags.ts).
reapplyV8Flags((workerData as { v8Flags?: string[] } | undefined)?.v8Flags ?? []);

// Start-up work done now, while the main thread reads the config, rather than in the first
// requests: the SDKs' code, and Node's lazily loaded fetch classes (both SDKs touch Headers).
requireCjs('openai');
requireCjs('ollama');
void globalThis.Headers;

const stop = new AbortController();
const abort = new AbortController();
const lanes = new Map<number, Lane>();

function stats(lane: Lane): LaneStats {
  return [lane.counters.retries, lane.counters.rateLimited, lane.inFlight, lane.concurrency];
}

function addLane(msg: Extract<ToThread, { t: 'lane' }>): void {
  let provider: Provider;
  try {
    provider = createProvider(msg.model, msg.env);
  } catch (err) {
    // Not expected (the config's checks catch bad addresses before a run): every request of the
    // lane then fails with the reason, naming the model.
    const message = `model '${msg.model.id}': ${redact(err instanceof Error ? err.message : String(err))}`;
    provider = { model: msg.model, complete: () => Promise.reject(new ProviderError('unknown', message)) };
  }
  const lane = new Lane(provider, msg.model.concurrency, {
    stop: stop.signal,
    signal: abort.signal,
    onFatal: (_, e) =>
      port.postMessage({
        t: 'fatal',
        key: msg.key,
        kind: e.kind,
        message: e.message,
        ...(e.status === undefined ? {} : { status: e.status }),
      } satisfies FromThread),
  });
  lanes.set(msg.key, lane);
}

function request(msg: Extract<ToThread, { t: 'req' }>): void {
  const lane = lanes.get(msg.key);
  if (!lane) {
    port.postMessage({
      t: 'dropped',
      id: msg.id,
      key: msg.key,
      message: `lane thread: no lane ${msg.key}`,
      stats: [0, 0, 0, 0],
    } satisfies FromThread);
    return;
  }
  lane.request(msg.messages, msg.job).then(
    (attempted) =>
      port.postMessage({ t: 'done', id: msg.id, key: msg.key, attempted, stats: stats(lane) } satisfies FromThread),
    (err: unknown) =>
      port.postMessage({
        t: 'dropped',
        id: msg.id,
        key: msg.key,
        message: redact(err instanceof Error ? err.message : String(err)),
        stats: stats(lane),
      } satisfies FromThread),
  );
}

// Progress shows each lane's requests in flight: between answers (a slow model may take minutes)
// the figures are sent twice a second when they changed.
const lastSent = new Map<number, string>();
setInterval(() => {
  for (const [key, lane] of lanes) {
    const s = stats(lane);
    const text = s.join();
    if (lastSent.get(key) === text) continue;
    lastSent.set(key, text);
    port.postMessage({ t: 'stats', key, stats: s } satisfies FromThread);
  }
}, 500).unref();

port.on('message', (msg: ToThread) => {
  switch (msg.t) {
    case 'req':
      request(msg);
      break;
    case 'lane':
      addLane(msg);
      break;
    case 'stop':
      stop.abort(new Error('stopping'));
      break;
    case 'abort':
      abort.abort(new Error('aborting'));
      break;
  }
});
