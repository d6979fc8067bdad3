# `make demo`: builds the demo firmware (tests/firmware/demo.c, release
# allocator), runs it in QEMU (mps2-an385, Cortex-M3) with a timeout and
# shows its output; at its checkpoint the RAM is captured (gdb, QMP
# pmemsave, QMP dump-guest-memory) into $(DEMO_DUMP_DIR), and heapview
# reports on the gdb capture with the firmware's ELF.  The firmware rules are in tests/firmware/firmware.mk.
DEMO_TIMEOUT  ?= 20
DEMO_DUMP_DIR := $(BUILD)/firmware/demo-dump

demo:
	$(Q)scripts/deps.sh demo
	$(Q)$(MAKE) -s --no-print-directory $(FW_DEMO_ELF) $(HEAPVIEW)
	$(Q)scripts/qemu-dump.sh $(FW_DEMO_ELF) --out $(DEMO_DUMP_DIR) --checkpoint 1 \
		--timeout $(DEMO_TIMEOUT)
	@echo
	@echo '$$ heapview $(DEMO_DUMP_DIR)/demo.cp1.gdb.bin $(FW_DEMO_ELF)'
	$(Q)$(HEAPVIEW) $(DEMO_DUMP_DIR)/demo.cp1.gdb.bin $(FW_DEMO_ELF)
