import { spawn, type ChildProcess } from 'node:child_process';

/** How a short-lived child process ended, with everything it printed. */
export interface ProcessOutcome {
  stdout: Buffer;
  stderr: Buffer;
  /** undefined when it was killed by a signal or never started. */
  exitCode?: number;
  signal?: string;
  /** The errno code when it could not be started (ENOENT, E2BIG, ...). */
  code?: string;
  timedOut: boolean;
  canceled: boolean;
  /** True when stdout or stderr passed maxBuffer and the process was killed. */
  isMaxBuffer: boolean;
  /** True when it did not exit with 0. */
  failed: boolean;
}

export interface ProcessOptions {
  /** Killed (SIGTERM, then SIGKILL after FORCE_KILL_AFTER_MS) once this many ms have passed; 0 or undefined: never. */
  timeoutMs?: number;
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  input?: string | Buffer;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Kills the process when aborted. */
  signal?: AbortSignal;
  /** Bytes either stream may hold before the process is killed. */
  maxBuffer?: number;
  /** Called once the process runs (not when it could not be started). */
  onStarted?: () => void;
}

/** How long a process that ignores SIGTERM gets before SIGKILL. */
export const FORCE_KILL_AFTER_MS = 5000;

/**
 * Runs `binary ...args` (an argument array, never a shell) and collects its output. Node's own
 * spawn: execa did the same with about 2 ms more of synchronous work per call on the event loop
 * (option normalisation, stream set-up), which every docker call of a pod start paid while the
 * reads of other clients waited. Never rejects: every ending is in the outcome.
 */
export async function runProcess(binary: string, args: readonly string[], options: ProcessOptions = {}): Promise<ProcessOutcome> {
  await startTurn();
  return new Promise((resolve) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const sizes = [0, 0];
    let timedOut = false;
    let canceled = false;
    let isMaxBuffer = false;
    let settled = false;
    let forceTimer: NodeJS.Timeout | undefined;
    const maxBuffer = options.maxBuffer ?? 64 * 1024 * 1024;
    let child: ChildProcess;
    try {
      child = spawn(binary, args, {
        env: options.env ? { ...process.env, ...options.env } : process.env,
        stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
    } catch (error) {
      // Node throws at once for some errors (E2BIG, ...) and reports others (ENOENT, ...) as an event.
      const code = (error as NodeJS.ErrnoException).code ?? 'ESPAWN';
      resolve({ stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), code, timedOut: false, canceled: false, isMaxBuffer: false, failed: true });
      return;
    }
    if (child.pid !== undefined) options.onStarted?.();
    const kill = () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      forceTimer ??= setTimeout(() => child.kill('SIGKILL'), FORCE_KILL_AFTER_MS);
      forceTimer.unref();
    };
    const timer = options.timeoutMs && options.timeoutMs > 0 ? setTimeout(() => ((timedOut = true), kill()), options.timeoutMs) : undefined;
    const onAbort = () => {
      canceled = true;
      kill();
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    const collect = (chunks: Buffer[], index: 0 | 1) => (chunk: Buffer) => {
      if (isMaxBuffer) return;
      const room = maxBuffer - sizes[index]!;
      if (chunk.length > room) {
        // Keep what fits (the caller reports the output as cut), and stop the process.
        chunks.push(chunk.subarray(0, room));
        sizes[index] = maxBuffer;
        isMaxBuffer = true;
        kill();
        return;
      }
      sizes[index] = sizes[index]! + chunk.length;
      chunks.push(chunk);
    };
    child.stdout!.on('data', collect(stdout, 0));
    child.stderr!.on('data', collect(stderr, 1));
    const finish = (ending: { exitCode?: number; signal?: string; code?: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(forceTimer);
      options.signal?.removeEventListener('abort', onAbort);
      const failed = ending.exitCode !== 0 || timedOut || canceled || isMaxBuffer;
      resolve({ stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), ...ending, timedOut, canceled, isMaxBuffer, failed });
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      // Not started at all (ENOENT, EACCES, E2BIG, ...): no exit will follow.
      if (child.pid === undefined) finish({ code: error.code ?? 'ESPAWN' });
    });
    child.on('close', (exitCode, signal) => finish(exitCode !== null ? { exitCode } : { signal: signal ?? undefined }));
    if (child.stdin && options.input !== undefined) {
      child.stdin.on('error', () => undefined); // a process that exits without reading its input
      child.stdin.end(options.input);
    }
  });
}

let lastStart: Promise<void> = Promise.resolve();

/**
 * Waits for this start's turn: one process start per turn of the event loop. A start forks this
 * process, which blocks its loop for a millisecond or more (the kernel copies its page tables); a
 * burst of them (ten pods starting at once, without the process starter) would block it for tens of
 * milliseconds, and a kubelet's relist would wait behind them. Between two starts, requests are read.
 */
function startTurn(): Promise<void> {
  const turn = lastStart.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
  lastStart = turn;
  return turn;
}

/** `text` without one trailing newline (as a shell's $(...) would strip it). Pure. */
export function stripFinalNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}
