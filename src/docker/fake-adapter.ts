/**
 * TEST ONLY: an in-memory Docker behind the DockerAdapter interfaces, for unit tests of the server
 * (no docker CLI, no engine). Nothing in the product imports this file.
 *
 * It keeps containers and images, answers as the real CLI layer does (IDs, names, labels, states;
 * failures as the DockerError kinds cli.ts makes of Docker's words), emits the events `docker
 * events` would, and records every call. Tests arrange it with addImage/addToRegistry and make
 * one call fail with failNext. Exec and attach sessions end at once with exit code 0 and no
 * output; the host is `hostFiles` (paths to texts) and grants everything.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { DockerAdapter, DockerChildrenApi, DockerCliApi, DockerContainersApi, DockerEventsApi, DockerEventSource, DockerImagesApi, DockerSystemApi } from './adapter.js';
import type { DockerCallObserver, DockerProgressObserver } from './cli.js';
import type { HostConfigExtras } from './create-relay.js';
import type { DockerHostApi } from './host.js';
import { describeHost } from './host-grants.js';
import type { DockerNetworkApi } from './network.js';
import type { DockerSession, DockerSessionsApi } from './sessions.js';
import { DockerError } from './errors.js';
import type { DockerEvent, EventStreamHandlers } from './events.js';
import type { RegistryAuth } from './images.js';
import { instanceLabelFilter, ownedBy } from './labels.js';
import type { DockerContainerInspect, DockerImageInspect, DockerInfo, DockerVersion } from './types.js';

/** One call the fake was asked, e.g. { method: 'containers.run', args: [[...], {...}] }. */
export interface FakeCall {
  method: FakeMethod;
  args: unknown[];
}

export type FakeMethod =
  | `containers.${keyof DockerContainersApi}`
  | `images.${keyof DockerImagesApi}`
  | `system.${keyof DockerSystemApi}`
  | `sessions.${keyof DockerSessionsApi}`
  | `network.${keyof DockerNetworkApi}`;

/** Flags of `docker run` / `docker create` that take no value (every other flag takes the next argument). */
const BOOLEAN_FLAGS = new Set(['--read-only', '--privileged', '--interactive', '-i', '--tty', '-t', '--init', '--rm', '--detach', '-d']);

/** The default `docker info` of the fake. */
export const FAKE_DOCKER_INFO: DockerInfo = {
  ID: 'fake',
  ServerVersion: '27.3.1',
  DockerRootDir: '/var/lib/docker',
  CgroupDriver: 'systemd',
  CgroupVersion: '2',
  SecurityOptions: ['name=seccomp,profile=builtin'],
  Runtimes: { runc: {} },
};

/** An in-memory Docker: see the file's comment. */
export class FakeDocker implements DockerAdapter {
  /** Every call, in order. */
  readonly calls: FakeCall[] = [];
  /** What `docker info` answers; `down` makes every call fail as with no daemon. */
  info: DockerInfo = FAKE_DOCKER_INFO;
  down = false;
  private readonly containerMap = new Map<string, DockerContainerInspect>();
  private readonly imageList: DockerImageInspect[] = [];
  /** References a pull finds (and the image each becomes). */
  private readonly registry = new Map<string, DockerImageInspect>();
  private readonly failures = new Map<FakeMethod, Error[]>();
  private readonly startFailures: Error[] = [];
  private readonly streams = new Set<FakeEventStream>();
  private readonly callObservers: DockerCallObserver[] = [];
  private readonly progressObservers: DockerProgressObserver[] = [];
  private addresses = 1;

  /** `now` in ms, fractions kept: Docker's event times have nanoseconds, finer than the store's Date.now(). */
  constructor(private readonly now: () => number = () => performance.timeOrigin + performance.now()) {}

  readonly cli: DockerCliApi = {
    binary: 'fake-docker',
    onCall: (observer) => void this.callObservers.push(observer),
    onProgress: (observer) => void this.progressObservers.push(observer),
    createRelayUnsupported: async () => undefined,
    close: () => undefined,
  };

