# `make demo`: builds the demo firmware (tests/firmware/demo.c, release
# allocator), runs it in QEMU (mps2-an385, Cortex-M3) with a timeout and
# shows its output; at its checkpoint the RAM is captured (gdb, QMP
# pmemsave, QMP dump-guest-memory) into $(DEMO_DUMP_DIR), ready for
# heapview.  The firmware rules are in tests/firmware/firmware.mk.
DEMO_TIMEOUT  ?= 20
DEMO_DUMP_DIR := $(BUILD)/firmware/demo-dump

demo:
	$(Q)scripts/deps.sh demo
	$(Q)$(MAKE) -s --no-print-directory $(FW_DEMO_ELF)
	$(Q)scripts/qemu-dump.sh $(FW_DEMO_ELF) --out $(DEMO_DUMP_DIR) --checkpoint 1 \
		--timeout $(DEMO_TIMEOUT)
