import { describe, expect, it } from 'vitest';
import { loadConfig, missingKeys, parseModelSpec } from '../src/config/config.js';
import { FileError, UsageError } from '../src/errors.js';
import { tempDir, writeFiles } from './helpers.js';

function load(yaml: string, extra: { cliModels?: string[]; env?: NodeJS.ProcessEnv } = {}) {
  const dir = tempDir();
  writeFiles(dir, { 'gapbench.config.yaml': yaml });
  return loadConfig({ cwd: dir, env: extra.env ?? {}, cliModels: extra.cliModels });
}

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('config', () => {
  it('applies presets, group defaults and lane defaults', () => {
    const c = load(`
models:
  - id: kimi
    provider: moonshot
    model: kimi-k2.6
  - provider: ollama
    model: qwen2.5:7b
  - provider: deepseek
    model: deepseek-chat
    price: { input: 0.27, output: 1.1 }
  - provider: vllm
    model: Qwen/Qwen2.5-7B-Instruct
    group: open
    concurrency: 16
    params: { temperature: 0.2, max_tokens: 512, stop: "###" }
`);
    const [kimi, ollama, deepseek, vllm] = c.models;
    expect(kimi).toMatchObject({
      id: 'kimi',
      protocol: 'openai',
      // Kimi K2.x publish their weights (moonshotai/Kimi-K2.6): open, by family.
      group: 'open',
      endpoint: 'https://api.moonshot.ai/v1',
      apiKeyEnv: 'MOONSHOT_API_KEY',
      concurrency: 8,
      maxRetries: 5,
    });
    expect(ollama).toMatchObject({
      id: 'ollama:qwen2.5:7b',
      protocol: 'ollama',
      group: 'open',
      endpoint: 'http://127.0.0.1:11434',
      concurrency: 1,
    });
    expect(deepseek.group).toBe('open');
    expect(vllm).toMatchObject({
      endpoint: 'http://127.0.0.1:8000/v1',
      concurrency: 16,
      keyOptional: true,
      params: { temperature: 0.2, max_tokens: 512, stop: ['###'] },
    });
  });

  it('splits --model at the first colon only', () => {
    expect(parseModelSpec('ollama:llama3.1:8b')).toMatchObject({
      provider: 'ollama',
      model: 'llama3.1:8b',
      id: 'ollama:llama3.1:8b',
    });
    expect(parseModelSpec('openai:gpt-4o-mini')).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini' });
    expect(() => parseModelSpec('gpt-4o')).toThrow(UsageError);
    expect(() => parseModelSpec('openai:')).toThrow(/provider:model/);
  });

  it('reads OLLAMA_HOST and OPENAI_BASE_URL from the environment', () => {
    const c = load('models: []', {
      cliModels: ['ollama:llama3.1:8b', 'openai:gpt-4o-mini'],
      env: { OLLAMA_HOST: '10.0.0.5:11434', OPENAI_BASE_URL: 'http://127.0.0.1:9999/v1' },
    });
    expect(c.models[0].endpoint).toBe('http://10.0.0.5:11434');
    const bare = load('models: []', { cliModels: ['ollama:x'], env: { OLLAMA_HOST: '0.0.0.0' } });
    expect(bare.models[0].endpoint).toBe('http://0.0.0.0:11434');
    const tls = load('models: []', { cliModels: ['ollama:x'], env: { OLLAMA_HOST: 'https://ollama.example.com' } });
    expect(tls.models[0].endpoint).toBe('https://ollama.example.com');
    expect(c.models[1].endpoint).toBe('http://127.0.0.1:9999/v1');
    expect(c.models[1].keyOptional).toBe(true);
    // An address that is not a URL would fail every request: it is an error now, saying where it came from.
    expect(
      errorOf(() => load('models: []', { cliModels: ['ollama:x'], env: { OLLAMA_HOST: 'http://[::1' } })).message,
    ).toBe("(command line): model 'ollama:x': host 'http://[::1' is not an http(s) address (from OLLAMA_HOST)");
    expect(
      errorOf(() => load('models: []', { cliModels: ['openai:x'], env: { OPENAI_BASE_URL: 'not a url' } })).message,
    ).toBe("(command line): model 'openai:x': baseURL 'not a url' is not an http(s) URL (from OPENAI_BASE_URL)");
  });

  it.each([
    ['models:\n  - provider: openai\n    model: x\n    temprature: 0\n', 4, /unknown field 'temprature'/],
    ['models:\n  - provider: nope\n    model: x\n', 2, /unknown provider 'nope'/],
    [
      'models:\n  - provider: openai\n    model: x\n    concurrency: -1\n',
      4,
      /models\[0\]\.concurrency: number must be greater than 0$/,
    ],
    [
      'models:\n  - provider: openai\n    model: x\n    concurrency: many\n',
      4,
      /models\[0\]\.concurrency: expected number, received string$/,
    ],
    ['models:\n  - provider: openai\n    timeoutMs: 100\n', 2, /models\[0\]\.model: required$/],
    [
      'models:\n  - provider: openai\n    model: x\n  - provider: openai\n    model: x\n',
      4,
      /duplicate model id 'openai:x'/,
    ],
    ['models:\n  - provider: openai\n    model: a: b\n', 3, /invalid YAML/],
    // Unclosed at the end of the file: the file's last line, not the one after it.
    ['models:\n  - provider: openai\n    model: [x, y\n', 3, /invalid YAML/],
    ['models:\n  - provider: openai\n    model: "x\n', 3, /invalid YAML/],
    ['models:\n  - provider: ollama\n    model: x\n    baseURL: http://x/v1\n', 4, /take 'host'/],
    [
      'models:\n  - provider: openai\n    model: x\n    group: half-open\n',
      4,
      /group: must be one of "closed", "open"/,
    ],
    ['models:\n  - provider: openai\n    model: x\n    apiKeyEnv: sk-abc123\n', 4, /environment variable name/],
    [
      'models:\n  - provider: openai\n    model: x\n    baseURL: api.example.com/v1\n',
      4,
      /model 'openai:x': baseURL 'api.example.com\/v1' is not an http\(s\) URL$/,
    ],
    [
      'models:\n  - provider: vllm\n    model: x\n    baseURL: "http://[::1"\n',
      4,
      /model 'vllm:x': baseURL 'http:\/\/\[::1' is not an http\(s\) URL$/,
    ],
    [
      'models:\n  - provider: ollama\n    model: x\n    host: "http//127.0.0.1:11434"\n',
      4,
      /model 'ollama:x': host 'http\/\/127.0.0.1:11434' is not an http\(s\) address$/,
    ],
    [
      'models:\n  - provider: ollama\n    model: x\n    host: ftp://gpu-box\n',
      4,
      /model 'ollama:x': host 'ftp:\/\/gpu-box' is not an http\(s\) address$/,
    ],
  ])('rejects bad config with the file, line and field: %#', (yaml, line, msg) => {
    const e = errorOf(() => load(yaml));
    expect(e).toBeInstanceOf(FileError);
    expect(e.message).toMatch(msg);
    expect(e.message).toMatch(new RegExp(`^gapbench\\.config\\.yaml:${line}: `));
    expect(e.message).not.toContain('\n');
  });

  it('names the missing key variable and model, never needing the key in the file', () => {
    const c = load(
      'models:\n  - provider: openai\n    model: gpt-4o-mini\n  - provider: qianfan\n    model: ernie-4.5-turbo-128k\n  - provider: vllm\n    model: m\n',
    );
    const missing = missingKeys(c.models, { OPENAI_API_KEY: 'sk-test' });
    expect(missing).toEqual([
      expect.stringMatching(/model 'qianfan:ernie-4.5-turbo-128k': environment variable QIANFAN_API_KEY is not set/),
    ]);
  });

  it('a missing config file is a one-line error naming the file', () => {
    const e = errorOf(() => loadConfig({ cwd: tempDir(), env: {}, configPath: 'nope.yaml' }));
    expect(e.message).toBe('nope.yaml: file not found');
  });
});
