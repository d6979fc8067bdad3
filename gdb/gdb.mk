# gdb/: the GDB extension (umm.py) over a pure-Python decoder (umm_decode/).
# Constants come from lib/umm_format.h through gdb/gen_format.py; the tests
# decode heaps that gdb/tests/mkheap.c builds with the real allocator.

GDB_PY        := $(sort $(wildcard gdb/*.py))
GDB_PKG_PY    := $(sort $(wildcard gdb/umm_decode/*.py))
GDB_FORMAT_PY := gdb/umm_decode/format_gen.py
GDB_BUILD     := $(BUILD)/gdb
GDB_MKHEAP    := $(GDB_BUILD)/mkheap-rel $(GDB_BUILD)/mkheap-instr
GDB_PYTHON    ?= /usr/bin/python3
GDB_GDB       ?= gdb-multiarch

$(GDB_FORMAT_PY): lib/umm_format.h gdb/gen_format.py
	$(Q)$(GDB_PYTHON) gdb/gen_format.py lib/umm_format.h $@

# -O1 keeps the breakpoint function and locals findable; pthread for the port.
$(GDB_BUILD)/mkheap-rel: gdb/tests/mkheap.c $(LIB_REL_A) lib/umm_malloc.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(LIB_INC) $< $(LIB_REL_A) $(LDFLAGS) -lpthread -o $@
$(GDB_BUILD)/mkheap-instr: gdb/tests/mkheap.c $(LIB_INSTR_A) lib/umm_malloc.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -DUMM_INSTRUMENT $(LIB_INC) $< $(LIB_INSTR_A) $(LDFLAGS) -lpthread -o $@

# Benchmark firmware for QEMU, built with tests/firmware's start-up, linker
# script and flags (FW_* come from tests/firmware/firmware.mk, read after this
# fragment, so they appear only inside recipes).
GDB_BENCH_FW := $(GDB_BUILD)/bench-fw.elf
$(GDB_BENCH_FW): gdb/tests/bench_fw.c $(LIB_SRCS) $(LIB_HDRS) tests/firmware/startup.c \
		tests/firmware/hv_io.c tests/firmware/hv_checkpoint.c tests/firmware/cm3.ld
	@mkdir -p $(dir $@)
	$(Q)$(FW_CC) $(FW_CFLAGS) $(FW_LDFLAGS) gdb/tests/bench_fw.c $(LIB_SRCS) \
		tests/firmware/startup.c tests/firmware/hv_io.c tests/firmware/hv_checkpoint.c -o $@

ALL_TARGETS += $(GDB_FORMAT_PY)
TEST_SUITES += gdb

.PHONY: test-gdb bench-gdb install-gdb uninstall-gdb
# The instrumented program and the firmwares are built on a best-effort basis:
# when one cannot be built, the tests that need it fail and say which file
# is missing, and the rest of the suite still runs.
test-gdb: $(GDB_FORMAT_PY) $(GDB_BUILD)/mkheap-rel
	-$(Q)$(MAKE) --no-print-directory $(GDB_BUILD)/mkheap-instr
	-$(Q)$(MAKE) --no-print-directory $(BUILD)/heapview
	-$(Q)if command -v $(FW_CC) >/dev/null 2>&1; then $(MAKE) --no-print-directory firmware; fi
	$(Q)HEAPVIEW_BUILD=$(BUILD) GDB=$(GDB_GDB) $(GDB_PYTHON) -m pytest -q -p no:cacheprovider gdb/tests

# umm-walk over a 256 KiB heap with ~30,000 blocks, timed inside GDB.
bench-gdb: $(GDB_FORMAT_PY) $(GDB_BUILD)/mkheap-rel
	$(Q)HEAPVIEW_BUILD=$(BUILD) GDB=$(GDB_GDB) $(GDB_PYTHON) gdb/tests/bench_walk.py

GDB_INSTALL_DIR = $(DESTDIR)$(PREFIX)/share/heapview/gdb
# GDB imports every module of its data directory's python/gdb/command/ at start-up.
GDB_AUTOLOAD_DIR := $(DESTDIR)$(PREFIX)/share/gdb/python/gdb/command
install-gdb: $(GDB_FORMAT_PY)
	install -d $(GDB_INSTALL_DIR) $(GDB_INSTALL_DIR)/umm_decode
	install -m 644 gdb/umm.py gdb/README.md $(GDB_INSTALL_DIR)/
	install -m 644 $(sort $(GDB_PKG_PY) $(GDB_FORMAT_PY)) $(GDB_INSTALL_DIR)/umm_decode/
	printf '%s\n' '# heapview GDB commands: add this line to ~/.gdbinit' \
		'source $(PREFIX)/share/heapview/gdb/umm.py' > $(GDB_INSTALL_DIR)/heapview.gdbinit
	install -d $(GDB_AUTOLOAD_DIR)
	sed 's|@UMM_PY@|$(PREFIX)/share/heapview/gdb/umm.py|' gdb/autoload.py.in > $(GDB_AUTOLOAD_DIR)/heapview_umm.py
	@echo 'install-gdb: GDB loads the umm-* commands by itself when $(PREFIX)/share/gdb is its data directory' \
	      '(PREFIX=/usr); otherwise add "source $(PREFIX)/share/heapview/gdb/umm.py" to ~/.gdbinit'
uninstall-gdb:
	rm -rf $(DESTDIR)$(PREFIX)/share/heapview/gdb
	rm -f $(GDB_AUTOLOAD_DIR)/heapview_umm.py
