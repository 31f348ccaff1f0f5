import { allPresets, type Preset } from '../config/presets.js';
import { descriptorOf } from '../providers/index.js';
import { EXIT, type IO } from '../io.js';
import { parse } from '../util/args.js';

export const MODELS_HELP = `Usage: gapbench models

Lists the providers: the openai and ollama protocols, the vendor presets (the openai provider
with a base URL, key variable and default group), and replay. Use them as provider:model.`;

export async function modelsCommand(argv: string[], io: IO): Promise<number> {
  const { values } = parse('models', argv, { help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    io.stdout.write(`${MODELS_HELP}\n`);
    return EXIT.ok;
  }
  const rows = allPresets().map((p) => [
    p.name,
    p.group ?? '(set group)',
    p.protocol,
    endpointText(p),
    p.apiKeyEnv ? `${p.apiKeyEnv}${p.keyOptional ? ' (optional)' : ''}` : '-',
    `${p.name}:${p.example}`,
  ]);
  const header = ['provider', 'group', 'protocol', 'base URL / host', 'key variable', 'example --model'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  io.stdout.write(`${fmt(header)}\n${rows.map(fmt).join('\n')}\n`);
  io.stdout.write(
    '\nGroups are defaults (the weights decide: DeepSeek via its API is open); set group: in the config to override.\n',
  );
  return EXIT.ok;
}

/** The preset's server, or where the protocol looks for one. */
function endpointText(p: Preset): string {
  const spec = descriptorOf(p.protocol).endpoint;
  if (!spec) return '-';
  const env = p.endpointEnv ?? spec.env;
  const value = p.endpoint ?? spec.default ?? `set ${spec.field}`;
  return env ? `$${env} or ${value}` : value;
}
