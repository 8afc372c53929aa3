// Only the pod's log_directory, which the request names, is made and removed here: the request's own work.
import { mkdir, readdir, rmdir, stat } from 'node:fs/promises';
import { alreadyExists, invalidArgument, notFound } from '../common/errors.js';
import type { ListPodSandboxRequest__Output } from '../cri/generated/runtime/v1/ListPodSandboxRequest.js';
import type { ListPodSandboxResponse } from '../cri/generated/runtime/v1/ListPodSandboxResponse.js';
import type { PodSandbox } from '../cri/generated/runtime/v1/PodSandbox.js';
import type { PodSandboxConfig__Output } from '../cri/generated/runtime/v1/PodSandboxConfig.js';
import type { PodSandboxStatus } from '../cri/generated/runtime/v1/PodSandboxStatus.js';
import type { PodSandboxStatusRequest__Output } from '../cri/generated/runtime/v1/PodSandboxStatusRequest.js';
import type { PodSandboxStatusResponse } from '../cri/generated/runtime/v1/PodSandboxStatusResponse.js';
import type { RemovePodSandboxRequest__Output } from '../cri/generated/runtime/v1/RemovePodSandboxRequest.js';
import type { RunPodSandboxRequest__Output } from '../cri/generated/runtime/v1/RunPodSandboxRequest.js';
import type { RunPodSandboxResponse } from '../cri/generated/runtime/v1/RunPodSandboxResponse.js';
import type { StopPodSandboxRequest__Output } from '../cri/generated/runtime/v1/StopPodSandboxRequest.js';
import { dockerTimeToNanos } from '../docker/convert.js';
import { DockerError } from '../docker/errors.js';
import { LABEL_SANDBOX_ID, isReservedLabel, sandboxLabels } from '../docker/labels.js';
import { sandboxContainerName } from '../docker/naming.js';
import { sandboxRunPlan } from '../docker/sandbox-args.js';
import type { ServerContext } from './context.js';
import { runWithErrorContext } from './errors.js';
import { AnswerWhileUnchanged } from './store.js';
import { madeInspect } from './provisional.js';
import { warnOnce } from './warn-once.js';
import { allContainers, allSandboxes, findSandbox, oncePerInspect, type SandboxRecord } from './lookup.js';
import { isEmptyFilter, matchesIdPrefix, matchesLabelSelector } from './filters.js';
import { isoTime } from '../common/time.js';

/**
 * How long a new sandbox's inspect waits for a lookup of it (its status) or another look to go
 * along with (see RunPodSandbox) before it is made on its own.
 */
export const SANDBOX_LOOK_AFTER_MS = 500;

/** Seconds a pause container gets to exit on SIGTERM before SIGKILL (it exits at once). */
const PAUSE_STOP_GRACE_SECONDS = 10;
/** Containers still running when their pod is stopped are terminated at once, as the CRI requires. */
const MEMBER_STOP_GRACE_SECONDS = 0;


/** RunPodSandbox, StopPodSandbox, RemovePodSandbox, PodSandboxStatus, ListPodSandbox. */
export class SandboxService {
  private infraImagePresent = false;
  private infraImageCheck: Promise<void> | undefined;
  /** The unfiltered answer (a kubelet's relist), kept while the store has not changed. */
  private readonly unfiltered: AnswerWhileUnchanged<ListPodSandboxResponse>;

  constructor(private readonly ctx: ServerContext) {
    this.unfiltered = new AnswerWhileUnchanged(ctx.store);
  }

