#!/usr/bin/env node
// Records the SHA-256 of every Hub file a suite pins: downloads each file as gapbench does (HF_ENDPOINT,
// HF_TOKEN, the cache and its bounds: docs/security.md), hashes it, and rewrites the suite's
// `source.hub.files` table in place. Run it against the real Hub (not a mirror you do not trust).
// Usage: npm run build && node scripts/hub-pins.mjs suites/cmmlu.yaml [--check]
//   --check: only compare; exit 1 when a recorded digest differs or is missing.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { hubDigest } from '../dist/suite/hub.js';

const [file, flag] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/hub-pins.mjs SUITE.yaml [--check]');
  process.exit(2);
}
const doc = parseDocument(readFileSync(file, 'utf8'));
const hub = doc.getIn(['source', 'hub'])?.toJSON();
if (!hub) {
  console.error(`${file}: no source.hub table`);
  process.exit(2);
}
let bad = 0;
for (const [path, recorded] of Object.entries(hub.files)) {
  let digest;
  try {
    digest = await hubDigest(hub, path, { vars: process.env });
  } catch (e) {
    console.error(`${path}: ${e.message}`);
    process.exit(1);
  }
  const state = recorded === digest ? 'ok' : recorded ? 'DIFFERS' : 'new';
  if (state !== 'ok') bad++;
  console.log(`${state.padEnd(7)} ${path} ${digest}`);
  if (flag !== '--check') doc.setIn(['source', 'hub', 'files', path], digest);
}
if (flag === '--check') process.exit(bad ? 1 : 0);
writeFileSync(file, doc.toString({ lineWidth: 0 }));
console.log(`${file}: ${Object.keys(hub.files).length} digests recorded`);
