/**
 * mascri's client accepts every command, alias and flag of the pinned crictl: this walks
 * `crictl --help` and each command's (and subcommand's) `--help`, and fails on one mascri lacks.
 * Needs no engine; builds the pinned crictl first when it is not cached.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Command, Option } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { execa } from 'execa';
import { commandNames, crictl, flagNames, pinnedCrictl } from '../crictl.js';
import { mascri } from '../helpers.js';

/**
 * Flags mascri takes but that cannot do there what they do in crictl, and why. They are accepted
 * (a crictl script passes them), documented in mascri's help, and have no effect.
 */
const INERT: Record<string, string> = {
  '--enable-tracing': 'mascri\'s client sends no OpenTelemetry spans',
  '--tracing-endpoint': 'no tracing (see --enable-tracing)',
  '--tracing-sampling-rate-per-million': 'no tracing (see --enable-tracing)',
  '--profile-cpu': 'Go pprof profiles; node has --cpu-prof',
  '--profile-mem': 'Go pprof profiles; node has --heap-prof',
  '--max-retries': 'mascri connects once: a unix socket that is not there does not appear by retrying within a command',
  'update --cpu-count': 'Windows only; crictl ignores it on Linux too',
  'update --cpu-maximum': 'Windows only; crictl ignores it on Linux too',
};

/** Every flag spelling of a commander command: long and short, hidden ones included, and -h/--help. */
function mascriFlags(command: Command): Set<string> {
  const flags = new Set(['--help', '-h']);
  for (const option of command.options as readonly Option[]) {
    if (option.long) flags.add(option.long);
    if (option.short) flags.add(option.short);
  }
  return flags;
}

function findCommand(parent: Command, name: string): Command | undefined {
  return parent.commands.find((c) => c.name() === name || c.aliases().includes(name));
}

const program = await buildProgram(async () => undefined);

describe('every crictl command and flag exists in mascri', () => {
  let binary: string;
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    binary = await pinnedCrictl();
    dir = mkdtempSync(join(tmpdir(), 'mascri-crictl-commands-'));
    // An empty config of its own: crictl reads its config before --help, and never the machine's /etc/crictl.yaml.
    writeFileSync(join(dir, 'crictl.yaml'), '');
    env = { CRI_CONFIG_FILE: join(dir, 'crictl.yaml') };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const help = async (args: string[]) => {
    const result = await crictl(binary, [...args, '--help'], { env });
    assert.equal(result.code, 0, `crictl ${args.join(' ')} --help: ${result.stderr}`);
    return result.stdout;
  };

  test('the global flags', async () => {
    const top = await help([]);
    const missing = flagNames(top, 'GLOBAL OPTIONS:').filter((flag) => !mascriFlags(program).has(flag));
    assert.deepEqual(missing, [], 'global flags of crictl that mascri lacks');
  });

  test('the commands and their aliases, each command\'s flags, its subcommands and theirs', async () => {
    const top = await help([]);
    const commands = commandNames(top);
    assert.ok(commands.length >= 30, `crictl --help lists its commands: ${commands.length}`);
    const missing: string[] = [];
    let checkedFlags = 0;
    for (const names of commands) {
      if (names[0] === 'help') {
        // commander's own help command, and the hidden `h` beside it.
        if (!findCommand(program, 'h')) missing.push('command h');
        continue;
      }
      const command = findCommand(program, names[0]!);
      if (!command) {
        missing.push(`command ${names[0]}`);
        continue;
      }
      for (const alias of names.slice(1)) if (!findCommand(program, alias)) missing.push(`alias ${alias} of ${names[0]}`);
      const commandHelp = await help([names[0]!]);
      const flags = mascriFlags(command);
      for (const flag of flagNames(commandHelp)) {
        checkedFlags++;
        if (!flags.has(flag)) missing.push(`${names[0]} ${flag}`);
      }
      for (const subNames of commandNames(commandHelp)) {
        if (subNames[0] === 'help') continue;
        const sub = findCommand(command, subNames[0]!);
        if (!sub) {
          missing.push(`${names[0]} ${subNames[0]}`);
          continue;
        }
        for (const alias of subNames.slice(1)) if (!findCommand(command, alias)) missing.push(`alias ${alias} of ${names[0]} ${subNames[0]}`);
        for (const flag of flagNames(await help([names[0]!, subNames[0]!]))) {
          checkedFlags++;
          if (!mascriFlags(sub).has(flag)) missing.push(`${names[0]} ${subNames[0]} ${flag}`);
        }
      }
    }
    assert.ok(checkedFlags > 100, `flags checked: ${checkedFlags}`);
    assert.deepEqual(missing, [], 'crictl commands, aliases and flags that mascri lacks');
  });

  test('completion: bash, zsh and fish scripts that name every command; bash parses it', async () => {
    const names = program.commands.filter((c) => c.name() !== 'h').flatMap((c) => [c.name(), ...c.aliases()]);
    for (const shell of ['bash', 'zsh', 'fish']) {
      const result = await mascri(['completion', shell]);
      assert.equal(result.code, 0, result.stderr);
      for (const name of names) assert.ok(result.stdout.includes(name), `${shell} completion names ${name}`);
    }
    const bash = await mascri(['completion']);
    const check = await execa('bash', ['-n'], { input: bash.stdout, reject: false });
    assert.equal(check.exitCode, 0, String(check.stderr));
    const wrong = await mascri(['completion', 'tcsh']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /only bash, zsh or fish are supported/);
  });

  test('the flags that cannot apply are accepted and say why in mascri\'s help', () => {
    for (const [where, why] of Object.entries(INERT)) {
      const [commandName, flag] = where.includes(' ') ? where.split(' ') : [undefined, where];
      const command = commandName ? findCommand(program, commandName)! : program;
      const option = (command.options as readonly Option[]).find((o) => o.long === flag);
      assert.ok(option, `${where} is accepted (${why})`);
      assert.match(option.description, /accepted for crictl|ignored on Linux/, `${where}: its help says it has no effect`);
    }
  });
});
