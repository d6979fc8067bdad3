# heapview top-level build.  Each part of the tree owns a fragment (lib/lib.mk,
# cli/cli.mk, tests/*.mk, ...) that adds its targets and registers its test
# suites in TEST_SUITES; `make test` runs every suite through
# scripts/run-tests.sh, which prints the closing `N passed, N failed` line.

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc
V       ?= 0
Q       := $(if $(filter 1,$(V)),,@)

# Warnings are errors everywhere a test builds; WERROR=0 relaxes it by hand.
WERROR  ?= 1
WARN    := -Wall -Wextra -Wshadow -Wpointer-arith -Wcast-align -Wstrict-prototypes \
           -Wmissing-prototypes -Wundef -Wconversion -Wno-sign-conversion -Wvla \
           -Wformat=2 -Wimplicit-fallthrough
ifeq ($(WERROR),1)
WARN    += -Werror
endif
OPT     ?= -O2 -g
CFLAGS  ?=
CFLAGS  += -std=c11 $(OPT) $(WARN) -MMD -MP
# SANITIZE=address,undefined builds everything with those sanitizers.
SANITIZE ?=
ifneq ($(SANITIZE),)
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif

TEST_SUITES :=
ALL_TARGETS :=

.PHONY: all test bench demo size install uninstall clean deps
all: build-all

# lib/ first: every other fragment builds on its LIB_* variables.
include $(sort $(wildcard lib/*.mk))
include $(sort $(wildcard cli/*.mk cli/*/*.mk gdb/*.mk tests/*.mk tests/*/*.mk bench/*.mk scripts/*.mk))

build-all: $(ALL_TARGETS)
.PHONY: build-all

deps:
	$(Q)scripts/deps.sh build

# Every registered suite runs even when an earlier one fails; the summary
# line and the exit status come from scripts/run-tests.sh.
test:
	$(Q)scripts/deps.sh test
	$(Q)scripts/run-tests.sh $(TEST_SUITES)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# `make bench` also runs every part's own benchmark (each defined in its fragment).
bench: bench-cli bench-live bench-gdb