  /** Runs the pod's pause container; any failure after it exists removes it again. */
  async runPodSandbox(request: RunPodSandboxRequest__Output): Promise<RunPodSandboxResponse> {
    const config = request.config;
    const meta = config?.metadata;
    if (!config || !meta) throw invalidArgument('config.metadata is required: a sandbox needs a name, namespace, uid and attempt');
    if (!meta.name) throw invalidArgument('config.metadata.name is empty');
    for (const key of Object.keys(config.labels ?? {})) {
      if (isReservedLabel(key)) throw invalidArgument(`config.labels: "${key}" is reserved for mascri's own labels`);
    }
    const metadata = { name: meta.name, namespace: meta.namespace, uid: meta.uid, attempt: meta.attempt };
    const what = `running pod sandbox ${describeMetadata(metadata)}`;
    const instance = this.ctx.options.instance;
    const name = sandboxContainerName(metadata, instance);
    return runWithErrorContext(what, async () => {
      const dockerRuntime = await this.dockerRuntimeFor(request.runtimeHandler);
      const host = await this.ctx.host.get();
      await this.ensurePodInfraImage();
      // Its created_at, chosen here (as containerd does) so lists answer the same before and after Docker's inspect is in.
      const at = new Date();
      const labels = sandboxLabels({
        metadata,
        labels: config.labels ?? {},
        annotations: config.annotations ?? {},
        logDirectory: config.logDirectory ?? '',
        runtimeHandler: request.runtimeHandler ?? '',
        config: storedConfig(config),
        created: isoTime(at),
        instance,
      });
      const plan = sandboxRunPlan({ config, name, image: this.ctx.options.podInfraImage, host, dockerRuntime });
      for (const warning of plan.warnings) warnOnce(this.ctx.log, 'sandbox adapted to the host', warning, { sandbox: name });

      const createdLogDirectory = config.logDirectory ? await makeDirectory(config.logDirectory) : undefined;
      this.ctx.crash.reached('RunPodSandbox', 'log-directory-made');
      try {
        let id: string;
        try {
          id = await this.ctx.store.whileWriting([name], () => this.ctx.docker.containers.run(['--pull', 'never', ...plan.args], labels));
        } catch (error) {
          // The infra image was removed since it was last seen: pull it again and retry once.
          if (!(error instanceof DockerError && error.kind === 'not-found' && /No such image/i.test(error.message))) throw error;
          this.infraImagePresent = false;
          await this.ctx.docker.containers.remove([name]);
          await this.ensurePodInfraImage({ askDocker: true });
          id = await this.ctx.store.whileWriting([name], () => this.ctx.docker.containers.run(['--pull', 'never', ...plan.args], labels));
        }
        this.ctx.crash.reached('RunPodSandbox', 'docker-run-done');
        // The answer needs nothing more from Docker: lists show the sandbox at once. Docker's
        // inspect is made by its status (the kubelet's next call waits for it), or goes along with
        // the next look at another container (the StartContainer of the pod's first container: one
        // docker call less per pod, and none beside the CreateContainer), or after SANDBOX_LOOK_AFTER_MS.
        const image = this.ctx.options.podInfraImage;
        const imageId = this.ctx.images.find(image)?.Id ?? '';
        void this.ctx.store.settleInBackground(id, () => madeInspect({ id, name, image, imageId, labels, started: true, at }), undefined, { lookAfterMs: SANDBOX_LOOK_AFTER_MS });
        this.ctx.crash.reached('RunPodSandbox', 'stored');
        return { podSandboxId: id };
      } catch (error) {
        if (error instanceof DockerError && error.kind === 'already-exists') {
          const existing = await this.ctx.docker.containers.inspectOne(name).catch(() => undefined);
          throw alreadyExists(`a pod sandbox with ${describeMetadata(metadata)} already exists: ${existing?.Id ?? name}`);
        }
        // `docker run` may have created the container before failing to start it (or the daemon stopped midway).
        await this.ctx.rollbacks.remove(name);
        if (createdLogDirectory) await removeIfEmpty(createdLogDirectory);
        throw error;
      }
    });
  }

  /** Stops the pod's containers, then its pause container; an absent or stopped sandbox is success. */
  async stopPodSandbox(request: StopPodSandboxRequest__Output): Promise<Record<string, never>> {
    const id = requireId(request.podSandboxId);
    return runWithErrorContext(`stopping pod sandbox "${id}"`, async () => {
      const sandbox = await this.find(id);
      if (!sandbox) return {};
      const members = await this.memberIds(sandbox.inspect.Id);
      await this.ctx.store.whileWriting([...members, sandbox.inspect.Id], async () => {
        await this.ctx.docker.containers.stop(members, MEMBER_STOP_GRACE_SECONDS);
        await Promise.all(members.map((member) => this.ctx.logs.flush(member)));
        await this.ctx.docker.containers.stop([sandbox.inspect.Id], PAUSE_STOP_GRACE_SECONDS);
      });
      await Promise.all([...members, sandbox.inspect.Id].map((member) => this.ctx.store.refresh(member)));
      return {};
    });
  }

