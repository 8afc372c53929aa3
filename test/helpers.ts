/** Shared helpers of the end-to-end tests: a real `mascri serve` on a temporary socket, against the real engine. */
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawn, type ChildProcess } from 'node:child_process';
import { CriClient } from '../src/cri/client.js';

/** The project root (tests run from dist/test/). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'mascri');

export const REGISTRY = 'localhost:5000';
export const BUSYBOX = `${REGISTRY}/busybox:latest`;
export const BUSYBOX_NOBODY = `${REGISTRY}/busybox:nobody`;
export const BUSYBOX_UID1000 = `${REGISTRY}/busybox:uid1000`;
export const PAUSE = `${REGISTRY}/pause:3.10`;
export const HTTPD = `${REGISTRY}/httpd:latest`;

/** A short random suffix for names that must not collide between runs. */
export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the docker CLI for a test's own checks and fixtures (never for what mascri is being tested on). */
export async function docker(args: string[], input?: string): Promise<CliResult> {
  const result = await execa('docker', args, { reject: false, input, timeout: 120_000 });
  return { code: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/**
 * An empty crictl config file the client reads in tests (CRI_CONFIG_FILE): the client reads
 * crictl's config like crictl does, and tests never read (or write) the machine's /etc/crictl.yaml.
 */
const CLIENT_CONFIG_DIR = mkdtempSync(join(tmpdir(), 'mascri-e2e-crictl-config-'));
export const CLIENT_CONFIG = join(CLIENT_CONFIG_DIR, 'crictl.yaml');
writeFileSync(CLIENT_CONFIG, '');
process.once('exit', () => rmSync(CLIENT_CONFIG_DIR, { recursive: true, force: true }));

/** Runs `mascri` with the given arguments (no endpoint added). */
export async function mascri(args: string[], options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  const result = await execa(process.execPath, [BIN, ...args], {
    reject: false,
    input: options.input ?? '',
    env: { NO_COLOR: '1', CRI_CONFIG_FILE: CLIENT_CONFIG, ...options.env },
    timeout: options.timeoutMs ?? 120_000,
  });
  return { code: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

export interface ServeOptions {
  /** Extra environment for the server (e.g. DOCKER_HOST). */
  env?: Record<string, string>;
  extraArgs?: string[];
  /** Reuse this socket path instead of a fresh one. */
  socket?: string;
  /** With `socket`: the server that had it (killed), whose temporary directory this one removes when it stops. */
  replacing?: MascriServer;
}

/**
 * Every `mascri serve` a test started and that still runs. A test file whose process ends (its tests
 * done, or a failure that skipped a stop) takes them with it: a server left running would hold its
 * instance (one server per instance on a host) and the next file's server could not start.
 */
const liveServers = new Set<ChildProcess>();
process.once('exit', () => {
  for (const proc of liveServers) proc.kill('SIGKILL');
});

/** A running `mascri serve` child process. */
export class MascriServer {
  private output = '';
  readonly client: CriClient;

  private constructor(
    readonly proc: ChildProcess,
    readonly socket: string,
    readonly dir: string | undefined,
  ) {
    this.client = new CriClient(this.endpoint, this.endpoint, 30_000);
    proc.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  get endpoint(): string {
    return `unix://${this.socket}`;
  }

  /** Everything the server printed so far (its structured log). */
  get logs(): string {
    return this.output;
  }

  /** Starts `mascri serve` on a fresh temporary socket and waits until it answers Version. */
  static async start(options: ServeOptions = {}): Promise<MascriServer> {
    const dir = options.socket ? options.replacing?.dir : mkdtempSync(join(tmpdir(), 'mascri-e2e-'));
    const socket = options.socket ?? join(dir!, 'mascri.sock');
    const proc = spawn(
      process.execPath,
      [BIN, 'serve', '--listen', `unix://${socket}`, '--log-level', 'debug', '--pod-infra-image', PAUSE, ...(options.extraArgs ?? [])],
      { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const server = new MascriServer(proc, socket, dir);
    liveServers.add(proc);
    proc.once('exit', () => liveServers.delete(proc));
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (proc.exitCode !== null) {
        if (dir) rmSync(dir, { recursive: true, force: true });
        throw new Error(`mascri serve exited with ${proc.exitCode}: ${server.logs}`);
      }
      if (existsSync(socket)) {
        try {
          await server.client.callRuntime('Version', {}, { timeoutMs: 1000 });
          return server;
        } catch {
          // not yet
        }
      }
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`mascri serve did not answer within 15 s: ${server.logs}`);
      }
      await sleep(50);
    }
  }

  /** Runs the mascri client against this server. */
  cli(args: string[], options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
    return mascri(['-r', this.endpoint, ...args], options);
  }

  /** Stops the server with `signal` and waits for it to exit; removes its temporary directory. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    this.client.close();
    const exited = new Promise<number | null>((resolve) => {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) resolve(this.proc.exitCode);
      else this.proc.once('exit', (code) => resolve(code));
    });
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(timer);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    return code;
  }
}

/** True while a process with this PID exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A pause between two checks of a condition (waitFor's polling); never a wait in itself. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A unix-socket relay to the real Docker daemon that a test can cut and restore,
 * to see how mascri behaves when the daemon goes away and comes back.
 */
export class DaemonRelay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  readonly dir = mkdtempSync(join(tmpdir(), 'mascri-relay-'));
  readonly path = join(this.dir, 'docker.sock');

  constructor(private readonly target = '/var/run/docker.sock') {}

  get dockerHost(): string {
    return `unix://${this.path}`;
  }

  /** Starts relaying (the daemon is "up"). */
  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnection(this.target);
      this.sockets.add(client);
      this.sockets.add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((resolve) => server.listen(this.path, resolve));
    this.server = server;
  }

  /** Stops relaying and cuts every open connection (the daemon is "down"). */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async dispose(): Promise<void> {
    await this.down();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Builds a tiny image of its own (its own ID, so removing it never touches a shared image),
 * pushes it to the local registry as `name`, and removes the local copy: a pull must fetch it.
 */
export async function pushTestImage(name: string): Promise<string> {
  const ref = `${REGISTRY}/${name}`;
  const dir = mkdtempSync(join(tmpdir(), 'mascri-image-'));
  try {
    writeFileSync(join(dir, 'hello.txt'), `made for ${name}\n`);
    const tar = join(dir, '..', `${dir.split('/').pop()}.tar`);
    await execa('tar', ['-C', dir, '-cf', tar, 'hello.txt']);
    try {
      for (const args of [['import', '-c', `LABEL io.mascri.e2e=${name}`, '-c', 'USER 1000', tar, ref], ['push', '-q', ref], ['rmi', ref]]) {
        const result = await docker(args);
        if (result.code !== 0) throw new Error(`docker ${args.join(' ')} failed: ${result.stderr}`);
      }
    } finally {
      rmSync(tar, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return ref;
}

/** The image ID Docker has for `ref`, or '' when it has none. */
export async function dockerImageId(ref: string): Promise<string> {
  const result = await docker(['image', 'inspect', '--format', '{{.Id}}', ref]);
  return result.code === 0 ? result.stdout.trim() : '';
}

/** A minimal sandbox config (camelCase, as the gRPC client takes it) with unique metadata. */
export function sandboxConfig(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> & { metadata: { name: string; namespace: string; uid: string; attempt: number } } {
  const suffix = uniqueSuffix();
  return {
    metadata: { name: `${name}-${suffix}`, namespace: 'e2e', uid: `uid-${suffix}`, attempt: 0 },
    logDirectory: join(tmpdir(), `mascri-e2e-logs-${suffix}`),
    labels: { suite: 'e2e' },
    annotations: {},
    ...extra,
  };
}

/** `docker inspect` of one container as JSON, or undefined when it does not exist. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Docker's inspect JSON, which the tests read field by field (no typings for all of it)
export async function dockerInspect(ref: string): Promise<Record<string, any> | undefined> {
  const result = await docker(['container', 'inspect', ref]);
  if (result.code !== 0) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
  return (JSON.parse(result.stdout) as Array<Record<string, any>>)[0];
}

/** Names of every Docker container (running or not) whose name contains `part`. */
export async function dockerContainerNames(part: string): Promise<string[]> {
  const result = await docker(['ps', '-a', '--format', '{{.Names}}']);
  return result.stdout.split('\n').filter((name) => name.includes(part));
}

/** Force-removes the given containers (test cleanup); missing ones are fine. */
export async function removeContainers(ids: string[]): Promise<void> {
  if (ids.length > 0) await docker(['rm', '-f', ...ids]);
}

/** A container config (camelCase) running `script` with busybox's sh. */
export function shellContainer(name: string, script: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    metadata: { name, attempt: 0 },
    image: { image: BUSYBOX },
    command: ['sh', '-c', script],
    logPath: `${name}/0.log`,
    ...extra,
  };
}

/** How long waitFor waits by default: generous, so that a loaded machine passes too. */
export const WAIT_MS = 30_000;

/**
 * Polls `check` until it answers a value other than undefined, or fails after `timeoutMs`
 * saying what was awaited. The one way tests wait: on a condition, never for a fixed time.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

/** The pods and containers a suite makes through gRPC; cleanup() removes them and their directories. */
export class TestPods {
  /** Docker IDs to remove (sandboxes and containers). */
  readonly created: string[] = [];
  /** Directories to delete (log directories, host paths made for mounts). */
  readonly dirs: string[] = [];

  /** `server()` is the suite's server at the time of the call (a test may restart it). */
  constructor(readonly server: () => MascriServer) {}

  /** RunPodSandbox with sandboxConfig(name, extra). */
  async pod(name: string, extra: Record<string, unknown> = {}): Promise<{ id: string; config: Record<string, unknown> }> {
    const config = sandboxConfig(name, extra);
    this.dirs.push(config.logDirectory as string);
    const { podSandboxId } = await this.server().client.callRuntime('RunPodSandbox', { config });
    this.created.push(podSandboxId);
    return { id: podSandboxId, config };
  }

  /** CreateContainer in a pod made by pod(); `start` also starts it. */
  async container(podId: string, podConfig: Record<string, unknown>, config: Record<string, unknown>, start = false): Promise<string> {
    const { containerId } = await this.server().client.callRuntime('CreateContainer', { podSandboxId: podId, config, sandboxConfig: podConfig });
    this.created.push(containerId);
    if (start) await this.server().client.callRuntime('StartContainer', { containerId });
    return containerId;
  }

  async cleanup(): Promise<void> {
    await removeContainers(this.created);
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The hooks most suites share, registered in the suite (or file) this is called in: before its
 * tests a server is started with `options`, handed to `started` and has busybox pulled; after them
 * `pods` are cleaned up and the server `pods.server()` names then is stopped. Hooks the caller
 * registers afterwards run after these.
 */
export function setUpServerWithBusybox(pods: TestPods, started: (server: MascriServer) => void, options: ServeOptions = {}): void {
  before(async () => {
    const server = await MascriServer.start(options);
    started(server);
    await server.client.callImage('PullImage', { image: { image: BUSYBOX } });
  });
  after(async () => {
    await pods.cleanup();
    await pods.server().stop();
  });
}
