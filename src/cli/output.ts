import { executeTemplate } from './go-template.js';
import { goJson, yamlOf } from './protojson.js';
import { UsageError } from './usage.js';

export { UsageError, parseDuration } from './usage.js';

export type OutputFormat = 'json' | 'yaml' | 'table';

/** Validates an -o/--output value. */
export function parseOutputFormat(value: string | undefined, allowed: OutputFormat[], fallback: OutputFormat): OutputFormat {
  if (value === undefined || value === '') return fallback;
  if ((allowed as string[]).includes(value)) return value as OutputFormat;
  throw new UsageError(`unsupported output format "${value}": use one of ${allowed.join('|')}`);
}


/** One answer of an inspect command: its status (already shaped as crictl shapes it) and info map. */
export interface StatusItem {
  status?: unknown;
  /** Keys crictl adds beside the status (info's runtimeHandlers and features). */
  extra?: Record<string, unknown>;
  info?: Record<string, string>;
}

/**
 * Prints status answers the way crictl's inspect commands do (outputStatusData): {"status": ...,
 * <info keys>...} with every key sorted, info values that hold JSON objects embedded as objects,
 * others with their quotes trimmed; a single answer is not wrapped in a list.
 */
export function printStatuses(items: StatusItem[], format: 'json' | 'yaml' | 'go-template', template = ''): void {
  if (items.length === 0) return;
  const merged = items.map(({ status, extra, info }) => {
    const out: Record<string, unknown> = {};
    if (status !== undefined) out.status = status;
    Object.assign(out, extra ?? {});
    for (const key of Object.keys(info ?? {}).sort()) {
      const raw = info![key]!;
      out[key] = raw.startsWith('{') ? safeParse(raw) : raw.replace(/^"+|"+$/g, '');
    }
    return out;
  });
  const value = merged.length === 1 ? merged[0] : merged;
  if (format === 'go-template') return console.log(executeTemplate(template, JSON.parse(JSON.stringify(value))));
  console.log(format === 'json' ? goJson(value) : yamlOf(value));
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Go's %v of a map[string]string: `map[a:1 b:2]`, keys sorted (crictl's "Info:" lines). */
export function goMap(map: Record<string, string>): string {
  return `map[${Object.keys(map)
    .sort()
    .map((key) => `${key}:${map[key]}`)
    .join(' ')}]`;
}

/** Sizes as crictl prints them: decimal units, three significant digits ("5.95MB"). */
export function humanSize(bytes: number | string): string {
  let value = Number(bytes);
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let unit = 0;
  // Round first, so 999999 B is "1MB" rather than "1000kB".
  while (parseFloat(value.toPrecision(3)) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${parseFloat(value.toPrecision(3))}${units[unit]}`;
}

/** IDs as crictl shows them by default: without "sha256:", 13 characters. */
export function truncateId(id: string, noTrunc = false): string {
  const bare = id.replace(/^sha256:/, '');
  return noTrunc ? bare : bare.slice(0, 13);
}

