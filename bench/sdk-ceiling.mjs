// The openai SDK alone, with no gapbench code (and its default transport, Node's fetch): N chat
// completions at concurrency C against a server, in its own process. What a bare loop over the
// SDK achieves on this machine, to set the harness's rate against.
import OpenAI from 'openai';

const [baseURL, model, n, c] = [process.argv[2], process.argv[3], Number(process.argv[4]), Number(process.argv[5])];
const client = new OpenAI({ baseURL, apiKey: 'sk-bench', maxRetries: 0 });
let next = 0;
const worker = async () => {
  while (next < n) {
    const i = next++;
    await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: `Case ${i % 1000}: what is ${i % 1000} plus ${i % 97}?` }],
      temperature: 0,
    });
  }
};
const t0 = performance.now();
await Promise.all(Array.from({ length: c }, worker));
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage();
process.stdout.write(`@@CEILING ${JSON.stringify({ wallMs, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