  /** Force-removes the pod's containers and its pause container; an absent sandbox is success. */
  async removePodSandbox(request: RemovePodSandboxRequest__Output): Promise<Record<string, never>> {
    const id = requireId(request.podSandboxId);
    return runWithErrorContext(`removing pod sandbox "${id}"`, async () => {
      const sandbox = await this.find(id);
      if (!sandbox) return {};
      const members = await this.memberIds(sandbox.inspect.Id);
      await this.ctx.docker.containers.remove([...members, sandbox.inspect.Id]);
      for (const member of [...members, sandbox.inspect.Id]) this.ctx.store.removed(member);
      await Promise.all(members.map((member) => this.ctx.logs.forget(member, { removeFiles: true })));
      return {};
    });
  }

  /** The sandbox's status; NOT_FOUND for an unknown ID. */
  async podSandboxStatus(request: PodSandboxStatusRequest__Output): Promise<PodSandboxStatusResponse> {
    const id = requireId(request.podSandboxId);
    return runWithErrorContext(`getting the status of pod sandbox "${id}"`, async () => {
      const sandbox = await this.find(id);
      if (!sandbox) throw notFound(`no pod sandbox with ID "${id}" (list them with: mascri pods)`);
      // timestamp is left out: the encoding stamps each answer with its time (withMemoizedEncoding in served-encoding.ts).
      if (!request.verbose) return sandboxStatusAnswer(sandbox);
      const info = JSON.stringify({ pid: sandbox.inspect.State.Pid, image: this.ctx.options.podInfraImage, config: sandbox.meta.config, docker: sandbox.inspect });
      return { status: sandboxStatusOnce(sandbox), info: { info }, containersStatuses: [] };
    });
  }

  /** Every sandbox made by mascri that matches the filter. */
  async listPodSandbox(request: ListPodSandboxRequest__Output): Promise<ListPodSandboxResponse> {
    const filter = request.filter;
    if (isEmptyFilter(filter)) return this.unfiltered.get(() => this.list(null));
    return this.list(filter);
  }

  /** Builds the list answer for a filter, from memory. */
  private async list(filter: ListPodSandboxRequest__Output['filter']): Promise<ListPodSandboxResponse> {
    return runWithErrorContext('listing pod sandboxes', async () => {
      const items: PodSandbox[] = [];
      for (const { inspect, meta } of allSandboxes(this.ctx.store)) {
        const item = sandboxSummary({ inspect, meta });
        if (!matchesIdPrefix(item.id!, filter?.id)) continue;
        if (filter?.state && filter.state.state !== item.state) continue;
        if (!matchesLabelSelector(meta.labels, filter?.labelSelector)) continue;
        items.push(item);
      }
      return { items };
    });
  }

  private find(id: string): Promise<SandboxRecord | undefined> {
    return findSandbox(this.ctx.store, id);
  }

  /** The sandbox's containers: from memory, and from Docker too (a stale store must not leave one running); this instance's only. */
  private async memberIds(sandboxId: string): Promise<string[]> {
    const known = allContainers(this.ctx.store, sandboxId).map((c) => c.inspect.Id);
    const listed = await this.ctx.docker.containers.listIds(this.ctx.options.instance, [`${LABEL_SANDBOX_ID}=${sandboxId}`]);
    return [...new Set([...known, ...listed])];
  }

  /**
   * Pulls the pod infra image when missing; once seen, it is not looked for again until a run says it
   * is gone. Looked for in the image store first while it is current (no docker call), unless
   * `askDocker` (the store may not have heard yet of the removal a run just ran into), and once for
   * the pods that start together.
   */
  private ensurePodInfraImage(options: { askDocker?: boolean } = {}): Promise<void> {
    if (this.infraImagePresent) return Promise.resolve();
    if (options.askDocker) return this.checkPodInfraImage(true);
    this.infraImageCheck ??= this.checkPodInfraImage(false).finally(() => (this.infraImageCheck = undefined));
    return this.infraImageCheck;
  }

  private async checkPodInfraImage(askDocker: boolean): Promise<void> {
    const image = this.ctx.options.podInfraImage;
    // A miss in the store is asked of Docker: the store hears of an image that just came a moment later.
    const present = (this.ctx.images.current && !askDocker && this.ctx.images.find(image)) || (await this.ctx.docker.images.inspect(image));
    if (!present) {
      await runWithErrorContext(`pulling the pod infra image "${image}" (set by --pod-infra-image)`, () => this.ctx.docker.images.pull(image));
    }
    this.infraImagePresent = true;
  }

