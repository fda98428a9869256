# mk/fuzz.mk - fuzzing: libFuzzer harnesses of the option parser and the
# mp_* API, and a Python random/mutation fuzzer of mpcheck's suppression
# parser.  See tests/fuzz/*.c|py and docs/hardening.md.
#
#   make fuzz [FUZZ_SECONDS=60]   run each harness for FUZZ_SECONDS seconds;
#                                 corpora persist in build/fuzz-corpus/NAME;
#                                 a crash is copied to tests/fuzz/regress/NAME/
#                                 and fails the target
#   make fuzz-build               only build build/fuzz/fuzz_options, fuzz_api
#   make fuzz-regress             replay tests/fuzz/regress/ (what
#                                 tests/fuzz/t_fuzz_regress.sh runs)
#
# Needs clang with its libFuzzer runtime (Debian: libclang-rt-14-dev, or
# clang's own package on older releases).  Not part of `make test`, except
# for the quick replay in tests/fuzz/t_fuzz_regress.sh.

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_MAX_LEN ?= 4096
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_CORPUS := $(BUILD)/fuzz-corpus
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_OPT := -O1 -g -fno-omit-frame-pointer -DMP_DEBUG
FUZZ_HARNESSES := options api
FUZZ_BINS := $(FUZZ_HARNESSES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_OBJ := $(CORE_SRC:%=$(FUZZ_DIR)/obj/%.o)

.PHONY: fuzz fuzz-build fuzz-regress fuzz-clean

# library objects: instrumented for coverage (fuzzer-no-link) and sanitizers
$(FUZZ_DIR)/obj/%.o: %.c | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(BASE) $(WARN) $(FUZZ_OPT) -fsanitize=fuzzer-no-link $(FUZZ_SAN) \
		-c $< -o $@

$(FUZZ_DIR)/libmempool.a: $(FUZZ_OBJ)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DIR)/libmempool.a
	$(FUZZ_CC) -std=gnu11 -Wall -Wextra -Iinclude $(INCS) -pthread $(FUZZ_OPT) \
		-fsanitize=fuzzer $(FUZZ_SAN) $< $(FUZZ_DIR)/libmempool.a $(LIBS) -o $@

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@sh mk/fuzzrun.sh run $(FUZZ_SECONDS) $(FUZZ_MAX_LEN) $(FUZZ_DIR) $(FUZZ_CORPUS)

fuzz-regress: fuzz-build
	@bash tests/fuzz/t_fuzz_regress.sh

fuzz-clean:
	rm -rf $(FUZZ_DIR) $(FUZZ_CORPUS)

# header dependencies of the instrumented objects (-MMD in BASE)
-include $(wildcard $(FUZZ_DIR)/obj/*.d)
