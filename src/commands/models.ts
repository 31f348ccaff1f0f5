import { allPresets, type Preset } from '../config/presets.js';
import { descriptorOf } from '../providers/index.js';
import { EXIT, type IO } from '../io.js';
import { helpText, parse, type CommandSpec } from '../util/args.js';

export const MODELS_SPEC = {
  name: 'models',
  usage: 'models',
  about:
    'Lists the providers: the openai and ollama protocols, the vendor presets (the openai provider with a base URL, key variable and default group), and replay. Use them as provider:model.',
  options: {},
} as const satisfies CommandSpec;

export async function modelsCommand(argv: string[], io: IO): Promise<number> {
  const { values } = parse(MODELS_SPEC, argv);
  if (values.help) {
    io.stdout.write(`${helpText(MODELS_SPEC)}\n`);
    return EXIT.ok;
  }
  const [header, ...rows] = presetRows();
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  io.stdout.write(`${fmt(header)}\n${rows.map(fmt).join('\n')}\n`);
  io.stdout.write(
    '\nGroups are defaults (the weights decide: DeepSeek via its API is open; for aggregators and vendors that publish weights the model family decides); set group: in the config to override.\n',
  );
  io.stdout.write(`\n${batchText()}\n${regionsText()}`);
  return EXIT.ok;
}

/** The presets table: `gapbench models` prints it and docs/config-and-providers.md shows it. */
export function presetRows(): string[][] {
  const rows = allPresets().map((p) => [
    p.name,
    p.groupBy === 'required' ? 'by family' : p.groupBy ? `family|${p.group}` : (p.group ?? '(set group)'),
    p.protocol,
    endpointText(p),
    p.apiKeyEnv ? `${p.apiKeyEnv}${p.keyOptional ? ' (optional)' : ''}` : '-',
    `${p.name}:${p.example}`,
  ]);
  return [['provider', 'group', 'protocol', 'base URL / host', 'key variable', 'example --model'], ...rows];
}

/** What `batch: true` / `--batch` does per preset: the vendor's limits and price, or why it runs live. */
function batchText(): string {
  const lines = ['Batch API (batch: true, --batch; docs/models.md):'];
  for (const p of allPresets()) {
    const b = p.batch;
    if (!b) continue;
    const facts =
      b.api === 'none'
        ? `none: ${b.why}`
        : [
            b.maxRequests ? `${b.maxRequests} requests` : '',
            b.maxBytes ? `${b.maxBytes / 1e6} MB per file` : '',
            b.priceFactor ? `${b.priceFactor}x price` : '',
            b.endpoint ? `lines to ${b.endpoint}` : '',
          ]
            .filter(Boolean)
            .join(', ');
    lines.push(`  ${p.name.padEnd(15)} ${facts}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Each vendor's endpoints per region (keys are region-bound) and every preset's docs. */
function regionsText(): string {
  const lines = ['Endpoints by region (a key works only in its own region):'];
  const seen = new Set<string>();
  for (const p of allPresets()) {
    if (!p.regions) continue;
    const key = p.regions.map((r) => r.endpoint).join();
    if (seen.has(key)) continue;
    seen.add(key);
    for (const r of p.regions) lines.push(`  ${p.name.padEnd(12)} ${r.region.padEnd(34)} ${r.endpoint}  (${r.preset})`);
  }
  lines.push('', 'Docs:');
  for (const p of allPresets()) lines.push(`  ${p.name.padEnd(15)} ${p.docs}`);
  return `${lines.join('\n')}\n`;
}

/** The preset's server, or where the protocol looks for one. */
function endpointText(p: Preset): string {
  const spec = descriptorOf(p.protocol).endpoint;
  if (!spec) return '-';
  const env = p.endpointEnv ?? spec.env;
  const value = p.endpoint ?? spec.default ?? `set ${spec.field}`;
  return env ? `$${env} or ${value}` : value;
}
