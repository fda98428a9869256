# mpwrap - debugging memory pool (libmempool.a) and LD_PRELOAD checker
# (libmpwrap.so).  `make demo` and `make test` are the two set-up commands.

CC      ?= cc
ifeq ($(origin CC),default)
CC      := cc
endif
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
BASE     = -std=gnu11 -fPIC -fvisibility=hidden -pthread $(INCS) -MMD -MP
LIBS    := -ldl -pthread
BUILD   := build
PREFIX  ?= /usr/local

# Debian packages (and a file proving each is there)
DEPS := libunwind-dev:/usr/include/libunwind.h \
        libdw-dev:/usr/include/elfutils/libdwfl.h \
        libcmocka-dev:/usr/include/cmocka.h \
        python3:/usr/bin/python3
# what the test suite runs: the real-program matrix and the memcheck
# comparison (valgrind), the C++ tests (g++, clang), the installed pkg-config file
# (pkgconf), the SARIF schema check (python3-jsonschema) and the CI recipe
# check (python3-yaml), the CTest recipe (cmake), the type check of
# mpcheck's package (mypy), the test names of meson test (meson, ninja-build)
TEST_DEPS := g++:/usr/bin/g++ clang:/usr/bin/clang pkgconf:/usr/bin/pkg-config git:/usr/bin/git sqlite3:/usr/bin/sqlite3 \
        perl:/usr/bin/perl openssl:/usr/bin/openssl valgrind:/usr/bin/valgrind \
        tar:/usr/bin/tar gzip:/usr/bin/gzip \
        python3-jsonschema:/usr/lib/python3/dist-packages/jsonschema/__init__.py \
        python3-yaml:/usr/lib/python3/dist-packages/yaml/__init__.py \
        cmake:/usr/bin/ctest mypy:/usr/bin/mypy meson:/usr/bin/meson ninja-build:/usr/bin/ninja \
        libgtest-dev:/usr/include/gtest/gtest.h libcmocka-dev:/usr/include/cmocka.h \
        libcriterion-dev:/usr/include/criterion/criterion.h
# real programs tests/robust runs as they are, where they can be installed
# (as root, make test installs them; elsewhere their checks are skipped)
PROGRAM_DEPS := php-cli:/usr/bin/php emacs-nox:/usr/bin/emacs \
        default-jre-headless:/usr/bin/java
# the browser tests/t_html.sh renders mpcheck --html's page in (headless);
# where it cannot be installed those checks are skipped
BROWSER_DEPS := chromium:/usr/bin/chromium

# Sources by layer, lowest first; a file calls only into its own layer or
# the ones listed before it (tests/arch/t_layers.sh checks the objects' symbols
# and the includes).  libmempool.a is everything up to api; libmpwrap.so
# adds the leak scan, the exit report and the shims.
LAYERS      := base heap stack leak report detect api preload
BASE_SRC    := out options real vm procmaps loaderprobe procgate gpsites deepstack passthru
HEAP_SRC    := slab tcache guard guardpage large quarantine sampleslots custom customview customguard
STACK_SRC   := lazylibs depot stack unwind unwindcfi symindex symbolize profile
LEAK_SRC    := leaks
REPORT_SRC  := locate report sink notes
DETECT_SRC  := init bytecount pool callcheck realloc check stats sampled
API_SRC     := api
# the preload build only: reachability scan, thread registry, JSON, exit
# report, signals and the shims
SO_STACK_SRC  := handoff
SO_LEAK_SRC   := roots threads leakscan leakheur inherit scangate lsanhooks samplescan
SO_REPORT_SRC := json jsonfile jsonprof leakreport scopelog testname
PRELOAD_SRC   := exit signals growth longrun restart lsan clientreq preload preload_rt preload_cxx

CORE_SRC := $(BASE_SRC) $(HEAP_SRC) $(STACK_SRC) $(LEAK_SRC) $(REPORT_SRC) $(DETECT_SRC) $(API_SRC)
SO_SRC   := $(SO_STACK_SRC) $(SO_LEAK_SRC) $(SO_REPORT_SRC) $(PRELOAD_SRC)
CORE_OBJ := $(CORE_SRC:%=$(BUILD)/%.o)
SO_OBJ   := $(CORE_OBJ) $(SO_SRC:%=$(BUILD)/%.o)
SRC_DIRS := $(filter-out src/api,$(LAYERS:%=src/%)) src
vpath %.c $(SRC_DIRS)
INCS     := -Iinclude $(SRC_DIRS:%=-I%)

