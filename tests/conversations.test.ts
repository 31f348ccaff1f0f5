/**
 * Conversations in suites: `messages:` (system, user and assistant turns) on the suite, filled from
 * each case like a template, or on a case; a case's `vars:` map is data graders read. What is sent
 * is the conversation as written; graders see the final answer; the cache tells conversations apart
 * and keeps a single-prompt case's key (and suite hash) as it was.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSuite } from '../src/suite/load.js';
import { cli, runRecords, tempDir, withServer, writeFiles } from './helpers.js';

const SUITE = `name: tutor
system: You are a patient tutor.
messages:
  - role: user
    content: I have a question about {{topic}}.
  - role: assistant
    content: Of course, ask away.
  - role: user
    content: "{{question}}"
grader: {type: contains, value: Paris}
cases:
  - id: c1
    topic: geography
    question: What is the capital of France?
  - id: c2
    vars: {topic: history, question: Which city was Lutetia?, answer: Paris}
  - id: c3
    messages:
      - {role: system, content: Answer in one word.}
      - {role: user, content: "Capital of {{country}}?"}
    country: France
  - id: c4
    prompt: What is the capital of France?
`;

describe('suites: messages: and vars:', () => {
  it('fills each message from the case; the last user turn is the prompt', async () => {
    const dir = tempDir();
    writeFiles(dir, { 'tutor.yaml': SUITE });
    const s = await loadSuite('tutor.yaml', { cwd: dir, vars: {} });
    expect(s.cases[0].messages).toEqual([
      { role: 'system', content: 'You are a patient tutor.' },
      { role: 'user', content: 'I have a question about geography.' },
      { role: 'assistant', content: 'Of course, ask away.' },
      { role: 'user', content: 'What is the capital of France?' },
    ]);
    expect(s.cases[0].prompt).toBe('What is the capital of France?');
    // vars: is data for graders (answer) and values for the template (topic, question).
    expect(s.cases[1].messages?.[1].content).toBe('I have a question about history.');
    expect(s.cases[1].vars).toMatchObject({ answer: 'Paris', topic: 'history' });
    // A case's own conversation with its own system message: the suite's is not added.
    expect(s.cases[2].messages).toEqual([
      { role: 'system', content: 'Answer in one word.' },
      { role: 'user', content: 'Capital of France?' },
    ]);
    expect(s.cases[2].system).toBe('Answer in one word.');
    // A literal prompt stays a single prompt.
    expect(s.cases[3].messages).toBeUndefined();
    expect(s.cases[3].system).toBe('You are a patient tutor.');
  });

  it('a single-prompt suite hashes as before conversations existed (runs made earlier stay resumable)', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'plain.yaml':
        'name: plain\nsystem: Be brief.\ngrader: exact\ncases:\n  - {id: a, prompt: "2+2?", expected: "4"}\n',
    });
    const s = await loadSuite('plain.yaml', { cwd: dir, vars: {} });
    const h = createHash('sha256');
    h.update('plain');
    h.update(JSON.stringify(['a', 'Be brief.', '2+2?', '4', 'default', { type: 'exact' }]));
    expect(s.hash).toBe(h.digest('hex').slice(0, 16));
  });

  it('sends the conversation as written, grades the final answer, and caches per conversation', async () => {
    const bodies: { messages: { role: string; content: string }[] }[] = [];
    await withServer(
      (req, res) => {
        let body = '';
        req.on('data', (d: Buffer) => (body += d.toString()));
        req.on('end', () => {
          bodies.push(JSON.parse(body));
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify({
              id: 'x',
              object: 'chat.completion',
              created: 0,
              model: 'm',
              choices: [{ index: 0, message: { role: 'assistant', content: 'It is Paris.' }, finish_reason: 'stop' }],
              usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 },
            }),
          );
        });
      },
      async (port) => {
        const dir = tempDir();
        const config = (id: string) =>
          `models:\n  - {id: ${id}, provider: openai, model: m, baseURL: "http://127.0.0.1:${port}/v1", apiKeyEnv: K, group: closed, cache: true}\nsuites: [tutor.yaml]\n`;
        writeFiles(dir, { 'tutor.yaml': SUITE, 'gapbench.config.yaml': config('a') });
        const env = { K: 'k', GAPBENCH_CACHE_DIR: join(dir, 'cache') };
        const r = await cli(['run', '--run-id', 'one', '--quiet'], { cwd: dir, env });
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(bodies).toHaveLength(4);
        const first = bodies.find((b) => b.messages.some((m) => m.content.includes('geography')));
        expect(first?.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
        const plain = bodies.find((b) => b.messages.length === 2 && b.messages[0].content.startsWith('You are'));
        expect(plain?.messages).toEqual([
          { role: 'system', content: 'You are a patient tutor.' },
          { role: 'user', content: 'What is the capital of France?' },
        ]);
        const records = runRecords(join(dir, 'results', 'one'));
        expect(records.every((x) => x.status === 'ok' && x.grade.passed)).toBe(true);
        expect(records.find((x) => x.case_id === 'c1')?.prompt).toBe('What is the capital of France?');

        // Same conversations: all from the cache. One assistant turn changed: only those cases ask again.
        expect((await cli(['run', '--run-id', 'two', '--quiet'], { cwd: dir, env })).code).toBe(0);
        expect(bodies).toHaveLength(4);
        writeFiles(dir, {
          'tutor.yaml': SUITE.replace('Of course, ask away.', 'Sure.'),
        });
        expect((await cli(['run', '--run-id', 'three', '--quiet'], { cwd: dir, env })).code).toBe(0);
        expect(bodies).toHaveLength(6);
        const three = runRecords(join(dir, 'results', 'three'));
        expect(Object.fromEntries(three.map((x) => [x.case_id, x.cached]))).toEqual({
          c1: false,
          c2: false,
          c3: true,
          c4: true,
        });
      },
    );
  });

  it('replay answers a conversation case by its id, graded on the final answer', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'tutor.yaml': SUITE,
      'out.jsonl': ['c1', 'c2', 'c3', 'c4']
        .map((id, i) => JSON.stringify({ id, output: i ? 'Paris' : 'Lyon' }))
        .join('\n'),
    });
    const r = await cli(['run', '--model', 'replay:out.jsonl', '--suite', 'tutor.yaml', '--run-id', 'r', '--quiet'], {
      cwd: dir,
    });
    expect(r.stderr).toBe('');
    const records = runRecords(join(dir, 'results', 'r'));
    expect(Object.fromEntries(records.map((x) => [x.case_id, x.grade.passed]))).toEqual({
      c1: false,
      c2: true,
      c3: true,
      c4: true,
    });
  });

  it('bad input: an unknown role, empty content, prompt and messages together: one line, file:line, exit 2', async () => {
    const dir = tempDir();
    const cases = [
      [
        'role.yaml',
        'cases:\n  - id: a\n    messages:\n      - {role: user, content: hi}\n      - {role: tool, content: x}\n',
      ],
      ['empty.yaml', 'cases:\n  - id: a\n    messages:\n      - role: user\n        content: "  "\n'],
      ['both.yaml', 'cases:\n  - id: a\n    prompt: hi\n    messages: [{role: user, content: hi}]\n'],
      ['nouser.yaml', 'messages: [{role: system, content: hi}]\ncases:\n  - {id: a}\n'],
      ['data.yaml', 'cases:\n  - {id: a, prompt: hi, vars: [1, 2]}\n'],
    ] as const;
    for (const [file, body] of cases) writeFiles(dir, { [file]: `name: x\ngrader: exact\n${body}` });
    const want: Record<string, RegExp> = {
      'role.yaml':
        /^gapbench validate: role\.yaml:7: cases\[0\]\.messages\[1\]\.role: unknown role "tool" \(use system, user, assistant\)\n$/,
      'empty.yaml':
        /^gapbench validate: empty\.yaml:7: cases\[0\]\.messages\[0\]\.content: must be a non-empty string\n$/,
      'both.yaml':
        /^gapbench validate: both\.yaml:6: cases\[0\]\.messages: give either prompt or messages, not both\n$/,
      'nouser.yaml': /^gapbench validate: nouser\.yaml:3: messages: needs at least one user message\n$/,
      'data.yaml': /^gapbench validate: data\.yaml:4: cases\[0\]\.vars: must be a mapping of names to values\n$/,
    };
    for (const file of Object.keys(want)) {
      const r = await cli(['validate', file], { cwd: dir });
      expect({ file, code: r.code, stderr: r.stderr }).toMatchObject({
        file,
        code: 2,
        stderr: expect.stringMatching(want[file]),
      });
    }
    expect(readFileSync(join(dir, 'role.yaml'), 'utf8')).toContain('tool');
  });
});
