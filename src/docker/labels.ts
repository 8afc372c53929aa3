/**
 * How mascri keeps CRI state on Docker containers, as labels: everything needed to answer
 * the CRI after a restart lives on the container itself. Pure.
 *
 * Labels reach Docker through a label file (`docker run --label-file`, see label-file.ts), not
 * as arguments, so no request is bound by Linux's 128 KiB per argument. The docker CLI reads that
 * file line by line (docker/cli opts/file.go, pkg/kvfile): a line is `key=value`, at most 64 KiB
 * (bufio.Scanner's default), the key without whitespace or "=", the value taken as-is; a line
 * break, or a carriage return before one, cannot be in a value. So one of mascri's own values
 * that is longer than LABEL_PART_BYTES, or holds such characters, is stored in parts (see
 * putValue) that the decoder joins back.
 *
 * User labels are also set as-is (so `docker ps --filter label=app=x` works) when they are small
 * and fit on one line; mascri reads them back only from its JSON label, which is lossless.
 */
import { internal } from '../common/errors.js';
import { isWellFormed, splitUtf8, utf8Length } from '../common/utf8.js';

export const LABEL_TYPE = 'io.mascri.type';
export const LABEL_SANDBOX_ID = 'io.mascri.sandbox-id';
export const LABEL_METADATA = 'io.mascri.metadata';
export const LABEL_LABELS = 'io.mascri.labels';
export const LABEL_ANNOTATIONS = 'io.mascri.annotations';
export const LABEL_CONFIG = 'io.mascri.config';
export const LABEL_LOG_DIRECTORY = 'io.mascri.log-directory';
export const LABEL_LOG_PATH = 'io.mascri.log-path';
export const LABEL_RUNTIME_HANDLER = 'io.mascri.runtime-handler';
export const LABEL_IMAGE = 'io.mascri.image';
/** When mascri made the object (RFC 3339): its CRI created_at, the same before and after Docker's inspect is in. */
export const LABEL_CREATED = 'io.mascri.created';
/** The `mascri serve --instance` that made the container; absent for the default instance. */
export const LABEL_INSTANCE = 'io.mascri.instance';
/** The Kubernetes labels cri-dockerd sets, for tools that look for them. */
export const LABEL_POD_NAME = 'io.kubernetes.pod.name';
export const LABEL_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const LABEL_POD_UID = 'io.kubernetes.pod.uid';
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';

export type ObjectType = 'sandbox' | 'container';

/** Longest value (UTF-8 bytes) one label holds; longer ones are split into parts this size. */
export const LABEL_PART_BYTES = 32 * 1024;
/** User labels (and the Kubernetes labels for tools) are mirrored as-is only up to this size, key and value. */
export const MIRROR_MAX_BYTES = 1024;
/** The docker CLI reads a label file with a bufio.Scanner: no line may reach 64 KiB. */
const MAX_LINE_BYTES = 64 * 1024 - 1;
const PARTS = '.parts';

const RESERVED = /^io\.mascri\./;

/** True when a user label key would collide with mascri's own labels. */
export function isReservedLabel(key: string): boolean {
  return RESERVED.test(key);
}

export interface SandboxLabelInput {
  metadata: { name: string; namespace: string; uid: string; attempt: number };
  labels: Record<string, string>;
  annotations: Record<string, string>;
  logDirectory: string;
  runtimeHandler: string;
  /** The creation config, kept whole (JSON). */
  config: unknown;
  /** When mascri made it (RFC 3339), the CRI created_at; absent on objects made before it was kept, where Docker's Created stands. */
  created?: string;
  /** The serving instance (`mascri serve --instance`); '' or absent for the default one, which sets no label. */
  instance?: string;
}

/** The Docker labels of a sandbox's pause container. */
export function sandboxLabels(input: SandboxLabelInput): Record<string, string> {
  return encodeLabels(
    {
      ...input.labels,
      [LABEL_POD_NAME]: input.metadata.name,
      [LABEL_POD_NAMESPACE]: input.metadata.namespace,
      [LABEL_POD_UID]: input.metadata.uid,
    },
    {
      [LABEL_TYPE]: 'sandbox',
      [LABEL_METADATA]: JSON.stringify(input.metadata),
      [LABEL_LABELS]: JSON.stringify(input.labels),
      [LABEL_ANNOTATIONS]: JSON.stringify(input.annotations),
      [LABEL_LOG_DIRECTORY]: input.logDirectory,
      [LABEL_RUNTIME_HANDLER]: input.runtimeHandler,
      [LABEL_CONFIG]: JSON.stringify(input.config),
      ...createdLabel(input.created),
      ...instanceLabel(input.instance),
    },
  );
}

