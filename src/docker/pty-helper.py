# The pty helper: runs a command under a new pseudo-terminal for mascri's TTY exec and attach
# sessions (src/docker/sessions.ts starts it), so that the docker CLI sees a terminal on its side
# (`docker exec -it` refuses a pipe, and it passes its terminal's size on to the container).
#
#   python3 pty-helper.py ROWS COLS -- COMMAND [ARG...]
#
# stdin goes to the pty and the pty to stdout; an end of stdin is sent as ^D (the terminal's end
# of input). "ROWS COLS" lines on fd 3 set the pty's window size: the kernel then sends SIGWINCH
# to the command, and docker resizes the container's terminal. ROWS or COLS 0 keeps the default.
# Exits with the command's exit code (128 + N when signal N ended it), 127 when it cannot run.
import errno
import fcntl
import os
import select
import struct
import sys
import termios
import tty


def set_size(fd, rows, cols):
    if rows > 0 and cols > 0:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))


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


def main():
    if len(sys.argv) < 5 or sys.argv[3] != '--':
        sys.stderr.write('usage: pty-helper.py ROWS COLS -- COMMAND [ARG...]\n')
        return 2
    rows, cols = int(sys.argv[1]), int(sys.argv[2])
    argv = sys.argv[4:]
    # The terminal is sized and made raw before the fork: input that arrives before the command
    # runs is kept (setting it up in the child would flush it) and never echoed.
    master, slave = os.openpty()
    set_size(slave, rows, cols)
    tty.setraw(slave)
    pid = os.fork()
    if pid == 0:
        try:
            os.close(master)
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            if slave > 2:
                os.close(slave)
            os.execvp(argv[0], argv)
        except Exception as e:
            os.write(2, ('cannot run %s: %s\r\n' % (argv[0], e)).encode())
        os._exit(127)
    os.close(slave)
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
                write_all(master, b'\x04')
        if 3 in ready:
            data = os.read(3, 4096)
            if not data:
                inputs.remove(3)
            control += data
            while b'\n' in control:
                line, control = control.split(b'\n', 1)
                parts = line.split()
                if len(parts) == 2:
                    try:
                        set_size(master, int(parts[0]), int(parts[1]))
                    except (ValueError, OSError):
                        pass
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


sys.exit(main())
