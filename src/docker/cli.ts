import type { Logger } from '../common/logger.js';
import { failedPrecondition } from '../common/errors.js';
import { type EngineEndpoint, type HostConfigExtras, parseEngineHost, withCreateRelay } from './create-relay.js';
import { childMarks } from './children.js';
import { DockerError, classifyDockerFailure, dockerMessage } from './errors.js';
import { ARGS_INLINE_MAX, MAX_ARG_BYTES } from './arg-limits.js';
import { runProcess, stripFinalNewline, type ProcessOptions, type ProcessOutcome } from './process.js';
import type { ProcessStarter } from './process-starter.js';

export interface DockerRunOptions {
  /** Milliseconds before the call is killed and fails with DEADLINE_EXCEEDED. */
  timeoutMs?: number;
  /** Bytes fed to docker's stdin. */
  input?: string;
  /** Extra environment (e.g. a temporary DOCKER_CONFIG); DOCKER_HOST/DOCKER_CONTEXT are inherited. */
  env?: Record<string, string>;
  /** Aborts the call, e.g. when the gRPC client cancels. */
  signal?: AbortSignal;
}

export interface DockerResult {
  stdout: string;
  stderr: string;
}

/** Observes every docker call (metrics and benchmarks hook in here). */
export type DockerCallObserver = (args: readonly string[], durationMs: number, ok: boolean) => void;

/**
 * Observes a docker call while it runs: "spawned" once the CLI process exists, "relayed" once the
 * create relay has passed the (patched) create request on to the engine. The crash tests hook in here.
 */
export type DockerProgressObserver = (stage: 'spawned' | 'relayed', args: readonly string[]) => void;

export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * What every docker CLI process mascri starts gets on top of mascri's own environment: GOMAXPROCS=1.
 * A CLI call is one request and its answer, or a stream copied through; with one P the Go runtime
 * starts fewer threads and its collector runs on the one thread: `docker inspect` took 16.2-16.5 ms
 * against 18.5 and 4.5 ms of CPU against 7.5 (interleaved, 150 calls each, docker 28.2), and
 * `docker ps -a` 17.7 against 19.6 ms. The CPU counts most when ten pods start at once on a small host.
 * A GOMAXPROCS of mascri's own environment is kept (the operator chose it).
 */
export function cliEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return env.GOMAXPROCS ? {} : { GOMAXPROCS: '1' };
}

/**
 * The one place that runs the docker CLI: always an argument array (never a shell),
 * always a timeout, and failures classified into DockerError.
 */
export class DockerCli {
  private observers: DockerCallObserver[] = [];
  private progressObservers: DockerProgressObserver[] = [];
  private endpoint?: Promise<{ endpoint: EngineEndpoint; host: string }>;

  constructor(
    readonly binary: string = 'docker',
    private readonly log?: Logger,
    /** Starts the processes (the server's: through its starter process); direct by default. */
    private readonly starter?: ProcessStarter,
  ) {}

  /** Ends the process starter, if any (the server stops): calls still running go on to their end. */
  close(): void {
    this.starter?.close();
  }

  /** Runs `docker ...args` to its end through the starter (or directly), whatever its exit code. */
  runToEnd(args: readonly string[], options: ProcessOptions, onStarted?: () => void): Promise<ProcessOutcome> {
    if (this.starter) return this.starter.run(this.binary, args, options, onStarted);
    return runProcess(this.binary, args, { ...options, onStarted });
  }

  onCall(observer: DockerCallObserver): void {
    this.observers.push(observer);
  }

  onProgress(observer: DockerProgressObserver): void {
    this.progressObservers.push(observer);
  }

  private progress(stage: 'spawned' | 'relayed', args: readonly string[]): void {
    for (const observer of this.progressObservers) observer(stage, args);
  }

  /** Tells the observers about a call made outside run() (see runDockerProcess). */
  notify(args: readonly string[], durationMs: number, ok: boolean): void {
    this.log?.debug('docker', { args: redactArgs(args), ms: Math.round(durationMs * 10) / 10, ok });
    for (const observer of this.observers) observer(args, durationMs, ok);
  }

  /** Runs `docker ...args` and returns its output, or throws a DockerError. */
  async run(args: readonly string[], options: DockerRunOptions = {}): Promise<DockerResult> {
    const started = performance.now();
    const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let ok = false;
    try {
      const result = await this.runToEnd(
        args,
        { timeoutMs: timeout, input: options.input, env: { ...childMarks(), ...cliEnv(), ...options.env }, signal: options.signal, maxBuffer: 256 * 1024 * 1024 },
        () => this.progress('spawned', args),
      );
      const stdout = stripFinalNewline(result.stdout.toString('utf8'));
      const stderr = stripFinalNewline(result.stderr.toString('utf8'));
      if (result.timedOut) {
        throw new DockerError('timeout', `docker ${args[0]} did not finish within ${timeout} ms`, args);
      }
      if (result.canceled) {
        throw new DockerError('timeout', `docker ${args[0]} was cancelled by the caller`, args);
      }
      if (result.failed) {
        const notStarted = spawnFailure(result, this.binary, args);
        if (notStarted) throw notStarted;
        if (result.isMaxBuffer) throw new DockerError('internal', `docker ${args[0]} printed more than 256 MiB`, args);
        // Not the command line: it may be huge or hold secrets.
        throw new DockerError(classifyDockerFailure(stderr), stderr ? dockerMessage(stderr) : silentFailure(result, args), args, stdout);
      }
      ok = true;
      return { stdout, stderr };
    } finally {
      this.notify(args, performance.now() - started, ok);
    }
  }

