#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Both ends of tests/userstack.t's transfers.  The kernel-stack side runs in
# stackd's namespace (serve-sink, serve-source; serve-zeros and serve-count for
# scripts/userstack-bench.sh); the shimmed side runs
# under `copylab stack` (send, recv, fork-send).  Plain socket calls only,
# so the shim sees what any program does.  Exit 0 on success; 3 with
# "error NAME" on stdout when a socket call failed (the test reads NAME).
import errno
import os
import select
import socket
import sys
import time


def die_with(e):
    name = errno.errorcode.get(e.errno, str(e.errno)) if getattr(e, "errno", None) else type(e).__name__
    print("error", name, flush=True)
    sys.exit(3)


def listen(portfile, host):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, 0))
    s.listen(8)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(s.getsockname()[1]))
    os.rename(tmp, portfile)
    return s


def serve_sink(portfile, out, host, count, slow):
    """Accepts COUNT connections one after another; each one's bytes go to OUT.N (OUT for one).
    slow: 64 KiB every 10 ms, so a sender stays busy for seconds."""
    s = listen(portfile, host)
    for i in range(count):
        c, _ = s.accept()
        name = out if count == 1 else "%s.%d" % (out, i)
        with open(name, "wb") as f:
            try:
                while True:
                    b = c.recv(65536 if slow else 1 << 20)
                    if not b:
                        break
                    f.write(b)
                    if slow:
                        time.sleep(0.01)
            except OSError as e:
                print("peer-error", errno.errorcode.get(e.errno, e.errno), flush=True)
        c.close()


def serve_source(portfile, path, host, count, slow):
    """Sends PATH to each of COUNT connections, then closes; slow: 64 KiB every 10 ms, forever."""
    s = listen(portfile, host)
    data = open(path, "rb").read() if path != "-" else b""
    for _ in range(count):
        c, _ = s.accept()
        try:
            if slow:
                chunk = os.urandom(65536)
                while True:
                    c.sendall(chunk)
                    time.sleep(0.01)
            c.sendall(data)
        except OSError as e:
            print("peer-error", errno.errorcode.get(e.errno, e.errno), flush=True)
        c.close()


def serve_zeros(portfile, host, nbytes):
    """Sends NBYTES zero bytes to one connection in 1 MiB writes, then closes (the benchmark's source)."""
    s = listen(portfile, host)
    c, _ = s.accept()
    chunk = bytes(1 << 20)
    left = nbytes
    while left > 0:
        n = min(left, len(chunk))
        c.sendall(chunk[:n] if n < len(chunk) else chunk)
        left -= n
    c.close()


def serve_count(portfile, host):
    """Reads one connection to its end and prints "received N" (the benchmark's sink)."""
    s = listen(portfile, host)
    c, _ = s.accept()
    buf, got = bytearray(1 << 20), 0
    while True:
        n = c.recv_into(buf)  # into one buffer: the sink's own cost stays small and the same in every cell
        if not n:
            break
        got += n
    c.close()
    print("received", got, flush=True)


def connect(host, port, nonblock):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect((host, int(port)))
    if nonblock:
        s.setblocking(False)
    return s


def wait(s, ev):
    p = select.poll()
    p.register(s.fileno(), ev)
    if not p.poll(20000):
        print("error poll-timeout", flush=True)
        sys.exit(3)


def send(host, port, path, nonblock):
    try:
        s = connect(host, port, nonblock)
        data = open(path, "rb").read()
        if not nonblock:
            s.sendall(data)
        else:
            view, off = memoryview(data), 0
            while off < len(data):
                try:
                    off += s.send(view[off:off + (1 << 20)])
                except BlockingIOError:
                    wait(s, select.POLLOUT)
        s.shutdown(socket.SHUT_WR)
        # The peer closes after reading everything: wait for its EOF.
        while True:
            try:
                if not s.recv(4096):
                    break
            except BlockingIOError:
                wait(s, select.POLLIN)
        s.close()
    except OSError as e:
        die_with(e)


def recv(host, port, out, nonblock, stop_after):
    try:
        s = connect(host, port, nonblock)
        got = 0
        with open(out, "wb") as f:
            while True:
                try:
                    b = s.recv(1 << 20)
                except BlockingIOError:
                    wait(s, select.POLLIN)
                    continue
                if not b:
                    break
                f.write(b)
                got += len(b)
                if stop_after and got >= stop_after:
                    break
        s.close()
    except OSError as e:
        die_with(e)


def fork_send(host, port, path):
    """The parent connects, a forked child sends and closes, the parent closes too."""
    try:
        s = connect(host, port, False)
        pid = os.fork()
        if pid == 0:
            try:
                s.sendall(open(path, "rb").read())
                s.close()
                os._exit(0)
            except OSError as e:
                print("error", errno.errorcode.get(e.errno, e.errno), flush=True)
                os._exit(3)
        s.close()
        _, status = os.waitpid(pid, 0)
        sys.exit(os.waitstatus_to_exitcode(status))
    except OSError as e:
        die_with(e)


def main():
    a = sys.argv[1:]
    mode = a[0]
    if mode == "serve-sink":
        serve_sink(a[1], a[2], a[3], int(a[4]) if len(a) > 4 else 1, len(a) > 5 and a[5] == "slow")
    elif mode == "serve-source":
        serve_source(a[1], a[2], a[3], int(a[4]) if len(a) > 4 else 1, len(a) > 5 and a[5] == "slow")
    elif mode == "serve-count":
        serve_count(a[1], a[2])
    elif mode == "serve-zeros":
        serve_zeros(a[1], a[2], int(a[3]))
    elif mode == "send":
        send(a[1], a[2], a[3], len(a) > 4 and a[4] == "nonblock")
    elif mode == "recv":
        recv(a[1], a[2], a[3], len(a) > 4 and a[4] == "nonblock", int(a[5]) if len(a) > 5 else 0)
    elif mode == "fork-send":
        fork_send(a[1], a[2], a[3])
    else:
        sys.exit("usage: userstack_peer.py serve-sink|serve-source|serve-zeros|serve-count|send|recv|fork-send ...")


main()
