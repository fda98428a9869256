# mk/sanitize.mk - the core library and its unit tests under sanitizers.
#
#   make sanitize         sanitize-asan, sanitize-tsan and valgrind-unit
#   make sanitize-asan    build-asan/: -fsanitize=address,undefined
#                         -fno-sanitize-recover=undefined
#   make sanitize-tsan    build-tsan/: -fsanitize=thread
#   make valgrind-unit    build/tests/unit_* (the ordinary -O0 builds) under
#                         valgrind memcheck, --error-exitcode=1 and
#                         tests/valgrind.supp
#
# Each run prints TAP per test program and a closing "N passed, N failed"
# line, and fails on any failed test and on any sanitizer or memcheck report
# (mk/sanrun.sh).  Not part of `make test`.  See docs/hardening.md.
#
# Knobs (make variables or environment):
#   SAN_CC          compiler for the sanitizer builds (default clang, else gcc)
#   SAN_OPT         optimisation and debug flags (default -O1 -g ... -DMP_DEBUG: the expensive invariant checks too)
#   SAN_ITERS       MPWRAP_UNIT_ITERS for unit_threads (default 50000)
#   SAN_STALLS      MPWRAP_UNIT_STALLS for unit_threads (default 5000)
#   VG_ITERS, VG_STALLS  the same under valgrind (default 2000, 200)
#
# The pool serves small blocks from its own mmap'd slabs and large ones from
# the real allocator found with dlsym(RTLD_NEXT) (libc's, behind ASan's
# interceptors), so ASan sees the pool's own code, its stack and globals and
# the test programs' own mallocs, not the user bytes of pool blocks.  The
# guard and quarantine logic checks those.

SAN_CC ?= $(shell command -v clang >/dev/null 2>&1 && echo clang || echo gcc)
SAN_OPT ?= -O1 -g -fno-omit-frame-pointer -DMP_DEBUG
SAN_ITERS ?= 50000
SAN_STALLS ?= 5000
VG_ITERS ?= 2000
VG_STALLS ?= 200

SAN_UNITS := unit_pool unit_errors unit_threads unit_symbolize
SAN_asan_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined
SAN_tsan_FLAGS := -fsanitize=thread
SAN_RENAME := $(foreach f,malloc calloc realloc,\
	--redefine-sym $(f)=mpw_counting_$(f) --redefine-sym __libc_$(f)=$(f))
# test programs: the project's TFLAGS (stable stacks, -O0) plus the sanitizer
SAN_TFLAGS = $(filter-out -Werror,$(TFLAGS))

.PHONY: sanitize sanitize-asan sanitize-tsan valgrind-unit sanitize-clean

# $(call san_variant,NAME): objects, archive, unit tests and run target of
# build-NAME/, built with $(SAN_NAME_FLAGS).
define san_variant
SAN_$(1)_DIR := build-$(1)
SAN_$(1)_OBJ := $$(CORE_SRC:%=build-$(1)/%.o)
SAN_$(1)_BIN := $$(SAN_UNITS:%=build-$(1)/tests/%)

build-$(1)/%.o: %.c | $$(BUILD)/.deps
	@mkdir -p $$(dir $$@)
	$$(SAN_CC) $$(BASE) $$(WARN) $$(SAN_OPT) $$(SAN_$(1)_FLAGS) -c $$< -o $$@

build-$(1)/libmempool.a: $$(SAN_$(1)_OBJ)
	rm -f $$@ && ar rcs $$@ $$^

# unit_symbolize defines malloc/calloc/realloc (counting wrappers around
# __libc_malloc...), which would replace the sanitizer's allocator and abort
# its start-up.  Rename them in its object: the test's own calls go to the
# renamed wrappers, which call the sanitizer's malloc.  Its "no allocation"
# checks then count only the test's own calls, not libdw's: weaker, not wrong.
build-$(1)/tests/unit_symbolize.o: tests/unit_symbolize.c src/stack/symbolize.h
	@mkdir -p $$(dir $$@)
	$$(SAN_CC) $$(SAN_TFLAGS) $$(SAN_$(1)_FLAGS) $$(INCS) -c $$< -o $$@.tmp
	objcopy $$(SAN_RENAME) $$@.tmp $$@ && rm -f $$@.tmp

build-$(1)/tests/unit_symbolize: build-$(1)/tests/unit_symbolize.o build-$(1)/lazylibs.o build-$(1)/symbolize.o build-$(1)/symindex.o build-$(1)/out.o \
		build-$(1)/procgate.o build-$(1)/loaderprobe.o build-$(1)/real.o
	$$(SAN_CC) $$(SAN_TFLAGS) $$(SAN_$(1)_FLAGS) $$^ -ldw -lelf -ldl -pthread -o $$@

build-$(1)/tests/%: tests/%.c tests/testutil.h build-$(1)/libmempool.a
	@mkdir -p $$(dir $$@)
	$$(SAN_CC) $$(SAN_TFLAGS) $$(SAN_$(1)_FLAGS) $$(INCS) $$< build-$(1)/libmempool.a \
		$$(LIBS) -lcmocka -o $$@

sanitize-$(1): $$(SAN_$(1)_BIN)
	@MPWRAP_UNIT_ITERS=$$(SAN_ITERS) MPWRAP_UNIT_STALLS=$$(SAN_STALLS) \
		sh mk/sanrun.sh $(1) $$(SAN_$(1)_BIN)
endef

# Known failures of unit_symbolize in sanitizer builds only (test
# assumptions, not library bugs; docs/hardening.md): the sanitizer runtime
# intercepts strlen, so "a libc pc" taken as &strlen lies in the test
# binary; and the runtime's big .bss makes the test compare addresses past
# the file-backed part of the binary, which the symbolizer (rightly) does
# not attribute to the module.
define SAN_KNOWN_FAILURES
unit_symbolize:libc pc: module is libc
unit_symbolize:function names agree with dwfl_module_addrinfo
endef
sanitize-asan sanitize-tsan: export SAN_XFAIL = $(SAN_KNOWN_FAILURES)

$(eval $(call san_variant,asan))
$(eval $(call san_variant,tsan))

valgrind-unit: all $(SAN_UNITS:%=$(BUILD)/tests/%)
	@MPWRAP_UNIT_ITERS=$(VG_ITERS) MPWRAP_UNIT_STALLS=$(VG_STALLS) \
		sh mk/sanrun.sh valgrind $(SAN_UNITS:%=$(BUILD)/tests/%)

# Every variant runs even when an earlier one failed; the target fails if any did.
sanitize:
	@rc=0; \
	$(MAKE) --no-print-directory sanitize-asan || rc=1; \
	$(MAKE) --no-print-directory sanitize-tsan || rc=1; \
	$(MAKE) --no-print-directory valgrind-unit || rc=1; \
	if [ $$rc -eq 0 ]; then echo "sanitize: asan, tsan and valgrind runs clean"; \
	else echo "sanitize: FAILED (see above)"; fi; \
	exit $$rc

sanitize-clean:
	rm -rf build-asan build-tsan

# header dependencies of the sanitizer objects (-MMD in BASE)
-include $(wildcard build-*/*.d)
