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
