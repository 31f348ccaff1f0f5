import type * as YamlModule from 'yaml';
import type { Node } from 'yaml';
import { FileError } from '../errors.js';
import { requireCjs } from './cjs.js';
import { readBounded } from './readfile.js';
import { cachedParse, storeParse } from './parse-cache.js';

/**
 * The yaml package, loaded on first use: it takes ~100 ms to load and a suite found in the parse
 * cache needs it only to say on which line an error stands.
 */
let yamlModule: typeof YamlModule | undefined;
const yaml = (): typeof YamlModule => (yamlModule ??= requireCjs('yaml') as typeof YamlModule);

export type YamlPath = readonly (string | number)[];

/** A parsed YAML file that can say on which line any value (or key) stands. */
export interface YamlFile {
  file: string;
  data: unknown;
  text: string;
  lineOf(path: YamlPath, key?: string): number | undefined;
}

/** Largest YAML file read (a suite's cases belong in a source file beyond that): 32 MiB. */
const MAX_YAML_BYTES = 32 * 1024 * 1024;

/** Reads and parses a YAML file; syntax errors become a FileError naming the line. */
export function readYamlFile(file: string, displayName = file, cacheDir?: string): YamlFile {
  // A special file (/dev/zero, a FIFO) is refused before reading; the size is checked while reading.
  const bytes = readBounded(file, MAX_YAML_BYTES, displayName, 'use source: with a CSV or JSONL file for large suites');
  // A UTF-16 file (Windows editors save one) reads as garbage as UTF-8: say what it is.
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
    throw new FileError(displayName, undefined, 'is UTF-16 encoded: save it as UTF-8');
  const text = bytes.toString('utf8');
  if (cacheDir === undefined) return parseYamlText(text, displayName);
  // A file read before (same bytes) comes from the parse cache: its data, and the document only
  // when an error needs a line number.
  const hit = cachedParse(cacheDir, text);
  if (hit !== undefined) {
    let parsed: YamlFile | undefined;
    const lineOf: YamlFile['lineOf'] = (path, key) => (parsed ??= parseYamlText(text, displayName)).lineOf(path, key);
    return { file: displayName, data: hit, text, lineOf };
  }
  const parsed = parseYamlText(text, displayName);
  storeParse(cacheDir, text, parsed.data);
  return parsed;
}

export function parseYamlText(text: string, file: string): YamlFile {
  const { LineCounter, parseDocument, isMap, isSeq, isScalar } = yaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    // An error found at the end of the input (an unclosed bracket or quote) is placed after the
    // last newline, a line the file does not have: name the file's last line instead.
    const lastLine = Math.max(1, text.split('\n').length - (text.endsWith('\n') ? 1 : 0));
    const line = Math.min(first.linePos?.[0]?.line ?? lineCounter.linePos(first.pos[0]).line, lastLine);
    const msg = first.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new FileError(file, line, `invalid YAML: ${msg}`);
  }
  let data: unknown;
  try {
    // An alias bomb (aliases of aliases) expands exponentially: stop at 1,000 alias uses.
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    throw new FileError(file, undefined, `invalid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const lineOf = (path: YamlPath, key?: string): number | undefined => {
    let node: unknown = doc.contents;
    let lastLine: number | undefined;
    const lineOfNode = (n: unknown) => {
      const range = (n as Node | null)?.range;
      return range ? lineCounter.linePos(range[0]).line : undefined;
    };
    lastLine = lineOfNode(node);
    for (const seg of [...path, ...(key === undefined ? [] : [key])]) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
        if (!pair) return lastLine;
        if (seg === key) return lineOfNode(pair.key) ?? lastLine;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
      } else {
        return lastLine;
      }
      lastLine = lineOfNode(node) ?? lastLine;
    }
    return lastLine;
  };
  return { file, data, text, lineOf };
}
