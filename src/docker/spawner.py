#!/usr/bin/env python3
"""mascri's process starter: starts the short-lived docker CLI calls of `mascri serve` for it.

Starting a process from the server itself blocks its event loop while the kernel copies the
server's page tables (fork): milliseconds per call, tens of milliseconds when pods start in a
burst. This small process starts them instead (Python's subprocess uses vfork), collects their
output and says how they ended. One JSON object per line each way, over stdin and stdout:

  in:  {"id": 1, "argv": [...], "env": {...added to this process's}, "input": "<base64>" | null, "maxBuffer": n}
       {"id": 1, "kill": "SIGTERM" | "SIGKILL"}
  out: {"id": 1, "pid": 1234}                                   the process runs
       {"id": 1, "exit": 0 | null, "signal": "SIGTERM" | null,
        "stdout": "<base64>", "stderr": "<base64>", "maxBuffer": false}
       {"id": 1, "error": "ENOENT"}                             it could not be started

It exits when its stdin closes (the server is gone); calls still running go on to their end.
"""
import base64
import errno
import json
import os
import selectors
import signal
import subprocess
import sys

selector = selectors.DefaultSelector()
calls = {}  # id -> state
waiting = set()  # ids whose output has ended but whose process has not exited yet
out = sys.stdout.buffer


def send(message):
    out.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
    out.flush()


def start(request):
    call_id = request["id"]
    added = request.get("env")
    env = {**os.environ, **added} if added else None
    data = request.get("input")
    try:
        proc = subprocess.Popen(
            request["argv"],
            env=env,
            stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            close_fds=True,
            restore_signals=True,
        )
    except OSError as error:
        send({"id": call_id, "error": errno.errorcode.get(error.errno, "ESPAWN")})
        return
    state = {"proc": proc, "out": [], "err": [], "size": [0, 0], "open": 2, "max": request.get("maxBuffer") or 64 << 20, "cut": False}
    calls[call_id] = state
    send({"id": call_id, "pid": proc.pid})
    if data is not None:
        try:
            proc.stdin.write(base64.b64decode(data))
        except (BrokenPipeError, OSError):
            pass
        try:
            proc.stdin.close()
        except OSError:
            pass
    for index, stream in ((0, proc.stdout), (1, proc.stderr)):
        os.set_blocking(stream.fileno(), False)
        selector.register(stream, selectors.EVENT_READ, (call_id, index))


def read(stream, call_id, index):
    state = calls.get(call_id)
    try:
        chunk = os.read(stream.fileno(), 65536)
    except BlockingIOError:
        return
    except OSError:
        chunk = b""
    if not chunk:
        selector.unregister(stream)
        stream.close()
        state["open"] -= 1
        if state["open"] == 0:
            finish(call_id)
        return
    room = state["max"] - state["size"][index]
    if state["cut"]:
        return
    if len(chunk) > room:
        chunk = chunk[:room]
        state["cut"] = True
        kill(call_id, "SIGTERM")
    state["size"][index] += len(chunk)
    (state["out"] if index == 0 else state["err"]).append(chunk)


def finish(call_id):
    state = calls[call_id]
    code = state["proc"].poll()
    if code is None:
        waiting.add(call_id)  # looked at again after each wake-up, never waited for here
        return
    waiting.discard(call_id)
    del calls[call_id]
    exit_code = code if code >= 0 else None
    signal_name = signal.Signals(-code).name if code < 0 else None
    send({
        "id": call_id,
        "exit": exit_code,
        "signal": signal_name,
        "stdout": base64.b64encode(b"".join(state["out"])).decode(),
        "stderr": base64.b64encode(b"".join(state["err"])).decode(),
        "maxBuffer": state["cut"],
    })


def kill(call_id, name):
    state = calls.get(call_id)
    if state and state["proc"].poll() is None:
        try:
            state["proc"].send_signal(getattr(signal, name, signal.SIGTERM))
        except ProcessLookupError:
            pass


def main():
    stdin = sys.stdin.buffer
    os.set_blocking(stdin.fileno(), False)
    selector.register(stdin, selectors.EVENT_READ, None)
    pending = b""
    while True:
        for call_id in list(waiting):
            finish(call_id)
        for key, _ in selector.select(0.05 if waiting else None):
            if key.data is None:
                try:
                    chunk = os.read(stdin.fileno(), 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    return  # the server is gone
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    if not line.strip():
                        continue
                    request = json.loads(line)
                    if "kill" in request:
                        kill(request["id"], request["kill"])
                    else:
                        start(request)
            else:
                call_id, index = key.data
                read(key.fileobj, call_id, index)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server's Ctrl-C is the server's to handle
    main()
