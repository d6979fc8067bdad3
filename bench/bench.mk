# bench/: `make bench` (trace replays: instructions/op under callgrind,
# failures, cycles per operation, smallest heap), `make size` (allocator
# .text in a Cortex-M0+/M4 firmware) and `make lib-cross` / test suite
# `cross` (every lib source compiles freestanding for M0+, M4 and RV32 and
# needs nothing from libc beyond memset/memcpy/memmove/memcmp).

BENCH_OUT    := $(BUILD)/bench
# Fragments are included in sorted order, so lib/lib.mk (and LIB_SRCS) come
# after this file: prerequisites, expanded as they are read, need the list
# now.  Same wildcard as lib/lib.mk; recipes use LIB_SRCS/LIB_INC themselves.
BENCH_LIB_SRCS := $(sort $(wildcard lib/*.c lib/port/*.c))
BENCH_TRACES := $(sort $(wildcard bench/traces/*.trace))

# The measured allocator: release configuration, -O2, never sanitized (the
# host archive follows SANITIZE, which would distort every figure).
BENCH_CFLAGS := -std=c11 -O2 -g $(WARN) -MMD -MP
BENCH_LIB_OBJS := $(BENCH_LIB_SRCS:%.c=$(BENCH_OUT)/lib/%.o)
BENCH_LIB_A    := $(BENCH_OUT)/libumm-o2.a
BENCH_REPLAY   := $(BENCH_OUT)/replay

$(BENCH_OUT)/lib/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BENCH_CFLAGS) $(LIB_INC) -c $< -o $@
$(BENCH_LIB_A): $(BENCH_LIB_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

# Until the allocator has sources the replayer is built for libc only.
ifneq ($(strip $(BENCH_LIB_SRCS)),)
BENCH_REPLAY_LIBS := $(BENCH_LIB_A)
BENCH_REPLAY_DEFS :=
else
BENCH_REPLAY_LIBS :=
BENCH_REPLAY_DEFS := -DBENCH_NO_UMM
endif

$(BENCH_REPLAY): bench/replay.c $(BENCH_REPLAY_LIBS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BENCH_CFLAGS) $(BENCH_REPLAY_DEFS) $(LIB_INC) bench/replay.c $(BENCH_REPLAY_LIBS) -o $@

ALL_TARGETS += $(BENCH_REPLAY)

# The instrumented allocator measured like the release one: -O2, no
# sanitizers, no extra checks beyond what -DUMM_INSTRUMENT does on its own.
BENCH_IO2_OBJS     := $(BENCH_LIB_SRCS:%.c=$(BENCH_OUT)/instr-o2/%.o)
BENCH_IO2_A        := $(BENCH_OUT)/libumm-instr-o2.a
BENCH_REPLAY_INSTR := $(BENCH_OUT)/replay-instr
$(BENCH_OUT)/instr-o2/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BENCH_CFLAGS) -DUMM_INSTRUMENT $(LIB_INC) -c $< -o $@
$(BENCH_IO2_A): $(BENCH_IO2_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^
$(BENCH_REPLAY_INSTR): bench/replay.c $(BENCH_IO2_A)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BENCH_CFLAGS) -DUMM_INSTRUMENT $(LIB_INC) bench/replay.c $(BENCH_IO2_A) -o $@

bench: $(BENCH_REPLAY) $(BENCH_REPLAY_INSTR)
	$(Q)scripts/deps.sh bench
	$(Q)REPLAY_INSTR=$(BENCH_REPLAY_INSTR) bench/bench.sh $(BENCH_REPLAY) $(BENCH_OUT) $(BENCH_TRACES)

# ---- size: the allocator in a Cortex-M firmware ---------------------------
# Warnings are the business of lib-cross (-Werror there); here they would
# only hide the figures.

BENCH_ARM_CC       ?= arm-none-eabi-gcc
BENCH_RV32_CC      ?= riscv64-unknown-elf-gcc
SIZE_CFLAGS  := -std=c11 -Os -g -ffunction-sections -fdata-sections -w
SIZE_LDFLAGS := -Wl,--gc-sections --specs=nano.specs --specs=nosys.specs
# m0plus-instr: the same firmware on the instrumented allocator, for scale.
SIZE_CPUS    := m0plus m4 m0plus-instr m4-instr
SIZE_CPUFLAGS_m0plus := -mcpu=cortex-m0plus -mthumb
SIZE_CPUFLAGS_m4     := -mcpu=cortex-m4 -mthumb
SIZE_CPUFLAGS_m0plus-instr := -mcpu=cortex-m0plus -mthumb -DUMM_INSTRUMENT
SIZE_CPUFLAGS_m4-instr     := -mcpu=cortex-m4 -mthumb -DUMM_INSTRUMENT

define size_rules
$(BENCH_OUT)/size-$(1)/lib/%.o: %.c
	@mkdir -p $$(dir $$@)
	$$(Q)$$(BENCH_ARM_CC) $$(SIZE_CPUFLAGS_$(1)) $$(SIZE_CFLAGS) $$(LIB_INC) -MMD -MP -c $$< -o $$@
$(BENCH_OUT)/size-$(1)/size_main.o: bench/size_main.c
	@mkdir -p $$(dir $$@)
	$$(Q)$$(BENCH_ARM_CC) $$(SIZE_CPUFLAGS_$(1)) $$(SIZE_CFLAGS) $$(LIB_INC) -MMD -MP -c $$< -o $$@
$(BENCH_OUT)/size-$(1)/firmware.elf: $(BENCH_OUT)/size-$(1)/size_main.o $(BENCH_LIB_SRCS:%.c=$(BENCH_OUT)/size-$(1)/lib/%.o)
	$$(Q)$$(BENCH_ARM_CC) $$(SIZE_CPUFLAGS_$(1)) $$(SIZE_LDFLAGS) -Wl,-Map=$$(@:.elf=.map) $$^ -o $$@
endef
$(foreach cpu,$(SIZE_CPUS),$(eval $(call size_rules,$(cpu))))

SIZE_ELFS := $(SIZE_CPUS:%=$(BENCH_OUT)/size-%/firmware.elf)

size-elfs: $(SIZE_ELFS)
	@:
# The cross compilers may still have to be installed: deps first, then build.
size:
	$(Q)scripts/deps.sh bench
	$(Q)$(MAKE) --no-print-directory size-elfs
	$(Q)bench/size-report.sh $(foreach cpu,$(SIZE_CPUS),$(cpu)=$(BENCH_OUT)/size-$(cpu)/firmware.map)

# ---- lib-cross / test-cross: freestanding cross-compilation ---------------

BENCH_CROSS_ARGS = $(BENCH_OUT)/cross "$(BENCH_ARM_CC)" "$(BENCH_RV32_CC)" "$(LIB_INC)" $(LIB_SRCS)

lib-cross:
	$(Q)bench/cross-check.sh $(BENCH_CROSS_ARGS)

test-cross:
	$(Q)bench/cross-check.sh $(BENCH_CROSS_ARGS)

TEST_SUITES += cross
.PHONY: lib-cross test-cross size-elfs

# ---- test-replay: the replayer itself -------------------------------------

BENCH_OVERLAP_SO := $(BENCH_OUT)/overlap_malloc.so
$(BENCH_OVERLAP_SO): bench/tests/overlap_malloc.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=c11 -O1 -shared -fPIC $(WARN) -o $@ $<

# The instrumented allocator with its self-checks on, built like every test
# build (CFLAGS: -Werror, SANITIZE when given).
BENCH_INSTR_OBJS   := $(BENCH_LIB_SRCS:%.c=$(BENCH_OUT)/instr/%.o)
BENCH_INSTR_A      := $(BENCH_OUT)/libumm-instr.a
BENCH_REPLAY_DIAG  := $(BENCH_OUT)/replay-diag
$(BENCH_OUT)/instr/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -DUMM_INSTRUMENT $(LIB_INC) -c $< -o $@
$(BENCH_INSTR_A): $(BENCH_INSTR_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^
$(BENCH_REPLAY_DIAG): bench/replay.c $(BENCH_INSTR_A)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -DUMM_INSTRUMENT -DBENCH_DIAG $(LIB_INC) bench/replay.c $(BENCH_INSTR_A) $(LDFLAGS) -o $@

test-replay: $(BENCH_REPLAY) $(BENCH_REPLAY_DIAG) $(BENCH_OVERLAP_SO)
	$(Q)bench/test-replay.sh $(BENCH_REPLAY) $(BENCH_REPLAY_DIAG) $(BENCH_OVERLAP_SO) $(BENCH_OUT)/test-replay $(BENCH_TRACES)

TEST_SUITES += replay
.PHONY: test-replay
