#!/bin/sh
# SPDX-License-Identifier: MIT
# Prints "yes" when the BPF probes can be built here, otherwise the reason
# (it becomes the record's note on why the ledger is missing).
if [ ! -r /sys/kernel/btf/vmlinux ]; then echo "no /sys/kernel/btf/vmlinux: the kernel has no BTF for CO-RE"; exit 0; fi
command -v clang >/dev/null 2>&1 || { echo "clang not found (make deps installs it)"; exit 0; }
command -v bpftool >/dev/null 2>&1 || [ -x /usr/sbin/bpftool ] || { echo "bpftool not found (make deps installs it)"; exit 0; }
[ -r /usr/include/bpf/libbpf.h ] || { echo "libbpf headers not found (libbpf-dev)"; exit 0; }
echo yes
