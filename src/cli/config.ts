import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { ContainerConfig } from '../cri/generated/runtime/v1/ContainerConfig.js';
import type { PodSandboxConfig } from '../cri/generated/runtime/v1/PodSandboxConfig.js';
import { MessageJsonError, isPlainObject, parseMessageJson as parseMessage } from '../cri/message-json.js';
import { UsageError } from './output.js';

/** parseMessageJson of src/cri/message-json.ts, with its errors as usage errors of the command. */
export function parseMessageJson(typeName: string, value: unknown, source: string): Record<string, unknown> {
  try {
    return parseMessage(typeName, value, source);
  } catch (error) {
    if (error instanceof MessageJsonError) throw new UsageError(error.message);
    throw error;
  }
}

/** The parsed contents of a JSON or (by extension .yaml/.yml) YAML config file. */
export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${path}: config file not found`);
    if (code === 'EISDIR') throw new UsageError(`${path}: is a directory, not a config file`);
    throw new UsageError(`${path}: cannot read config file: ${(error as Error).message}`);
  }
  if (text.trim() === '') throw new UsageError(`${path}: config file is empty`);
  return /\.ya?ml$/i.test(path) ? parseYaml(text, path) : parseJson(text, path);
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /at position (\d+)/.exec(message);
    const where = position ? ` at ${lineColumn(text, Number(position[1]))}` : '';
    const what = message.replace(/\s*in JSON at position \d+.*$/s, '').replace(/\s*\(line \d+ column \d+\)/, '');
    throw new UsageError(`${path}: invalid JSON${where}: ${what}`);
  }
}

/** "line 3, column 5" (both from 1) of a character offset. */
export function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return `line ${line}, column ${column}`;
}

function parseYaml(text: string, path: string): unknown {
  const document = parseDocument(text);
  const error = document.errors[0];
  if (error) {
    const pos = error.linePos?.[0];
    const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
    const what = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new UsageError(`${path}: invalid YAML${where}: ${what}`);
  }
  return document.toJS();
}

/** Reads and validates a pod sandbox config (crictl runp's file); metadata.name is required. */
export function loadSandboxConfig(path: string): PodSandboxConfig {
  const config = parseMessageJson('runtime.v1.PodSandboxConfig', readConfigFile(path), path);
  const metadata = requireObject(config, 'metadata', path);
  if (!metadata.name) throw new UsageError(`${path}: field "metadata.name" is required: the pod's name`);
  // As crictl does: a pod without a UID gets a fresh one, so that running the file twice makes two pods.
  if (!metadata.uid) metadata.uid = randomUUID();
  return config as PodSandboxConfig;
}

/** Reads and validates a container config (crictl create's file); metadata.name and image.image are required. */
export function loadContainerConfig(path: string): ContainerConfig {
  const config = parseMessageJson('runtime.v1.ContainerConfig', readConfigFile(path), path);
  const metadata = requireObject(config, 'metadata', path);
  if (!metadata.name) throw new UsageError(`${path}: field "metadata.name" is required: the container's name`);
  const image = requireObject(config, 'image', path);
  if (!image.image) throw new UsageError(`${path}: field "image.image" is required: the image to run`);
  return config as ContainerConfig;
}

function requireObject(config: Record<string, unknown>, key: string, path: string): Record<string, unknown> {
  const value = config[key];
  if (!isPlainObject(value)) throw new UsageError(`${path}: field "${key}" is required`);
  return value;
}
