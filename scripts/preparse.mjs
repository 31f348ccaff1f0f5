// Part of `npm run build`: fills dist/parsed/ with the parsed bundled suites (see
// src/util/parse-cache.ts), so the first start after an install reads JSON, not YAML.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readYamlFile } from '../dist/util/yamlfile.js';

const suites = new URL('../suites/', import.meta.url).pathname;
// Where dist/util/parse-cache.js looks for shipped entries: dist/parsed/.
const SHIPPED_DIR = new URL('../dist/', import.meta.url).pathname;
let n = 0;
for (const f of readdirSync(suites).filter((f) => f.endsWith('.yaml'))) {
  readYamlFile(join(suites, f), f, SHIPPED_DIR);
  n++;
}
console.log(`preparse: ${n} bundled suites parsed into ${join(SHIPPED_DIR, 'parsed')}`);
