import type { Command, Option } from 'commander';
import { UsageError } from './output.js';
import { globalsOf, reportFailure } from './command.js';

/** The program's visible commands (with aliases) and its global long flags, as crictl's completion lists them. */
function commandsOf(program: Command): Command[] {
  return program.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden);
}

function longFlags(program: Command): string[] {
  return program.options.map((o: Option) => o.long).filter((f): f is string => f !== undefined);
}

/** crictl's bash completion: every command name and global flag for the first word. */
export function bashCompletion(program: Command): string {
  const words = [...commandsOf(program).flatMap((c) => [c.name(), ...c.aliases()]), ...longFlags(program)];
  return `_mascri() {
    local cur opts base
    COMPREPLY=()
    cur="\${COMP_WORDS[COMP_CWORD]}"
    opts="${words.join('\n')}"
    COMPREPLY=( $(compgen -W "\${opts}" -- \${cur}) )
    return 0
}

complete -F _mascri mascri`;
}

/** crictl's zsh completion: commands with their descriptions, then the global flags. */
export function zshCompletion(program: Command): string {
  const zshQuote = (text: string) => text.replace(/'/g, "'\\''");
  const commands = commandsOf(program).flatMap((c) => [c.name(), ...c.aliases()].map((name) => zshQuote(`${name}:${c.description()}`)));
  return `#compdef mascri

_mascri() {
  local -a cmds
  cmds=('${commands.join("' '")}')
  _describe 'commands' cmds

  local -a opts
  opts=('${longFlags(program).join("' '")}')
  _describe 'global options' opts

  return
}

compdef _mascri mascri`;
}

/** fish completion in the shape urfave/cli writes it for crictl: global flags, then each command and its flags. */
export function fishCompletion(program: Command): string {
  const fishQuote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const commands = commandsOf(program);
  const names = commands.flatMap((c) => [c.name(), ...c.aliases()]).join(' ');
  const lines = [
    '# mascri fish shell completion',
    '',
    "function __fish_mascri_no_subcommand --description 'Test if there has been any subcommand yet'",
    '    for i in (commandline -opc)',
    `        if contains -- $i ${names}`,
    '            return 1',
    '        end',
    '    end',
    '    return 0',
    'end',
    '',
  ];
  const flagLine = (condition: string, option: Option) => {
    const long = option.long ? ` -l ${option.long.replace(/^--/, '')}` : '';
    const short = option.short ? ` -s ${option.short.replace(/^-/, '')}` : '';
    const takesValue = option.required || option.optional ? ' -r' : '';
    return `complete -c mascri -n '${condition}' -f${long}${short}${takesValue} -d ${fishQuote(option.description)}`;
  };
  for (const option of program.options) lines.push(flagLine('__fish_mascri_no_subcommand', option));
  for (const command of commands) {
    const all = [command.name(), ...command.aliases()].join(' ');
    lines.push(`complete -c mascri -n '__fish_mascri_no_subcommand' -f -a '${all}' -d ${fishQuote(command.description())}`);
    for (const option of command.options) lines.push(flagLine(`__fish_seen_subcommand_from ${all}`, option));
  }
  return lines.join('\n');
}

/** `completion [bash|zsh|fish]`: crictl's shell completion scripts, for mascri (bash when no shell is named). */
export function registerCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('Output shell completion code')
    .argument('[shell]', 'bash, zsh or fish (default bash)')
    .addHelpText(
      'after',
      '\nExamples:\n\n    # Installing bash completion on Linux\n    source <(mascri completion bash)\n\n    # Installing zsh completion on Linux\n    source <(mascri completion zsh)\n\n    # Installing fish completion on Linux\n    mascri completion fish | source',
    )
    .action((shell: string | undefined, _options: unknown, command: Command) => {
      try {
        switch (shell ?? 'bash') {
          case 'bash':
            return console.log(bashCompletion(program));
          case 'zsh':
            return console.log(zshCompletion(program));
          case 'fish':
            return console.log(fishCompletion(program));
          default:
            throw new UsageError('only bash, zsh or fish are supported');
        }
      } catch (error) {
        reportFailure(error, globalsOf(command));
      }
    });
}
