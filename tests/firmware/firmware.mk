# tests/firmware/: Cortex-M3 firmwares for QEMU's mps2-an385, the RAM
# capture driver and the `firmware` test suite.
#
#   $(FW_DIR)/bare.elf          start-up, output and checkpoint; no allocator
#   $(FW_DIR)/bare-fault.elf    the same, then a fault (handler reports, status 3)
#   $(FW_DIR)/bare-hang.elf     the same, but spins before its checkpoint
#   $(FW_DIR)/demo.elf          the `make demo` firmware (release allocator)
#   $(FW_DIR)/sc-NAME.elf       one per scenario (instrumented allocator)
#   $(FW_DIR)/sc-NAME-rel.elf   undamaged scenarios on the release allocator
#
# Other parts may use FW_DIR, FW_DEMO_ELF, FW_SCENARIO_ELFS, FW_DUMP (the
# capture driver: $(FW_DUMP) dump ELF --out DIR [--checkpoint N]) and the
# target firmware-dumps (FW_DUMP_JSONS: every firmware captured at every
# checkpoint under $(FW_DIR)/dumps/).

FW_CROSS   ?= arm-none-eabi-
FW_CC      := $(FW_CROSS)gcc
FW_DIR     := $(BUILD)/firmware
FW_OBJ     := $(FW_DIR)/obj
FW_SRC     := tests/firmware
FW_PYTHON  ?= /usr/bin/python3
FW_DUMP    := $(FW_PYTHON) $(FW_SRC)/qemu_dump.py

FW_ARCH    := -mcpu=cortex-m3 -mthumb
FW_CFLAGS  := $(FW_ARCH) -std=c11 -O2 -g $(WARN) -ffunction-sections -fdata-sections \
              -MMD -MP -DUMM_PORT_CORTEXM $(LIB_INC) -I$(FW_SRC)
FW_LDFLAGS := $(FW_ARCH) -T $(FW_SRC)/cm3.ld -nostartfiles --specs=nano.specs \
              -Wl,--gc-sections -Wl,--fatal-warnings

FW_COMMON_SRCS := startup.c hv_io.c hv_checkpoint.c
FW_COMMON_OBJS := $(FW_COMMON_SRCS:%.c=$(FW_OBJ)/%.o)
FW_TRACK_OBJ   := $(FW_OBJ)/hv_track.o
FW_LIB_REL     := $(LIB_SRCS:%.c=$(FW_OBJ)/rel/%.o)
FW_LIB_INSTR   := $(LIB_SRCS:%.c=$(FW_OBJ)/instr/%.o)

# Scenario names and their HV_SC_* ids (tests/firmware/hv_truth.h).
FW_SCENARIOS := healthy:2 fragmented:3 two-heaps:4 overrun:5 underrun:6 header-smash:7 \
                write-after-free:8 double-free:9 leak:10 wide:11
# The undamaged ones also come as release builds (no prefix, no record):
# sc-NAME-rel.elf.
FW_SCENARIOS_REL := healthy:2 fragmented:3 two-heaps:4 leak:10
fw_sc_name = $(word 1,$(subst :, ,$1))
fw_sc_id   = $(word 2,$(subst :, ,$1))

FW_BARE_ELF      := $(FW_DIR)/bare.elf
FW_FAULT_ELF     := $(FW_DIR)/bare-fault.elf
FW_HANG_ELF      := $(FW_DIR)/bare-hang.elf
FW_DEMO_ELF      := $(FW_DIR)/demo.elf
FW_SCENARIO_ELFS := $(foreach s,$(FW_SCENARIOS),$(FW_DIR)/sc-$(call fw_sc_name,$s).elf) \
                    $(foreach s,$(FW_SCENARIOS_REL),$(FW_DIR)/sc-$(call fw_sc_name,$s)-rel.elf)
FW_ELFS          := $(FW_BARE_ELF) $(FW_FAULT_ELF) $(FW_HANG_ELF) $(FW_DEMO_ELF) \
                    $(FW_SCENARIO_ELFS)

$(FW_OBJ)/%.o: $(FW_SRC)/%.c
	@mkdir -p $(dir $@)
	$(Q)$(FW_CC) $(FW_CFLAGS) -c $< -o $@
$(FW_OBJ)/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(FW_CC) $(FW_CFLAGS) -c $< -o $@
$(FW_OBJ)/instr/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(FW_CC) $(FW_CFLAGS) -DUMM_INSTRUMENT -c $< -o $@

define fw_scenario_rules
$(FW_OBJ)/sc-$(call fw_sc_name,$1).o: $(FW_SRC)/scenarios.c
	@mkdir -p $$(dir $$@)
	$$(Q)$$(FW_CC) $$(FW_CFLAGS) -DUMM_INSTRUMENT -DHV_SCENARIO=$(call fw_sc_id,$1) -c $$< -o $$@