# test programs: stable stacks
TFLAGS := -g -O0 -fno-omit-frame-pointer -fno-optimize-sibling-calls \
          -std=gnu11 -Wall -Wextra -Werror -Iinclude -pthread

.PHONY: all deps demo test dogfood clean bench bench-quick install uninstall sanitize fuzz
all: $(BUILD)/.deps libmempool.a libmpwrap.so

$(BUILD)/.deps: scripts/deps.sh
	@mkdir -p $(BUILD)
	@sh scripts/deps.sh $(DEPS)
	@touch $@

$(BUILD)/%.o: %.c $(BUILD)/.deps
	$(CC) $(BASE) $(WARN) $(CFLAGS) -c $< -o $@

# header dependencies, written by -MMD
-include $(wildcard $(BUILD)/*.d)

# a throwing new-handler or std::bad_alloc unwinds through the C++ shims
$(BUILD)/preload_cxx.o: CFLAGS += -fexceptions

libmempool.a: $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

libmpwrap.so: $(SO_OBJ)
	$(CC) -shared -Wl,-z,defs -Wl,-z,nodelete -o $@ $^ $(LIBS)

# ---- tests ---------------------------------------------------------------
UNIT := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/unit_*.c))

$(BUILD)/tests/unit_symbolize: tests/unit_symbolize.c $(BUILD)/lazylibs.o $(BUILD)/symbolize.o $(BUILD)/symindex.o $(BUILD)/out.o \
		$(BUILD)/procgate.o $(BUILD)/loaderprobe.o $(BUILD)/real.o
	@mkdir -p $(dir $@)
	$(CC) $(TFLAGS) $(INCS) $^ -ldw -lelf -ldl -pthread -o $@ # the test calls libdw itself

$(BUILD)/tests/%: tests/%.c libmempool.a
	@mkdir -p $(dir $@)
	$(CC) $(TFLAGS) $(INCS) $< libmempool.a $(LIBS) -lcmocka -o $@

SHELL_TESTS = $(sort $(wildcard tests/t_*.sh tests/*/t_*.sh))

# shell tests find the build through these
export MPWRAP_ROOT := $(CURDIR)
export MPWRAP_LIB := $(CURDIR)/libmpwrap.so
export MPWRAP_TFLAGS := $(TFLAGS)

# the Makefile too: a package added to TEST_DEPS is installed on the next run
$(BUILD)/.test-deps: scripts/deps.sh Makefile
	@mkdir -p $(BUILD)
	@sh scripts/deps.sh $(TEST_DEPS)
	@[ "$$(id -u)" != 0 ] || sh scripts/deps.sh $(PROGRAM_DEPS) || \
		echo "deps: the robustness suite will skip what is missing" >&2
	@[ "$$(id -u)" != 0 ] || sh scripts/deps.sh $(BROWSER_DEPS) || \
		echo "deps: t_html.sh will skip its browser checks" >&2
	@touch $@

test: all $(UNIT) $(BUILD)/.test-deps $(BUILD)/demo $(BUILD)/leaky $(BUILD)/service
	@sh tests/run.sh $(UNIT) $(SHELL_TESTS)

# ---- dogfooding: our own programs under our own gate --------------------
# unit_symbolize is left out: it defines its own malloc and links its own
# copy of the symbolizer, which then runs beside the preloaded one and
# compares libdw views of the process that the preloaded copy changes.
DOGFOOD := $(filter-out %/unit_symbolize,$(UNIT)) $(BUILD)/demo

dogfood: all $(UNIT) $(BUILD)/demo
	@for p in $(DOGFOOD); do \
		MPWRAP_UNIT_ITERS=20000 scripts/mpcheck --quiet ./$$p >/dev/null 2>$(BUILD)/dogfood.log \
			|| { echo "dogfood: $$p failed the gate"; cat $(BUILD)/dogfood.log; exit 1; }; \
		echo "dogfood: $$p passes the gate"; \
	done

# ---- demo ----------------------------------------------------------------
$(BUILD)/demo: examples/demo.c libmempool.a
	@mkdir -p $(dir $@)
	$(CC) $(TFLAGS) $< libmempool.a $(LIBS) -o $@

$(BUILD)/leaky: examples/leaky.c
	@mkdir -p $(dir $@)
	$(CC) $(TFLAGS) $< -o $@