  readonly containers: DockerContainersApi = {
    run: (args, labels = {}) => this.call('containers.run', [args, labels], async () => {
      const inspect = this.make(args, labels);
      this.startMade(inspect);
      return inspect.Id;
    }),
    create: (args, labels = {}, extras) => this.call('containers.create', [args, labels, extras], async () => this.make(args, labels, extras).Id),
    start: (id) => this.call('containers.start', [id], async () => {
      const inspect = this.find(id);
      if (!inspect) throw new DockerError('not-found', `Error response from daemon: No such container: ${id}`, ['start', '--', id]);
      if (!inspect.State.Running) this.startMade(inspect);
    }),
    stop: (ids, graceSeconds) => this.call('containers.stop', [ids, graceSeconds], async () => {
      for (const id of ids) {
        const inspect = this.find(id);
        if (inspect?.State.Running) this.exit(inspect, graceSeconds > 0 ? 0 : 137);
      }
    }),
    remove: (ids) => this.call('containers.remove', [ids], async () => {
      for (const id of ids) {
        const inspect = this.find(id);
        if (!inspect) continue;
        if (inspect.State.Running) this.exit(inspect, 137);
        this.containerMap.delete(inspect.Id);
        this.emit(inspect, 'destroy');
      }
    }),
    inspect: (refs) => this.call('containers.inspect', [refs], async () => refs.map((ref) => this.find(ref)).filter((c) => c !== undefined).map(copy)),
    inspectOne: (ref) => this.call('containers.inspectOne', [ref], async () => {
      const found = this.find(ref);
      return found && copy(found);
    }),
    listIds: (instance, labels = []) => this.call('containers.listIds', [instance, labels], async () => this.listed(instance, labels).map((c) => c.Id)),
    list: (instance, labels = []) => this.call('containers.list', [instance, labels], async () => this.listed(instance, labels).map(copy)),
    update: (id, args) => this.call('containers.update', [id, args], async () => {
      if (!this.find(id)) throw new DockerError('not-found', `Error response from daemon: No such container: ${id}`, ['update', ...args, '--', id]);
    }),
  };

  readonly images: DockerImagesApi = {
    inspect: (ref) => this.call('images.inspect', [ref], async () => copyOrUndefined(this.image(ref))),
    inspectAll: (refs) => this.call('images.inspectAll', [refs], async () => refs.map((ref) => this.image(ref)).filter((image) => image !== undefined).map(copy)),
    list: () => this.call('images.list', [], async () => this.imageList.map(copy)),
    pull: (ref: string, auth?: RegistryAuth) => this.call('images.pull', [ref, auth], async () => {
      const found = this.registry.get(ref) ?? this.registry.get(withTag(ref));
      if (!found) throw new DockerError('not-found', `Error response from daemon: manifest for ${ref} not found: manifest unknown: manifest unknown`, ['pull', '--quiet', '--', ref]);
      if (!this.image(found.Id)) this.imageList.push(found);
      this.emitImage(withTag(ref), 'pull');
    }),
    remove: (ref) => this.call('images.remove', [ref], async () => {
      const found = this.image(ref);
      if (found) {
        this.imageList.splice(this.imageList.indexOf(found), 1);
        this.emitImage(found.Id, 'delete');
      }
      return found !== undefined;
    }),
  };

  readonly system: DockerSystemApi = {
    info: () => this.call('system.info', [], async () => this.info),
    oomKilledByKernel: () => false,
    version: () => this.call('system.version', [], async (): Promise<DockerVersion> => ({ Client: { Version: '27.3.1' }, Server: { Version: '27.3.1' } })),
  };

  readonly events: DockerEventsApi = {
    follow: (label) => new FakeEventStream((event, labels) => event.Type === 'container' && hasLabel(labels, label), this.streams),
    followImages: () => new FakeEventStream((event) => event.Type === 'image', this.streams),
  };

  readonly sessions: DockerSessionsApi = {
    exec: (id, cmd, options) => this.session('sessions.exec', [id, cmd, options], ['exec', '--', id, ...cmd]),
    attach: (id, options) => this.session('sessions.attach', [id, options], ['attach', '--', id]),
    execSync: (id, cmd, options) => this.call('sessions.execSync', [id, cmd, options], async () => {
      if (!this.find(id)) throw new DockerError('not-found', `Error response from daemon: No such container: ${id}`, ['exec', '--', id]);
      return { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exitCode: 0, timedOut: false, outputTooLarge: false, killedInContainer: 0 };
    }),
  };

  readonly network: DockerNetworkApi = {
    connectInPod: (pid, port) => {
      this.calls.push({ method: 'network.connectInPod', args: [pid, port] });
      const ended = Promise.reject(new Error('the fake Docker has no pod network'));
      ended.catch(() => undefined);
      return { input: new PassThrough(), output: new PassThrough(), ended, close: () => undefined };
    },
  };

  /** The host's files (/proc/<pid>/<name> and cgroup paths) and what they say. */
  readonly hostFiles = new Map<string, string>();

