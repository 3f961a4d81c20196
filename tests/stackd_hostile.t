#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The root stackd against other local users and broken clients
# (docs/threat-model-stackd.md): only its owner (and a --group) reaches the
# control socket, by file mode and by the peer's credentials; a connection
# acts only on sockets it made or proved it holds (the fd itself, passed
# with SCM_RIGHTS); a shm ring's memfd cannot be shrunk or grown under
# stackd; a client holding half a request stalls no one; a forked child
# under the shim still reaches its parent's sockets; and the shim
# refuses an accept with EMFILE when its descriptors did not all arrive.
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_copylab

if [ "$(id -u)" -ne 0 ]; then
	skip_all "stackd needs root (a network namespace and /dev/net/tun)"
fi
export PATH=$PATH:/usr/sbin:/sbin
if [ ! -c /dev/net/tun ] || [ ! -r /usr/include/lwip/lwipopts.h ]; then
	[ -n "${COPYLAB_REQUIRE_TAP:-}" ] && bail_out "TUN/TAP or lwIP (liblwip-dev) is missing, and tap is required here"
	skip_all "no /dev/net/tun or no lwIP (Debian liblwip-dev; scripts/deps.sh installs it)"
fi
command -v python3 >/dev/null || skip_all "python3 is not installed (the test's clients)"
[ -r "$ROOT/libcopylab-stack.so" ] || bail_out "libcopylab-stack.so is not built (make)"

HOSTILE=$ROOT/tests/stackd_hostile.py
PEER=$ROOT/tests/userstack_peer.py
KADDR=10.214.0.1
LADDR=10.214.0.2
W=$TMP/w
mkdir -p "$W"
chmod 755 "$TMP" "$W"
SD_PIDS=()
PEER_PIDS=()
at_exit 'for p in "${PEER_PIDS[@]}"; do kill "$p" 2>/dev/null; done; for p in "${SD_PIDS[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.3; "$COPYLAB" cleanup >/dev/null 2>&1'

# start_stackd NAME [ARGS...]: stackd in the background; sets SD, NS, SOCK and SDERR.
start_stackd() {
	local name=$1
	shift
	SDERR=$W/stackd-$name.err
	"$COPYLAB" stackd --netns "$name" "$@" >"$W/stackd-$name.out" 2>"$SDERR" &
	SD=$!
	SD_PIDS+=("$SD")
	NS=copylab-$SD-$name
	SOCK=/run/copylab/copylab-$SD-$name.sock
	for _ in $(seq 100); do
		[ -S "$SOCK" ] && return 0
		kill -0 "$SD" 2>/dev/null || break
		sleep 0.1
	done
	diag_file "$SDERR"
	return 1
}

# as_nobody CMD...: CMD as user nobody, group nogroup, no supplementary groups.
as_nobody() { setpriv --reuid nobody --regid nogroup --clear-groups "$@"; }

# A python nobody may run (root's own may live under /root).
NPY=""
for p in /usr/bin/python3 /usr/local/bin/python3; do
	[ -x "$p" ] && as_nobody "$p" -c 'pass' 2>/dev/null && { NPY=$p; break; }
done

expect_usage_error "stackd --group with a group that does not exist is a usage error" \
	"--group no-such-group-x: no such group" stackd --netns g1 --group no-such-group-x

STACK=sh$$
start_stackd "$STACK" || bail_out "stackd did not start"
OWNER_SD=$SD OWNER_NS=$NS OWNER_SOCK=$SOCK OWNER_ERR=$SDERR
is "$(stat -c '%a %U' "$SOCK")" "600 root" "without --group the control socket is mode 600, owned by the user who started stackd"

python3 "$HOSTILE" socket "$SOCK" ipc >"$W/own.out" 2>&1
check "the owner gets a socket" grep -q "^socket ok" "$W/own.out"

