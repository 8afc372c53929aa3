/**
 * How mascri keeps CRI state on Docker containers, as labels: everything needed to answer
 * the CRI after a restart lives on the container itself. Pure.
 *
 * User labels are also set as-is (so `docker ps --filter label=app=x` works), but mascri
 * reads them back only from the JSON label, which is lossless.
 */
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
/** The Kubernetes labels cri-dockerd sets, for tools that look for them. */
export const LABEL_POD_NAME = 'io.kubernetes.pod.name';
export const LABEL_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const LABEL_POD_UID = 'io.kubernetes.pod.uid';
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';

export type ObjectType = 'sandbox' | 'container';

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
}

/** The Docker labels of a sandbox's pause container. */
export function sandboxLabels(input: SandboxLabelInput): Record<string, string> {
  return {
    ...input.labels,
    [LABEL_TYPE]: 'sandbox',
    [LABEL_METADATA]: JSON.stringify(input.metadata),
    [LABEL_LABELS]: JSON.stringify(input.labels),
    [LABEL_ANNOTATIONS]: JSON.stringify(input.annotations),
    [LABEL_LOG_DIRECTORY]: input.logDirectory,
    [LABEL_RUNTIME_HANDLER]: input.runtimeHandler,
    [LABEL_CONFIG]: JSON.stringify(input.config),
    [LABEL_POD_NAME]: input.metadata.name,
    [LABEL_POD_NAMESPACE]: input.metadata.namespace,
    [LABEL_POD_UID]: input.metadata.uid,
  };
}

/** What a sandbox's labels say, or undefined when the container is not a mascri sandbox. */
export function decodeSandboxLabels(labels: Record<string, string> | null | undefined): SandboxLabelInput | undefined {
  if (!labels || labels[LABEL_TYPE] !== 'sandbox') return undefined;
  const metadata = parseJson(labels[LABEL_METADATA], { name: '', namespace: '', uid: '', attempt: 0 });
  return {
    metadata: { name: String(metadata.name ?? ''), namespace: String(metadata.namespace ?? ''), uid: String(metadata.uid ?? ''), attempt: Number(metadata.attempt ?? 0) },
    labels: parseJson(labels[LABEL_LABELS], {}),
    annotations: parseJson(labels[LABEL_ANNOTATIONS], {}),
    logDirectory: labels[LABEL_LOG_DIRECTORY] ?? '',
    runtimeHandler: labels[LABEL_RUNTIME_HANDLER] ?? '',
    config: parseJson(labels[LABEL_CONFIG], {}),
  };
}

/** `--label k=v` arguments for docker, in a stable order. */
export function labelArgs(labels: Record<string, string>): string[] {
  return Object.keys(labels)
    .sort()
    .flatMap((key) => ['--label', `${key}=${labels[key]}`]);
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
}

/** The Docker labels of a container. */
export function containerLabels(input: ContainerLabelInput): Record<string, string> {
  return {
    ...input.labels,
    [LABEL_TYPE]: 'container',
    [LABEL_SANDBOX_ID]: input.sandboxId,
    [LABEL_METADATA]: JSON.stringify(input.metadata),
    [LABEL_LABELS]: JSON.stringify(input.labels),
    [LABEL_ANNOTATIONS]: JSON.stringify(input.annotations),
    [LABEL_LOG_PATH]: input.logPath,
    [LABEL_IMAGE]: input.image,
    [LABEL_CONFIG]: JSON.stringify(input.config),
    [LABEL_POD_NAME]: input.pod.name,
    [LABEL_POD_NAMESPACE]: input.pod.namespace,
    [LABEL_POD_UID]: input.pod.uid,
    [LABEL_CONTAINER_NAME]: input.metadata.name,
  };
}

/** What a container's labels say, or undefined when it is not a mascri container. */
export function decodeContainerLabels(labels: Record<string, string> | null | undefined): ContainerLabelInput | undefined {
  if (!labels || labels[LABEL_TYPE] !== 'container') return undefined;
  const metadata = parseJson(labels[LABEL_METADATA], { name: '', attempt: 0 });
  return {
    sandboxId: labels[LABEL_SANDBOX_ID] ?? '',
    metadata: { name: String(metadata.name ?? ''), attempt: Number(metadata.attempt ?? 0) },
    labels: parseJson(labels[LABEL_LABELS], {}),
    annotations: parseJson(labels[LABEL_ANNOTATIONS], {}),
    logPath: labels[LABEL_LOG_PATH] ?? '',
    image: labels[LABEL_IMAGE] ?? '',
    config: parseJson(labels[LABEL_CONFIG], {}),
    pod: { name: labels[LABEL_POD_NAME] ?? '', namespace: labels[LABEL_POD_NAMESPACE] ?? '', uid: labels[LABEL_POD_UID] ?? '' },
  };
}