  /** Docker's runtime for a CRI runtime handler: '' (or runc) is Docker's default. */
  private async dockerRuntimeFor(handler: string): Promise<string | undefined> {
    if (!handler || handler === 'runc' || handler === 'docker') return undefined;
    const info = await this.ctx.docker.system.info();
    const runtimes = Object.keys((info.Runtimes as Record<string, unknown> | undefined) ?? {});
    if (!runtimes.includes(handler)) {
      throw invalidArgument(`runtime handler "${handler}" is not a Docker runtime on this host (Docker has: ${runtimes.join(', ') || 'none'})`);
    }
    return handler;
  }
}

/** The sandbox's status, built once per inspect (PodSandboxStatus is hot: a kubelet asks after every pod event). */
const sandboxStatusOnce = oncePerInspect(sandboxStatus);

/** The answer without verbose, the same object while the inspect is unchanged: its encoding is reused too (withMemoizedEncoding). */
const sandboxStatusAnswer = oncePerInspect((record: SandboxRecord): PodSandboxStatusResponse => ({ status: sandboxStatusOnce(record), info: {}, containersStatuses: [] }));

/** The sandbox's list entry, built once per inspect. */
export const sandboxSummary = oncePerInspect(buildPodSandboxEntry);

function buildPodSandboxEntry({ inspect, meta }: SandboxRecord): PodSandbox {
  return {
    id: inspect.Id,
    metadata: meta.metadata,
    state: inspect.State.Running ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY',
    createdAt: dockerTimeToNanos(meta.created ?? inspect.Created),
    labels: meta.labels,
    annotations: meta.annotations,
    runtimeHandler: meta.runtimeHandler,
  };
}

/** The sandbox's full status. */
export function sandboxStatus(record: SandboxRecord): PodSandboxStatus {
  const { inspect, meta } = record;
  const config = meta.config as Partial<PodSandboxConfig__Output>;
  const hostNetwork = inspect.HostConfig.NetworkMode === 'host';
  const networks = Object.values(inspect.NetworkSettings.Networks ?? {});
  const ip = hostNetwork ? '' : (inspect.NetworkSettings.IPAddress || networks.find((n) => n.IPAddress)?.IPAddress || '');
  const ipv6 = hostNetwork ? '' : (inspect.NetworkSettings.GlobalIPv6Address || networks.find((n) => n.GlobalIPv6Address)?.GlobalIPv6Address || '');
  const namespaceOptions = config.linux?.securityContext?.namespaceOptions;
  return {
    ...sandboxSummary(record),
    network: { ip, additionalIps: ipv6 ? [{ ip: ipv6 }] : [] },
    linux: {
      namespaces: {
        options: {
          network: namespaceOptions?.network ?? 'POD',
          pid: namespaceOptions?.pid ?? 'POD',
          ipc: namespaceOptions?.ipc ?? 'POD',
          targetId: namespaceOptions?.targetId ?? '',
        },
      },
    },
  };
}

/** The config kept on the pause container: everything but what is kept in labels of its own. */
function storedConfig(config: PodSandboxConfig__Output): Partial<PodSandboxConfig__Output> {
  const { labels: _labels, annotations: _annotations, ...rest } = config;
  return rest;
}

function describeMetadata(meta: { name: string; namespace: string; uid: string; attempt: number }): string {
  return `name="${meta.name}" namespace="${meta.namespace}" uid="${meta.uid}" attempt=${meta.attempt}`;
}

function requireId(id: string | undefined): string {
  if (!id) throw invalidArgument('pod_sandbox_id is empty');
  return id;
}

/** Creates a directory (and parents); answers its path when it did not exist before. */
async function makeDirectory(path: string): Promise<string | undefined> {
  const existed = await stat(path).then(() => true, () => false);
  await mkdir(path, { recursive: true, mode: 0o755 });
  return existed ? undefined : path;
}

async function removeIfEmpty(path: string): Promise<void> {
  if ((await readdir(path).catch(() => ['?'])).length === 0) await rmdir(path).catch(() => undefined);
}
