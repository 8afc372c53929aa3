/**
 * crictl's client config file (/etc/crictl.yaml, or --config / CRI_CONFIG_FILE): read and written
 * as crictl does (cri-tools pkg/common/file.go), keys and their order kept, comments too.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LineCounter, isMap, isScalar, parseDocument, type Document, type Pair } from 'yaml';

export { DEFAULT_CONFIG_PATH } from './usage.js';

/** crictl's keys, in the order it writes them. */
export const CONFIG_KEYS = ['runtime-endpoint', 'image-endpoint', 'timeout', 'debug', 'pull-image-on-create', 'disable-pull-on-run', 'max-retries'] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

/** What the file says; a key it leaves out has crictl's zero value. */
export interface CrictlConfig {
  'runtime-endpoint': string;
  'image-endpoint': string;
  /** Seconds; 0 or less means the default. */
  timeout: number;
  debug: boolean;
  'pull-image-on-create': boolean;
  'disable-pull-on-run': boolean;
  'max-retries': number;
}

/** A config file that cannot be used: crictl's words, then the file, the line and the key. */
export class ConfigFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigFileError';
  }
}

export function emptyConfig(): CrictlConfig {
  return { 'runtime-endpoint': '', 'image-endpoint': '', timeout: 0, debug: false, 'pull-image-on-create': false, 'disable-pull-on-run': false, 'max-retries': 0 };
}

/** Go's strconv.Atoi. */
export function parseGoInt(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw new Error(`strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`);
  return Number(text);
}

/** Go's strconv.ParseBool. */
export function parseGoBool(text: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  throw new Error(`strconv.ParseBool: parsing ${JSON.stringify(text)}: invalid syntax`);
}

/** Sets a known key from its text; the error is strconv's. */
function assign(config: CrictlConfig, key: ConfigKey, value: string): void {
  switch (key) {
    case 'runtime-endpoint':
    case 'image-endpoint':
      config[key] = value;
      return;
    case 'timeout':
    case 'max-retries':
      config[key] = parseGoInt(value);
      return;
    default:
      config[key] = parseGoBool(value);
  }
}

function isConfigKey(key: string): key is ConfigKey {
  return (CONFIG_KEYS as readonly string[]).includes(key);
}

/** Sets one key from its text form, as `crictl config --set` does; the error is crictl's. */
export function setConfigValue(config: CrictlConfig, key: string, value: string): void {
  if (!isConfigKey(key)) throw new ConfigFileError(`no configuration option named ${key}`);
  try {
    assign(config, key, value);
  } catch (error) {
    throw new ConfigFileError(`parse ${key} value '${value}': ${(error as Error).message}`);
  }
}

/** A key's value as `crictl config --get` prints it. */
export function configValueText(config: CrictlConfig, key: string): string {
  if (!isConfigKey(key)) throw new ConfigFileError(`no configuration option named ${key}`);
  return String(config[key]);
}

/** A config file read: the values and the YAML document (written back with its comments). */
export interface LoadedConfig {
  path: string;
  config: CrictlConfig;
  document: Document;
}

/** Reads a crictl config file; a malformed one is an error naming the file, the line and the key. */
export function readConfigFile(path: string): LoadedConfig {
  const text = readFileSync(path, 'utf8');
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: false });
  const first = document.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line ?? 1;
    throw new ConfigFileError(`${path}: yaml: line ${line}: ${first.message.split('\n')[0]}`);
  }
  const config = emptyConfig();
  const contents = document.contents;
  if (contents === null || (isScalar(contents) && (contents.value === null || contents.value === ''))) return { path, config, document };
  if (!isMap(contents)) throw new ConfigFileError(`${path}: line 1: the file must be a mapping of crictl's keys (${CONFIG_KEYS.join(', ')})`);
  for (const pair of contents.items as Pair[]) {
    const name = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const line = lineCounter.linePos((pair.key as { range?: [number] } | null)?.range?.[0] ?? 0).line;
    if (!isConfigKey(name)) {
      throw new ConfigFileError(`${path}: line ${line}: Config option '${name}' is not valid (crictl's keys: ${CONFIG_KEYS.join(', ')})`);
    }
    const value = scalarText(pair.value, text);
    try {
      assign(config, name, value);
    } catch (error) {
      throw new ConfigFileError(`${path}: line ${line}: parsing config option '${name}': ${(error as Error).message}`);
    }
  }
  return { path, config, document };
}

/** A value as Go's yaml.Node.Value holds it: a string's content, anything else as written. */
function scalarText(node: unknown, text: string): string {
  if (!isScalar(node)) return '';
  if (typeof node.value === 'string') return node.value;
  const range = node.range;
  return range ? text.slice(range[0], range[1]).trim() : String(node.value ?? '');
}

/** Writes every key (crictl writes all of them), keeping the file's other content, mode 0600. */
export function writeConfigFile(path: string, config: CrictlConfig, document?: Document): void {
  const doc = document ?? parseDocument('');
  if (!isMap(doc.contents)) doc.contents = doc.createNode({}) as never;
  for (const key of CONFIG_KEYS) doc.set(key, config[key]);
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  writeFileSync(path, doc.toString({ lineWidth: 0 }), { mode: 0o600 });
}

/** The directory of the running program (crictl also looks for crictl.yaml beside its binary). */
function programDir(): string {
  const script = process.argv[1];
  if (!script) return dirname(process.execPath);
  try {
    return dirname(realpathSync(script));
  } catch {
    return dirname(script);
  }
}

/**
 * The config as crictl finds it: the given path, else crictl.yaml beside the program. Undefined
 * when neither exists; `explicit` (the path came from --config / CRI_CONFIG_FILE) makes that an
 * error, as with crictl.
 */
export function findConfig(path: string, explicit: boolean): LoadedConfig | undefined {
  let chosen = path;
  if (!existsSync(path)) {
    const next = join(programDir(), 'crictl.yaml');
    if (!existsSync(next)) {
      if (explicit) throw new ConfigFileError(`get server config: load config file: stat ${next}: no such file or directory`);
      return undefined;
    }
    chosen = next;
  }
  if (statSync(chosen).isDirectory()) throw new ConfigFileError(`get server config: load config file: read ${chosen}: is a directory`);
  try {
    return readConfigFile(chosen);
  } catch (error) {
    if (error instanceof ConfigFileError) throw new ConfigFileError(`get server config: load config file: ${error.message}`);
    throw error;
  }
}
