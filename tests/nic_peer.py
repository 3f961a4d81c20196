#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A hand-made nic-mode peer for tests/nic_hostile.t and nic.t: speaks the control
# protocol of harness/engine/remote.h byte by byte, well or badly, and
# prints what the daemon answered (one JSON line per event) so the test can
# judge it.  Every wait has a bound.
import hashlib, hmac, json, socket, struct, sys, time

def connect(host, port):
    s = socket.create_connection((host, int(port)), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s

def send(s, obj):
    text = json.dumps(obj, separators=(",", ":")).encode()
    s.sendall(struct.pack(">I", len(text)) + text)

def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("closed")
        buf += chunk
    return buf

def recv(s, timeout=10):
    s.settimeout(timeout)
    (n,) = struct.unpack(">I", recv_exact(s, 4))
    return json.loads(recv_exact(s, n))

def say(**kv):
    print(json.dumps(kv), flush=True)

def greet(s, keyfile):
    send(s, {"op": "hello", "version": 1})
    r = recv(s)
    if keyfile and "nonce" in r:
        key = open(keyfile, "rb").read()
        msg = bytes.fromhex(r["nonce"]) + b"copylab-nic/1" + r["daemon"].encode()
        send(s, {"op": "auth", "mac": hmac.new(key, msg, hashlib.sha256).hexdigest()})
        r = recv(s)
    return r

def run_msg(role, size, discard=False):
    return {"op": "run", "version": 1, "role": role, "scenario": "send", "size": size, "block": 65536,
            "sndbuf": 0, "rcvbuf": 0, "nodelay": False, "discard": discard, "close_at": -1}

def until_closed(s, limit):
    """Seconds until the daemon closes s (reading what it says), or None past limit."""
    t0 = time.monotonic()
    last = None
    try:
        while time.monotonic() - t0 < limit:
            last = recv(s, timeout=limit - (time.monotonic() - t0))
    except (EOFError, ConnectionError):
        return time.monotonic() - t0, last
    except (socket.timeout, TimeoutError):
        pass
    return None, last

def main(argv):
    mode, host, port = argv[1], argv[2], argv[3]
    if mode == "run":                     # KEYFILE|- ROLE SIZE: greet, ask for a run, print the answer
        keyfile, role, size = argv[4], argv[5], int(argv[6])
        s = connect(host, port)
        hello = greet(s, None if keyfile == "-" else keyfile)
        t0 = time.monotonic()
        send(s, run_msg(role, size))
        try:
            r = recv(s, timeout=float(argv[7]) if len(argv) > 7 else 10)
            say(hello=hello, reply=r, seconds=round(time.monotonic() - t0, 2))
        except (socket.timeout, TimeoutError):
            say(hello=hello, reply=None, seconds=round(time.monotonic() - t0, 2))
    elif mode == "idle":                  # LIMIT: connect, say nothing, report when closed
        s = connect(host, port)
        print("connected", flush=True)
        secs, last = until_closed(s, float(argv[4]))
        say(closed_after=secs, last=last)
    elif mode == "auth-idle":             # KEYFILE LIMIT: prove the key, then ask for nothing
        s = connect(host, port)
        r = greet(s, argv[4])
        print("authenticated" if r.get("ok") else "refused", flush=True)
        secs, last = until_closed(s, float(argv[5]))
        say(closed_after=secs, last=last)
    elif mode == "hello-spam":            # INTERVAL LIMIT: a hello every INTERVAL s, never auth
        interval, limit = float(argv[4]), float(argv[5])
        s = connect(host, port)
        t0 = time.monotonic()
        print("connected", flush=True)
        last = None
        try:
            while time.monotonic() - t0 < limit:
                send(s, {"op": "hello", "version": 1})
                last = recv(s, timeout=interval + 5)
                time.sleep(interval)
            say(closed_after=None, last=last)
        except (socket.timeout, TimeoutError):
            say(closed_after=None, last=last, how="a hello went unanswered")
        except (EOFError, ConnectionError, BrokenPipeError) as e:
            say(closed_after=round(time.monotonic() - t0, 2), last=last, how=type(e).__name__)
    elif mode == "strangers":             # KEYFILE N: a run with N silent strangers ahead of its data
        keyfile, n = argv[4], int(argv[5])
        s = connect(host, port)
        greet(s, keyfile)
        size = 1 << 20
        send(s, run_msg("source", size))
        token = recv(s, timeout=30)["token"]
        strangers = [connect(host, port) for _ in range(n)]
        strangers[0].sendall(b"abc")      # a wrong token's start, then silence
        if n > 1:
            strangers[1].sendall(b"f" * 32)   # a whole wrong token
        t0 = time.monotonic()
        d = connect(host, port)
        d.sendall(token.encode())
        send(s, {"op": "go"})
        got = 0
        d.settimeout(60)
        while got < size:
            chunk = d.recv(1 << 16)
            if not chunk:
                break
            got += len(chunk)
        try:
            r = recv(s, timeout=60)
        except (EOFError, socket.timeout, TimeoutError, ConnectionError) as e:
            r = {"error": type(e).__name__}
        say(received=got, result=r, seconds=round(time.monotonic() - t0, 2))
    elif mode == "trickle":               # KEYFILE LIMIT: a far sink run fed a byte every 0.2 s
        keyfile, limit = argv[4], float(argv[5])
        s = connect(host, port)
        greet(s, keyfile)
        send(s, run_msg("sink", 1 << 20, discard=True))
        token = recv(s, timeout=30)["token"]
        d = connect(host, port)
        d.sendall(token.encode())
        send(s, {"op": "go"})
        t0 = time.monotonic()
        s.settimeout(0.2)
        r = None
        while time.monotonic() - t0 < limit:
            try:
                d.sendall(b"x")
            except OSError:
                pass
            try:
                r = recv(s, timeout=0.2)
                break
            except (socket.timeout, TimeoutError):
                continue
            except (EOFError, ConnectionError) as e:
                r = {"error": type(e).__name__}
                break
        say(result=r, seconds=round(time.monotonic() - t0, 2))
    elif mode == "raw":                   # KEYFILE|- JSON: greet, send one message as given, print the answer
        s = connect(host, port)
        greet(s, None if argv[4] == "-" else argv[4])
        send(s, json.loads(argv[5]))
        say(reply=recv(s))
    elif mode == "vanish":                # KEYFILE PHASE: a driver that goes away before-data or mid-run
        keyfile, phase = argv[4], argv[5]
        s = connect(host, port)
        greet(s, None if keyfile == "-" else keyfile)
        send(s, run_msg("sink", 64 << 20))
        token = recv(s, timeout=30)["token"]
        if phase in ("mid-run", "data-first"):
            # 16 MiB of the 64: more than the socket buffers hold, so the daemon is reading when this returns.
            d = connect(host, port)
            d.sendall(token.encode())
            send(s, {"op": "go"})
            d.sendall(bytes(16 << 20))
        if phase == "data-first":
            # A killed driver's processes end one at a time: its data connection may close first, and
            # its control channel a moment later.
            d.close()
            time.sleep(0.5)
        s.close()                         # mid-run: the control channel only; the data connection stays open, idle
        print("vanished", flush=True)
        time.sleep(30)
    elif mode == "short":                 # KEYFILE: a driver that stays but sends 16 MiB of zeros of a 64 MiB run
        s = connect(host, port)
        greet(s, None if argv[4] == "-" else argv[4])
        send(s, run_msg("sink", 64 << 20))
        token = recv(s, timeout=30)["token"]
        d = connect(host, port)
        d.sendall(token.encode())
        send(s, {"op": "go"})
        d.sendall(bytes(16 << 20))
        d.close()                         # the stream ends short; the control channel waits for the verdict
        try:
            r = recv(s, timeout=60)
        except (EOFError, socket.timeout, TimeoutError, ConnectionError) as e:
            r = {"error": type(e).__name__}
        say(result=r)
    elif mode == "late-hello":            # KEYFILE: a hello that waited in the backlog while a run was read
        # The daemon reads a run message (A's) in the same turn as a connection (B's) waits on its port.
        # A's run accepts B on the way (B's first bytes are a frame: a control connection for later);
        # after A's run the daemon must not block in accept() on that turn's old readiness: B's hello
        # is answered.  Both wait while a third run (C's) holds the daemon in its transfer.
        keyfile = argv[4]
        a = connect(host, port)
        greet(a, keyfile)
        c = connect(host, port)
        greet(c, keyfile)
        send(c, run_msg("sink", 4 << 20, discard=True))
        dc = connect(host, port)
        dc.sendall(recv(c, timeout=30)["token"].encode())
        send(c, {"op": "go"})
        dc.sendall(bytes(1 << 20))         # the daemon is in C's transfer: it reads no message, accepts nothing
        send(a, run_msg("sink", 1 << 20, discard=True))
        b = connect(host, port)
        send(b, {"op": "hello", "version": 1})
        time.sleep(0.5)
        dc.sendall(bytes(3 << 20))
        dc.close()                         # the end of C's stream: the sink checks that nothing follows
        rc = recv(c, timeout=30)
        da = connect(host, port)
        da.sendall(recv(a, timeout=30)["token"].encode())
        send(a, {"op": "go"})
        da.sendall(bytes(1 << 20))
        da.close()
        ra = recv(a, timeout=30)
        t0 = time.monotonic()
        try:
            rb = recv(b, timeout=10)
        except (socket.timeout, TimeoutError):
            rb = None
        say(c=rc.get("op"), a=ra.get("op"), b=rb, seconds=round(time.monotonic() - t0, 2))
    else:
        sys.exit("unknown mode " + mode)

if __name__ == "__main__":
    main(sys.argv)
