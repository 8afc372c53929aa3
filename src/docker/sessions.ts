import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { randomString } from '../common/random.js';
import { childEnv, EXEC_MARKER, killMarkedProcesses } from './children.js';
import { cliEnv, runDockerProcess, type DockerCli, type DockerProcessOptions, type DockerProcessResult } from './cli.js';

/**
 * A docker client process (`docker exec` / `docker attach`) whose streams the server relays to a
 * streaming client.
 *
 * With a TTY the docker CLI needs a terminal on its side (`-it` refuses a pipe, and it reads the
 * size to pass on from its terminal), so it runs under a pseudo-terminal made by pty-helper.py
 * (Python's pty module: no native Node addon to build where mascri is installed). The helper
 * applies resize() to the pty's window size; the kernel then sends SIGWINCH to docker, which
 * resizes the exec's or container's terminal.
 */
export interface DockerSession {
  stdin: Writable | undefined;
  stdout: Readable;
  /** Undefined with a TTY: a terminal has one output stream. */
  stderr: Readable | undefined;
  /** Resolves with docker's exit code once the process ended and its output was read. */
  exited: Promise<number>;
  resize(width: number, height: number): void;
  /**
   * Ends the session: kills the docker client and, for an exec, the processes it started in the
   * container (killing the client alone leaves them running). Answers how many of those were killed.
   */
  kill(): Promise<number>;
}

export interface SessionOptions {
  /** Give the process a stdin pipe (`--interactive` for an exec, no `--no-stdin` for an attach). */
  stdin: boolean;
  /** Run under a pseudo-terminal of this initial size (0 x 0: the default 80 x 24 is not forced). */
  tty?: { width: number; height: number };
}

/** What ExecSync gets: the process's own result, and how many of its processes a timeout, cancel or overflow killed. */
export interface ExecSyncResult extends DockerProcessResult {
  killedInContainer: number;
}

/** The processes streaming and ExecSync start in containers, and the attach sessions. */
export interface DockerSessionsApi {
  /** `docker exec` of `cmd` in container `id`, its streams handed to the caller. */
  exec(id: string, cmd: readonly string[], options: SessionOptions): DockerSession;
  /** `docker attach` to container `id`. */
  attach(id: string, options: SessionOptions): DockerSession;
  /**
   * Runs `cmd` in container `id` to its end (ExecSync). A timeout, `signal` or output past
   * `maxBytes` kills it, in the container too.
   */
  execSync(id: string, cmd: readonly string[], options?: DockerProcessOptions): Promise<ExecSyncResult>;
}

/** Arguments for `docker exec` of `cmd` in container `id`, marked with `marker` (so it can be found on the host and killed). Pure. */
export function execArgs(id: string, cmd: readonly string[], marker: string, options: { interactive?: boolean; tty?: boolean } = {}): string[] {
  return ['exec', ...(options.interactive ? ['--interactive'] : []), ...(options.tty ? ['--tty'] : []), '--env', `${EXEC_MARKER}=${marker}`, '--', id, ...cmd];
}

/**
 * Arguments for `docker attach` to container `id`. Pure. Signals are not proxied: the client's
 * Ctrl-C reaches the container through its terminal, and killing the attach must not kill it.
 */
export function attachArgs(id: string, options: { stdin: boolean }): string[] {
  return ['attach', '--sig-proxy=false', ...(options.stdin ? [] : ['--no-stdin']), '--', id];
}

/** The pty helper beside this file (the build copies it into dist/ with the compiled code). */
export const PTY_HELPER_PATH = fileURLToPath(new URL('./pty-helper.py', import.meta.url));

/** Python 3 for the pty helper: Debian's, else the first on PATH. */
export function pythonBinary(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** The pty helper's command line for `binary ...args` under a pty of `rows` x `cols`. Pure. */
export function ptyHelperArgs(rows: number, cols: number, binary: string, args: readonly string[]): string[] {
  return [PTY_HELPER_PATH, String(rows), String(cols), '--', binary, ...args];
}

/** Exec and attach sessions through the docker CLI; each one is reported to the CLI's call observers when it ends. */
export class DockerSessions implements DockerSessionsApi {
  constructor(private readonly cli: Pick<DockerCli, 'binary' | 'notify' | 'runToEnd'>) {}

  exec(id: string, cmd: readonly string[], options: SessionOptions): DockerSession {
    const marker = newMarker();
    const session = this.start(execArgs(id, cmd, marker, { interactive: options.stdin, tty: options.tty !== undefined }), options);
    const killClient = session.kill;
    return { ...session, kill: async () => (await killClient(), killMarkedProcesses(marker)) };
  }

  attach(id: string, options: SessionOptions): DockerSession {
    return this.start(attachArgs(id, options), options);
  }

  async execSync(id: string, cmd: readonly string[], options: DockerProcessOptions = {}): Promise<ExecSyncResult> {
    const marker = newMarker();
    const result = await runDockerProcess(this.cli, execArgs(id, cmd, marker), options);
    // Killing the docker client leaves the process running in the container: kill it there.
    const cut = result.timedOut || result.outputTooLarge || options.signal?.aborted === true;
    return { ...result, killedInContainer: cut ? await killMarkedProcesses(marker) : 0 };
  }

  /** Starts `docker ...args` (an argument array, never a shell), under the pty helper with a TTY. */
  private start(args: readonly string[], options: SessionOptions): DockerSession {
    const started = performance.now();
    const stdin = options.stdin ? 'pipe' : 'ignore';
    let child: ChildProcess;
    let control: Writable | undefined;
    if (options.tty) {
      child = spawn(pythonBinary(), ptyHelperArgs(options.tty.height, options.tty.width, this.cli.binary, args), {
        // docker's own stderr is the pty; the helper's would only be a Python traceback.
        stdio: [stdin, 'pipe', 'ignore', 'pipe'],
        env: childEnv(cliEnv()),
      });
      control = child.stdio[3] as Writable;
      control.on('error', () => undefined);
    } else {
      child = spawn(this.cli.binary, [...args], { stdio: [stdin, 'pipe', 'pipe'], env: childEnv(cliEnv()) });
    }
    child.stdin?.on('error', () => undefined); // the process may exit before reading all of it
    const exited = new Promise<number>((resolve) => {
      child.on('error', () => resolve(127));
      child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + signalNumber(signal) : 1)));
    });
    // The one place a session becomes a docker call in the metrics: when it has ended.
    void exited.then(() => this.cli.notify(args, performance.now() - started, true));
    return {
      stdin: child.stdin ?? undefined,
      stdout: child.stdout!,
      stderr: options.tty ? undefined : child.stderr!,
      exited,
      resize(width, height) {
        if (control && !control.destroyed && width > 0 && height > 0) control.write(`${height} ${width}\n`);
      },
      async kill() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        return 0;
      },
    };
  }
}

function newMarker(): string {
  return randomString(12, 'hex');
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 };
  return numbers[signal] ?? 1;
}
