# tests/tui: `heapview tui` driven in a pseudo-terminal (tmux, a private
# server per test run) against RAM captures of the scenario firmwares
# (tests/firmware) and, live, against QEMU's gdbstub running a firmware
# whose heap keeps changing (churn_fw.c).
#
#   make test-tui                 the suite
#   make tui-golden               rewrite tests/tui/golden/ from the current binary
include cli/tui/tui.mk

TUI_TEST_DIR := $(BUILD)/tests/tui
TUI_CHURN_FW := $(TUI_TEST_DIR)/churn_fw.elf
TUI_DUMP_FWS := sc-healthy sc-overrun sc-header-smash sc-two-heaps
TUI_DUMPS    := $(foreach n,$(TUI_DUMP_FWS),$(FW_DIR)/dumps/$n/$n.json)

$(TUI_TEST_DIR)/churn_fw.o: tests/tui/churn_fw.c
	@mkdir -p $(dir $@)
	$(Q)$(FW_CC) $(FW_CFLAGS) -DUMM_INSTRUMENT -c $< -o $@
$(TUI_CHURN_FW): $(TUI_TEST_DIR)/churn_fw.o $(FW_COMMON_OBJS) $(FW_LIB_INSTR) $(FW_SRC)/cm3.ld
	$(Q)$(FW_CC) $(FW_LDFLAGS) $(filter %.o,$^) -o $@

TUI_TEST_ENV = HEAPVIEW=$(abspath $(HEAPVIEW)) FW_DIR=$(abspath $(FW_DIR)) \
	TUI_CHURN_FW=$(abspath $(TUI_CHURN_FW)) TUI_TEST_DIR=$(abspath $(TUI_TEST_DIR)) \
	TUI_MKDUMP=$(if $(MKDUMP_REL),$(abspath $(MKDUMP_REL)))

TEST_SUITES += tui
# mkdump (tests/cli) makes the large host heap for the 64-bit address test.
test-tui: $(HEAPVIEW) $(TUI_DUMPS) $(TUI_CHURN_FW) $(MKDUMP_REL)
	$(Q)$(TUI_TEST_ENV) timeout 300 /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/tui

tui-golden: $(HEAPVIEW) $(TUI_DUMPS)
	$(Q)$(TUI_TEST_ENV) /usr/bin/python3 tests/tui/regen_golden.py

.PHONY: test-tui tui-golden