  readonly host: DockerHostApi = {
    grants: async (info) => describeHost({ capBnd: undefined, oomScoreAdj: 0, info }),
    readProcFile: async (pid, name) => this.hostFiles.get(`/proc/${pid}/${name}`),
    readCgroupFile: async (path) => this.hostFiles.get(path),
    diskUsage: async () => ({ bytes: 0n, inodes: 0n }),
    inodesUsed: async () => undefined,
    commandOnPath: async () => false,
  };

  readonly children: DockerChildrenApi = {
    markAs: () => undefined,
    settleOrphans: async () => ({ waited: [], killed: [] }),
    removeStaleTempDirs: async () => 0,
  };

  /** Adds an image (tagged `ref`) to the engine; answers it. */
  addImage(ref: string, fields: Partial<DockerImageInspect> = {}): DockerImageInspect {
    const image = fakeImage(ref, fields);
    this.imageList.push(image);
    return image;
  }

  /** Removes an image behind mascri's back (as `docker rmi` would), with its event. */
  removeImage(ref: string): void {
    const found = this.image(ref);
    if (!found) return;
    this.imageList.splice(this.imageList.indexOf(found), 1);
    this.emitImage(found.Id, 'delete');
  }

  /** Adds a tag to an image behind mascri's back (as `docker tag` would), with its event. */
  tagImage(ref: string, tag: string): void {
    const found = this.image(ref);
    if (!found) throw new Error(`the fake has no image ${ref}`);
    for (const other of this.imageList) other.RepoTags = (other.RepoTags ?? []).filter((t) => t !== withTag(tag));
    found.RepoTags = [...(found.RepoTags ?? []), withTag(tag)];
    this.emitImage(found.Id, 'tag');
  }

  /** Ends every event stream, as a daemon restart does (each stream's onEnd runs). */
  breakEventStreams(reason = 'the fake daemon restarted'): void {
    for (const stream of [...this.streams]) stream.end(reason);
  }

  /** Lets a pull of `ref` find an image (which it then adds to the engine). */
  addToRegistry(ref: string, fields: Partial<DockerImageInspect> = {}): DockerImageInspect {
    const image = fakeImage(ref, fields);
    this.registry.set(withTag(ref), image);
    return image;
  }

  /** The next call of `method` fails with `error` before it changes anything. */
  failNext(method: FakeMethod, error: Error): void {
    this.failures.set(method, [...(this.failures.get(method) ?? []), error]);
  }

  /** The next start (of `docker start`, or of a `docker run` after it made the container) fails: the container stays created. */
  failNextStart(message = 'OCI runtime create failed: runc create failed: unable to start container process: the fake was told to fail'): void {
    this.startFailures.push(new DockerError('internal', `docker: Error response from daemon: failed to create task for container: failed to create shim task: ${message}: unknown.`));
  }

  /** The calls of one method, their arguments each. */
  callsOf(method: FakeMethod): unknown[][] {
    return this.calls.filter((call) => call.method === method).map((call) => call.args);
  }

  /** Every container the engine holds (any instance, mascri's or not), as inspect gives them. */
  allContainers(): DockerContainerInspect[] {
    return [...this.containerMap.values()].map(copy);
  }

  /** Puts a container in the engine as it is (made by someone else, or by an earlier server); emits its create. */
  putContainer(inspect: DockerContainerInspect): void {
    this.containerMap.set(inspect.Id, copy(inspect));
    this.emit(inspect, 'create');
  }

  /** Makes a running container exit with `exitCode`, as if its process ended. */
  exitContainer(ref: string, exitCode: number): void {
    const inspect = this.find(ref);
    if (!inspect) throw new Error(`the fake has no container ${ref}`);
    this.exit(inspect, exitCode);
  }