if [ -n "$NPY" ]; then
	as_nobody "$NPY" "$HOSTILE" socket "$SOCK" ipc >"$W/nobody.out" 2>&1
	check "user nobody cannot connect to the mode-600 control socket" grep -q "^connect EACCES" "$W/nobody.out"
	diag_file "$W/nobody.out" 2
	# The file mode is one wall; the peer's credentials are the other (a socket made world-writable by mistake).
	chmod 666 "$SOCK"
	as_nobody "$NPY" "$HOSTILE" socket "$SOCK" ipc >"$W/nobody.out" 2>&1
	if grep -q "^socket refused EACCES" "$W/nobody.out"; then
		pass "user nobody is refused with EACCES by its credentials (SO_PEERCRED) even through a mode-666 socket"
	else
		fail "user nobody is refused with EACCES by its credentials (SO_PEERCRED) even through a mode-666 socket"
		diag_file "$W/nobody.out" 3
	fi
	check "stackd logs the refused uid" grep -q "refused a control connection from uid 65534" "$SDERR"
	chmod 600 "$SOCK"
	as_nobody "$COPYLAB" stack --socket "$SOCK" -- true >"$W/stack.out" 2>"$W/stack.err"
	rc=$?
	if [ "$rc" -eq 1 ] && grep -q "Permission denied" "$W/stack.err" && grep -q -- "--group" "$W/stack.err"; then
		pass "copylab stack as another user fails with a sentence naming --group (exit 1)"
	else
		fail "copylab stack as another user fails with a sentence naming --group (exit 1)"
		diag "exit $rc"; diag_file "$W/stack.err" 3
	fi
	# --group: that group's members are let in, by file mode and by credentials.
	start_stackd "g$$" --group nogroup || fail "stackd --group nogroup starts"
	is "$(stat -c '%a %G' "$SOCK")" "660 nogroup" "with --group nogroup the control socket is mode 660, group nogroup"
	as_nobody "$NPY" "$HOSTILE" socket "$SOCK" shm >"$W/nobody.out" 2>&1
	check "a member of --group's group gets a socket" grep -q "^socket ok" "$W/nobody.out"
	diag_file "$W/nobody.out" 2
	kill -TERM "$SD"
	timeout 10 tail --pid="$SD" -f /dev/null
else
	skip "no python3 that user nobody may run" "the second-uid tests"
fi
SD=$OWNER_SD NS=$OWNER_NS SOCK=$OWNER_SOCK SDERR=$OWNER_ERR

# Sockets belong to the connection that made them, or to one that proves it holds the fd.
python3 "$HOSTILE" cross "$SOCK" >"$W/cross.out" 2>&1
for op in bind listen name setopt getopt connect; do
	if grep -Eq "^other $op (EPERM|EBADF)$" "$W/cross.out"; then
		pass "a request ($op) naming another connection's socket id is refused"
	else
		fail "a request ($op) naming another connection's socket id is refused"
		diag "$(grep "^other $op" "$W/cross.out")"
	fi
done
check "stackd logs a request for a socket the connection does not hold" grep -q "does not hold socket" "$SDERR"
if grep -q "^other lookup-by-inode found" "$W/cross.out"; then
	fail "US_LOOKUP by inode alone finds no socket (the fd itself must come with it)"
else
	pass "US_LOOKUP by inode alone finds no socket (the fd itself must come with it)"
fi
check "US_LOOKUP with the fd itself (SCM_RIGHTS) finds the socket" grep -q "^other lookup-with-fd found" "$W/cross.out"
check "after that proof the other connection may act on it" grep -q "^other setopt-after-proof OK" "$W/cross.out"
check "the connection that made it still may" grep -q "^owner setopt OK" "$W/cross.out"
diag_file "$W/cross.out" 12

# Under the shim a forked child's control connection proves it holds its parent's socket (EPERM, US_LOOKUP, again).
for path in ipc shm; do
	if userstack_peer "$NS" 30 serve-sink "$W/port" /dev/null "$KADDR"; then
		timeout 30 "$COPYLAB" stack --socket "$SOCK" --path "$path" -- python3 "$HOSTILE" fork-names "$KADDR" "$PORT" >"$W/fork.out" 2>&1
		rc=$?
		wait "$SP"
		if [ "$rc" -eq 0 ] && grep -q "^child peer $KADDR:$PORT$" "$W/fork.out" && grep -q "^child nodelay 1$" "$W/fork.out"; then
			pass "$path: a forked child asks for its parent's socket's names and options"
		else
			fail "$path: a forked child asks for its parent's socket's names and options"
			diag "exit $rc"; diag_file "$W/fork.out" 4
		fi
	else
		fail "$path: a forked child asks for its parent's socket's names and options (no peer)"
	fi
