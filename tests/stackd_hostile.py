#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/stackd_hostile.t's clients: programs that talk to copylab stackd's
# control socket directly in userstack/proto.h's records (not through the
# shim), the way another local user or a broken program could, plus one
# shimmed program that accepts at its descriptor limit.  Each prints what
# it saw as "key value" lines for the test to read; exit 0 when it could
# run at all (the test judges the lines), 2 on bad usage.
import array
import errno
import os
import socket
import struct
import sys
import time

# proto.h: struct us_req (40 bytes), struct us_rep (40), struct us_accept_rec (24).
REQ = struct.Struct("<IIiIHH4xQq")
REP = struct.Struct("<iIIIHHIqQ")
ACC = struct.Struct("<IIHHIQ")
US_SOCKET, US_BIND, US_LISTEN, US_CONNECT, US_STATUS, US_NAME, US_SETOPT, US_GETOPT, US_LOOKUP = range(1, 10)
US_DATA_IPC, US_DATA_SHM = 0, 1
US_OPT_NODELAY = 1


def ename(e):
    return errno.errorcode.get(abs(e), str(e)) if e else "OK"


def req(op, id=0, a=0, addr=0, port=0, ino=0, val=0):
    return REQ.pack(op, id, a, addr, port, 0, ino, val)


def ctl_open(path):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(path)
    return c


