// The openai SDK alone, with no gapbench code (and its default transport, Node's fetch): N chat
// completions at concurrency C against a server, in its own process. What a bare loop over the
// SDK achieves on this machine, to set the harness's rate against. With a 6th argument `stream`,
// the answers are streamed and the time to each one's first token is reported too.
import OpenAI from 'openai';

const [baseURL, model, n, c] = [process.argv[2], process.argv[3], Number(process.argv[4]), Number(process.argv[5])];
const stream = process.argv[6] === 'stream';
const client = new OpenAI({ baseURL, apiKey: 'sk-bench', maxRetries: 0 });
const ttfts = [];
let next = 0;
const worker = async () => {
  while (next < n) {
    const i = next++;
    const body = {
      model,
      messages: [{ role: 'user', content: `Case ${i % 1000}: what is ${i % 1000} plus ${i % 97}?` }],
      temperature: 0,
    };
    if (!stream) {
      await client.chat.completions.create(body);
      continue;
    }
    const started = performance.now();
    let first;
    for await (const chunk of await client.chat.completions.create({ ...body, stream: true })) {
      if (first === undefined && chunk.choices[0]?.delta?.content) first = performance.now() - started;
    }
    ttfts.push(first);
  }
};
const t0 = performance.now();
await Promise.all(Array.from({ length: c }, worker));
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage();
process.stdout.write(`@@CEILING ${JSON.stringify({ wallMs, cpuMs: (cpu.user + cpu.system) / 1000, ttfts })}\n`);
