/**
 * The sharded deployments of docs/unattended.md, run as written: the GitHub Actions matrix workflow
 * and the Kubernetes Indexed Job are parsed from the page and their commands run against the simulator,
 * each "runner" or "pod" a shell in its own directory, with `npx gapbench` the built CLI.
 */
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { startSimulator, type Simulator } from '../src/sim/index.js';
import { CLI, numericAnswerKey, parseCsv, REPO, suiteYaml, tempDir, writeFiles } from './helpers.js';

const KEY = 'sk-deploy-test';

/** The YAML blocks of docs/unattended.md that follow the "checked by" marker, in order. */
function checkedBlocks(): string[] {
  const readme = readFileSync(join(REPO, 'docs', 'unattended.md'), 'utf8');
  const out: string[] = [];
  const re = /<!-- checked by tests\/deploy-examples\.test\.ts -->\n```yaml\n([\s\S]*?)```/g;
  for (let m = re.exec(readme); m; m = re.exec(readme)) out.push(m[1]);
  return out;
}

function parseYaml<T>(text: string): T[] {
  const docs = parseAllDocuments(text);
  for (const d of docs) expect(d.errors.map((e) => e.message)).toEqual([]);
  return docs.map((d) => d.toJS() as T);
}

/** Runs `sh -c script` in `cwd`; `npx gapbench` runs this checkout's CLI. */
function sh(script: string, cwd: string, env: Record<string, string>, bin: string) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn('sh', ['-c', script], {
      cwd,
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: cwd, GAPBENCH_CACHE_DIR: join(cwd, '.cache'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

function npxShim(): string {
  const bin = tempDir('gapbench-bin-');
  writeFileSync(
    join(bin, 'npx'),
    `#!/bin/sh\nif [ "$1" = gapbench ]; then shift; exec "${process.execPath}" "${CLI}" "$@"; fi\necho "npx $1: not in this test" >&2; exit 127\n`,
  );
  chmodSync(join(bin, 'npx'), 0o755);
  return bin;
}

const CASES = Array.from({ length: 30 }, (_, i) => ({ id: `q${i}`, prompt: `What is ${i} plus 4?`, expected: i + 4 }));

describe('the sharded deployments of docs/unattended.md', () => {
  let sim: Simulator;
  let project: string;
  let bin: string;
  beforeAll(async () => {
    sim = await startSimulator({
      port: 0,
      apiKey: KEY,
      models: [
        { name: 'gpt-sim', accuracy: 0.9 },
        { name: 'llama-sim', accuracy: 0.6 },
      ],
      answers: numericAnswerKey(CASES),
    });
    // The user's repository: a config and a suite.
    project = tempDir('gapbench-project-');
    writeFiles(project, {
      'math.yaml': suiteYaml('math', CASES),
      'gapbench.config.yaml': [
        'suites: [math.yaml]',
        'models:',
        `  - { id: closed, provider: openai, model: gpt-sim, baseURL: "${sim.openaiBaseURL}", group: closed, price: { input: 2.5, output: 10 } }`,
        `  - { id: open, provider: ollama, model: llama-sim, host: "${sim.ollamaHost}", group: open }`,
      ].join('\n'),
    });
    bin = npxShim();
  });
  afterAll(() => sim.close());

  it('the page has both examples, and every YAML block of the README and docs/ parses', () => {
    expect(checkedBlocks()).toHaveLength(2);
    // A workflow or config that does not parse never runs.
    const pages = ['README.md', ...readdirSync(join(REPO, 'docs')).map((f) => join('docs', f))];
    for (const page of pages.filter((p) => p.endsWith('.md'))) {
      const text = readFileSync(join(REPO, page), 'utf8');
      for (const m of text.matchAll(/```yaml\n([\s\S]*?)```/g)) parseYaml(m[1]);
    }
  });

  it('GitHub Actions: the matrix shards and the merge job, twice (history kept by the cache step)', async () => {
    const [wf] = parseYaml<Workflow>(checkedBlocks()[0]);
    expect(wf.jobs.merge.needs).toBe('shard');
    const store = { artifacts: tempDir('gapbench-artifacts-'), cache: tempDir('gapbench-cache-') };
    const gateLines: string[] = [];
    for (const runId of ['1001', '1002']) {
      const shards = wf.jobs.shard.strategy!.matrix!.shard as number[];
      expect(shards).toEqual([1, 2, 3, 4]);
      const results = await Promise.all(shards.map((s) => runGitHubJob(wf.jobs.shard, { shard: s }, runId, store)));
      for (const r of results) expect(r.failed, r.log).toBe(false);
      const merge = await runGitHubJob(wf.jobs.merge, {}, runId, store);
      expect(merge.failed, merge.log).toBe(false);
      gateLines.push(...merge.log.split('\n').filter((l) => /--fail-on-regression/.test(l)));
      expect(merge.log).toContain('Merged 4 shard(s), 60 records');
      const summary = parseCsv(readFileSync(join(store.artifacts, `gapbench-${runId}`, 'summary.csv'), 'utf8'), {
        columns: true,
        bom: true,
      }) as Record<string, string>[];
      expect(summary.map((r) => [r.model, r.n])).toEqual([
        ['closed', '30'],
        ['open', '30'],
      ]);
    }
    const history = readFileSync(join(store.cache, 'history.csv'), 'utf8').trim().split('\n');
    expect(history).toHaveLength(5); // header + 2 runs x 2 models
    // The per-case scores travel with it, so the second night's gate ran the paired test.
    expect(readFileSync(join(store.cache, 'history-cases.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(gateLines.at(-1)).toMatch(
      /^(ok|inconclusive) --fail-on-regression 3: .*against nightly-1001 \(the last comparable/,
    );
  }, 120_000);

  /** The files of a cache step's `path` (one, or a block of one per line). */
  const cachePaths = (path: string) =>
    path
      .split('\n')
      .map((p) => p.trim())
      .filter(Boolean);

  /** Runs one job of the workflow: its steps in order, as a runner would, in a fresh directory. */
  async function runGitHubJob(
    job: WorkflowJob,
    matrix: Record<string, unknown>,
    runId: string,
    store: { artifacts: string; cache: string },
  ): Promise<{ failed: boolean; log: string }> {
    const work = tempDir('gapbench-runner-');
    const expr = (s: string) =>
      s.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, e: string) => {
        if (e.startsWith('matrix.')) return String(matrix[e.slice(7)]);
        if (e === 'github.run_id') return runId;
        if (e.startsWith('secrets.')) return KEY;
        throw new Error(`unknown expression ${e}`);
      });
    let log = '';
    for (const step of job.steps) {
      const w = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, expr(String(v))]));
      if (step.uses?.startsWith('actions/checkout')) cpSync(project, work, { recursive: true });
      else if (step.uses?.startsWith('actions/setup-node')) expect(w['node-version']).toBe('20');
      else if (step.uses?.startsWith('actions/cache')) {
        // Restored now, saved when the job ends (as the action does); `path` may list several files.
        for (const p of cachePaths(w.path))
          if (existsSync(join(store.cache, basename(p)))) cpSync(join(store.cache, basename(p)), join(work, p));
      } else if (step.uses?.startsWith('actions/upload-artifact'))
        cpSync(join(work, w.path), join(store.artifacts, w.name), { recursive: true });
      else if (step.uses?.startsWith('actions/download-artifact')) {
        const pattern = new RegExp(`^${w.pattern.replace(/\*/g, '.*')}$`);
        for (const name of readdirSync(store.artifacts).filter((n) => pattern.test(n)))
          cpSync(join(store.artifacts, name), join(work, w.path, name), { recursive: true });
      } else if (step.run === 'npm ci') continue;
      else if (step.run) {
        const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expr(String(v))]));
        const r = await sh(expr(step.run), work, env, bin);
        log += r.out;
        if (r.code !== 0) return { failed: true, log: `${step.run}: exit ${r.code}\n${log}` };
      } else throw new Error(`a step this test does not know: ${JSON.stringify(step)}`);
    }
    const cacheStep = job.steps.find((s) => s.uses?.startsWith('actions/cache'));
    for (const p of cacheStep ? cachePaths(String(cacheStep.with!.path)) : [])
      if (existsSync(join(work, p))) cpSync(join(work, p), join(store.cache, basename(p)));
    return { failed: false, log };
  }

  it('Kubernetes: the Indexed Job (a pod retried resumes its shard) and the merge Job', async () => {
    const docs = parseYaml<K8sJob>(checkedBlocks()[1]);
    const [indexed, merge] = docs;
    expect(indexed.kind).toBe('Job');
    expect(indexed.spec.completionMode).toBe('Indexed');
    const volume = tempDir('gapbench-pvc-');
    const n = indexed.spec.completions!;
    expect(n).toBe(4);
    const pod = (job: K8sJob, index?: number) => {
      const c = job.spec.template.spec.containers[0];
      const mount = c.volumeMounts[0].mountPath;
      const env: Record<string, string> = {};
      for (const e of c.env) {
        if (e.value !== undefined) env[e.name] = e.value.replace(mount, volume);
        else if (e.valueFrom?.fieldRef) {
          expect(e.valueFrom.fieldRef.fieldPath).toBe("metadata.labels['batch.kubernetes.io/job-name']");
          env[e.name] = job.metadata.name;
        } else if (e.valueFrom?.secretKeyRef) env[e.name] = KEY;
      }
      if (index !== undefined) env.JOB_COMPLETION_INDEX = String(index);
      // The image's /app: the project with its config.
      const app = tempDir('gapbench-app-');
      cpSync(project, app, { recursive: true });
      expect(c.workingDir).toBe('/app');
      expect(c.command).toEqual(['sh', '-c']);
      return sh(c.args[0], app, env, bin);
    };
    const pods = await Promise.all(Array.from({ length: n }, (_, i) => pod(indexed, i)));
    for (const p of pods) expect(p.code, p.out).toBe(0);
    // Pod 2 retried (node lost after it finished): it resumes its finished shard, asks nothing.
    const before = sim.stats().requests;
    const retried = await pod(indexed, 2);
    expect(retried.code, retried.out).toBe(0);
    expect(sim.stats().requests).toBe(before);

    const merged = await pod(merge);
    expect(merged.code, merged.out).toBe(0);
    expect(merged.out).toContain('Merged 4 shard(s), 60 records');
    const run = merge.spec.template.spec.containers[0].env.find((e) => e.name === 'RUN')!.value!;
    expect(run).toBe(indexed.metadata.name);
    expect(existsSync(join(volume, run, 'summary.csv'))).toBe(true);
    expect(readFileSync(join(volume, 'history.csv'), 'utf8').trim().split('\n')).toHaveLength(3);
  }, 120_000);
});

interface WorkflowStep {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}
interface WorkflowJob {
  needs?: string;
  strategy?: { matrix?: Record<string, unknown> };
  steps: WorkflowStep[];
}
interface Workflow {
  jobs: Record<string, WorkflowJob>;
}
interface K8sJob {
  kind: string;
  metadata: { name: string };
  spec: {
    completionMode?: string;
    completions?: number;
    template: {
      spec: {
        containers: {
          workingDir: string;
          command: string[];
          args: string[];
          env: {
            name: string;
            value?: string;
            valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: unknown };
          }[];
          volumeMounts: { mountPath: string }[];
        }[];
      };
    };
  };
}