  /**
   * Runs `docker ...args` (a create) with `extras` added to the request the CLI sends, through a
   * private relay to the engine (create-relay.ts): the CLI has no flags for them, or they are too
   * large for its arguments.
   */
  async runWithHostConfig(args: readonly string[], extras: HostConfigExtras, options: DockerRunOptions = {}): Promise<DockerResult> {
    const { endpoint, host } = await this.engineEndpoint();
    let relayHost = '';
    try {
      const { result, patched } = await withCreateRelay(
        endpoint,
        extras,
        (dockerHost) => {
          relayHost = dockerHost;
          return this.run(args, { ...options, env: { ...options.env, DOCKER_HOST: dockerHost, DOCKER_CONTEXT: '' } });
        },
        () => this.progress('relayed', args),
      );
      if (patched === 0) throw new DockerError('internal', `docker ${args[0]} sent no create request through mascri's relay, so ${Object.keys(extras).join(' and ')} were not applied`, args);
      return result;
    } catch (error) {
      // Name the engine, not the relay's temporary socket, in what the caller reads.
      if (error instanceof DockerError && relayHost) {
        const relayPath = relayHost.slice('unix://'.length);
        const message =
          error.kind === 'unavailable'
            ? `Cannot connect to the Docker daemon at ${host}. Is the docker daemon running?`
            : error.message.replaceAll(relayHost, host).replaceAll(encodeURIComponent(relayPath), host).replaceAll(relayPath, host);
        throw new DockerError(error.kind, message, error.args, error.stdout);
      }
      throw error;
    }
  }

  /** Why a create through the relay would be refused on this engine, or undefined when it works. */
  async createRelayUnsupported(): Promise<string | undefined> {
    return this.engineEndpoint().then(
      () => undefined,
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
  }

  /** Where the CLI's engine listens (its current context, or DOCKER_HOST), resolved once. */
  private engineEndpoint(): Promise<{ endpoint: EngineEndpoint; host: string }> {
    this.endpoint ??= (async () => {
      const context = await this.runJson<DockerContextInspect>(['context', 'inspect', '--format', '{{json .}}'], { timeoutMs: 10_000 });
      const host = context.Endpoints?.docker?.Host ?? '';
      const tls = Boolean(process.env.DOCKER_TLS_VERIFY) || Object.keys(context.TLSMaterial ?? {}).length > 0;
      const endpoint = tls ? undefined : parseEngineHost(host);
      if (!endpoint) {
        throw failedPrecondition(
          `masked and read-only paths, stdin without stdin_once, and environment and command too large for docker's arguments (over ${ARGS_INLINE_MAX / 1024 / 1024} MiB) are added to Docker's create request by a relay that reaches unix:// and plain tcp:// engines; this engine is at ${host || 'an unknown address'}${tls ? ' with TLS' : ''}. Reach Docker over its unix socket, or leave masked_paths and readonly_paths empty for Docker's defaults, set stdin_once with stdin, and keep envs, command and args small`,
        );
      }
      return { endpoint, host };
    })();
    this.endpoint.catch(() => (this.endpoint = undefined));
    return this.endpoint;
  }

  /** Runs a docker command whose output is one JSON document per line (`--format '{{json .}}'`). */
  async runJsonLines<T>(args: readonly string[], options?: DockerRunOptions): Promise<T[]> {
    const { stdout } = await this.run(args, options);
    return parseJsonLines<T>(stdout, args);
  }

  /** Runs a docker command whose output is a single JSON document. */
  async runJson<T>(args: readonly string[], options?: DockerRunOptions): Promise<T> {
    const { stdout } = await this.run(args, options);
    try {
      return JSON.parse(stdout) as T;
    } catch {
      throw new DockerError('internal', `docker ${args.join(' ')} printed output that is not JSON: ${stdout.slice(0, 200)}`, args);
    }
  }
}

/** The part of `docker context inspect` the relay needs. */
interface DockerContextInspect {
  Endpoints?: { docker?: { Host?: string } };
  TLSMaterial?: Record<string, unknown> | null;
}

/** Parses one JSON value per non-empty line. */
export function parseJsonLines<T>(stdout: string, args: readonly string[] = []): T[] {
  const out: T[] = [];
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      throw new DockerError('internal', `docker ${args.join(' ')} printed a line that is not JSON: ${line.slice(0, 200)}`, args);
    }
  }
  return out;
}

