/**
 * Vendors as they really are: a loopback server answers as each vendor documents (shared/vendors.md),
 * reached through the real openai SDK, and gapbench's presets and rules must get 100% through.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.js';
import { familyGroup } from '../src/config/families.js';
import { cli, parseCsv, tempDir, writeFiles } from './helpers.js';

interface Seen {
  model: string;
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
}
const seen: Seen[] = [];
let server: Server;
let base = '';

/** What each vendor refuses (status and body as its docs show them), by model name. */
function refusal(s: Seen): [number, unknown] | undefined {
  const { model, body, headers } = s;
  if (model.startsWith('kimi-k2.6') && (body.temperature !== undefined || body.top_p !== undefined))
    return [
      400,
      { error: { message: 'invalid temperature: only 1 is allowed for this model', type: 'invalid_request_error' } },
    ];
  if (model.startsWith('qwen3-') && body.stream !== true && body.enable_thinking !== false)
    return [
      400,
      {
        error: {
          message: 'parameter.enable_thinking must be set to false for non-streaming calls',
          code: 'invalid_parameter_error',
        },
      },
    ];
  if (model.startsWith('ernie') && headers.appid !== 'app-123')
    return [400, { error: { message: 'appid required', code: 'invalid_appid' } }];
  if (model === 'intl-only' && headers.authorization !== 'Bearer sk-intl')
    // A server that echoes what it was sent: nothing secret may reach gapbench's output.
    return [
      401,
      { error: { message: `Invalid Authentication: ${headers.authorization} x-secret=${headers['x-secret']}` } },
    ];
  return undefined;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const body = JSON.parse(raw || '{}') as Record<string, unknown>;
      const s: Seen = { model: String(body.model), body, headers: req.headers };
      seen.push(s);
      const bad = refusal(s);
      res.setHeader('content-type', 'application/json');
      if (bad) {
        res.statusCode = bad[0];
        res.end(JSON.stringify(bad[1]));
        return;
      }
      const prompt = String((body.messages as { content: string }[]).at(-1)?.content);
      const m = /What is (\d+) \+ (\d+)\?/.exec(prompt);
      const answer = m ? String(Number(m[1]) + Number(m[2])) : 'ok';
      res.end(
        JSON.stringify({
          id: 'x',
          object: 'chat.completion',
          created: 1,
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const N = 8;
const suite = ['name: arith', 'grader: numeric', 'cases:'];
for (let i = 0; i < N; i++) suite.push(`  - { id: q${i}, prompt: "What is ${i} + ${i * 2}?", expected: ${i * 3} }`);

function project(models: string, defaults = ''): string {
  const dir = tempDir();
  writeFiles(dir, { 'arith.yaml': suite.join('\n'), 'gapbench.config.yaml': `${defaults}models:\n${models}` });
  return dir;
}
const summary = (dir: string, run: string) =>
  parseCsv(readFileSync(join(dir, 'results', run, 'summary.csv'), 'utf8'), { columns: true }) as Record<
    string,
    string
  >[];
const bodiesOf = (model: string) => seen.filter((s) => s.model === model).map((s) => s.body);

describe('presets and rules let each vendor answer 100%', () => {
  it('moonshot kimi-k2.6 gets no temperature or top_p (its fixed values), said once and recorded', async () => {
    const dir = project(`  - { provider: moonshot, model: kimi-k2.6, baseURL: "${base}" }\n`);
    const r = await cli(['run', '--suite', 'arith.yaml', '--run-id', 'k'], {
      cwd: dir,
      env: { MOONSHOT_API_KEY: 'sk-1' },
    });
    expect(r.code).toBe(0);
    expect(summary(dir, 'k')[0]).toMatchObject({ score: '1', errors: '0', group: 'open' });
    for (const b of bodiesOf('kimi-k2.6')) expect(b).not.toHaveProperty('temperature');
    const note = "temperature (gapbench's default) not sent: kimi-k2.6 fixes it (platform.kimi.ai models-overview)";
    expect(r.stderr.split(`note: model 'moonshot:kimi-k2.6': ${note}`)).toHaveLength(2);
    const manifest = JSON.parse(readFileSync(join(dir, 'results', 'k', 'manifest.json'), 'utf8'));
    expect(manifest.models[0].rules).toEqual([note]);
  });

  it('dashscope open-weight qwen3 gets enable_thinking: false; an explicit extra wins', async () => {
    const dir = project(`  - { provider: dashscope, model: qwen3-32b, baseURL: "${base}", stream: false }\n`);
    const r = await cli(['run', '--suite', 'arith.yaml', '--run-id', 'q'], {
      cwd: dir,
      env: { DASHSCOPE_API_KEY: 'sk-1' },
    });
    expect(r.code).toBe(0);
    expect(summary(dir, 'q')[0]).toMatchObject({ score: '1', errors: '0', group: 'open' });
    for (const b of bodiesOf('qwen3-32b')) expect(b.enable_thinking).toBe(false);
  });

  it('a qianfan model that needs its appid header gets it from headers:, read from the environment', async () => {
    const dir = project(
      `  - { provider: qianfan, model: ernie-4.5-turbo-128k, baseURL: "${base}", headers: { appid: "\${QIANFAN_APPID}" } }\n`,
    );
    const env = { QIANFAN_API_KEY: 'bce-v3/ALTAK-1', QIANFAN_APPID: 'app-123' };
    const r = await cli(['run', '--suite', 'arith.yaml', '--run-id', 'e'], { cwd: dir, env });
    expect(r.code).toBe(0);
    expect(summary(dir, 'e')[0]).toMatchObject({ score: '1', errors: '0' });
    const manifest = readFileSync(join(dir, 'results', 'e', 'manifest.json'), 'utf8');
    expect(JSON.parse(manifest).models[0].header_names).toEqual(['appid']);
    expect(manifest).not.toContain('app-123');
  });

  it('deepseek with a seed in defaults sends none and says so once', async () => {
    const dir = project(
      `  - { provider: deepseek, model: deepseek-chat, baseURL: "${base}" }\n`,
      'defaults: { params: { seed: 7 } }\n',
    );
    const r = await cli(['run', '--suite', 'arith.yaml', '--run-id', 'd'], {
      cwd: dir,
      env: { DEEPSEEK_API_KEY: 'sk-1' },
    });
    expect(r.code).toBe(0);
    expect(summary(dir, 'd')[0]).toMatchObject({ score: '1', group: 'open' });
    for (const b of bodiesOf('deepseek-chat')) expect(b).not.toHaveProperty('seed');
    expect(r.stderr).toMatch(/note: model 'deepseek:deepseek-chat': DeepSeek has no seed parameter: not sent/);
    const manifest = JSON.parse(readFileSync(join(dir, 'results', 'd', 'manifest.json'), 'utf8'));
    expect(manifest.models[0].params.seed).toBeUndefined();
  });

  it('local servers that fill omitted parameters get max_tokens and top_p explicitly; null removes any param; extra goes in the body', async () => {
    const dir = project(
      `  - { provider: vllm, model: served-a, baseURL: "${base}", params: { temperature: null, extra: { top_k: 1, repetition_penalty: 1.0 } } }\n`,
    );
    const r = await cli(['run', '--suite', 'arith.yaml', '--run-id', 'v'], { cwd: dir });
    expect(r.code).toBe(0);
    for (const b of bodiesOf('served-a')) {
      expect(b).toMatchObject({ max_tokens: 1024, top_p: 1, top_k: 1, repetition_penalty: 1 });
      expect(b).not.toHaveProperty('temperature');
    }
  });

  it('a 401 from a region-bound vendor names the other region, and no key or header value is ever shown', async () => {
    const dir = project(
      `  - { provider: moonshot, model: intl-only, baseURL: "https://api.moonshot.ai/v1", headers: { x-secret: "hush-hush-value" } }\n`,
    );
    // The hint a 401 carries on the preset's own endpoint (the international one).
    const c = loadConfig({ configPath: 'gapbench.config.yaml', cwd: dir, env: { MOONSHOT_API_KEY: 'k' } });
    expect(c.models[0].authHint).toMatch(
      /China platform works only at https:\/\/api\.moonshot\.cn\/v1 \(provider moonshot-cn\)/,
    );
    const dir2 = project(
      `  - { provider: openai, model: intl-only, baseURL: "${base}", headers: { x-secret: "hush-hush-value" } }\n`,
    );
    const r = await cli(['run', '--suite', 'arith.yaml', '--run-id', 'a'], {
      cwd: dir2,
      env: { OPENAI_API_KEY: 'sk-wrong-key-123' },
    });
    expect(r.stdout + r.stderr).toMatch(/HTTP 401/);
    for (const f of ['records.jsonl', 'results.csv', 'summary.csv', 'manifest.json']) {
      const text = readFileSync(join(dir2, 'results', 'a', f), 'utf8');
      expect(text).not.toContain('sk-wrong-key-123');
      expect(text).not.toContain('hush-hush-value');
    }
    expect(r.stdout + r.stderr).not.toContain('hush-hush-value');
  });
});

describe('groups by weights', () => {
  it('follow the model family for aggregators and open-weight vendors', () => {
    expect(familyGroup('meta-llama/Llama-3.3-70B-Instruct-Turbo')).toBe('open');
    expect(familyGroup('openai/gpt-oss-20b')).toBe('open');
    expect(familyGroup('openai/gpt-4o')).toBe('closed');
    expect(familyGroup('qwen-plus')).toBe('closed');
    expect(familyGroup('qwen3-235b-a22b')).toBe('open');
    expect(familyGroup('kimi-k2.6')).toBe('open');
    expect(familyGroup('moonshot-v1-8k')).toBe('closed');
    expect(familyGroup('anthropic/claude-sonnet-4-5')).toBe('closed');
    expect(familyGroup('glm-4-plus')).toBe('closed');
    expect(familyGroup('glm-4.6')).toBe('open');
    expect(familyGroup('mystery/model-x')).toBeUndefined();
  });
});

describe('bad input: one line naming file, line, field and model, exit 2, nothing sent', () => {
  const cases: [string, string, RegExp][] = [
    [
      'extra not a map',
      `  - { provider: vllm, model: m1, baseURL: "${'BASE'}", params: { extra: 3 } }\n`,
      /gapbench\.config\.yaml:2: models\[0\]\.params\.extra: /,
    ],
    [
      'header name with a space',
      `  - { provider: vllm, model: m2, baseURL: "BASE", headers: { "bad name": x } }\n`,
      /headers.*a header name has no spaces/,
    ],
    [
      'header value with CR/LF',
      `  - { provider: vllm, model: m3, baseURL: "BASE", headers: { x-a: "v\\r\\nInjected: 1" } }\n`,
      /a header value has no line breaks/,
    ],
    [
      'unset ${VAR} in a header',
      `  - { provider: vllm, model: m4, baseURL: "BASE", headers: { x-a: "\${NOPE_VAR}" } }\n`,
      /gapbench\.config\.yaml:2: model 'vllm:m4': headers\.x-a uses \$\{NOPE_VAR\}, which is not set/,
    ],
    [
      'aggregator model of no known family',
      `  - { provider: openrouter, model: mystery/model-x, baseURL: "BASE" }\n`,
      /model 'openrouter:mystery\/model-x': openrouter serves many vendors' models and 'mystery\/model-x' is of no known family: add group/,
    ],
    [
      'a model id starting with a formula character',
      `  - { id: "@cf-llama", provider: vllm, model: m5, baseURL: "BASE" }\n`,
      /gapbench\.config\.yaml:2: models\[0\]\.id: must not start with = \+ - @/,
    ],
    [
      'zhipu with two stop words',
      `  - { provider: zhipu, model: glm-4.6, baseURL: "BASE", params: { stop: ["a", "b"] } }\n`,
      /model 'zhipu:glm-4\.6': zhipu accepts one stop word at most, got 2/,
    ],
  ];
  for (const [what, model, message] of cases) {
    it(what, async () => {
      const dir = project(model.replace('BASE', base));
      const before = seen.length;
      const r = await cli(['run', '--suite', 'arith.yaml'], {
        cwd: dir,
        env: { OPENROUTER_API_KEY: 'k', ZHIPUAI_API_KEY: 'k' },
      });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(seen.length).toBe(before);
    });
  }
});

describe('rate limits from the server', () => {
  it('without rpm configured, a lane paces itself from x-ratelimit-* headers: few 429s, nothing lost', async () => {
    const { startSimulator } = await import('../src/sim/index.js');
    const cases = Array.from({ length: 60 }, (_, i) => ({
      id: `q${i}`,
      prompt: `What is ${i} + ${i * 2}?`,
      expected: String(i * 3),
      category: 'x',
      grader: { type: 'numeric' },
      vars: {},
    }));
    const { answerKeyFromCases } = await import('../src/sim/index.js');
    const sim = await startSimulator({
      port: 0,
      models: [{ name: 'limited', accuracy: 1, rpm: 1200 }],
      answers: answerKeyFromCases(cases),
    });
    try {
      const dir = tempDir();
      writeFiles(dir, {
        'arith.yaml': [
          'name: arith',
          'grader: numeric',
          'cases:',
          ...cases.map((c) => `  - { id: ${c.id}, prompt: "${c.prompt}", expected: ${c.expected} }`),
        ].join('\n'),
        'gapbench.config.yaml': `models:\n  - { provider: openai, model: limited, baseURL: "${sim.openaiBaseURL}", concurrency: 8, maxRetries: 8 }\n`,
      });
      const r = await cli(['run', '--suite', 'arith.yaml', '--run-id', 'rl', '--quiet'], {
        cwd: dir,
        env: { OPENAI_API_KEY: 'k' },
      });
      expect(r.code).toBe(0);
      const s = sim.stats().byModel.limited;
      expect(s.ok).toBe(60);
      expect(s.rateLimited / s.requests).toBeLessThanOrEqual(0.05);
      expect(summary(dir, 'rl')[0]).toMatchObject({ score: '1', errors: '0' });
    } finally {
      await sim.close();
    }
  });
});

describe('resume writes where it is told', () => {
  it('--resume DIR on a copied run directory appends to DIR only', async () => {
    const { cpSync, readdirSync, writeFileSync: write } = await import('node:fs');
    const dir = project(`  - { provider: vllm, model: served-b, baseURL: "${base}" }\n`);
    expect((await cli(['run', '--suite', 'arith.yaml', '--run-id', 'orig', '--quiet'], { cwd: dir })).code).toBe(0);
    const orig = join(dir, 'results', 'orig');
    const copy = join(dir, 'elsewhere', 'copy-of-run');
    cpSync(orig, copy, { recursive: true });
    const lines = readFileSync(join(copy, 'records.jsonl'), 'utf8').trim().split('\n');
    write(join(copy, 'records.jsonl'), `${lines.slice(0, 3).join('\n')}\n`);
    const before = readFileSync(join(orig, 'records.jsonl'), 'utf8');
    const r = await cli(['run', '--resume', copy, '--quiet'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readFileSync(join(copy, 'records.jsonl'), 'utf8').trim().split('\n')).toHaveLength(N);
    expect(readFileSync(join(orig, 'records.jsonl'), 'utf8')).toBe(before);
    expect(readdirSync(join(dir, 'results')).sort()).toEqual(['history-cases.jsonl', 'history.csv', 'orig']);
  });
});
