// Per-request CPU of each layer, against a simulator in another process (latency 0).
import { spawn } from 'node:child_process';
import OpenAI from 'openai';
import { nodeFetch } from '../dist/providers/http.js';
import { createProvider } from '../dist/providers/index.js';
import { loadConfig } from '../dist/config/config.js';

const port = 18731;
const sim = spawn(process.execPath, ['dist/cli.js', 'sim', '--port', String(port), '--model', `m@accuracy=0.9,latency=${process.env.LAT ?? 0}`], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((r) => sim.stdout.once('data', r));
const base = `http://127.0.0.1:${port}/v1`;
const N = Number(process.env.N ?? 20000), C = Number(process.env.C ?? 32);
async function measure(name, fn) {
  let i = 0;
  const worker = async () => { while (i < N) { i++; await fn(); } };
  await Promise.all(Array.from({ length: C }, worker)); // warm
  i = 0;
  const c0 = process.cpuUsage(); const t0 = performance.now();
  await Promise.all(Array.from({ length: C }, worker));
  const c = process.cpuUsage(c0); const t = performance.now() - t0;
  console.log(name.padEnd(28), `${((c.user + c.system) / N).toFixed(0)} us CPU/req`, `${(N / t * 1000).toFixed(0)} req/s`);
}
const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'Case 12: what is 12 plus 12?' }], temperature: 0 });
await measure('nodeFetch', async () => { const r = await nodeFetch(`${base}/chat/completions`, { method: 'POST', body, headers: { 'content-type': 'application/json' } }); await r.json(); });
await measure('global fetch', async () => { const r = await fetch(`${base}/chat/completions`, { method: 'POST', body, headers: { 'content-type': 'application/json' } }); await r.json(); });
const client = new OpenAI({ apiKey: 'x', baseURL: base, maxRetries: 0, fetch: nodeFetch });
await measure('openai sdk + nodeFetch', async () => { await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Case 12: what is 12 plus 12?' }], temperature: 0 }); });
await measure('openai sdk + signal', async () => { const ac = new AbortController(); await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Case 12: what is 12 plus 12?' }], temperature: 0 }, { signal: ac.signal }); });
const cfg = loadConfig({ cliModels: [], cwd: '/tmp', env: {} });
sim.kill();