  private async call<T>(method: FakeMethod, args: unknown[], body: () => Promise<T>): Promise<T> {
    this.calls.push({ method, args });
    if (this.down) throw new DockerError('unavailable', 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?');
    const failure = this.failures.get(method)?.shift();
    if (failure) throw failure;
    return body();
  }

  /** A session that ends at once (exit code 0, no output), reported to the call observers as the real one is. */
  private session(method: FakeMethod, args: unknown[], dockerArgs: string[]): DockerSession {
    this.calls.push({ method, args });
    const stdout = new PassThrough();
    stdout.end();
    const stderr = new PassThrough();
    stderr.end();
    this.callObservers.forEach((observer) => observer(dockerArgs, 0, true));
    return { stdin: new PassThrough(), stdout, stderr, exited: Promise.resolve(0), resize: () => undefined, kill: async () => 0 };
  }

  private find(ref: string): DockerContainerInspect | undefined {
    const exact = this.containerMap.get(ref);
    if (exact) return exact;
    if (!ref) return undefined;
    const matches = [...this.containerMap.values()].filter((c) => c.Id.startsWith(ref) || c.Name === `/${ref}` || c.Name === ref);
    return matches.length === 1 ? matches[0] : undefined;
  }

  private image(ref: string): DockerImageInspect | undefined {
    return this.imageList.find((image) => image.Id === ref || (ref.length >= 4 && image.Id.replace(/^sha256:/, '').startsWith(ref.replace(/^sha256:/, ''))) || (image.RepoTags ?? []).includes(withTag(ref)));
  }

  private listed(instance: string, labels: readonly string[]): DockerContainerInspect[] {
    const filters = [instanceLabelFilter(instance), ...labels];
    return [...this.containerMap.values()].filter((c) => filters.every((filter) => hasLabel(c.Config.Labels, filter)) && ownedBy(instance, c.Config.Labels));
  }

  /** Creates a container from `docker create`/`run` arguments, as Docker would (or fails as Docker would). */
  private make(args: readonly string[], labels: Record<string, string>, extras?: HostConfigExtras): DockerContainerInspect {
    const parsed = parseCreateArgs(args);
    const verb = this.calls.at(-1)?.method === 'containers.run' ? 'run' : 'create';
    const taken = parsed.name ? this.find(parsed.name) : undefined;
    if (taken && taken.Name === `/${parsed.name}`) {
      throw new DockerError(
        'already-exists',
        `docker: Error response from daemon: Conflict. The container name "/${parsed.name}" is already in use by container "${taken.Id}". You have to remove (or rename) that container to be able to reuse that name.`,
        [verb, ...args],
      );
    }
    const image = this.image(parsed.image);
    if (!image) throw new DockerError('not-found', `docker: Error response from daemon: No such image: ${withTag(parsed.image)}`, [verb, ...args]);
    const id = randomBytes(32).toString('hex');
    const created = new Date(this.now()).toISOString();
    const inspect: DockerContainerInspect = {
      Id: id,
      Name: `/${parsed.name ?? `fake_${id.slice(0, 8)}`}`,
      Created: created,
      Image: image.Id,
      State: { Status: 'created', Running: false, OOMKilled: false, Pid: 0, ExitCode: 0, Error: '', StartedAt: '0001-01-01T00:00:00Z', FinishedAt: '0001-01-01T00:00:00Z' },
      Config: {
        Image: parsed.image,
        Labels: { ...(image.Config?.Labels ?? {}), ...labels },
        Env: [...parsed.env, ...(extras?.Config?.Env ?? [])],
        Entrypoint: extras?.Config?.Entrypoint ?? parsed.entrypoint,
        Cmd: extras?.Config?.Cmd ?? (parsed.cmd.length > 0 ? parsed.cmd : (image.Config?.Cmd ?? null)),
        Tty: parsed.flags.has('--tty'),
        OpenStdin: parsed.flags.has('--interactive'),
        StdinOnce: extras?.Config?.StdinOnce ?? parsed.flags.has('--interactive'),
      },
      HostConfig: {
        NetworkMode: parsed.values.get('--network') ?? 'bridge',
        PidMode: parsed.values.get('--pid') ?? '',
        IpcMode: parsed.values.get('--ipc') ?? 'private',
        Privileged: parsed.flags.has('--privileged'),
        CgroupParent: parsed.values.get('--cgroup-parent') ?? '',
        MaskedPaths: extras?.MaskedPaths ?? null,
        ReadonlyPaths: extras?.ReadonlyPaths ?? null,
      },
      NetworkSettings: { Networks: {} },
      LogPath: `/var/lib/docker/containers/${id}/${id}-json.log`,
    };
    this.containerMap.set(id, inspect);
    this.emit(inspect, 'create');
    return inspect;
  }

  private startMade(inspect: DockerContainerInspect): void {
    const failure = this.startFailures.shift();
    if (failure) throw failure;
    inspect.State = { ...inspect.State, Status: 'running', Running: true, Pid: 1000 + this.addresses, ExitCode: 0, StartedAt: new Date(this.now()).toISOString() };
    if (inspect.HostConfig.NetworkMode === 'bridge') {
      const address = `172.17.0.${++this.addresses}`;
      inspect.NetworkSettings = { IPAddress: address, Networks: { bridge: { IPAddress: address } } };
    }
    this.emit(inspect, 'start');
  }

  private exit(inspect: DockerContainerInspect, exitCode: number): void {
    inspect.State = { ...inspect.State, Status: 'exited', Running: false, Pid: 0, ExitCode: exitCode, FinishedAt: new Date(this.now()).toISOString() };
    inspect.NetworkSettings = { Networks: {} };
    this.emit(inspect, 'die');
  }

  private emitImage(actor: string, action: string): void {
    const event: DockerEvent = { Type: 'image', Action: action, Actor: { ID: actor, Attributes: {} }, time: Math.floor(this.now() / 1000), timeNano: Math.round(this.now() * 1e6) };
    for (const stream of this.streams) stream.deliver(event, undefined);
  }

  private emit(inspect: DockerContainerInspect, action: string): void {
    const attributes = { ...(inspect.Config.Labels ?? {}), name: inspect.Name.replace(/^\//, ''), image: inspect.Config.Image ?? '' };
    const event: DockerEvent = { Type: 'container', Action: action, Actor: { ID: inspect.Id, Attributes: attributes }, time: Math.floor(this.now() / 1000), timeNano: Math.round(this.now() * 1e6) };
    for (const stream of this.streams) stream.deliver(event, inspect.Config.Labels);
  }
}

/** One `docker events --filter ...` stream of the fake: it delivers the events `wanted` accepts. */
class FakeEventStream implements DockerEventSource {
  private handlers: EventStreamHandlers | undefined;

  constructor(
    private readonly wanted: (event: DockerEvent, labels: Record<string, string> | null | undefined) => boolean,
    private readonly streams: Set<FakeEventStream>,
  ) {}

  start(handlers: EventStreamHandlers): void {
    this.handlers = handlers;
    this.streams.add(this);
  }

  stop(): void {
    this.handlers = undefined;
    this.streams.delete(this);
  }

  deliver(event: DockerEvent, labels: Record<string, string> | null | undefined): void {
    if (this.wanted(event, labels)) this.handlers?.onEvent(event);
  }

  end(reason: string): void {
    const handlers = this.handlers;
    this.stop();
    handlers?.onEnd(reason);
  }
}

/** The parts of `docker create`/`run` arguments the fake keeps. Pure. */
function parseCreateArgs(args: readonly string[]): { name?: string; image: string; cmd: string[]; env: string[]; entrypoint: string[] | null; values: Map<string, string>; flags: Set<string> } {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  const env: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-')) break;
    const eq = arg.indexOf('=');
    const [flag, value] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : BOOLEAN_FLAGS.has(arg) ? [arg, undefined] : [arg, args[++i] ?? ''];
    if (value === undefined) flags.add(flag === '-i' ? '--interactive' : flag === '-t' ? '--tty' : flag);
    else if (flag === '--env' || flag === '-e') env.push(value);
    else values.set(flag, value);
  }
  const entrypoint = values.get('--entrypoint');
  return { name: values.get('--name'), image: args[i] ?? '', cmd: args.slice(i + 1), env, entrypoint: entrypoint === undefined ? null : [entrypoint], values, flags };
}

/** True when `labels` has `filter` (`key` or `key=value`), as Docker's label filter matches. */
function hasLabel(labels: Record<string, string> | null | undefined, filter: string): boolean {
  const eq = filter.indexOf('=');
  const key = eq < 0 ? filter : filter.slice(0, eq);
  if (!labels || !(key in labels)) return false;
  return eq < 0 || labels[key] === filter.slice(eq + 1);
}

/** `ref` with `:latest` when it names no tag or digest. Pure. */
function withTag(ref: string): string {
  if (ref.startsWith('sha256:') || ref.includes('@')) return ref;
  const lastPart = ref.slice(ref.lastIndexOf('/') + 1);
  return lastPart.includes(':') ? ref : `${ref}:latest`;
}

function fakeImage(ref: string, fields: Partial<DockerImageInspect>): DockerImageInspect {
  return {
    Id: `sha256:${randomBytes(32).toString('hex')}`,
    RepoTags: [withTag(ref)],
    RepoDigests: [],
    Created: '2026-01-01T00:00:00Z',
    Size: 1_000_000,
    Config: { Cmd: ['sh'], Labels: null },
    ...fields,
  };
}

function copyOrUndefined<T>(value: T | undefined): T | undefined {
  return value === undefined ? undefined : copy(value);
}

function copy<T>(value: T): T {
  return structuredClone(value);
}