done

# A memfd shrunk under stackd's mapping would SIGBUS it: the seals refuse that.
userstack_peer "$NS" 60 serve-source "$W/port" - "$KADDR" 1 slow
python3 "$HOSTILE" truncate "$SOCK" "$KADDR" "$PORT" >"$W/trunc.out" 2>&1
check "shrinking a ring's memfd is refused (F_SEAL_SHRINK)" grep -q "^truncate refused EPERM" "$W/trunc.out"
check "growing a ring's memfd is refused (F_SEAL_GROW)" grep -q "^grow refused EPERM" "$W/trunc.out"
check "stackd still runs after a client tried to truncate its ring" kill -0 "$SD"
check "stackd's namespace is still there" test -e "/run/netns/$NS"
kill "$SP" 2>/dev/null
diag_file "$W/trunc.out" 4
head -c 1048577 /dev/urandom >"$W/in.bin"
if userstack_peer "$NS" 60 serve-sink "$W/port" "$W/sink.bin" "$KADDR"; then
	timeout 30 "$COPYLAB" stack --socket "$SOCK" --path shm -- python3 "$PEER" send "$KADDR" "$PORT" "$W/in.bin" >"$W/c.out" 2>&1
	wait "$SP"
fi
check "and still moves 1 MiB + 1 byte-exact afterwards" cmp -s "$W/in.bin" "$W/sink.bin"

# Clients holding one byte of a request each, reopened whenever stackd drops one.
python3 "$HOSTILE" partial "$SOCK" 4 90 >"$W/partial.out" 2>&1 &
PP=$!
PEER_PIDS+=("$PP")
head -c 16777216 /dev/urandom >"$W/in.bin"
rm -f "$W/sink.bin"
ok_partial=1
if userstack_peer "$NS" 90 serve-sink "$W/port" "$W/sink.bin" "$KADDR"; then
	# Alone this takes well under a second: 30 s is a bound for a stalled stackd, not a timing.
	timeout 30 "$COPYLAB" stack --socket "$SOCK" --path ipc -- python3 "$PEER" send "$KADDR" "$PORT" "$W/in.bin" >"$W/c.out" 2>&1 || ok_partial=0
	kill "$SP" 2>/dev/null
	wait "$SP" 2>/dev/null
fi
if [ "$ok_partial" -eq 1 ] && cmp -s "$W/in.bin" "$W/sink.bin"; then
	pass "a transfer completes while other clients hold partial requests"
else
	fail "a transfer completes while other clients hold partial requests"
	diag "sent $(stat -c %s "$W/in.bin"), received $(stat -c %s "$W/sink.bin" 2>/dev/null)"; diag_file "$W/c.out" 3
fi
kill "$PP" 2>/dev/null
wait "$PP" 2>/dev/null
check "stackd still runs after the partial requests" kill -0 "$SD"

# The shim at its descriptor limit: an accept whose memfd could not be received is refused with EMFILE.
rm -f "$W/lport"
timeout 60 prlimit --nofile=64:64 "$COPYLAB" stack --socket "$SOCK" --path shm -- \
	python3 "$HOSTILE" accept-limit "$W/lport" >"$W/limit.out" 2>&1 &
LP=$!
for _ in $(seq 100); do [ -s "$W/lport" ] && break; sleep 0.05; done
if [ -s "$W/lport" ]; then
	LPORT=$(cat "$W/lport")
	for i in 1 2; do
		timeout 30 ip netns exec "$NS" python3 "$HOSTILE" connect-send "$LADDR" "$LPORT" hello >/dev/null 2>&1 &
		PEER_PIDS+=("$!")
	done
fi
wait "$LP"
rc=$?
is "$rc" 0 "the shimmed program at its descriptor limit does not crash"
check "its accept with one descriptor free fails with EMFILE" grep -q "^first accept EMFILE" "$W/limit.out"
check "its next accept, with room, works and reads the peer's bytes" grep -q "^second accept ok hello" "$W/limit.out"
diag_file "$W/limit.out" 3

kill -TERM "$SD"
timeout 10 tail --pid="$SD" -f /dev/null
check "no namespace left after SIGTERM" test ! -e "/run/netns/$NS"
done_testing
