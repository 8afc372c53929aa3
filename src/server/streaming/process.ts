import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { childEnv } from '../../docker/children.js';
import type { Readable, Writable } from 'node:stream';

/**
 * A docker client process (`docker exec` / `docker attach`) whose streams mascri relays.
 *
 * With a TTY the docker CLI needs a terminal on its side (`-it` refuses a pipe, and it
 * reads the size to pass on from its terminal), so it runs under a pseudo-terminal made
 * by a small Python helper (Python's pty module; no native Node addon to build). The
 * helper relays its stdin/stdout to the pty and applies "ROWS COLS" lines from fd 3 to
 * the pty's window size; the kernel then sends SIGWINCH to docker, which resizes the
 * exec's or container's terminal. It exits with docker's exit code.
 */
export interface DockerProcess {
  stdin: Writable | undefined;
  stdout: Readable;
  /** Undefined with a TTY: a terminal has one output stream. */
  stderr: Readable | undefined;
  /** Resolves with the exit code once the process ended and its output was read. */
  exited: Promise<number>;
  resize(width: number, height: number): void;
  kill(): void;
}

// Runs argv under a new pty. Parent: stdin -> pty, pty -> stdout, fd 3 lines -> window size;
// stdin EOF sends ^D (the terminal's end of input). Exits with the child's code.
const PTY_HELPER = `
import os, sys, pty, tty, select, fcntl, termios, struct, errno
rows, cols = int(sys.argv[1]), int(sys.argv[2])
argv = sys.argv[4:]
def setsize(fd, r, c):
    if r > 0 and c > 0:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', r, c, 0, 0))
pid, master = pty.fork()
if pid == 0:
    try:
        setsize(0, rows, cols)
        tty.setraw(0)
        os.execvp(argv[0], argv)
    except Exception as e:
        os.write(2, ('cannot run %s: %s\\r\\n' % (argv[0], e)).encode())
    os._exit(127)
def write_all(fd, data):
    while data:
        try:
            n = os.write(fd, data)
        except OSError as e:
            if e.errno == errno.EINTR:
                continue
            return False
        data = data[n:]
    return True
inputs = [0, master, 3]
control = b''
while True:
    try:
        ready, _, _ = select.select(inputs, [], [])
    except InterruptedError:
        continue
    if master in ready:
        try:
            data = os.read(master, 65536)
        except OSError:
            data = b''
        if not data:
            break
        write_all(1, data)
    if 0 in ready:
        data = os.read(0, 65536)
        if data:
            write_all(master, data)
        else:
            inputs.remove(0)
            write_all(master, b'\\x04')
    if 3 in ready:
        data = os.read(3, 4096)
        if not data:
            inputs.remove(3)
        control += data
        while b'\\n' in control:
            line, control = control.split(b'\\n', 1)
            parts = line.split()
            if len(parts) == 2:
                try:
                    setsize(master, int(parts[0]), int(parts[1]))
                except (ValueError, OSError):
                    pass
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
`;

/** Python 3 for the pty helper: Debian's, else the first on PATH. */
export function pythonBinary(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

export interface StartOptions {
  /** Run under a pseudo-terminal of this initial size (0 x 0: the default 80 x 24 is not forced). */
  tty?: { width: number; height: number };
  /** Give the process a stdin pipe. */
  stdin: boolean;
}

/** Starts `binary ...args` (an argument array, never a shell). */
export function startDockerProcess(binary: string, args: readonly string[], options: StartOptions): DockerProcess {
  let child: ChildProcess;
  let control: Writable | undefined;
  if (options.tty) {
    child = spawn(pythonBinary(), ['-c', PTY_HELPER, String(options.tty.height), String(options.tty.width), '--', binary, ...args], {
      // docker's own stderr is the pty; the helper's would only be a Python traceback.
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'ignore', 'pipe'],
      env: childEnv(),
    });
    control = child.stdio[3] as Writable;
    control.on('error', () => undefined);
  } else {
    child = spawn(binary, [...args], { stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: childEnv() });
  }
  child.stdin?.on('error', () => undefined); // the process may exit before reading all of it
  const exited = new Promise<number>((resolve) => {
    child.on('error', () => resolve(127));
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + signalNumber(signal) : 1)));
  });
  return {
    stdin: child.stdin ?? undefined,
    stdout: child.stdout!,
    stderr: options.tty ? undefined : child.stderr!,
    exited,
    resize(width, height) {
      if (control && !control.destroyed && width > 0 && height > 0) control.write(`${height} ${width}\n`);
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 };
  return numbers[signal] ?? 1;
}
