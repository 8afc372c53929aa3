import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { childMarks } from './children.js';
import { FORCE_KILL_AFTER_MS, runProcess, type ProcessOptions, type ProcessOutcome } from './process.js';

/** The process starter beside this module (copied next to the build output, see scripts/copy-assets.mjs). */
export const STARTER_PATH = fileURLToPath(new URL('./spawner.py', import.meta.url));

interface Pending {
  resolve(outcome: ProcessOutcome): void;
  /** What to run again directly if the starter dies before starting it. */
  retry: () => Promise<ProcessOutcome>;
  started: boolean;
  onStarted?: () => void;
  timer?: NodeJS.Timeout;
  forceTimer?: NodeJS.Timeout;
  timedOut: boolean;
  canceled: boolean;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/** What the starter says about one call (see spawner.py). */
interface StarterMessage {
  id: number;
  pid?: number;
  error?: string;
  exit?: number | null;
  signal?: string | null;
  stdout?: string;
  stderr?: string;
  maxBuffer?: boolean;
}

/**
 * Starts processes through spawner.py, a small long-lived Python process: the server's event loop
 * only writes a line and reads one back. A fork from the server itself blocks its loop while the
 * kernel copies its page tables — measured at 2.6 ms per call with a 90 MiB server, and about
 * 10 ms under the load of ten pods starting at once, when a kubelet's relist waited 100+ ms.
 * Without python3 (or if it cannot run the starter), processes are started directly, as before.
 */
export class ProcessStarter {
  private child: ChildProcessWithoutNullStreams | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private received = '';
  /** Set once the starter could not be run: every call is then started directly. */
  private unusable = false;
  /** True once the starter process has said anything (it works here). */
  private answered = false;

  constructor(
    private readonly python = 'python3',
    private readonly script = STARTER_PATH,
  ) {}

  /** True while calls go through the starter process (false once it proved unusable). */
  get viaStarter(): boolean {
    return !this.unusable;
  }

  /** Runs `binary ...args` and collects its output, as runProcess does; `onStarted` once it runs. */
  run(binary: string, args: readonly string[], options: ProcessOptions = {}, onStarted?: () => void): Promise<ProcessOutcome> {
    const child = this.unusable ? undefined : this.starter();
    if (!child) {
      return runProcess(binary, args, { ...options, onStarted });
    }
    return new Promise((resolve) => {
      const id = this.nextId++;
      const call: Pending = { resolve, onStarted, timedOut: false, canceled: false, signal: options.signal, started: false, retry: () => runProcess(binary, args, { ...options, onStarted }) };
      const kill = () => {
        this.send({ id, kill: 'SIGTERM' });
        call.forceTimer ??= setTimeout(() => this.send({ id, kill: 'SIGKILL' }), FORCE_KILL_AFTER_MS);
      };
      if (options.timeoutMs && options.timeoutMs > 0) {
        call.timer = setTimeout(() => {
          call.timedOut = true;
          kill();
        }, options.timeoutMs);
      }
      if (options.signal) {
        call.onAbort = () => {
          call.canceled = true;
          kill();
        };
        if (options.signal.aborted) call.onAbort();
        else options.signal.addEventListener('abort', call.onAbort, { once: true });
      }
      if (this.pending.size === 0) keepAlive(child, true);
      this.pending.set(id, call);
      const input = options.input === undefined ? null : Buffer.from(options.input).toString('base64');
      this.send({ id, argv: [binary, ...args], env: options.env ?? null, input, maxBuffer: options.maxBuffer ?? null });
    });
  }

  /** Ends the starter process (calls still running go on to their end). */
  close(): void {
    this.child?.stdin.end();
    this.child = undefined;
  }

  private send(message: Record<string, unknown>): void {
    this.child?.stdin.write(`${JSON.stringify(message)}\n`);
  }

