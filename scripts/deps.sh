#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages copylab needs, when they are missing.  As
# root it runs apt-get; otherwise it names what is missing and how to get it.
set -euo pipefail

# header-or-command  package   (why: see README.md, "Dependencies")
need=(
	"/usr/include/xxhash.h libxxhash-dev"
	"/usr/include/jansson.h libjansson-dev"
	"/usr/include/openssl/hmac.h libssl-dev"
	"/usr/include/cmocka.h libcmocka-dev"
	"cmd:gcc gcc"
	"cmd:make make"
	"cmd:jq jq"
	"cmd:gnuplot gnuplot-nox"
	"cmd:timeout coreutils"
	"cmd:perf linux-perf"
	"cmd:hyperfine hyperfine"
	"cmd:xxhsum xxhash"
	"cmd:chromium chromium"
	"cmd:wrk wrk"
	"cmd:iperf3 iperf3"
	"cmd:socat socat"
	"cmd:nginx nginx-light"
	"cmd:haproxy haproxy"
	"cmd:bc bc"
	"cmd:ip iproute2"
	"cmd:python3 python3"
	"/usr/sbin/nft nftables"
	"cmd:clang clang"
	"cmd:llvm-strip llvm"
	"/usr/sbin/bpftool bpftool"
	"/usr/include/bpf/libbpf.h libbpf-dev"
	"/usr/include/libelf.h libelf-dev"
	"/usr/include/zlib.h zlib1g-dev"
	"/usr/include/liburing.h liburing-dev"
	"/usr/include/lwip/lwipopts.h liblwip-dev"
	"/usr/include/xdp/xsk.h libxdp-dev"
	"/usr/lib/debug/.build-id libc6-dbg"
)

missing=()
for entry in "${need[@]}"; do
	what=${entry% *} pkg=${entry#* }
	case $what in
	cmd:*) command -v "${what#cmd:}" >/dev/null 2>&1 || missing+=("$pkg") ;;
	*)     [ -e "$what" ] || missing+=("$pkg") ;;
	esac
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "copylab: missing Debian packages: ${missing[*]}" >&2
	echo "copylab: install them as root: apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "copylab: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
