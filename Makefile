# SPDX-License-Identifier: MIT
# copylab: `make` builds ./copylab; `make test` runs the tests; `make bench`
# installs what is missing, builds, runs the default matrix and writes
# results and charts.  Build outputs go to build/ (ignored by git).

CC      ?= gcc
CFLAGS  ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wshadow -D_GNU_SOURCE
GIT_REV := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
CPPFLAGS += -DCOPYLAB_GIT_REV='"$(GIT_REV)"' -I.
LDLIBS  += -lxxhash -ljansson -lcrypto -lm

BUILD   := build
# harness/ is in folders by responsibility (docs/architecture.md names each);
# every .c below it but main.c and the BPF programs goes into the library
# that the binary, the unit tests and the fuzz targets link.
LIB_SRC := $(filter-out harness/cli/main.c %.bpf.c,$(wildcard harness/*/*.c harness/*/*/*.c)) \
	   $(filter-out %.bpf.c,$(wildcard strategies/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/harness/cli/main.o
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

# BPF probes are built when clang, bpftool, libbpf and the running kernel's
# BTF are all there; otherwise copylab builds without them and every record
# says why its ledger is missing.
BPF_STATE := $(shell scripts/bpf-buildable.sh)
ifeq ($(BPF_STATE),yes)
CPPFLAGS += -DHAVE_BPF -I$(BUILD)/bpf
LDLIBS   += -lbpf -lelf -lz
BPF_SRC   := $(wildcard harness/measure/bpf/*.bpf.c strategies/*.bpf.c)
BPF_SKELS := $(patsubst %.bpf.c,$(BUILD)/bpf/%.skel.h,$(notdir $(BPF_SRC)))
else
CPPFLAGS += -DBPF_UNAVAILABLE='"$(BPF_STATE)"'
BPF_SKELS :=
endif

# io_uring strategies need liburing; without it they build as refusals that
# say so (copylab list shows why).
ifneq ($(wildcard /usr/include/liburing.h),)
CPPFLAGS += -DHAVE_LIBURING
LDLIBS   += -luring
endif

# The AF_XDP frame port (harness/net/xsk_port.c) needs libxdp (and
# libbpf); without it the port builds as a refusal that says so.
ifneq ($(wildcard /usr/include/xdp/xsk.h),)
CPPFLAGS += -DHAVE_LIBXDP
LDLIBS   += -lxdp -lbpf -lelf -lz
endif

# The LD_PRELOAD tracer: counts copies in any unmodified program, no root.
TRACER := libcopytrace.so

# The user-space TCP stack (copylab stackd) needs lwIP (Debian liblwip-dev);
# without it stackd says so.  Only userstack/ objects see lwIP's headers:
# its TCP_MSS and glibc's differ (docs/strategies/userstack.md).
ifneq ($(wildcard /usr/include/lwip/lwipopts.h),)
CPPFLAGS += -DHAVE_LWIP
LDLIBS   += -llwip -lpthread
LIB_SRC  += userstack/stackd_lwip.c userstack/netif_tap.c userstack/netif_xdp.c
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
$(BUILD)/userstack/%.o: CPPFLAGS += -I/usr/include/lwip
endif
# The shim: LD_PRELOAD into any program, its IPv4 TCP sockets through stackd.
STACK_SHIM := libcopylab-stack.so

.DELETE_ON_ERROR:
.PHONY: all test unit bench bench-quick claims deps clean test-sanitize

all: copylab $(TRACER) $(STACK_SHIM)

COPYLAB_BIN ?= copylab
# The sanitizer build puts its binary elsewhere; `copylab` then names it.
ifneq ($(COPYLAB_BIN),copylab)
.PHONY: copylab
copylab: $(COPYLAB_BIN)
endif
$(COPYLAB_BIN): $(LIB_OBJ) $(MAIN_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/bpf/vmlinux.h:
	@mkdir -p $(dir $@)
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > $@

# A strategy that needs a BPF program (sockmap) keeps its NAME.bpf.c in
# strategies/, as the probes keep theirs in harness/measure/bpf/.
vpath %.bpf.c harness/measure/bpf strategies
$(BUILD)/bpf/%.bpf.o: %.bpf.c $(wildcard harness/measure/bpf/*.h strategies/*.h) $(BUILD)/bpf/vmlinux.h
	clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -I$(BUILD)/bpf -I. -c -o $@ $<

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	bpftool gen skeleton $< > $@

# User objects that include a skeleton wait for it.
$(LIB_OBJ) $(MAIN_OBJ): | $(BPF_SKELS)

$(TRACER): $(wildcard tracer/*.c tracer/*.h)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -shared -o $@ $(filter %.c,$^) -ldl

$(STACK_SHIM): userstack/shim.c userstack/proto.h userstack/shm_ring.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -shared -o $@ userstack/shim.c -ldl -lpthread

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

unit: $(UNIT_BIN)


# The test runner applies a timeout to every test and ends with
# "N passed, N failed, N skipped".
# deps first, then a fresh make: what deps installs (clang, bpftool) decides
# how the rest is built, and a make reads that only when it starts.
test:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory all unit
	tests/run.sh

# The sanitizer run: ASan + UBSan (+ LeakSanitizer, part of ASan here) on
# its own build tree, over the unit tests and the byte-exact, CLI, schema,
# negative, partial-transfer, fault and parallel-connection tests at sizes up
# to 1 MiB + 1.  The
# LD_PRELOAD tracer is not in it: an ASan library cannot be preloaded into
# uninstrumented programs (NOTES), so trace and crosscheck stay out.
SAN_BUILD := $(BUILD)/san
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SAN_TESTS := test_|cli|schema|negative|partial|matrix|faults|sweep|nat|zcrecv|^xdp\.t|conns
test-sanitize:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory BUILD=$(SAN_BUILD) COPYLAB_BIN=$(SAN_BUILD)/copylab \
		CFLAGS="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" $(SAN_BUILD)/copylab unit
	COPYLAB=$(SAN_BUILD)/copylab UNIT_DIR=$(SAN_BUILD)/tests MATRIX_SIZES="0 1 4095 4096 4097 65535 65537 1048577" NAT_SIZES="0 1 4097 1048577" \
		ZCRECV_SIZES="0 1 4095 4096 4097 65535 65537 1048577" \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/run.sh '$(SAN_TESTS)'

# The whole claims ledger at full size (256 MiB cells, 8 repetitions, more up
# to 15 where a ratio is undecided): minutes, not for make test.  Run it as
# root on a quiet machine; its claims.md is what docs/claims.md shows.
CLAIMS_DIR ?= results/claims-$(shell date -u +%Y%m%d-%H%M%S)
claims:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory all
	./copylab claims --out $(CLAIMS_DIR)

BENCH_DIR ?= results/bench-$(shell date -u +%Y%m%d-%H%M%S)
bench:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory all
	./copylab bench --out $(BENCH_DIR)
	scripts/plot.sh $(BENCH_DIR)

bench-quick:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory all
	./copylab bench --quick --out $(BENCH_DIR)
	scripts/plot.sh $(BENCH_DIR)

deps:
	@scripts/deps.sh

clean:
	rm -rf $(BUILD) copylab $(TRACER) $(STACK_SHIM)

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d)

# Fuzzing (libFuzzer): fuzz-build, fuzz (long runs), fuzz-replay (the corpus, in make test).
-include tests/fuzz/fuzz.mk
