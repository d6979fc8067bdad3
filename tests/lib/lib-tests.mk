# Allocator tests: test_lib (white-box tables, API semantics) and
# test_stress (model-based) built once per variant of the allocator.
# A variant is a name and the -D flags (and machine flags) it builds with.

LIBT_VARIANTS := best first extern pthread m32 instr instr-every m32-instr asan asan-instr \
                 only-info only-integrity only-poison os os-m32 os-instr os-first
LIBT_FLAGS_best        :=
LIBT_FLAGS_first       := -DUMM_FIRST_FIT
LIBT_FLAGS_extern      := -DUMM_PORT_EXTERN
LIBT_FLAGS_pthread     := -DUMM_PORT_PTHREAD -pthread
LIBT_FLAGS_m32         := -m32
LIBT_FLAGS_instr       := -DUMM_INSTRUMENT
LIBT_FLAGS_instr-every := -DUMM_INSTRUMENT -DUMM_CHECK_EVERY_OP
LIBT_FLAGS_m32-instr   := -m32 -DUMM_INSTRUMENT
LIBT_FLAGS_asan        := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LIBT_FLAGS_asan-instr  := $(LIBT_FLAGS_asan) -DUMM_INSTRUMENT
# Upstream's part switches, one at a time.
LIBT_FLAGS_only-info      := -DUMM_INFO
LIBT_FLAGS_only-integrity := -DUMM_INTEGRITY_CHECK
LIBT_FLAGS_only-poison    := -DUMM_POISON_CHECK
# The size build: -Os (after CFLAGS' -O2, so it wins) compiles the
# allocator's __OPTIMIZE_SIZE__ paths, which must place every block where
# the -O2 build does: test_digest compares the two.
LIBT_FLAGS_os             := -Os
LIBT_FLAGS_os-m32         := -Os -m32
LIBT_FLAGS_os-instr       := -Os -DUMM_INSTRUMENT
LIBT_FLAGS_os-first       := -Os -DUMM_FIRST_FIT

LIBT_SRCS := tests/lib/tcheck.c tests/lib/heapwalk.c tests/lib/port_extern.c

define LIBT_VARIANT
$(BUILD)/tests/lib/$(1)/%.o: %.c
	@mkdir -p $$(dir $$@)
	$$(Q)$$(CC) $$(CFLAGS) $(LIBT_FLAGS_$(1)) -DVARIANT_NAME='"$(1)"' $$(LIB_INC) -Itests/lib -c $$< -o $$@
$(BUILD)/tests/lib/$(1)/test_lib: $$(patsubst %.c,$(BUILD)/tests/lib/$(1)/%.o,$$(LIB_SRCS) $$(LIBT_SRCS) tests/lib/test_lib.c)
	$$(Q)$$(CC) $(LIBT_FLAGS_$(1)) $$(LDFLAGS) $$^ -o $$@
$(BUILD)/tests/lib/$(1)/test_stress: $$(patsubst %.c,$(BUILD)/tests/lib/$(1)/%.o,$$(LIB_SRCS) $$(LIBT_SRCS) tests/lib/test_stress.c)
	$$(Q)$$(CC) $(LIBT_FLAGS_$(1)) $$(LDFLAGS) $$^ -o $$@
LIBT_BINS += $(BUILD)/tests/lib/$(1)/test_lib $(BUILD)/tests/lib/$(1)/test_stress
endef
LIBT_BINS :=
$(foreach v,$(LIBT_VARIANTS),$(eval $(call LIBT_VARIANT,$(v))))

# The detection matrix exists only where detection is compiled in.
LIBT_DETECT_VARIANTS := $(filter %instr instr-every,$(LIBT_VARIANTS))
define LIBT_DETECT
$(BUILD)/tests/lib/$(1)/test_detect: $$(patsubst %.c,$(BUILD)/tests/lib/$(1)/%.o,$$(LIB_SRCS) $$(LIBT_SRCS) tests/lib/test_detect.c)
	$$(Q)$$(CC) $(LIBT_FLAGS_$(1)) $$(LDFLAGS) $$^ -o $$@
LIBT_BINS += $(BUILD)/tests/lib/$(1)/test_detect
endef
$(foreach v,$(LIBT_DETECT_VARIANTS),$(eval $(call LIBT_DETECT,$(v))))

# Same placement at -O2 and -Os: each pair's digests of a seeded run must match.
LIBT_DIGEST_PAIRS := best:os m32:os-m32 instr:os-instr first:os-first
define LIBT_DIGEST
$(BUILD)/tests/lib/$(1)/test_digest: $$(patsubst %.c,$(BUILD)/tests/lib/$(1)/%.o,$$(LIB_SRCS) tests/lib/test_digest.c)
	$$(Q)$$(CC) $(LIBT_FLAGS_$(1)) $$(LDFLAGS) $$^ -o $$@
LIBT_BINS += $(BUILD)/tests/lib/$(1)/test_digest
endef
$(foreach v,$(sort $(subst :, ,$(LIBT_DIGEST_PAIRS))),$(eval $(call LIBT_DIGEST,$(v))))

TEST_SUITES += lib
.PHONY: test-lib
# Every variant runs even after a failure; run-tests.sh sums the lines.
test-lib: $(LIBT_BINS)
	$(Q)rc=0; for v in $(LIBT_VARIANTS); do \
	    $(BUILD)/tests/lib/$$v/test_lib || rc=1; \
	    UMM_STRESS_OPS=$$(case $$v in asan*) echo 4000;; instr-every) echo 3000;; *) echo 20000;; esac) $(BUILD)/tests/lib/$$v/test_stress || rc=1; \
	    if [ -x $(BUILD)/tests/lib/$$v/test_detect ]; then $(BUILD)/tests/lib/$$v/test_detect || rc=1; fi; \
	done; $(BUILD)/tests/lib/bind/test_bind || rc=1; \
	pass=0; fail=0; for pair in $(LIBT_DIGEST_PAIRS); do \
	    a=$${pair%%:*}; b=$${pair#*:}; \
	    if $(BUILD)/tests/lib/$$a/test_digest > $(BUILD)/tests/lib/$$a/digest.txt && \
	       $(BUILD)/tests/lib/$$b/test_digest > $(BUILD)/tests/lib/$$b/digest.txt && \
	       diff $(BUILD)/tests/lib/$$a/digest.txt $(BUILD)/tests/lib/$$b/digest.txt; then \
	        echo "PASS digest $$a = $$b"; pass=$$((pass + 1)); \
	    else echo "FAIL digest $$a = $$b: placement differs"; fail=$$((fail + 1)); rc=1; fi; \
	done; echo "digest: $$pass passed, $$fail failed"; exit $$rc

# The stdlib bindings: the test program's malloc family is ours.
LIBT_BIND_FLAGS := -DUMM_BIND_STDLIB -DUMM_DEFAULT_HEAP_BYTES=262144
$(BUILD)/tests/lib/bind/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(LIBT_BIND_FLAGS) -DVARIANT_NAME='"bind"' $(LIB_INC) -Itests/lib -c $< -o $@
$(BUILD)/tests/lib/bind/test_bind: $(patsubst %.c,$(BUILD)/tests/lib/bind/%.o,$(LIB_SRCS) $(LIBT_SRCS) tests/lib/test_bind.c)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@
test-lib: $(BUILD)/tests/lib/bind/test_bind
