import type { Logger } from '../common/logger.js';
import { markChildrenOf, removeStaleTempDirs, settleOrphans, type OrphanOutcome } from './children.js';
import { ProcessStarter } from './process-starter.js';
import { DockerCli, type DockerCallObserver, type DockerProgressObserver } from './cli.js';
import { DockerContainers } from './containers.js';
import type { HostConfigExtras } from './create-relay.js';
import { DockerEventStream, containerEventFilters, imageEventFilters, type EventStreamHandlers, type EventStreamStart } from './events.js';
import { LocalHost, type DockerHostApi } from './host.js';
import { DockerImages, type RegistryAuth } from './images.js';
import { PodNetwork, type DockerNetworkApi } from './network.js';
import { DockerSessions, type DockerSessionsApi } from './sessions.js';
import { DockerSystem } from './system.js';
import type { DockerContainerInspect, DockerImageInspect, DockerInfo, DockerVersion } from './types.js';

// The interfaces below are what the server may ask of Docker. The classes that implement them
// (DockerContainers, DockerImages, ...) do so structurally, checked in createDockerAdapter: they
// need not import this file, so the docker layer has no import circle. The newer parts (sessions.ts,
// network.ts, host.ts) declare their interfaces beside their classes, for the same reason.

/** The docker CLI itself: its binary and its observer hooks. */
export interface DockerCliApi {
  readonly binary: string;
  /** Tells `observer` about every finished docker call (metrics). */
  onCall(observer: DockerCallObserver): void;
  /** Tells `observer` when a call's CLI has started or passed a create on (test crash points). */
  onProgress(observer: DockerProgressObserver): void;
  /** Why a create through the create relay would be refused on this engine; undefined when it works. */
  createRelayUnsupported(): Promise<string | undefined>;
  /** Ends what the CLI layer keeps running (the process starter), when the server stops. */
  close(): void;
}

/** Docker container operations used for sandboxes and containers. */
export interface DockerContainersApi {
  /** Creates and starts a container (`docker run -d`); answers its ID. */
  run(args: readonly string[], labels?: Record<string, string>, timeoutMs?: number): Promise<string>;
  /** Creates (does not start) a container; answers its ID. */
  create(args: readonly string[], labels?: Record<string, string>, extras?: HostConfigExtras, timeoutMs?: number): Promise<string>;
  start(id: string): Promise<void>;
  /** Stops containers (SIGTERM, SIGKILL after `graceSeconds`); absent ones are ignored. */
  stop(ids: readonly string[], graceSeconds: number): Promise<void>;
  /** Force-removes containers; absent ones are ignored. */
  remove(ids: readonly string[]): Promise<void>;
  /** Inspects by ID, ID prefix or name; missing ones are left out. */
  inspect(refs: readonly string[]): Promise<DockerContainerInspect[]>;
  inspectOne(ref: string): Promise<DockerContainerInspect | undefined>;
  /** IDs of the instance's mascri containers carrying every label (`key` or `key=value`). */
  listIds(instance: string, labels?: readonly string[]): Promise<string[]>;
  list(instance: string, labels?: readonly string[]): Promise<DockerContainerInspect[]>;
  /** `docker update ...args -- id`: changes resource limits live. */
  update(id: string, args: readonly string[]): Promise<void>;
}

/** Docker image operations: pull, inspect, list, remove. */
export interface DockerImagesApi {
  /** undefined when Docker has no such image. */
  inspect(ref: string): Promise<DockerImageInspect | undefined>;
  /** Inspects by name, ID or digest; missing ones are left out (one docker call). */
  inspectAll(refs: readonly string[]): Promise<DockerImageInspect[]>;
  list(): Promise<DockerImageInspect[]>;
  pull(ref: string, auth?: RegistryAuth, signal?: AbortSignal): Promise<void>;
  /** False when there was no such image. */
  remove(ref: string): Promise<boolean>;
}

/** Daemon-level queries. */
export interface DockerSystemApi {
  info(): Promise<DockerInfo>;
  /** Whether the kernel logged an OOM kill in the container's memory cgroup. */
  oomKilledByKernel(id: string): boolean;
  version(): Promise<DockerVersion>;
}

/** One stream of Docker events: runs from start() until stop() or until Docker ends it (onEnd). */
export interface DockerEventSource {
  start(handlers: EventStreamHandlers, options?: EventStreamStart): void;
  stop(): void;
}

/** Where event streams come from. */
export interface DockerEventsApi {
  /** A new, not yet started stream of the events of containers carrying `label` (`key` or `key=value`). */
  follow(label: string): DockerEventSource;
  /** A new, not yet started stream of image events (pull, tag, untag, delete, import, load). */
  followImages(): DockerEventSource;
}

/** The processes mascri starts, as a server of one instance: marked, and those of a killed server found again. */
export interface DockerChildrenApi {
  /** Marks every process started from now on as a child of `instance` ('' the default instance). */
  markAs(instance: string): void;
  /** Lets the docker write calls a killed server of `instance` left running finish (up to `waitMs`) and kills its other children. */
  settleOrphans(instance: string, waitMs: number): Promise<OrphanOutcome>;
  /** Removes the temporary directories of mascri processes that no longer run; answers how many. */
  removeStaleTempDirs(): Promise<number>;
}

/**
 * Everything the server asks of Docker and of the engine's host, in one object handed to the
 * server: src/docker is the only place that starts a process (docker, nsenter, the pty helper) or
 * reads the host's files.
 */
export interface DockerAdapter {
  readonly cli: DockerCliApi;
  readonly images: DockerImagesApi;
  readonly system: DockerSystemApi;
  readonly containers: DockerContainersApi;
  readonly events: DockerEventsApi;
  /** Exec and attach sessions, and ExecSync. */
  readonly sessions: DockerSessionsApi;
  /** Connections into pods' network namespaces (port forwarding). */
  readonly network: DockerNetworkApi;
  /** What the server reads of the host: /proc, cgroups, /dev, writable layers. */
  readonly host: DockerHostApi;
  readonly children: DockerChildrenApi;
}

/** The real adapter: every call goes through the docker CLI at `binary`. */
export function createDockerAdapter(binary = 'docker', log?: Logger): DockerAdapter {
  // The docker calls start through a small starter process: a fork from the server blocks its event loop.
  const cli = new DockerCli(binary, log, new ProcessStarter());
  return {
    cli,
    images: new DockerImages(cli),
    system: new DockerSystem(cli),
    containers: new DockerContainers(cli),
    events: { follow: (label) => new DockerEventStream(cli, containerEventFilters(label)), followImages: () => new DockerEventStream(cli, imageEventFilters()) },
    sessions: new DockerSessions(cli),
    network: new PodNetwork(),
    host: new LocalHost(),
    children: { markAs: markChildrenOf, settleOrphans, removeStaleTempDirs: () => removeStaleTempDirs() },
  };
}
