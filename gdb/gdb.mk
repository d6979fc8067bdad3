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

ALL_TARGETS += $(GDB_FORMAT_PY)
TEST_SUITES += gdb

.PHONY: test-gdb bench-gdb install-gdb uninstall-gdb
test-gdb: $(GDB_FORMAT_PY) $(GDB_MKHEAP)
	$(Q)HEAPVIEW_BUILD=$(BUILD) GDB=$(GDB_GDB) $(GDB_PYTHON) -m pytest -q -p no:cacheprovider gdb/tests

# umm-walk over a 256 KiB heap with ~30,000 blocks, timed inside GDB.
bench-gdb: $(GDB_FORMAT_PY) $(GDB_BUILD)/mkheap-rel
	$(Q)HEAPVIEW_BUILD=$(BUILD) GDB=$(GDB_GDB) $(GDB_PYTHON) gdb/tests/bench_walk.py

GDB_INSTALL_DIR = $(DESTDIR)$(PREFIX)/share/heapview/gdb
install-gdb: $(GDB_FORMAT_PY)
	install -d $(GDB_INSTALL_DIR) $(GDB_INSTALL_DIR)/umm_decode
	install -m 644 gdb/umm.py $(GDB_INSTALL_DIR)/umm.py
	install -m 644 $(GDB_PKG_PY) $(GDB_FORMAT_PY) $(GDB_INSTALL_DIR)/umm_decode/
	install -m 644 gdb/heapview-gdbinit $(GDB_INSTALL_DIR)/heapview-gdbinit
uninstall-gdb:
	rm -rf $(DESTDIR)$(PREFIX)/share/heapview/gdb
