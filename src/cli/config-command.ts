import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { collect, globalsOf, reportFailure } from './command.js';
import { configPath } from './connection.js';
import { CONFIG_KEYS, ConfigFileError, configValueText, emptyConfig, findConfig, readConfigFile, setConfigValue, writeConfigFile } from './crictl-config.js';
import { logLine } from './log-line.js';
import { printTabwriter } from './tabwriter.js';

const CLEAR_SCREEN = '\x1b[2J\x1b[H';

const HELP_AFTER = `
Examples:
  # Set the key "debug" to "true"
  mascri config --set debug=true

  # Set the key "debug" to "true"
  mascri config debug true

  # Get the value of "debug"
  mascri config --get debug

  # Show the full configuration
  mascri config --list

crictl options (the file is crictl's: --config, else CRI_CONFIG_FILE, else /etc/crictl.yaml):
  runtime-endpoint:      Container Runtime Interface (CRI) runtime endpoint (default: "")
  image-endpoint:        Container Runtime Interface (CRI) image endpoint (default: "")
  timeout:               Timeout of connecting to server (default: 2)
  debug:                 Enable debug output (default: false)
  pull-image-on-create:  Enable pulling image on create requests (default: false)
  disable-pull-on-run:   Disable pulling image on run requests (default: false)
  max-retries:           Max retries for connecting to an explicitly set endpoint (default: 3, 0 to disable, negative for infinite)`;

interface ConfigOptions {
  get?: string;
  set?: string[];
  list?: boolean;
}

/** `config`: crictl's get / set / list of its config file's options. */
export function registerConfigCommand(program: Command): void {
  program
    .command('config')
    .description('Get, set and list crictl configuration options')
    .argument('[key]', 'with a value: set the key (crictl\'s old form, `config KEY VALUE`)')
    .argument('[value]')
    .option('--get <key>', 'Show the option value')
    .option('--set <key=value>', 'Set option (can specify multiple or separate values with commas: opt1=val1,opt2=val2)', collect)
    .option('--list', 'Show all option value')
    .addHelpText('after', HELP_AFTER)
    .action((key: string | undefined, value: string | undefined, options: ConfigOptions, command: Command) => {
      const globals = globalsOf(command);
      try {
        runConfig(globals.config !== undefined || Boolean(process.env.CRI_CONFIG_FILE), configPath(globals).path, key, value, options, command);
      } catch (error) {
        reportFailure(error, globals);
      }
    });
}

function runConfig(explicit: boolean, path: string, key: string | undefined, value: string | undefined, options: ConfigOptions, command: Command): void {
  // As crictl's start-up: a malformed file named by --config fails before the command; a missing one is created.
  if (explicit && existsSync(path)) findConfig(path, true);
  if (!existsSync(path)) writeConfigFile(path, emptyConfig());
  let loaded;
  try {
    loaded = readConfigFile(path);
  } catch (error) {
    if (error instanceof ConfigFileError) throw new ConfigFileError(`load config file: ${error.message}`);
    throw error;
  }
  const { config, document } = loaded;
  if (options.get !== undefined) {
    console.log(configValueText(config, options.get));
    return;
  }
  if (options.set !== undefined) {
    for (const setting of options.set) {
      for (const option of setting.split(',')) {
        const pair = option.split('=');
        if (pair.length !== 2) throw new ConfigFileError(`incorrectly specified option: ${setting}`);
        setConfigValue(config, pair[0]!, pair[1]!);
      }
    }
    writeConfigFile(path, config, document);
    return;
  }
  if (options.list) {
    process.stdout.write(CLEAR_SCREEN);
    printTabwriter(['KEY', 'VALUE'], CONFIG_KEYS.map((name) => [name, String(config[name])]));
    return;
  }
  if (key === undefined || key === '') {
    command.outputHelp();
    return;
  }
  const text = value ?? '';
  logLine('info', `No --get, --set or --list provided, setting key ${JSON.stringify(key)} to value ${JSON.stringify(text)}`);
  try {
    setConfigValue(config, key, text);
  } catch (error) {
    throw new ConfigFileError(`set ${JSON.stringify(key)} to ${JSON.stringify(text)}: ${(error as Error).message}`);
  }
  writeConfigFile(path, config, document);
}