/** What a sandbox's labels say, or undefined when the container is not a mascri sandbox. */
export function decodeSandboxLabels(labels: Record<string, string> | null | undefined): SandboxLabelInput | undefined {
  if (!labels || getValue(labels, LABEL_TYPE) !== 'sandbox') return undefined;
  const metadata = parseJson(getValue(labels, LABEL_METADATA), { name: '', namespace: '', uid: '', attempt: 0 });
  return {
    metadata: { name: String(metadata.name ?? ''), namespace: String(metadata.namespace ?? ''), uid: String(metadata.uid ?? ''), attempt: Number(metadata.attempt ?? 0) },
    labels: parseJson(getValue(labels, LABEL_LABELS), {}),
    annotations: parseJson(getValue(labels, LABEL_ANNOTATIONS), {}),
    logDirectory: getValue(labels, LABEL_LOG_DIRECTORY) ?? '',
    runtimeHandler: getValue(labels, LABEL_RUNTIME_HANDLER) ?? '',
    config: parseJson(getValue(labels, LABEL_CONFIG), {}),
    ...createdField(labels),
  };
}

/**
 * The Docker labels for mascri's own values (each kept whole, in parts when needed) and the
 * mirrored ones (kept only when they are small and fit on one label-file line; own values win).
 */
function encodeLabels(mirrored: Record<string, string>, own: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(mirrored)) {
    if (!isReservedLabel(key) && lineSafeKey(key) && lineSafeValue(value) && utf8Length(key) + utf8Length(value) <= MIRROR_MAX_BYTES) out[key] = value;
  }
  for (const [key, value] of Object.entries(own)) putValue(out, key, value);
  return out;
}

/**
 * Sets `key` to `value` when one label-file line can carry it, else stores it in parts:
 * `key.parts` = the count (with ",json" when the value holds characters a line cannot, and the
 * parts are of its JSON string instead) and `key.0`, `key.1`, ... of at most LABEL_PART_BYTES each,
 * cut between code points so that each is valid UTF-8. The type and sandbox-id labels, which
 * Docker filters on (`--filter label=`), are short and plain, so they always stay whole.
 */
function putValue(out: Record<string, string>, key: string, value: string): void {
  const safe = lineSafeValue(value);
  if (safe && utf8Length(value) <= LABEL_PART_BYTES) {
    out[key] = value;
    return;
  }
  const parts = splitUtf8(safe ? value : JSON.stringify(value), LABEL_PART_BYTES);
  out[key + PARTS] = safe ? String(parts.length) : `${parts.length},json`;
  parts.forEach((part, i) => (out[`${key}.${i}`] = part));
}

/** The value putValue stored at `key` (whole or joined from its parts); undefined when absent or incomplete. */
export function getValue(labels: Record<string, string>, key: string): string | undefined {
  const whole = labels[key];
  if (whole !== undefined) return whole;
  const marker = /^(\d+)(,json)?$/.exec(labels[key + PARTS] ?? '');
  if (!marker) return undefined;
  let text = '';
  for (let i = 0; i < Number(marker[1]); i++) {
    const part = labels[`${key}.${i}`];
    if (part === undefined) return undefined;
    text += part;
  }
  if (!marker[2]) return text;
  const decoded = parseJson<unknown>(text, undefined);
  return typeof decoded === 'string' ? decoded : undefined;
}

/** True when a label-file line can start with `key` and be read back as it: docker/cli's kvfile rules. */
function lineSafeKey(key: string): boolean {
  return key !== '' && !key.startsWith('#') && !/[=\s\u0085\0]/.test(key) && isWellFormed(key);
}

/** True when `value` survives a label-file line: no line break or carriage return, no NUL, valid UTF-8. */
function lineSafeValue(value: string): boolean {
  return !/[\n\r\0]/.test(value) && isWellFormed(value);
}

/**
 * The text of a docker label file holding `labels` (as made by sandboxLabels/containerLabels),
 * one `key=value` line each in a stable order; throws when a label could not be read back as it is.
 */
export function labelFileText(labels: Record<string, string>): string {
  let text = '';
  for (const key of Object.keys(labels).sort()) {
    const line = `${key}=${labels[key]}`;
    if (!lineSafeKey(key) || !lineSafeValue(labels[key]!) || utf8Length(line) >= MAX_LINE_BYTES) {
      throw internal(`the Docker label "${key.slice(0, 100)}" cannot be written to a label file (${utf8Length(line)} bytes, or a line break, NUL or whitespace in the key)`);
    }
    text += line + '\n';
  }
  return text;
}