  private starter(): ChildProcessWithoutNullStreams | undefined {
    if (this.child) return this.child;
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(this.python, [this.script], { env: { ...process.env, ...childMarks() }, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch {
      this.unusable = true;
      return undefined;
    }
    this.child = child;
    keepAlive(child, false); // idle, the starter keeps nothing alive; a call waiting for it does
    child.stderr.resume(); // a Python traceback, if any, is not ours to print
    // Its input and error pipes never keep this process running (its output pipe does while a call waits).
    pipe(child.stderr).unref();
    (child.stdin as unknown as Socket).unref();
    child.stdin.on('error', () => undefined);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.onData(chunk));
    child.on('error', () => {
      // python3 missing or not runnable: start directly from now on.
      this.unusable = true;
      this.lost(child, 'ENOSTARTER');
    });
    child.on('exit', () => this.lost(child, 'ESTARTER'));
    return child;
  }

  /**
   * The starter is gone. Calls it had not started run directly; those it had started fail with
   * ESTARTER (their docker CLI runs on, its outcome unknown). A starter that died before it answered
   * anything cannot run here: every call is started directly from now on.
   */
  private lost(child: ChildProcessWithoutNullStreams, code: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    if (!this.answered) this.unusable = true;
    for (const [id, call] of this.pending) {
      if (call.started) {
        this.settle(id, call, { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), code });
        continue;
      }
      this.pending.delete(id);
      clearTimeout(call.timer);
      if (call.onAbort) call.signal?.removeEventListener('abort', call.onAbort);
      void call.retry().then(call.resolve);
    }
  }

  private onData(chunk: string): void {
    this.received += chunk;
    let newline: number;
    while ((newline = this.received.indexOf('\n')) >= 0) {
      const line = this.received.slice(0, newline);
      this.received = this.received.slice(newline + 1);
      if (line.trim() === '') continue;
      let message: StarterMessage;
      try {
        message = JSON.parse(line) as StarterMessage;
      } catch {
        continue;
      }
      this.answered = true;
      const call = this.pending.get(message.id);
      if (!call) continue;
      if (message.pid !== undefined) {
        call.started = true;
        call.onStarted?.();
        continue;
      }
      if (message.error !== undefined) {
        this.settle(message.id, call, { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), code: message.error });
        continue;
      }
      this.settle(message.id, call, {
        stdout: Buffer.from(message.stdout ?? '', 'base64'),
        stderr: Buffer.from(message.stderr ?? '', 'base64'),
        ...(message.exit !== null && message.exit !== undefined ? { exitCode: message.exit } : { signal: message.signal ?? undefined }),
        isMaxBuffer: message.maxBuffer === true,
      });
    }
  }

  private settle(id: number, call: Pending, ending: Pick<ProcessOutcome, 'stdout' | 'stderr' | 'exitCode' | 'signal' | 'code'> & { isMaxBuffer?: boolean }): void {
    this.pending.delete(id);
    if (this.pending.size === 0 && this.child) keepAlive(this.child, false);
    clearTimeout(call.timer);
    clearTimeout(call.forceTimer);
    if (call.onAbort) call.signal?.removeEventListener('abort', call.onAbort);
    const isMaxBuffer = ending.isMaxBuffer ?? false;
    const failed = ending.exitCode !== 0 || call.timedOut || call.canceled || isMaxBuffer;
    call.resolve({ ...ending, timedOut: call.timedOut, canceled: call.canceled, isMaxBuffer, failed });
  }
}

/** A child's stdio stream is a socket (a pipe) underneath: it can be ref'd and unref'd. */
function pipe(stream: Readable): Socket {
  return stream as unknown as Socket;
}

/** Whether the starter (its process and its output pipe: both, or its exit may go unseen) keeps this process running. */
function keepAlive(child: ChildProcessWithoutNullStreams, alive: boolean): void {
  if (alive) {
    child.ref();
    pipe(child.stdout).ref();
  } else {
    child.unref();
    pipe(child.stdout).unref();
  }
}