# a daemon stopped by SIGTERM: docs/ci.md's recipe for checking a service
$(BUILD)/service: examples/service.c
	@mkdir -p $(dir $@)
	$(CC) $(TFLAGS) $< -o $@

demo: all $(BUILD)/demo $(BUILD)/leaky
	@echo "== 1. examples/demo.c: a leak and a one-byte overflow, through the mp_* API"
	@./$(BUILD)/demo; echo "(demo exit status $$?)"
	@echo
	@echo "== 2. examples/leaky.c, an ordinary program, under the checker:"
	@echo "==    scripts/mpcheck --json $(BUILD)/leaky.json --sarif $(BUILD)/leaky.sarif $(BUILD)/leaky"
	@scripts/mpcheck --json $(BUILD)/leaky.json --sarif $(BUILD)/leaky.sarif \
		./$(BUILD)/leaky; echo "(mpcheck exit status $$?: 23 = the gate found new errors or leaks)"

# ---- benchmarks: ratios against glibc and the peer tools, one run -------
bench: all
	python3 bench/run.py

# under 3 minutes, for use while working: the malloc churn (1 and 2 threads)
# and python, against glibc, LSan and ASan; writes bench/RESULTS-quick.md
bench-quick: all
	BENCH_QUICK=1 BENCH_REPS=5 BENCH_REPORT=0 BENCH_PERF=0 BENCH_PY_SCALE=0.5 \
	BENCH_WORKLOADS=mchurn-1,mchurn-2,python python3 bench/run.py

# ---- sanitizer builds, fuzzing (mk/*.mk) ------------------------------------
-include mk/*.mk

# ---- install -------------------------------------------------------------
VERSION := 0.1.0
DESTDIR ?=
INST = $(DESTDIR)$(PREFIX)
# mpcheck's package; scripts/mpcheck finds it in $(PREFIX)/lib/mpwrap/python
MPCHECK_PY := $(wildcard mpcheck/*.py)
# --html's page, read at run time (mpcheck/html.py)
MPCHECK_HTML := $(wildcard mpcheck/html_assets/*)
# the headers a program includes as <mpwrap/...>: scopes and runner glue,
# LeakSanitizer's interface, pool annotations
MPWRAP_H := $(wildcard include/mpwrap/*.h)

install: all
	install -d $(INST)/lib/mpwrap $(INST)/lib/pkgconfig $(INST)/include \
		$(INST)/bin $(INST)/share/man/man1
	install -m 755 libmpwrap.so $(INST)/lib/mpwrap/libmpwrap.so
	install -m 644 libmempool.a $(INST)/lib/libmempool.a
	install -m 644 include/mempool.h $(INST)/include/mempool.h
	install -d $(INST)/include/mpwrap
	install -m 644 $(MPWRAP_H) $(INST)/include/mpwrap/
	install -d $(INST)/lib/mpwrap/python/mpcheck
	install -m 644 $(MPCHECK_PY) $(INST)/lib/mpwrap/python/mpcheck/
	install -d $(INST)/lib/mpwrap/python/mpcheck/html_assets
	install -m 644 $(MPCHECK_HTML) $(INST)/lib/mpwrap/python/mpcheck/html_assets/
	install -m 755 scripts/mpcheck $(INST)/bin/mpcheck
	install -m 755 scripts/mpcheck-ctest $(INST)/bin/mpcheck-ctest
	install -m 644 scripts/mpcheck.1 $(INST)/share/man/man1/mpcheck.1
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS@|$(LIBS)|' mpwrap.pc.in \
		> $(INST)/lib/pkgconfig/mpwrap.pc

uninstall:
	rm -f $(INST)/lib/mpwrap/libmpwrap.so $(INST)/lib/libmempool.a \
		$(INST)/include/mempool.h $(INST)/bin/mpcheck $(INST)/bin/mpcheck-ctest \
		$(INST)/share/man/man1/mpcheck.1 $(INST)/lib/pkgconfig/mpwrap.pc
	rm -rf $(INST)/lib/mpwrap/python/mpcheck
	rm -f $(MPWRAP_H:include/mpwrap/%=$(INST)/include/mpwrap/%)
	-rmdir $(INST)/include/mpwrap 2>/dev/null
	-rmdir $(INST)/lib/mpwrap/python $(INST)/lib/mpwrap 2>/dev/null

clean:
	rm -rf $(BUILD) libmempool.a libmpwrap.so
