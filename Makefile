# SPDX-License-Identifier: MIT
# copylab: `make` builds ./copylab; `make test` runs the tests; `make bench`
# installs what is missing, builds, runs the default matrix and writes
# results and charts.  Build outputs go to build/ (ignored by git).

CC      ?= gcc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wshadow -D_GNU_SOURCE
GIT_REV := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
CPPFLAGS += -DCOPYLAB_GIT_REV='"$(GIT_REV)"' -I.
LDLIBS  += -lxxhash -ljansson -lm

BUILD   := build
LIB_SRC := $(filter-out harness/main.c,$(wildcard harness/*.c)) $(wildcard strategies/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/harness/main.o
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.DELETE_ON_ERROR:
.PHONY: all test unit bench bench-quick deps clean

all: copylab

copylab: $(LIB_OBJ) $(MAIN_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

unit: $(UNIT_BIN)

# The test runner applies a timeout to every test and ends with
# "N passed, N failed, N skipped".
test: deps copylab unit
	tests/run.sh

bench: deps copylab
	./copylab bench

bench-quick: deps copylab
	./copylab bench --quick

deps:
	@scripts/deps.sh

clean:
	rm -rf $(BUILD) copylab

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d)
