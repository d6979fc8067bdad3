# tests/live: heapview's live memory sources (GDB remote, OpenOCD Tcl RPC)
# against real peers: QEMU's gdbstub, OpenOCD 0.12 on a simulated JTAG wire,
# and small fault-injecting fake servers.

LIVE_DIR     := $(BUILD)/live
LIVE_SRCS    := cli/source/net.c cli/source/source_live.c cli/source/source_gdb.c \
                cli/source/source_openocd.c
LIVE_OBJS    := $(LIVE_SRCS:%.c=$(LIVE_DIR)/obj/%.o)
LIVE_PROBE   := $(LIVE_DIR)/live-probe
LIVE_MINI_FW := $(LIVE_DIR)/mini_fw.elf
LIVE_PYTHON  := /usr/bin/python3

$(LIVE_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Icli/source -c $< -o $@

$(LIVE_PROBE): $(LIVE_DIR)/obj/tests/live/live_probe.o $(LIVE_OBJS)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@

# The protocol fuzz harness as a replay driver, plain and with sanitizers.
LIVE_FUZZ      := $(LIVE_DIR)/fuzz-live
LIVE_FUZZ_SAN  := $(LIVE_DIR)/fuzz-live-san
$(LIVE_FUZZ): $(LIVE_DIR)/obj/tests/live/fuzz_live.o $(LIVE_OBJS)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@
$(LIVE_FUZZ_SAN): tests/live/fuzz_live.c $(LIVE_SRCS) $(wildcard cli/source/*.h)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(filter-out -MMD -MP,$(CFLAGS)) -fsanitize=address,undefined \
	    -fno-sanitize-recover=all -fno-omit-frame-pointer -Icli/source \
	    tests/live/fuzz_live.c $(LIVE_SRCS) -o $@

$(LIVE_MINI_FW): tests/live/mini_fw.c tests/live/mini_fw.ld
	@mkdir -p $(dir $@)
	$(Q)arm-none-eabi-gcc -mcpu=cortex-m3 -mthumb -O2 -g -Wall -Wextra -Werror \
	    -nostdlib -nostartfiles -T tests/live/mini_fw.ld tests/live/mini_fw.c -o $@

ALL_TARGETS += $(LIVE_PROBE) $(LIVE_FUZZ)
TEST_SUITES += live

# The heap firmwares come from tests/firmware/firmware.mk.
LIVE_FW_ELFS := $(filter %/sc-healthy.elf %/sc-two-heaps.elf %/sc-fragmented.elf %/sc-wide.elf,$(FW_SCENARIO_ELFS))
# `heapview watch` needs a target whose heap keeps changing: the TUI tests' churn firmware
# (its rule is in tests/tui/tui.mk, read after this file).
LIVE_CHURN_FW := $(BUILD)/tests/tui/churn_fw.elf

.PHONY: test-live bench-live
test-live: $(LIVE_PROBE) $(LIVE_MINI_FW) $(LIVE_FW_ELFS) $(LIVE_CHURN_FW) $(LIVE_FUZZ) $(LIVE_FUZZ_SAN) $(HEAPVIEW)
	$(Q)LIVE_PROBE=$(abspath $(LIVE_PROBE)) LIVE_MINI_FW=$(abspath $(LIVE_MINI_FW)) \
	    LIVE_HEAPVIEW=$(abspath $(HEAPVIEW)) LIVE_CHURN_FW=$(abspath $(LIVE_CHURN_FW)) \
	    LIVE_FUZZ="$(abspath $(LIVE_FUZZ)) $(abspath $(LIVE_FUZZ_SAN))" \
	    LIVE_BUILD=$(abspath $(LIVE_DIR)) LIVE_FW_DIR=$(abspath $(FW_DIR)) \
	    timeout 600 $(LIVE_PYTHON) -m pytest -q -p no:cacheprovider tests/live

bench-live: $(LIVE_PROBE) $(LIVE_MINI_FW)
	$(Q)LIVE_PROBE=$(abspath $(LIVE_PROBE)) LIVE_MINI_FW=$(abspath $(LIVE_MINI_FW)) \
	    LIVE_BUILD=$(abspath $(LIVE_DIR)) $(LIVE_PYTHON) tests/live/bench_live.py
