/** What the CLI layer needs before any command module loads (`mascri serve` checks its flags with it). */

/** A mistake in how the command was called (exit code 1, no stack trace). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Go-style durations ("2s", "500ms", "1m30s") or plain seconds -> milliseconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = trimmed;
  const part = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/;
  if (rest === '') throw new UsageError('empty duration');
  while (rest !== '') {
    const match = part.exec(rest);
    if (!match) throw new UsageError(`invalid duration "${text}": use e.g. 2s, 500ms or 1m`);
    total += Number(match[1]) * units[match[2]!]!;
    rest = rest.slice(match[0].length);
  }
  return total;
}

/** Where crictl looks first. */
export const DEFAULT_CONFIG_PATH = '/etc/crictl.yaml';