function parseJson<T>(text: string | undefined, fallback: T): T {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export interface ContainerLabelInput {
  sandboxId: string;
  metadata: { name: string; attempt: number };
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** The log file on the host (sandbox log_directory joined with the config's log_path), or ''. */
  logPath: string;
  /** The image reference as asked (ContainerStatus.image), before it was resolved to an ID. */
  image: string;
  /** The creation config, kept whole (JSON). */
  config: unknown;
  /** The sandbox's pod metadata, for the Kubernetes labels tools look for. */
  pod: { name: string; namespace: string; uid: string };
  /** When mascri made it (RFC 3339), the CRI created_at; absent on objects made before it was kept, where Docker's Created stands. */
  created?: string;
  /** The serving instance (`mascri serve --instance`); '' or absent for the default one, which sets no label. */
  instance?: string;
}

/** The Docker labels of a container. */
export function containerLabels(input: ContainerLabelInput): Record<string, string> {
  return encodeLabels(
    {
      ...input.labels,
      [LABEL_POD_NAME]: input.pod.name,
      [LABEL_POD_NAMESPACE]: input.pod.namespace,
      [LABEL_POD_UID]: input.pod.uid,
      [LABEL_CONTAINER_NAME]: input.metadata.name,
    },
    {
      [LABEL_TYPE]: 'container',
      [LABEL_SANDBOX_ID]: input.sandboxId,
      [LABEL_METADATA]: JSON.stringify(input.metadata),
      [LABEL_LABELS]: JSON.stringify(input.labels),
      [LABEL_ANNOTATIONS]: JSON.stringify(input.annotations),
      [LABEL_LOG_PATH]: input.logPath,
      [LABEL_IMAGE]: input.image,
      [LABEL_CONFIG]: JSON.stringify(input.config),
      ...createdLabel(input.created),
      ...instanceLabel(input.instance),
    },
  );
}

/** What a container's labels say, or undefined when it is not a mascri container. */
export function decodeContainerLabels(labels: Record<string, string> | null | undefined): ContainerLabelInput | undefined {
  if (!labels || getValue(labels, LABEL_TYPE) !== 'container') return undefined;
  const metadata = parseJson(getValue(labels, LABEL_METADATA), { name: '', attempt: 0 });
  return {
    sandboxId: getValue(labels, LABEL_SANDBOX_ID) ?? '',
    metadata: { name: String(metadata.name ?? ''), attempt: Number(metadata.attempt ?? 0) },
    labels: parseJson(getValue(labels, LABEL_LABELS), {}),
    annotations: parseJson(getValue(labels, LABEL_ANNOTATIONS), {}),
    logPath: getValue(labels, LABEL_LOG_PATH) ?? '',
    image: getValue(labels, LABEL_IMAGE) ?? '',
    config: parseJson(getValue(labels, LABEL_CONFIG), {}),
    pod: { name: labels[LABEL_POD_NAME] ?? '', namespace: labels[LABEL_POD_NAMESPACE] ?? '', uid: labels[LABEL_POD_UID] ?? '' },
    ...createdField(labels),
  };
}

function createdLabel(created: string | undefined): Record<string, string> {
  return created ? { [LABEL_CREATED]: created } : {};
}

function createdField(labels: Record<string, string>): { created?: string } {
  const created = labels[LABEL_CREATED];
  return created ? { created } : {};
}

function instanceLabel(instance: string | undefined): Record<string, string> {
  return instance ? { [LABEL_INSTANCE]: instance } : {};
}

/** The instance a container's labels name: '' for the default instance (no label). */
export function instanceOf(labels: Record<string, string> | null | undefined): string {
  return labels?.[LABEL_INSTANCE] ?? '';
}

/**
 * True when the container is one of mascri's and belongs to `instance` ('' the default, which
 * owns only containers without an instance label): each server sees only its own.
 */
export function ownedBy(instance: string, labels: Record<string, string> | null | undefined): boolean {
  return Boolean(labels?.[LABEL_TYPE]) && instanceOf(labels) === instance;
}

/**
 * The `--filter label=` value that narrows `docker ps` and `docker events` to `instance` as far
 * as Docker can: its instance label, or for the default instance every mascri container (Docker
 * cannot filter on a label being absent, so the caller keeps only those ownedBy the default).
 */
export function instanceLabelFilter(instance: string): string {
  return instance ? `${LABEL_INSTANCE}=${instance}` : LABEL_TYPE;
}