/** Arguments safe to log: values of credential-like options are hidden, in both "--opt value" and "--opt=value" forms. */
export function redactArgs(args: readonly string[]): string[] {
  // "-p" is not here: for docker run it means --publish. --password-stdin takes no value.
  const takesSecret = /^--?(password|creds|auth|token|identity-token|registry-token)$/i;
  const inline = /^(--(?:password|creds|auth|token|identity-token|registry-token))=.*/i;
  return args.map((arg, i) => {
    if (inline.test(arg)) return arg.replace(inline, '$1=***');
    const previous = args[i - 1];
    return i > 0 && previous !== undefined && takesSecret.test(previous) ? '***' : arg;
  });
}

/** The outcome of a process run in a container: its own exit code and output, not Docker's. */
export interface DockerProcessResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
  timedOut: boolean;
  /** True when a stream passed `maxBytes` and the call was cut short. */
  outputTooLarge: boolean;
}

export interface DockerProcessOptions {
  timeoutMs?: number;
  maxBytes?: number;
  input?: Buffer | string;
  signal?: AbortSignal;
}

/**
 * Runs a docker command whose exit code belongs to a process in a container (`docker exec`):
 * a non-zero exit is an answer, not an error. Only a docker-level failure throws.
 */
export async function runDockerProcess(cli: Pick<DockerCli, 'binary' | 'notify' | 'runToEnd'>, args: readonly string[], options: DockerProcessOptions = {}): Promise<DockerProcessResult> {
  const started = performance.now();
  const result = await cli.runToEnd(args, {
    timeoutMs: options.timeoutMs && options.timeoutMs > 0 ? options.timeoutMs : undefined,
    input: options.input ?? '',
    env: { ...childMarks(), ...cliEnv() },
    maxBuffer: options.maxBytes ?? 16 * 1024 * 1024,
    signal: options.signal,
  });
  cli.notify(args, performance.now() - started, !result.failed || result.exitCode !== undefined);
  const notStarted = spawnFailure(result, cli.binary, args);
  if (notStarted) throw notStarted;
  const { stdout, stderr } = result;
  const outputTooLarge = result.isMaxBuffer;
  return { stdout, stderr, exitCode: result.exitCode ?? -1, timedOut: Boolean(result.timedOut), outputTooLarge };
}

export { MAX_ARG_BYTES };

/** How a failed call ended, as far as spawnFailure and silentFailure need it. */
interface EndedCall {
  code?: unknown;
  exitCode?: number;
  signal?: string;
}

/**
 * The DockerError for a docker CLI that could not be started at all (spawn failed: no process ran,
 * so no exit code and no signal), or undefined when it did run. Pure. The message is short and
 * never repeats the arguments: they can be too large for a gRPC status, or hold secrets.
 */
export function spawnFailure(call: EndedCall, binary: string, args: readonly string[]): DockerError | undefined {
  const code = call.code;
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code) || call.exitCode !== undefined || call.signal !== undefined) return undefined;
  const what = `docker ${args[0] ?? ''}`.trimEnd();
  switch (code) {
    case 'ENOENT':
      return new DockerError('unavailable', `the docker CLI "${binary}" was not found; install it or pass --docker PATH`, args);
    case 'EACCES':
      return new DockerError('unavailable', `the docker CLI "${binary}" is not executable`, args);
    case 'E2BIG':
      return new DockerError('invalid-argument', `${what} could not be started: its arguments are too long for the kernel (E2BIG; ${describeLongestArgument(args)}, Linux takes at most ${MAX_ARG_BYTES} bytes in one argument and about 2 MiB in all). Make the request's values smaller`, args);
    case 'EAGAIN':
      return new DockerError('unavailable', `${what} could not be started: the host refuses another process now (EAGAIN: the process or thread limit is reached); try again`, args);
    case 'ESTARTER':
      return new DockerError('unavailable', `${what} was started, but mascri's process starter ended before it did, so how it ended is unknown; look at Docker, or try again`, args);
    case 'ENOMEM':
      return new DockerError('unavailable', `${what} could not be started: the host is out of memory (ENOMEM); try again`, args);
    default:
      return new DockerError('unavailable', `${what} could not be started (${code})`, args);
  }
}

/** The longest argument's position, size and the flag before it; never its content. */
function describeLongestArgument(args: readonly string[]): string {
  let longest = -1;
  let size = 0;
  for (const [i, arg] of args.entries()) {
    const bytes = Buffer.byteLength(arg, 'utf8');
    if (bytes > size) [longest, size] = [i, bytes];
  }
  if (longest < 0) return 'no arguments';
  const before = longest > 0 && args[longest - 1]!.startsWith('-') ? ` (the value of ${args[longest - 1]})` : '';
  return `the longest argument, number ${longest + 1}${before}, is ${size} bytes`;
}

/** What to say about a docker call that failed without a word on stderr. */
function silentFailure(call: EndedCall, args: readonly string[]): string {
  const what = `docker ${args[0] ?? ''}`.trimEnd();
  if (call.exitCode !== undefined) return `${what} exited with code ${call.exitCode} without a message`;
  if (call.signal !== undefined) return `${what} was killed by ${call.signal}`;
  return `${what} failed without a message`;
}
