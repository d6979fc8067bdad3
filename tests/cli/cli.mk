# tests/cli: the heapview CLI suite.  Host heaps come from mkdump (the real
# allocator on the host, linked -no-pie so the program is its own firmware
# ELF); target heaps from the Cortex-M3 scenario firmwares in QEMU
# (tests/firmware).  The fuzz harness runs over its corpus every time and
# under libFuzzer for a short while with FUZZ=1.

CLI_TEST_DIR   := $(BUILD)/tests/cli
MKDUMP_INSTR   := $(CLI_TEST_DIR)/mkdump-instr
MKDUMP_REL     := $(CLI_TEST_DIR)/mkdump-rel
CLI_FUZZ_REPLAY := $(CLI_TEST_DIR)/fuzz-replay
CLI_FUZZER     := $(CLI_TEST_DIR)/fuzz-heapview
FUZZ           ?= 0
FUZZ_SECONDS   ?= 20

$(MKDUMP_INSTR): tests/cli/mkdump.c $(LIB_INSTR_A)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -D_GNU_SOURCE -DUMM_INSTRUMENT $(LIB_INC) $(LDFLAGS) -no-pie $< $(LIB_INSTR_A) -lelf -lpthread -o $@
$(MKDUMP_REL): tests/cli/mkdump.c $(LIB_REL_A)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -D_GNU_SOURCE $(LIB_INC) $(LDFLAGS) -no-pie $< $(LIB_REL_A) -lelf -lpthread -o $@
$(CLI_FUZZ_REPLAY): tests/cli/fuzz_replay.c tests/cli/fuzz_heapview.c $(CLI_LIB_A)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(CLI_CFLAGS) $(LDFLAGS) tests/cli/fuzz_replay.c tests/cli/fuzz_heapview.c $(CLI_LIB_A) $(CLI_LIBS) -o $@

# libFuzzer build: clang, every core and source file instrumented.
$(CLI_FUZZER): tests/cli/fuzz_heapview.c $(CLI_CORE_SRCS) $(CLI_SOURCE_SRCS)
	@mkdir -p $(dir $@)
	$(Q)clang -std=c11 -O1 -g $(CLI_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    tests/cli/fuzz_heapview.c $(CLI_CORE_SRCS) $(CLI_SOURCE_SRCS) $(CLI_LIBS) -o $@

CLI_TEST_DEPS := $(HEAPVIEW) $(MKDUMP_INSTR) $(MKDUMP_REL) $(CLI_FUZZ_REPLAY)

TEST_SUITES += cli
test-cli: $(CLI_TEST_DEPS)
	@# The scenario firmwares (tests/firmware); their tests skip without them.
	-$(Q)$(MAKE) --no-print-directory firmware >/dev/null 2>&1
	$(Q)HEAPVIEW=$(abspath $(HEAPVIEW)) MKDUMP_INSTR=$(abspath $(MKDUMP_INSTR)) \
	    MKDUMP_REL=$(abspath $(MKDUMP_REL)) FUZZ_REPLAY=$(abspath $(CLI_FUZZ_REPLAY)) \
	    CLI_TEST_DIR=$(abspath $(CLI_TEST_DIR)) FW_DIR=$(abspath $(BUILD)/firmware) \
	    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/cli
ifeq ($(FUZZ),1)
	$(Q)$(MAKE) --no-print-directory fuzz-cli
endif

# A short libFuzzer run over a copy of the corpus (new inputs stay in the
# build tree).  Prints a `passed/failed` line for the test runner.
fuzz-cli: $(CLI_FUZZER)
	$(Q)rm -rf $(CLI_TEST_DIR)/fuzz-corpus && mkdir -p $(CLI_TEST_DIR)/fuzz-corpus && \
	    cp tests/cli/corpus/* $(CLI_TEST_DIR)/fuzz-corpus/ && \
	    if $(CLI_FUZZER) -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
	        $(CLI_TEST_DIR)/fuzz-corpus > $(CLI_TEST_DIR)/fuzz.log 2>&1; \
	    then tail -n 3 $(CLI_TEST_DIR)/fuzz.log; echo "fuzz-cli: 1 passed, 0 failed"; \
	    else tail -n 40 $(CLI_TEST_DIR)/fuzz.log; echo "fuzz-cli: 0 passed, 1 failed"; exit 1; fi

bench-cli: $(HEAPVIEW) $(MKDUMP_REL)
	$(Q)HEAPVIEW=$(abspath $(HEAPVIEW)) MKDUMP_REL=$(abspath $(MKDUMP_REL)) CLI_TEST_DIR=$(abspath $(CLI_TEST_DIR)) \
	    /usr/bin/python3 tests/cli/bench_cli.py

.PHONY: test-cli fuzz-cli bench-cli
