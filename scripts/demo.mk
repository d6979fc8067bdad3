# `make demo`: builds the demo firmware (tests/firmware/demo.c, release
# allocator) and runs it in QEMU (mps2-an385, Cortex-M3) with a timeout;
# its semihosting output is the demo.  The firmware rules are in
# tests/firmware/firmware.mk.
DEMO_TIMEOUT ?= 20

demo:
	$(Q)scripts/deps.sh demo
	$(Q)$(MAKE) --no-print-directory $(FW_DEMO_ELF)
	$(Q)scripts/qemu-run.sh --timeout $(DEMO_TIMEOUT) $(FW_DEMO_ELF)
