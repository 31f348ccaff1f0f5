// Rewrites the generated parts of README.md and docs/*.md (option tables, presets) from the code.
// Run through `npm run docs` (which builds first); tests/docs.test.ts fails when they are stale.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderDocs } from '../dist/commands/docs.js';

const root = new URL('..', import.meta.url).pathname;
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
for (const page of pages) {
  const path = join(root, page);
  const text = readFileSync(path, 'utf8');
  const next = renderDocs(text);
  if (next !== text) {
    writeFileSync(path, next);
    console.log(`updated ${page}`);
  }
}
