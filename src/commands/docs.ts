/**
 * The parts of docs/ that are made from the code: each command's option table (from its
 * CommandSpec, the same table its parser and --help come from), the presets and the error kinds. In a page,
 * a generated part sits between `<!-- generated:NAME -->` and `<!-- /generated -->`;
 * `npm run docs` rewrites them and tests/docs.test.ts fails when one is out of date.
 */
import { allPresets } from '../config/presets.js';
import { ERROR_KINDS } from '../errors.js';
import { HELP_OPTION, optionLabel, optionMeaning, type CommandSpec, type OptionTable } from '../util/args.js';
import { CAPACITY_SPEC } from './capacity.js';
import { COMPARE_SPEC } from './compare.js';
import { DEMO_SPEC } from './demo.js';
import { IMPORT_SPEC } from './import.js';
import { MERGE_SPEC } from './merge.js';
import { MODELS_SPEC, presetRows } from './models.js';
import { REGRADE_SPEC } from './regrade.js';
import { REPORT_SPEC } from './report.js';
import { RUN_SPEC } from './run-options.js';
import { SIM_SPEC } from './sim.js';
import { START_SPEC } from './start.js';
import { SUITES_SPEC, VALIDATE_SPEC } from './suites.js';

/** Every command's spec, in the order of `gapbench --help`. */
export const COMMAND_SPECS: readonly CommandSpec[] = [
  RUN_SPEC,
  DEMO_SPEC,
  START_SPEC,
  REPORT_SPEC,
  MERGE_SPEC,
  COMPARE_SPEC,
  REGRADE_SPEC,
  VALIDATE_SPEC,
  SUITES_SPEC,
  MODELS_SPEC,
  IMPORT_SPEC,
  CAPACITY_SPEC,
  SIM_SPEC,
];

/** A markdown table cell: no line breaks, pipes escaped. */
const cell = (s: string) => s.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');

/** A command's options as a markdown table (with -h/--help, as its help shows it). */
function optionsMarkdown(spec: CommandSpec): string {
  const rows = Object.entries({ ...spec.options, ...HELP_OPTION } as OptionTable).map(
    ([name, o]) => `| \`${cell(optionLabel(name, o))}\` | ${cell(optionMeaning(o))} |`,
  );
  return [`Usage: \`npx gapbench ${cell(spec.usage)}\``, '', '| option | meaning |', '|---|---|', ...rows].join('\n');
}

/** The presets of `gapbench models`, with each vendor's name. */
function presetsMarkdown(): string {
  const [header, ...rows] = presetRows();
  const labels = allPresets().map((p) => p.label);
  const head = [header[0], 'vendor', ...header.slice(1)];
  const lines = rows.map((r, i) => `| ${[r[0], labels[i], ...r.slice(1)].map((c) => cell(c)).join(' | ')} |`);
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---|').join('')}`, ...lines].join('\n');
}

/** The error-kind table (src/errors.ts): what each kind of error record means for scores and lanes. */
function errorKindsMarkdown(): string {
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  const rows = Object.entries(ERROR_KINDS).map(
    ([kind, p]) => `| \`${kind}\` | ${yes(p.scored)} | ${yes(p.retry)} | ${yes(p.stopsLane)} |`,
  );
  return ['| kind | counts as a wrong answer | retried | stops the lane |', '|---|---|---|---|', ...rows].join('\n');
}

/** NAME -> the text of each generated part. */
export function generatedParts(): Map<string, string> {
  const parts = new Map<string, string>([
    ['presets', presetsMarkdown()],
    ['error-kinds', errorKindsMarkdown()],
  ]);
  for (const spec of COMMAND_SPECS) parts.set(`options:${spec.name}`, optionsMarkdown(spec));
  return parts;
}

const BLOCK = /(<!-- generated:([\w:-]+) -->\n)[\s\S]*?(<!-- \/generated -->)/g;

/** `text` with every generated part brought up to date; an unknown part name is an error. */
export function renderDocs(text: string, parts = generatedParts()): string {
  return text.replace(BLOCK, (_all, open: string, name: string, close: string) => {
    const body = parts.get(name);
    if (body === undefined)
      throw new Error(`unknown generated part '${name}' (known: ${[...parts.keys()].join(', ')})`);
    return `${open}${body}\n${close}`;
  });
}

/** The names of the generated parts a page holds. */
export function partsIn(text: string): string[] {
  return [...text.matchAll(BLOCK)].map((m) => m[2]);
}
