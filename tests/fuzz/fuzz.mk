# SPDX-License-Identifier: MIT
# Fuzzing with libFuzzer (clang), included by the Makefile.
#   make fuzz-build    the targets, build/fuzz/fuzz_NAME, with ASan + UBSan
#   make fuzz          each target for FUZZ_SECONDS (600) on its corpus;
#                      crashes land in tests/fuzz/regress/NAME/
#   make fuzz-replay   each target over its corpus and regress inputs once
#                      (fast; tests/fuzz.t runs it in make test)
#   make fuzz-merge    fold what `make fuzz` found (build/fuzz/corpus/NAME)
#                      into the kept corpus, minimised
# The library is compiled again for fuzzing, with clang, into build/fuzz/
# (an archive: each target links only the objects it needs).

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 600
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_NAMES   := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_DIR)/%)
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer -std=gnu11 -D_GNU_SOURCE -Wall -Wno-unused-parameter \
		-fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_OBJ     := $(LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_LIB     := $(FUZZ_DIR)/libcopylab-fuzz.a
# Longest input per target: http must pass HTTP_MAX_HEAD (8192) to reach 431.
FUZZ_MAXLEN_fuzz_options      := 256
FUZZ_MAXLEN_fuzz_http         := 9000
FUZZ_MAXLEN_fuzz_results_read := 8192
# control: real messages are under 1 KiB; 4096 leaves room for nesting and padding.
FUZZ_MAXLEN_fuzz_control      := 4096
# stackd_req: chunking bytes, then a stream of a few dozen 40-byte requests.
FUZZ_MAXLEN_fuzz_stackd_req   := 2048
# shm_ring: a script of ring operations and hostile head/tail/state writes.
FUZZ_MAXLEN_fuzz_shm_ring     := 1024
# addresses: past ev_parse_addr's 128-byte host and the callers' 256-byte one.
FUZZ_MAXLEN_fuzz_ev_parse_addr  := 300
FUZZ_MAXLEN_fuzz_split_hostport := 400
FUZZ_SPECS   := $(foreach n,$(FUZZ_NAMES),$(n):$(or $(FUZZ_MAXLEN_$(n)),4096))
FUZZ_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: fuzz-build fuzz fuzz-replay fuzz-merge

fuzz-build: $(FUZZ_BINS)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_OBJ): | $(BPF_SKELS)
# lwIP's own headers include their neighbours from /usr/include/lwip, as in the Makefile.
$(FUZZ_DIR)/obj/userstack/%.o: CPPFLAGS += -I/usr/include/lwip

$(FUZZ_LIB): $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(LDLIBS)

# Long runs: new inputs go to build/fuzz/corpus/NAME (not to git), seeded
# by the kept corpus; a crash's input is written to tests/fuzz/regress/NAME/.
fuzz: fuzz-build
	@set -e; for spec in $(FUZZ_SPECS); do n=$${spec%%:*} max=$${spec#*:}; \
		mkdir -p $(FUZZ_DIR)/corpus/$$n tests/fuzz/regress/$$n; \
		echo "== $$n: $(FUZZ_SECONDS) s"; \
		$(FUZZ_ENV) $(FUZZ_DIR)/$$n -max_total_time=$(FUZZ_SECONDS) -max_len=$$max \
			-print_final_stats=1 -artifact_prefix=tests/fuzz/regress/$$n/ \
			$(FUZZ_DIR)/corpus/$$n tests/fuzz/corpus/$$n >$(FUZZ_DIR)/$$n.log 2>&1 || \
			{ grep -E 'ERROR|SUMMARY|Test unit written' $(FUZZ_DIR)/$$n.log; \
			  echo "$$n: crash; input in tests/fuzz/regress/$$n/, log $(FUZZ_DIR)/$$n.log"; exit 1; }; \
		grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)' $(FUZZ_DIR)/$$n.log; \
	done

# Every kept input once (no mutation): a crash fixed once stays fixed.
fuzz-replay: fuzz-build
	@set -e; for spec in $(FUZZ_SPECS); do n=$${spec%%:*} max=$${spec#*:}; \
		mkdir -p tests/fuzz/regress/$$n; \
		$(FUZZ_ENV) $(FUZZ_DIR)/$$n -runs=0 \
			tests/fuzz/corpus/$$n tests/fuzz/regress/$$n >$(FUZZ_DIR)/$$n.replay.log 2>&1 || \
			{ echo "$$n: FAILED on a kept input (log $(FUZZ_DIR)/$$n.replay.log)"; tail -n 30 $(FUZZ_DIR)/$$n.replay.log; exit 1; }; \
		echo "$$n: $$(ls tests/fuzz/corpus/$$n tests/fuzz/regress/$$n | grep -vc -e '^$$' -e ':$$') inputs replayed, no crash"; \
	done

fuzz-merge: fuzz-build
	@for spec in $(FUZZ_SPECS); do n=$${spec%%:*} max=$${spec#*:}; \
		mkdir -p $(FUZZ_DIR)/corpus/$$n; \
		$(FUZZ_DIR)/$$n -merge=1 -max_len=$$max tests/fuzz/corpus/$$n $(FUZZ_DIR)/corpus/$$n; \
	done

-include $(FUZZ_OBJ:.o=.d)