$(FW_DIR)/sc-$(call fw_sc_name,$1).elf: $(FW_OBJ)/sc-$(call fw_sc_name,$1).o $(FW_COMMON_OBJS) \
		$(FW_TRACK_OBJ) $(FW_LIB_INSTR) $(FW_SRC)/cm3.ld
	$$(Q)$$(FW_CC) $$(FW_LDFLAGS) -Wl,-Map=$$(@:.elf=.map) \
		$$(filter %.o,$$^) -o $$@
endef
$(foreach s,$(FW_SCENARIOS),$(eval $(call fw_scenario_rules,$s)))

define fw_scenario_rel_rules
$(FW_OBJ)/sc-$(call fw_sc_name,$1)-rel.o: $(FW_SRC)/scenarios.c
	@mkdir -p $$(dir $$@)
	$$(Q)$$(FW_CC) $$(FW_CFLAGS) -DHV_SCENARIO=$(call fw_sc_id,$1) -c $$< -o $$@
$(FW_DIR)/sc-$(call fw_sc_name,$1)-rel.elf: $(FW_OBJ)/sc-$(call fw_sc_name,$1)-rel.o \
		$(FW_COMMON_OBJS) $(FW_TRACK_OBJ) $(FW_LIB_REL) $(FW_SRC)/cm3.ld
	$$(Q)$$(FW_CC) $$(FW_LDFLAGS) -Wl,-Map=$$(@:.elf=.map) \
		$$(filter %.o,$$^) -o $$@
endef
$(foreach s,$(FW_SCENARIOS_REL),$(eval $(call fw_scenario_rel_rules,$s)))

$(FW_BARE_ELF): $(FW_OBJ)/bare.o $(FW_COMMON_OBJS) $(FW_SRC)/cm3.ld
	$(Q)$(FW_CC) $(FW_LDFLAGS) -Wl,-Map=$(@:.elf=.map) $(filter %.o,$^) -o $@
$(FW_OBJ)/bare-fault.o: $(FW_SRC)/bare.c
	@mkdir -p $(dir $@)
	$(Q)$(FW_CC) $(FW_CFLAGS) -DHV_BARE_FAULT -c $< -o $@
$(FW_OBJ)/bare-hang.o: $(FW_SRC)/bare.c
	@mkdir -p $(dir $@)
	$(Q)$(FW_CC) $(FW_CFLAGS) -DHV_BARE_HANG -c $< -o $@
$(FW_FAULT_ELF): $(FW_OBJ)/bare-fault.o $(FW_COMMON_OBJS) $(FW_SRC)/cm3.ld
	$(Q)$(FW_CC) $(FW_LDFLAGS) -Wl,-Map=$(@:.elf=.map) $(filter %.o,$^) -o $@
$(FW_HANG_ELF): $(FW_OBJ)/bare-hang.o $(FW_COMMON_OBJS) $(FW_SRC)/cm3.ld
	$(Q)$(FW_CC) $(FW_LDFLAGS) -Wl,-Map=$(@:.elf=.map) $(filter %.o,$^) -o $@
$(FW_DEMO_ELF): $(FW_OBJ)/demo.o $(FW_COMMON_OBJS) $(FW_TRACK_OBJ) $(FW_LIB_REL) $(FW_SRC)/cm3.ld
	$(Q)$(FW_CC) $(FW_LDFLAGS) -Wl,-Map=$(@:.elf=.map) $(filter %.o,$^) -o $@

firmware: $(FW_ELFS)
.PHONY: firmware

# RAM captures of every firmware at every checkpoint, for other suites:
# $(FW_DIR)/dumps/NAME/NAME.cpN.{gdb,pmemsave,core}.bin, NAME.cpN.core and
# NAME.json (see tests/firmware/README.md).
FW_DUMPABLE    := $(filter-out $(FW_FAULT_ELF) $(FW_HANG_ELF),$(FW_ELFS))
FW_DUMP_JSONS  := $(foreach e,$(FW_DUMPABLE),$(FW_DIR)/dumps/$(basename $(notdir $e))/$(basename $(notdir $e)).json)
define fw_dump_rule
$(FW_DIR)/dumps/$(basename $(notdir $1))/$(basename $(notdir $1)).json: $1 $(FW_SRC)/qemu_dump.py
	$$(Q)$$(FW_DUMP) dump $1 --out $$(dir $$@) --quiet || { rm -f $$@; exit 1; }
endef
$(foreach e,$(FW_DUMPABLE),$(eval $(call fw_dump_rule,$e)))
firmware-dumps: $(FW_DUMP_JSONS)
.PHONY: firmware-dumps

# `make all` builds the firmwares only where the cross compiler exists, so a
# host-only machine still builds everything else.
ifneq ($(shell command -v $(FW_CC) 2>/dev/null),)
ALL_TARGETS += $(FW_ELFS)
endif

TEST_SUITES += firmware
test-firmware: $(FW_ELFS)
	$(Q)FW_DIR=$(FW_DIR) $(FW_PYTHON) -m pytest -q -p no:cacheprovider $(FW_SRC)/test_firmware.py
.PHONY: test-firmware
