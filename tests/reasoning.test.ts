/**
 * Today's models as the vendors document them, played by the simulator through the real openai and
 * ollama SDKs: models that fix their temperature (HTTP 400 to any other), OpenAI reasoning models
 * that refuse max_tokens, thinking models that honour a switch and a budget (or think anyway).
 * One `reasoning:` knob drives them all; `defaults` never break a model; the outputs say at which
 * setting each side ran, and warn when a gap compares a thinking side with one that does not think.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/sim/index.js';
import { loadConfig } from '../src/config/config.js';
import { planReasoning } from '../src/config/reasoning.js';
import {
  cli,
  csvRows,
  numericAnswerKey,
  runManifest,
  runRecords,
  suiteYaml,
  tempDir,
  withServer,
  writeFiles,
} from './helpers.js';
import { openaiBatch } from '../src/providers/openai-batch.js';

const CASES = Array.from({ length: 6 }, (_, i) => ({ id: `q${i}`, prompt: `What is ${i} plus 5?`, expected: i + 5 }));
const KEYS = {
  MOONSHOT_API_KEY: 'sk-m',
  QIANFAN_API_KEY: 'bce-v3/x',
  OPENAI_API_KEY: 'sk-o',
  DASHSCOPE_API_KEY: 'sk-d',
};

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    seed: 1,
    models: [
      { name: 'kimi-k2.6', accuracy: 1, fixedTemperature: true, reasoningTokens: 20 },
      { name: 'kimi-k2.5', accuracy: 1, fixedTemperature: true },
      {
        name: 'gpt-5-mini',
        accuracy: 1,
        fixedTemperature: true,
        refuseMaxTokens: true,
        reasoningTokens: 50,
        thinkingSwitch: true,
      },
      { name: 'qwen3-32b', accuracy: 1, reasoningTokens: 40, thinkingSwitch: true },
      { name: 'qwen3:8b', accuracy: 1, reasoningTokens: 30, thinkingSwitch: true },
      { name: 'Qwen/Qwen3-8B', accuracy: 1, reasoningTokens: 2000 },
      { name: 'my-finetune', accuracy: 1, reasoningTokens: 2000 },
      { name: 'gpt-4o-mini', accuracy: 1 },
      { name: 'deepseek-v4-flash', accuracy: 1, reasoningTokens: 25, thinkingSwitch: true },
    ],
    answers: numericAnswerKey(CASES),
  });
});
afterAll(() => sim.close());

function project(models: string[], defaults = ''): string {
  const dir = tempDir();
  writeFiles(dir, {
    's.yaml': suiteYaml('s', CASES),
    'gapbench.config.yaml': ['suites: [s.yaml]', defaults, 'models:', ...models.map((m) => `  - ${m}`)].join('\n'),
  });
  return dir;
}
const at = (provider: string, model: string, more = '') =>
  `{ provider: ${provider}, model: "${model}", ${provider === 'ollama' ? 'host' : 'baseURL'}: "${provider === 'ollama' ? sim.url : sim.openaiBaseURL}"${more} }`;
const summaryOf = (dir: string, run: string) => csvRows(join(dir, 'results', run, 'summary.csv'));

describe('defaults never break a model; a value written on the model that the vendor refuses is a config error', () => {
  it('kimi-k2.6 (moonshot) and kimi-k2.5 (qianfan) with temperature 0 in defaults answer 100%, each saying the value was dropped', async () => {
    const dir = project(
      [at('moonshot', 'kimi-k2.6'), at('qianfan', 'kimi-k2.5', ', group: open')],
      'defaults: { params: { temperature: 0 } }',
    );
    const r = await cli(['run', '--run-id', 'k', '--quiet'], { cwd: dir, env: KEYS });
    expect(r.code, r.stderr).toBe(0);
    for (const row of summaryOf(dir, 'k')) expect(row).toMatchObject({ score: '1', errors: '0' });
    for (const id of ['moonshot:kimi-k2.6', 'qianfan:kimi-k2.5']) {
      const name = id.split(':')[1];
      expect(r.stderr).toContain(`note: model '${id}': temperature (from defaults) not sent: ${name} fixes it`);
    }
    const m = runManifest(join(dir, 'results', 'k'));
    expect(m.models[0].params).not.toHaveProperty('temperature');
    expect(m.models[0].reasoning).toBe('default (thinks)');
  });

  it('temperature written on a kimi-k2.6 model: exit 2 naming the file, line, model and rule; nothing sent', async () => {
    const before = sim.stats().requests;
    const dir = project([at('openai', 'x-other'), at('moonshot', 'kimi-k2.6', ', params: { temperature: 0.3 }')]);
    const r = await cli(['run', '--run-id', 'x'], { cwd: dir, env: KEYS });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /gapbench\.config\.yaml:5: .*model 'moonshot:kimi-k2\.6': temperature: 0\.3 is refused: kimi-k2\.6 fixes it/,
    );
    expect(sim.stats().requests).toBe(before);
  });

  it('the fixed-parameter rule follows the Kimi family to any host, and only K2.5 and later', () => {
    const dir = project(
      [
        '{ provider: ark, model: kimi-k2-5-260127 }',
        '{ provider: tokenhub, model: kimi-k2.5 }',
        '{ provider: moonshot, model: kimi-k2-0905-preview, params: { temperature: 0.3 } }',
      ],
      'defaults: { params: { temperature: 0, top_p: 0.9 } }',
    );
    const [ark, hub, preview] = loadConfig({ configPath: 'gapbench.config.yaml', cwd: dir, env: {} }).models;
    for (const m of [ark, hub]) {
      expect(m.params).not.toHaveProperty('temperature');
      expect(m.params).not.toHaveProperty('top_p');
    }
    expect(preview.params).toMatchObject({ temperature: 0.3, top_p: 0.9 });
  });

  it('reasoning in defaults never sends think to an Ollama model not known to think (Ollama answers 400 to it)', () => {
    const dir = project(
      [
        '{ provider: ollama, model: "llama3.1:8b" }',
        '{ provider: ollama, model: "qwen3:8b" }',
        '{ provider: ollama, model: "llama3.1:8b", id: own, reasoning: high }',
      ],
      'defaults: { reasoning: high }',
    );
    const [llama, qwen, own] = loadConfig({ configPath: 'gapbench.config.yaml', cwd: dir, env: {} }).models;
    expect(llama.params.think).toBeUndefined();
    expect(llama).toMatchObject({ reasoning: 'high (not honoured)' });
    expect(llama.rules?.[0]).toMatch(
      /not a known thinking model, and Ollama refuses think for those: not sent from defaults/,
    );
    expect(qwen.params.think).toBe(true);
    // Written on the model itself, it is the user's explicit choice: sent.
    expect(own.params.think).toBe(true);
  });

  it('Claude thinking from defaults gets room above its budget and temperature 1; a max_tokens on the model below it is an error', () => {
    const dir = project(
      ['{ provider: anthropic, model: claude-sonnet-4-5 }'],
      'defaults: { reasoning: medium, params: { max_tokens: 1024 } }',
    );
    const [claude] = loadConfig({ configPath: 'gapbench.config.yaml', cwd: dir, env: {} }).models;
    expect(claude.params).toEqual({
      max_tokens: 8192 + 4096,
      extra: { thinking: { type: 'enabled', budget_tokens: 8192 } },
    });
    const bad = project([
      '{ provider: anthropic, model: claude-sonnet-4-5, reasoning: high, params: { max_tokens: 2000 } }',
    ]);
    expect(() => loadConfig({ configPath: 'gapbench.config.yaml', cwd: bad, env: {} })).toThrow(
      /model 'anthropic:claude-sonnet-4-5': max_tokens 2000 must exceed the thinking budget 24576/,
    );
  });

  it('a thinking default the vendor refuses without streaming is turned off, and the outputs say so', () => {
    const dir = project([
      '{ provider: dashscope, model: qwen3-32b, stream: false }',
      '{ provider: dashscope, model: qwq-plus, stream: false }',
      '{ provider: dashscope, model: qwen3-32b, id: streamed }',
    ]);
    const [qwen3, qwq, streamed] = loadConfig({ configPath: 'gapbench.config.yaml', cwd: dir, env: {} }).models;
    // Streamed, it keeps its own default: nothing to turn off.
    expect(streamed.params.extra).toBeUndefined();
    expect(qwen3).toMatchObject({
      reasoning: 'off (vendor rule)',
      thinks: false,
      params: { extra: { enable_thinking: false } },
    });
    // A thinking-only model cannot turn it off: nothing is sent that would make it fail (it needs streaming).
    expect(qwq).toMatchObject({ reasoning: 'default (thinks)', thinks: true });
    expect(qwq.params.extra).toBeUndefined();
  });

  it('an OpenAI reasoning model: temperature from defaults dropped, max_tokens sent as max_completion_tokens, reasoning low honoured', async () => {
    const dir = project(
      [at('openai', 'gpt-5-mini', ', reasoning: low, params: { max_tokens: 4000 }')],
      'defaults: { params: { temperature: 0 } }',
    );
    const r = await cli(['run', '--run-id', 'g', '--quiet'], { cwd: dir, env: KEYS });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/max_tokens 4000 sent as max_completion_tokens \(gpt-5-mini refuses max_tokens\)/);
    const row = summaryOf(dir, 'g')[0];
    expect(row).toMatchObject({ score: '1', errors: '0', reasoning: 'low', reasoning_tokens_per_answer: '50' });
    expect(runManifest(join(dir, 'results', 'g')).models[0].params).toMatchObject({
      reasoning_effort: 'low',
      max_completion_tokens: 4000,
    });
  });
});

describe('one reasoning knob, mapped per vendor', () => {
  it('DashScope enable_thinking/thinking_budget and Ollama think: off, a budget and high reach the model as asked', async () => {
    const dir = project([
      at('dashscope', 'qwen3-32b', ', id: q-off, reasoning: off'),
      at('dashscope', 'qwen3-32b', ', id: q-budget, reasoning: { budget_tokens: 12 }'),
      at('ollama', 'qwen3:8b', ', id: o-off, reasoning: off'),
      at('ollama', 'qwen3:8b', ', id: o-high, reasoning: high'),
      at('deepseek', 'deepseek-v4-flash', ', id: d-high, reasoning: high'),
      at('deepseek', 'deepseek-v4-flash', ', id: d-off, reasoning: off'),
    ]);
    const r = await cli(['run', '--run-id', 'r', '--quiet'], { cwd: dir, env: KEYS });
    expect(r.code, r.stderr).toBe(0);
    const rows = Object.fromEntries(summaryOf(dir, 'r').map((x) => [x.model, x]));
    expect(rows['q-off']).toMatchObject({ score: '1', reasoning: 'off', reasoning_tokens_per_answer: '' });
    expect(rows['q-budget']).toMatchObject({ score: '1', reasoning: 'budget 12', reasoning_tokens_per_answer: '12' });
    expect(rows['o-off']).toMatchObject({ score: '1', reasoning: 'off' });
    expect(rows['o-high']).toMatchObject({ score: '1', reasoning: 'high' });
    expect(rows['d-high']).toMatchObject({ score: '1', reasoning: 'high', reasoning_tokens_per_answer: '25' });
    expect(rows['d-off']).toMatchObject({ score: '1', reasoning: 'off', reasoning_tokens_per_answer: '' });
    const recs = runRecords(join(dir, 'results', 'r'));
    const thought = (id: string) => recs.filter((x) => x.model === id && x.status === 'ok' && x.reasoning).length;
    expect([thought('o-off'), thought('o-high')]).toEqual([0, CASES.length]);
    // Ollama has no effort levels: said once, and recorded.
    expect(r.stderr).toMatch(
      /note: model 'o-high': reasoning high: no 'high' effort level on this API: sends \{"think":true\}/,
    );
  });

  it('a local thinking model gets an output budget fit for thinking: 2,000 tokens of thought are not cut at 1,024', async () => {
    const dir = project([at('vllm', 'Qwen/Qwen3-8B', ', reasoning: high')]);
    const r = await cli(['run', '--run-id', 'v', '--quiet'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(summaryOf(dir, 'v')[0]).toMatchObject({ score: '1', truncated: '0', reasoning: 'high' });
    expect(runManifest(join(dir, 'results', 'v')).models[0].params.max_tokens).toBe(16384);
    // Known to think by its family, even without the knob.
    const dflt = project([at('vllm', 'Qwen/Qwen3-8B', ', group: open')]);
    expect(loadConfig({ configPath: 'gapbench.config.yaml', cwd: dflt, env: {} }).models[0]).toMatchObject({
      reasoning: 'default (thinks)',
      params: { max_tokens: 16384 },
    });
    // A model not known to think keeps the 1,024-token budget: when it thinks anyway, the real cut is flagged.
    const cut = project([at('vllm', 'my-finetune', ', group: open')]);
    const c = await cli(['run', '--run-id', 'c', '--quiet'], { cwd: cut });
    expect(summaryOf(cut, 'c')[0]).toMatchObject({ truncated: String(CASES.length), reasoning: 'default' });
    expect(c.stdout).toMatch(/answer\(s\) cut by the token limit/);
  });

  it("gap rows say each side's setting, and the terminal warns when a thinking side meets a non-thinking one", async () => {
    const dir = project([
      at('openai', 'gpt-5-mini', ', reasoning: high'),
      at('ollama', 'qwen3:8b', ', reasoning: off'),
    ]);
    const r = await cli(['run', '--run-id', 'w'], { cwd: dir, env: KEYS });
    expect(r.code, r.stderr).toBe(0);
    const gap = csvRows(join(dir, 'results', 'w', 'gap.csv'))[0];
    expect(gap).toMatchObject({ closed_reasoning: 'high', open_reasoning: 'off' });
    expect(r.stdout).toMatch(/warning: the closed side thinks and the open side does not \(reasoning high vs off\)/);
    const same = project([
      at('openai', 'gpt-5-mini', ', reasoning: high'),
      at('ollama', 'qwen3:8b', ', reasoning: high'),
    ]);
    const s = await cli(['run', '--run-id', 'w'], { cwd: same, env: KEYS });
    expect(s.stdout).not.toMatch(/side thinks/);
  });

  it('says when a model cannot honour the setting, and what each family does by default', () => {
    expect(planReasoning('off', 'openai', 'o3')).toMatchObject({ label: 'off (not honoured)', thinks: true });
    expect(planReasoning('off', 'openai', 'o3').note).toMatch(/always thinks: sends reasoning_effort low/);
    expect(planReasoning('high', 'openai', 'gpt-4o-mini')).toMatchObject({ thinks: false, patch: {} });
    expect(planReasoning(undefined, 'deepseek', 'deepseek-v4-flash')).toMatchObject({ label: 'default (thinks)' });
    expect(planReasoning('off', 'deepseek', 'deepseek-v4-pro').patch).toEqual({
      extra: { thinking: { type: 'disabled' } },
    });
    expect(planReasoning('high', 'ark', 'doubao-seed-2-0-pro-260215').patch).toEqual({
      extra: { thinking: { type: 'enabled' } },
      reasoning_effort: 'high',
    });
    expect(planReasoning('off', 'zhipu', 'glm-5').patch).toEqual({ extra: { thinking: { type: 'disabled' } } });
    expect(planReasoning('off', 'llamacpp', 'any').patch).toEqual({
      extra: { chat_template_kwargs: { enable_thinking: false } },
    });
    expect(planReasoning({ budget_tokens: 500 }, 'openrouter', 'z-ai/glm-4.6').patch).toEqual({
      extra: { reasoning: { max_tokens: 500 } },
    });
    expect(planReasoning('off', 'dashscope', 'qwq-plus').note).toMatch(/always thinks/);
    expect(planReasoning('low', 'hunyuan', 'hunyuan-turbos-latest').note).toMatch(/no known thinking switch/);
  });
});

describe('bad input: one line naming file, line and model, exit 2, nothing sent', () => {
  const cases: [string, string, RegExp][] = [
    ['reasoning: max', '', /gapbench\.config\.yaml:4: model 'm': reasoning "max" is not one of off, low, medium, high/],
    [
      'reasoning: { budget_tokens: 0 }',
      '',
      /:4: model 'm': reasoning\.budget_tokens must be a positive whole number, got 0/,
    ],
    [
      'reasoning: { budget_tokens: 1.5 }',
      '',
      /:4: model 'm': reasoning\.budget_tokens must be a positive whole number/,
    ],
    ['', 'defaults: { reasoning: lots }', /:2: defaults: reasoning "lots" is not one of .* \(for model 'm'\)/],
    ['price: { input: 1, batch: [0.5] }', '', /:4: model 'm': price\.batch must be a factor of the live price/],
    [
      'price: { input: 1, batch: 2 }',
      '',
      /:4: model 'm': price\.batch as a factor must be above 0 and at most 1, got 2/,
    ],
  ];
  for (const [field, defaults, message] of cases) {
    it(field || defaults, async () => {
      const before = sim.stats().requests;
      const dir = project(
        [`{ id: m, provider: openai, model: gpt-5-mini, baseURL: "${sim.openaiBaseURL}"${field ? `, ${field}` : ''} }`],
        defaults,
      );
      const r = await cli(['run', '--run-id', 'b'], { cwd: dir, env: KEYS });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(sim.stats().requests).toBe(before);
    });
  }
});

describe('batch as each vendor offers it (config side)', () => {
  it('Kimi files of at most 100 MB at 0.6x; Zhipu lines target /v4/chat/completions; Ark and Qianfan refused with why', () => {
    const dir = project([
      '{ provider: moonshot, model: kimi-k2.6, batch: true }',
      '{ provider: zhipu, model: glm-5, batch: true }',
    ]);
    const c = loadConfig({ configPath: 'gapbench.config.yaml', cwd: dir, env: {} });
    expect(c.models[0].batch).toMatchObject({ maxBytes: 100_000_000 });
    expect(c.models[0].price).toMatchObject({ input: 0.95, output: 4, batch: { input: 0.95 * 0.6, output: 4 * 0.6 } });
    expect(c.models[1].batch).toMatchObject({ endpoint: '/v4/chat/completions', maxRequests: 50_000 });
    for (const [provider, why] of [
      ['ark', /no batch mode on ark: Ark's batch inference is not the OpenAI Files\+Batches API/],
      ['qianfan', /no batch mode on qianfan: Qianfan's batch inference is a console API/],
    ] as const) {
      const bad = project([`{ provider: ${provider}, model: some-model, group: closed, batch: true }`]);
      expect(() => loadConfig({ configPath: 'gapbench.config.yaml', cwd: bad, env: {} })).toThrow(why);
    }
  });
});

describe("batch lines at the vendor's own endpoint", () => {
  it('Zhipu: every line and the batch itself target /v4/chat/completions (a loopback server answering as its batch API)', async () => {
    const seen: { url?: string; body: Record<string, unknown> }[] = [];
    await withServer(
      (req, res) => {
        let raw = '';
        req.on('data', (d) => (raw += d));
        req.on('end', () => {
          seen.push({ url: req.url, body: JSON.parse(raw || '{}') as Record<string, unknown> });
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify({
              id: 'batch_1',
              object: 'batch',
              status: 'validating',
              input_file_id: 'file-1',
              created_at: 1,
            }),
          );
        });
      },
      async (port) => {
        const dir = project([
          `{ provider: zhipu, model: glm-5, baseURL: "http://127.0.0.1:${port}/api/paas/v4", batch: true }`,
        ]);
        const [m] = loadConfig({ configPath: 'gapbench.config.yaml', cwd: dir, env: {} }).models;
        const api = openaiBatch(m, { env: { ZHIPUAI_API_KEY: 'zk' }, cwd: dir });
        const line = JSON.parse(api.line('j1', [{ role: 'user', content: 'hi' }], m.params)) as { url: string };
        expect(line.url).toBe('/v4/chat/completions');
        await api.create('file-1', {});
        expect(seen).toEqual([
          { url: '/api/paas/v4/batches', body: expect.objectContaining({ endpoint: '/v4/chat/completions' }) },
        ]);
      },
    );
  });
});

describe('prices without typing them', () => {
  it("the README's two-model example prints a cost for gpt-4o-mini with no price: line, and says why the other has none", async () => {
    const dir = tempDir();
    writeFiles(dir, { 's.yaml': suiteYaml('s', CASES) });
    const r = await cli(
      ['run', '--suite', 's.yaml', '--model', 'openai:gpt-4o-mini', '--model', 'ollama:qwen3:8b', '--run-id', 'p'],
      {
        cwd: dir,
        env: { OPENAI_API_KEY: 'sk-o', OPENAI_BASE_URL: sim.openaiBaseURL, OLLAMA_HOST: sim.url },
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(Number(summaryOf(dir, 'p')[0].cost_per_correct_usd)).toBeGreaterThan(0);
    const m = runManifest(join(dir, 'results', 'p'));
    expect(m.models[0]).toMatchObject({ price: { input: 0.15, output: 0.6 } });
    expect(m.models[0].priceSource).toMatch(
      /^@pydantic\/genai-prices 0\.1\.8 \(data of 2026-09-23\): openai\/gpt-4o-mini$/,
    );
    expect(r.stdout).toMatch(
      /cost\/correct: no price for 'ollama:qwen3:8b' \(set price: \{ perHour \} for your machine\)/,
    );
    expect(r.stdout).not.toMatch(/no price for 'openai:gpt-4o-mini'/);
  });
});