def call(c, q, fds=()):
    """One request; the reply and the descriptors that came with it (None: stackd closed the connection)."""
    try:
        if fds:
            c.sendmsg([q], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
        else:
            c.sendall(q)
    except OSError:
        pass  # a refusal may close first: its reply is still queued for us
    msg, got = b"", []
    while len(msg) < REP.size:
        data, anc, _, _ = c.recvmsg(REP.size - len(msg), socket.CMSG_SPACE(8 * 4))
        for level, kind, raw in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                a = array.array("i")
                a.frombytes(raw[: len(raw) - len(raw) % 4])
                got += list(a)
        if not data:
            return None, got
        msg += data
    return REP.unpack(msg), got


def new_socket(c, path=US_DATA_IPC):
    rep, fds = call(c, req(US_SOCKET, a=path))
    if rep is None or rep[0] != 0 or not fds:
        return None, rep, fds
    return rep[1], rep, fds


def cmd_socket(path, data_path):
    """Asks for one socket: "socket ok ID" or "socket refused ERRNO" / "socket closed"."""
    try:
        c = ctl_open(path)
    except OSError as e:
        print("connect", ename(e.errno), flush=True)
        return
    sid, rep, fds = new_socket(c, US_DATA_SHM if data_path == "shm" else US_DATA_IPC)
    if sid is not None:
        print("socket ok", sid, "fds", len(fds), flush=True)
    elif rep is None:
        print("socket closed", flush=True)
    else:
        print("socket refused", ename(rep[0]), flush=True)


def cmd_cross(path):
    """Connection A makes a socket; connection B names it by id, then by inode, then proves it holds the fd."""
    a, b = ctl_open(path), ctl_open(path)
    sid, rep, fds = new_socket(a)
    if sid is None:
        print("socket failed", flush=True)
        return
    ino = rep[8]
    for name, q in (("bind", req(US_BIND, sid)), ("listen", req(US_LISTEN, sid, a=1)),
                    ("name", req(US_NAME, sid)), ("setopt", req(US_SETOPT, sid, a=US_OPT_NODELAY, val=1)),
                    ("getopt", req(US_GETOPT, sid, a=US_OPT_NODELAY)),
                    ("connect", req(US_CONNECT, sid, addr=0x0100000a, port=9))):
        r, got = call(b, q)
        for f in got:
            os.close(f)
        print("other", name, "closed" if r is None else ename(r[0]), flush=True)
        if r is None:
            b = ctl_open(path)
    r, got = call(b, req(US_LOOKUP, ino=ino))
    for f in got:
        os.close(f)
    print("other lookup-by-inode", "closed" if r is None else ename(r[0]) if r[0] else "found %d" % r[1],
          flush=True)
    r, got = call(b, req(US_LOOKUP), fds=[fds[0]])
    for f in got:
        os.close(f)
    print("other lookup-with-fd", "closed" if r is None else ename(r[0]) if r[0] else "found %d" % r[1],
          flush=True)
    if r is not None and r[0] == 0:
        r, _ = call(b, req(US_SETOPT, sid, a=US_OPT_NODELAY, val=1))
        print("other setopt-after-proof", "closed" if r is None else ename(r[0]), flush=True)
    r, _ = call(a, req(US_SETOPT, sid, a=US_OPT_NODELAY, val=1))
    print("owner setopt", "closed" if r is None else ename(r[0]), flush=True)


def cmd_truncate(path, addr, port):
    """A shm socket connected to a kernel peer, then its memfd shrunk and a doorbell rung."""
    c = ctl_open(path)
    sid, rep, fds = new_socket(c, US_DATA_SHM)
    if sid is None or len(fds) < 2:
        print("socket failed", flush=True)
        return
    ip = struct.unpack("<I", socket.inet_aton(addr))[0]
    r, _ = call(c, req(US_CONNECT, sid, addr=ip, port=int(port)))
    print("connect", "closed" if r is None else ename(r[0]), flush=True)
    # Grown first (harmless to stackd), then shrunk and left so: its next look at the rings would SIGBUS.
    try:
        os.ftruncate(fds[1], 1 << 30)
        print("grow done", flush=True)
    except OSError as e:
        print("grow refused", ename(e.errno), flush=True)
    try:
        os.ftruncate(fds[1], 0)
        print("truncate done", flush=True)
    except OSError as e:
        print("truncate refused", ename(e.errno), flush=True)
    pair = socket.socket(fileno=fds[0])
    try:
        pair.send(b"\x01")
    except OSError:
        pass
    time.sleep(0.5)  # the doorbell and the peer's bytes reach stackd; the test then looks at it
    print("rang", flush=True)


def cmd_partial(path, conns, seconds):
    """CONNS connections each holding one byte of a request, re-opened when stackd closes one."""
    end = time.monotonic() + float(seconds)
    held = []
    reopened = 0
    while time.monotonic() < end:
        while len(held) < int(conns):
            try:
                c = ctl_open(path)
                c.send(b"\x01")
                c.setblocking(False)
                held.append(c)
            except OSError:
                time.sleep(0.05)
                break
        for c in list(held):
            try:
                if c.recv(64) == b"":
                    raise ConnectionResetError
            except BlockingIOError:
                continue
            except OSError:
                pass
            held.remove(c)
            c.close()
            reopened += 1
        time.sleep(0.05)
    print("partial reopened", reopened, flush=True)


def fill_fds():
    """Opens /dev/null until the limit, then frees one: the next descriptor received takes the last slot."""
    fds = []
    while True:
        try:
            fds.append(os.open("/dev/null", os.O_RDONLY))
        except OSError as e:
            if e.errno != errno.EMFILE:
                raise
            break
    os.close(fds.pop())
    return fds


def cmd_accept_limit(portfile):
    """Shimmed (shm path): one accept with one descriptor free, then one with room; prints both outcomes."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("0.0.0.0", 0))
    s.listen(4)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(s.getsockname()[1]))
    os.rename(portfile + ".tmp", portfile)
    fillers = fill_fds()
    try:
        conn, _ = s.accept()
        data = conn.recv(64)  # on a socket without its memory, the old shim crashed here
        print("first accept ok", len(data), flush=True)
        conn.close()
    except OSError as e:
        print("first accept", ename(e.errno), flush=True)
    for f in fillers:
        os.close(f)
    try:
        conn, _ = s.accept()
        got = b""
        while True:
            b = conn.recv(65536)
            if not b:
                break
            got += b
        print("second accept ok", got.decode(errors="replace"), flush=True)
    except OSError as e:
        print("second accept", ename(e.errno), flush=True)


def cmd_fork_names(addr, port):
    """Shimmed: the parent connects, a forked child (its own control connection) asks for names and options."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect((addr, int(port)))
    pid = os.fork()
    if pid == 0:
        try:
            print("child peer %s:%d" % s.getpeername(), flush=True)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            print("child nodelay", s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY), flush=True)
            os._exit(0)
        except OSError as e:
            print("child error", ename(e.errno), flush=True)
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    print("parent peer %s:%d" % s.getpeername(), flush=True)
    s.close()
    sys.exit(os.waitstatus_to_exitcode(status))


def cmd_connect_send(addr, port, text):
    """The kernel side: connects to lwIP and sends TEXT (errors are expected for a refused accept)."""
    try:
        s = socket.create_connection((addr, int(port)), timeout=20)
        s.sendall(text.encode())
        s.shutdown(socket.SHUT_WR)
        s.recv(16)
        s.close()
    except OSError:
        pass


def main():
    a = sys.argv[1:]
    cmds = {"socket": (cmd_socket, 2), "cross": (cmd_cross, 1), "truncate": (cmd_truncate, 3),
            "partial": (cmd_partial, 3), "accept-limit": (cmd_accept_limit, 1),
            "connect-send": (cmd_connect_send, 3), "fork-names": (cmd_fork_names, 2)}
    if not a or a[0] not in cmds or len(a) - 1 != cmds[a[0]][1]:
        sys.stderr.write("usage: stackd_hostile.py socket SOCK ipc|shm | cross SOCK | truncate SOCK ADDR PORT |"
                         " partial SOCK CONNS SECONDS | accept-limit PORTFILE | connect-send ADDR PORT TEXT |"
                         " fork-names ADDR PORT\n")
        sys.exit(2)
    cmds[a[0]][0](*a[1:])


main()
