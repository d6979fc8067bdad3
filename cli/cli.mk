# cli/: the heapview command line tool (analysis core, memory sources, front
# end) and its tests (tests/cli/).  Binary: $(BUILD)/heapview.

CLI_CFLAGS := -D_GNU_SOURCE -Icli -Ilib
CLI_LIBS   := -lelf -ldw

CLI_CORE_SRCS   := $(sort $(wildcard cli/core/*.c))
# The live sources (GDB remote, OpenOCD) are another engineer's files; they
# are linked in when present.
CLI_SOURCE_SRCS := $(sort $(wildcard cli/source/*.c))
CLI_FRONT_SRCS  := $(sort $(wildcard cli/*.c))
CLI_LIB_OBJS    := $(patsubst %.c,$(BUILD)/cli/%.o,$(CLI_CORE_SRCS) $(CLI_SOURCE_SRCS))
CLI_FRONT_OBJS  := $(patsubst %.c,$(BUILD)/cli/%.o,$(CLI_FRONT_SRCS))
CLI_LIB_A       := $(BUILD)/cli/libheapview.a
HEAPVIEW        := $(BUILD)/heapview

$(BUILD)/cli/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(CLI_CFLAGS) -c $< -o $@

$(CLI_LIB_A): $(CLI_LIB_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(HEAPVIEW): $(CLI_FRONT_OBJS) $(CLI_LIB_A)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(CLI_FRONT_OBJS) $(CLI_LIB_A) $(CLI_LIBS) -o $@

ALL_TARGETS += $(HEAPVIEW)

.PHONY: install-cli uninstall-cli
install-cli: $(HEAPVIEW)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(HEAPVIEW) $(DESTDIR)$(PREFIX)/bin/heapview
uninstall-cli:
	rm -f $(DESTDIR)$(PREFIX)/bin/heapview

install: install-cli
uninstall: uninstall-cli

