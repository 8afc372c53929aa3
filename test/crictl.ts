/** The pinned crictl (scripts/crictl-build.sh) for the parity tests: built when absent, run with a private config file. */
import { execa } from 'execa';
import { join } from 'node:path';
import { ROOT, type CliResult } from './helpers.js';

/** The pinned crictl's path; builds it from the Go module proxy first when it is not cached (minutes on a cold machine). */
export async function pinnedCrictl(): Promise<string> {
  const script = join(ROOT, 'scripts', 'crictl-build.sh');
  const result = await execa('bash', [script], { reject: false, timeout: 1_200_000 });
  const path = String(result.stdout).trim().split('\n').pop() ?? '';
  if (result.exitCode !== 0 || !path) throw new Error(`scripts/crictl-build.sh failed (exit ${result.exitCode}): ${String(result.stderr).trim().split('\n').slice(-3).join(' ')}`);
  return path;
}

/** Runs crictl with `env` added (tests pass CRI_CONFIG_FILE, so the machine's /etc/crictl.yaml is never read). */
export async function crictl(binary: string, args: string[], options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const result = await execa(binary, args, { reject: false, input: options.input ?? '', env: { NO_COLOR: '1', ...options.env }, timeout: options.timeoutMs ?? 120_000 });
  return { code: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** A command and its flags, as a --help lists them. */
export interface HelpEntry {
  names: string[];
  flags: string[];
  subcommands: HelpEntry[];
}

/** The lines of one section ("COMMANDS:", "OPTIONS:", "GLOBAL OPTIONS:") of urfave/cli's help. */
function section(help: string, title: string): string[] {
  const lines = help.split('\n');
  const start = lines.findIndex((line) => line.trim() === title);
  if (start < 0) return [];
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break;
    if (line.trim() !== '') out.push(line);
  }
  return out;
}

/** Names in a COMMANDS section: "   images, image, img   List images" -> ["images", "image", "img"]. */
export function commandNames(help: string): string[][] {
  return section(help, 'COMMANDS:')
    .filter((line) => /^ {3}\S/.test(line))
    .map((line) => line.trim().split(/\s{2,}/)[0]!.split(', '));
}

/** Flags in an OPTIONS section: "   --config value, -c value   ..." -> ["--config", "-c"]. */
export function flagNames(help: string, title = 'OPTIONS:'): string[] {
  const flags: string[] = [];
  for (const line of section(help, title)) {
    if (!/^ {3}-/.test(line)) continue; // continuation lines of a description
    const spec = line.trim().split(/\s{2,}/)[0]!.replace(/\[.*\]/, '');
    for (const part of spec.split(', ')) {
      const flag = /^(--?[A-Za-z0-9][\w-]*)/.exec(part.trim())?.[1];
      if (flag && !flags.includes(flag)) flags.push(flag);
    }
  }
  return flags;
}
