# lib/: the allocator.  Drop-in sources: every lib/**/*.c with LIB_INC on the
# include path, configured by -D macros.  Other fragments use LIB_SRCS,
# LIB_INC and the host archives built here.

LIB_SRCS := $(sort $(wildcard lib/*.c lib/port/*.c))
LIB_HDRS := $(sort $(wildcard lib/*.h lib/port/*.h))
LIB_INC  := -Ilib -Ilib/port

# Host builds: release and instrumented.
LIB_REL_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/host/rel/%.o)
LIB_INSTR_OBJS := $(LIB_SRCS:%.c=$(BUILD)/host/instr/%.o)
LIB_REL_A      := $(BUILD)/host/libumm.a
LIB_INSTR_A    := $(BUILD)/host/libumm-instr.a

$(BUILD)/host/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(LIB_INC) -c $< -o $@
$(BUILD)/host/instr/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -DUMM_INSTRUMENT $(LIB_INC) -c $< -o $@
$(LIB_REL_A): $(LIB_REL_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^
$(LIB_INSTR_A): $(LIB_INSTR_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

ALL_TARGETS += $(LIB_REL_A) $(LIB_INSTR_A)

# ---- install -------------------------------------------------------------
# Headers under include/umm/, both archives, a pkg-config file for each, the
# format spec, and the sources for drop-in firmware builds.
LIB_PUBLIC_HDRS := lib/umm_malloc.h lib/umm_diag.h lib/umm_config.h lib/umm_format.h lib/port/umm_port.h
LIB_VERSION := 0.1.0

define LIB_PC
prefix=$(PREFIX)
libdir=$${prefix}/lib
includedir=$${prefix}/include/umm

Name: $(1)
Description: heapview allocator, umm_malloc-compatible$(2)
Version: $(LIB_VERSION)
Cflags: -I$${includedir}$(3)
Libs: -L$${libdir} -l$(1)
endef
export LIB_PC_REL := $(call LIB_PC,umm,,)
export LIB_PC_INSTR := $(call LIB_PC,umm-instr, (instrumented build), -DUMM_INSTRUMENT)

.PHONY: install-lib uninstall-lib
install-lib: $(LIB_REL_A) $(LIB_INSTR_A)
	install -d $(DESTDIR)$(PREFIX)/include/umm $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	    $(DESTDIR)$(PREFIX)/share/doc/heapview $(DESTDIR)$(PREFIX)/share/heapview/lib/port
	install -m 644 $(LIB_PUBLIC_HDRS) $(DESTDIR)$(PREFIX)/include/umm/
	install -m 644 $(LIB_REL_A) $(LIB_INSTR_A) $(DESTDIR)$(PREFIX)/lib/
	printf '%s\n' "$$LIB_PC_REL" > $(DESTDIR)$(PREFIX)/lib/pkgconfig/umm.pc
	printf '%s\n' "$$LIB_PC_INSTR" > $(DESTDIR)$(PREFIX)/lib/pkgconfig/umm-instr.pc
	install -m 644 lib/FORMAT.md $(DESTDIR)$(PREFIX)/share/doc/heapview/
	install -m 644 $(filter-out lib/port/%,$(LIB_SRCS) $(LIB_HDRS)) $(DESTDIR)$(PREFIX)/share/heapview/lib/
	install -m 644 $(filter lib/port/%,$(LIB_SRCS) $(LIB_HDRS)) $(DESTDIR)$(PREFIX)/share/heapview/lib/port/
uninstall-lib:
	rm -rf $(DESTDIR)$(PREFIX)/include/umm $(DESTDIR)$(PREFIX)/share/heapview/lib
	rm -f $(DESTDIR)$(PREFIX)/lib/libumm.a $(DESTDIR)$(PREFIX)/lib/libumm-instr.a \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig/umm.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/umm-instr.pc \
	    $(DESTDIR)$(PREFIX)/share/doc/heapview/FORMAT.md
install: install-lib install-gdb
uninstall: uninstall-lib uninstall-gdb
