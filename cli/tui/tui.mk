# cli/tui/: `heapview tui`, the interactive ncurses map (the only curses
# code in the tree).  Its objects and libraries join the heapview binary
# defined in cli/cli.mk.  Included from tests/tui/tui.mk, since the
# top-level Makefile only reads cli/*.mk.
ifndef HV_TUI_MK
HV_TUI_MK := 1

TUI_SRCS   := $(sort $(wildcard cli/tui/*.c))
TUI_OBJS   := $(patsubst %.c,$(BUILD)/cli/%.o,$(TUI_SRCS))
TUI_CFLAGS := $(shell pkg-config --cflags ncursesw 2>/dev/null)
TUI_LIBS   := $(or $(shell pkg-config --libs ncursesw 2>/dev/null),-lncursesw -ltinfo)

CLI_FRONT_OBJS += $(TUI_OBJS)
$(HEAPVIEW): $(TUI_OBJS)
$(HEAPVIEW): CLI_LIBS += $(TUI_LIBS)
$(TUI_OBJS): CLI_CFLAGS += $(TUI_CFLAGS)

endif
