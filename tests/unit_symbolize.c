/* unit_symbolize.c - standalone TAP test of src/symbolize.c.
 *
 * Build: cc -g -O0 -fno-omit-frame-pointer -Isrc tests/unit_symbolize.c \
 *           src/symbolize.c -ldw -lelf -ldl -o /tmp/unit_symbolize
 * Needs a C compiler at run time (`cc`) to build a throw-away shared library
 * for the dlclose test.
 */
#define _GNU_SOURCE
#include "real.h"
#include "symbolize.h"

#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int n_tests, n_failed;

/* Count allocations made while `counting` is set (this thread only). */
extern void *__libc_malloc(size_t), *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static __thread int counting, n_allocs;

void *malloc(size_t n)
{
	n_allocs += counting;
	return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	n_allocs += counting;
	return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	n_allocs += counting;
	return __libc_realloc(p, n);
}

static void check(int cond, const char *name)
{
	printf("%s %d - %s\n", cond ? "ok" : "not ok", ++n_tests, name);
	if (!cond)
		n_failed++;
}

static void skip(const char *name, const char *why)
{
	printf("ok %d - %s # SKIP %s\n", ++n_tests, name, why);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int all_empty(const struct mp_symbol *s)
{
	return !s->function[0] && !s->file[0] && !s->line && !s->module[0] && !s->offset;
}

static void show(const char *what, uintptr_t pc, const struct mp_symbol *s)
{
	printf("# %s pc=%#lx: function='%s' file='%s' line=%d module='%s' offset=%#lx\n",
	       what, (unsigned long)pc, s->function, s->file, s->line, s->module,
	       (unsigned long)s->offset);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The pc under test is this callee's return address, like a stack frame's. */
static __attribute__((noinline)) uintptr_t return_address(void)
{
	return (uintptr_t)__builtin_return_address(0);
}

static int known_line;

/* The asm keeps the call from becoming a tail call at higher -O levels. */
__attribute__((noinline)) uintptr_t mpw_known_function(void)
{
	uintptr_t pc = return_address(); known_line = __LINE__;
	__asm__ volatile("" : "+r"(pc));
	return pc;
}

static void test_known_function(void)
{
	uintptr_t pc = mpw_known_function();
	struct mp_symbol s;
	char exe[PATH_MAX] = "", cmd[2 * PATH_MAX], out[512] = "";
	Dl_info di;
	struct link_map *lm = NULL;
	double t0 = now_ms(), t1, t2;
	int r = _mp_symbolize(pc, &s);
	ssize_t n;
	FILE *p;

	t1 = now_ms();
	_mp_symbolize(pc, &s);
	t2 = now_ms();
	printf("# first (cold) lookup %.1f ms, second (cached) %.3f ms\n", t1 - t0, t2 - t1);
	show("known", pc, &s);
	check(r == 1, "known pc: returns 1");
	check(strcmp(s.function, "mpw_known_function") == 0, "known pc: exact function name");
	check(ends_with(s.file, "unit_symbolize.c"), "known pc: file ends with unit_symbolize.c");
	check(s.line == known_line, "known pc: line of the call");

	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = '\0';
	check(n > 0 && ends_with(s.module, strrchr(exe, '/')), "known pc: module is the test binary");
	if (!dladdr1((void *)pc, &di, (void **)&lm, RTLD_DL_LINKMAP) || !lm) {
		check(0, "known pc: dladdr works");
		return;
	}
	check(s.offset == pc - (uintptr_t)lm->l_addr, "known pc: offset = pc - load bias");
	if (lm->l_addr)
		check(s.offset == pc - (uintptr_t)di.dli_fbase, "known pc: offset = pc - dli_fbase (PIE)");
	else
		skip("known pc: offset = pc - dli_fbase (PIE)", "not a PIE");

	/* The offset is meant for addr2line; pc - 1 names the call line. */
	snprintf(cmd, sizeof cmd, "addr2line -f -e '%s' %#lx 2>/dev/null", s.module,
		 (unsigned long)(s.offset - 1));
	p = popen(cmd, "r");
	if (p) {
		size_t len = fread(out, 1, sizeof out - 1, p);

		out[len] = '\0';
	}
	if (!p || pclose(p) != 0 || !out[0]) {
		skip("known pc: addr2line agrees", "addr2line not usable");
	} else {
		char want[64];

		snprintf(want, sizeof want, "unit_symbolize.c:%d", known_line);
		check(strncmp(out, "mpw_known_function\n", 19) == 0 && strstr(out, want),
		      "known pc: addr2line -e module offset-1 agrees");
	}
}

static void test_libc(void)
{
	size_t (*volatile fn)(const char *) = strlen;
	uintptr_t pc = (uintptr_t)fn + 1;
	struct mp_symbol s;
	double t0 = now_ms();
	int r = _mp_symbolize(pc, &s);

	printf("# first libc lookup %.1f ms\n", now_ms() - t0);
	show("libc", pc, &s);
	check(r == 1, "libc pc: returns 1");
	check(strstr(s.module, "/libc.so") != NULL, "libc pc: module is libc");
	check(strstr(s.function, "strlen") != NULL, "libc pc: function names strlen");
}

static void test_garbage(void)
{
	static const uintptr_t bad[] = { 0, 1, 0x10, 0x1000, UINTPTR_MAX };
	char *heap = malloc(64);
	struct mp_symbol s;
	int ok = 1;
	volatile char on_stack = 0;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&s, 0x5a, sizeof s);
		if (_mp_symbolize(bad[i], &s) != 0 || !all_empty(&s)) {
			show("garbage", bad[i], &s);
			ok = 0;
		}
	}
	check(ok, "garbage pcs (0, 1, 0x10, 0x1000, max): 0 and empty fields");
	memset(&s, 0x5a, sizeof s);
	check(_mp_symbolize((uintptr_t)heap + 8, &s) == 0 && all_empty(&s),
	      "heap address: 0 and empty fields");
	free(heap);
	memset(&s, 0x5a, sizeof s);
	check(_mp_symbolize((uintptr_t)&on_stack, &s) == 0 && all_empty(&s),
	      "stack address (above every module): 0 and empty fields");
	check(_mp_symbolize(0x10, NULL) == 0, "NULL out: returns 0");
}

/* The symbol index must name every address as dwfl_module_addrinfo's whole-table
 * scan does, and a repeated (memo) lookup must give the very same result. */
struct agree { long compared, differ, memo_differ; };

static int agree_module(Dwfl_Module *mod, void **userdata, const char *name,
			Dwarf_Addr base, void *arg)
{
	struct agree *st = arg;
	int n = dwfl_module_getsymtab(mod), step = n / 150 + 1;
	Dwarf_Addr lo = 0, hi = 0, bias = 0;
	struct link_map *lm = NULL;
	Dl_info di;

	(void)userdata, (void)base;
	if (!strstr(name, "/libc.so") && !strstr(name, "unit_symbolize"))
		return DWARF_CB_OK;
	dwfl_module_info(mod, NULL, &lo, &hi, NULL, NULL, NULL, NULL);
	/* libdw's own mmap of a file symbolized already shows up as a copy. */
	if (!dwfl_module_getelf(mod, &bias) ||
	    !dladdr1((void *)(uintptr_t)lo, &di, (void **)&lm, RTLD_DL_LINKMAP) || !lm ||
	    (Dwarf_Addr)lm->l_addr != bias)
		return DWARF_CB_OK;
	for (int i = 1; i < n; i += step) {
		GElf_Sym sym;
		GElf_Addr v;

		if (!dwfl_module_getsym_info(mod, i, &sym, &v, NULL, NULL, NULL))
			continue;
		GElf_Addr at[] = { v - 1, v, v + sym.st_size / 2, v + sym.st_size - 1,
				   v + sym.st_size };
		for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
			struct mp_symbol s, again;
			GElf_Sym hit;
			GElf_Off off;
			const char *want = NULL;
			char w[MP_SYM_NAME_MAX];

			if (at[k] < lo || at[k] >= hi)
				continue;
			want = dwfl_module_addrinfo(mod, at[k], &off, &hit, NULL, NULL, NULL);
			if (want && want[0] == '_' && want[1] == 'Z')
				continue; /* demangled once libstdc++ is loaded */
			snprintf(w, sizeof w, "%s", want ? want : "");
			_mp_symbolize(at[k] + 1, &s);
			_mp_symbolize(at[k] + 1, &again);
			st->compared++;
			if (strcmp(w, s.function) != 0 && st->differ++ < 5)
				printf("# addrinfo '%s' vs index '%s' at %s+%#lx\n", w, s.function,
				       name, (unsigned long)(at[k] - lo));
			st->memo_differ += memcmp(&s, &again, sizeof s) != 0;
		}
	}
	return DWARF_CB_OK;
}

static void test_matches_addrinfo(void)
{
	static const Dwfl_Callbacks cb = {
		.find_elf = dwfl_linux_proc_find_elf,
		.find_debuginfo = dwfl_build_id_find_debuginfo,
	};
	struct agree st = { 0, 0, 0 };
	Dwfl *d = dwfl_begin(&cb);

	if (d) {
		dwfl_report_begin(d);
		dwfl_linux_proc_report(d, getpid());
		if (dwfl_report_end(d, NULL, NULL) == 0)
			dwfl_getmodules(d, agree_module, &st, 0);
		dwfl_end(d);
	}
	printf("# %ld addresses in libc and the test binary compared\n", st.compared);
	check(st.compared > 500 && st.differ == 0,
	      "function names agree with dwfl_module_addrinfo (libc, test binary)");
	check(st.compared > 500 && st.memo_differ == 0, "repeated lookups give identical results");
}

/* Line 5 holds the call in mpw_closed_caller. */
static const char lib_src[] =
	"typedef unsigned long uptr;\n"
	"__attribute__((noinline)) uptr mpw_ra(void) { return (uptr)__builtin_return_address(0); }\n"
	"uptr mpw_closed_caller(void)\n"
	"{\n"
	"\tuptr pc = mpw_ra();\n"
	"\t__asm__ volatile(\"\" : \"+r\"(pc));\n"
	"\treturn pc;\n"
	"}\n"
	"uptr mpw_cxx(void) __asm__(\"_ZN3mpw4demoEv\");\n"
	"uptr mpw_cxx(void) { uptr pc = mpw_ra(); __asm__ volatile(\"\" : \"+r\"(pc)); return pc; }\n"
	"uptr mpw_long_%s(void) { uptr pc = mpw_ra(); __asm__ volatile(\"\" : \"+r\"(pc)); return pc; }\n";
#define LIB_CALL_LINE 5

static void test_closed_module(void)
{
	char src[64], so[64], cmd[400], longname[301], code[sizeof lib_src + sizeof longname];
	uintptr_t (*fn)(void);
	uintptr_t pc, long_pc, cxx_pc, bias;
	struct mp_symbol s;
	struct link_map *lm = NULL;
	Dl_info di;
	void *h, *cxx = NULL;
	int raw_name_ok;
	FILE *f;

	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	snprintf(src, sizeof src, "/tmp/mpw_symtest_%d.c", (int)getpid());
	snprintf(so, sizeof so, "/tmp/mpw_symtest_%d.so", (int)getpid());
	snprintf(code, sizeof code, lib_src, longname);
	f = fopen(src, "w");
	if (f) {
		fputs(code, f);
		fclose(f);
	}
	/* Without .debug_aranges (as clang emits it) to exercise the CU scan. */
	snprintf(cmd, sizeof cmd, "cc -g -O0 -shared -fPIC -o %s %s && "
		 "{ objcopy --remove-section=.debug_aranges %s || true; }", so, src, so);
	h = f && system(cmd) == 0 ? dlopen(so, RTLD_NOW | RTLD_LOCAL) : NULL;
	check(h != NULL, "closed module: test library built and dlopen'd");
	if (!h)
		goto out;

	fn = (uintptr_t (*)(void))dlsym(h, "mpw_closed_caller");
	pc = fn();
	fn = (uintptr_t (*)(void))dlsym(h, "_ZN3mpw4demoEv");
	cxx_pc = fn();
	snprintf(cmd, sizeof cmd, "mpw_long_%s", longname);
	fn = (uintptr_t (*)(void))dlsym(h, cmd);
	long_pc = fn();
	dlinfo(h, RTLD_DI_LINKMAP, &lm);
	bias = (uintptr_t)lm->l_addr;

	/* The cache was built before this dlopen: it must notice the new module. */
	_mp_symbolize(pc, &s);
	show("loaded", pc, &s);
	check(strcmp(s.function, "mpw_closed_caller") == 0 && strcmp(s.module, so) == 0,
	      "dlopen after cache: function and module found");
	_mp_symbolize(cxx_pc, &s);
	raw_name_ok = strcmp(s.function, "_ZN3mpw4demoEv") == 0;

	counting = 1;
	_mp_symbolize_before_dlclose(h);
	counting = 0;
	check(n_allocs == 0, "before_dlclose: no allocation");
	dlclose(h);
	check(!dladdr((void *)pc, &di), "closed module: really unmapped after dlclose");

	memset(&s, 0x5a, sizeof s);
	check(_mp_symbolize(pc, &s) == 1, "closed module: returns 1");
	show("closed", pc, &s);
	check(strcmp(s.function, "mpw_closed_caller") == 0, "closed module: function name");
	check(strcmp(s.module, so) == 0, "closed module: module path of the .so");
	check(s.offset == pc - bias, "closed module: offset = pc - load bias");
	check(ends_with(s.file, strrchr(src, '/')) && s.line == LIB_CALL_LINE,
	      "closed module: file and line");
	_mp_symbolize(long_pc, &s);
	check(strlen(s.function) == MP_SYM_NAME_MAX - 1 && strncmp(s.function, "mpw_long_xxx", 12) == 0,
	      "closed module: 300-char name truncated to MP_SYM_NAME_MAX - 1");

	/* The same library opened and closed again (same record, newest). */
	h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	fn = h ? (uintptr_t (*)(void))dlsym(h, "mpw_closed_caller") : NULL;
	pc = fn ? fn() : 0;
	if (h) {
		_mp_symbolize_before_dlclose(h);
		dlclose(h);
	}
	_mp_symbolize(pc, &s);
	check(h && strcmp(s.function, "mpw_closed_caller") == 0 && strcmp(s.module, so) == 0,
	      "closed module: reopened and closed again");

	/* Demangling: only possible once libstdc++ is loaded. */
	if (dlsym(RTLD_DEFAULT, "__cxa_demangle"))
		skip("demangle: raw name without libstdc++", "libstdc++ already loaded");
	else
		check(raw_name_ok, "demangle: raw _Z name while libstdc++ is absent");
	cxx = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_GLOBAL);
	if (!cxx) {
		skip("demangle: mpw::demo()", "libstdc++.so.6 not loadable");
	} else {
		_mp_symbolize(cxx_pc, &s);
		show("demangle", cxx_pc, &s);
		check(strcmp(s.function, "mpw::demo()") == 0, "demangle: mpw::demo() once libstdc++ is loaded");
	}
out:
	unlink(src);
	unlink(so);
}

/* The very first call into the module, in a fresh child, must not allocate
 * either (pthread_atfork registration, for one, would). */
static void test_first_call_is_dlclose(void)
{
	pid_t child = fork();
	int status = -1;

	if (child == 0) {
		void *h = dlopen("libelf.so.1", RTLD_NOW);

		counting = 1;
		_mp_symbolize_before_dlclose(h);
		counting = 0;
		_exit(h && n_allocs == 0 ? 0 : 1);
	}
	check(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0, "before_dlclose as the first call: no allocation");
}

static void test_fork(void)
{
	pid_t child = fork();
	int status = -1;

	if (child == 0) {
		struct mp_symbol s;
		uintptr_t pc = mpw_known_function();
		int ok;

		/* Without reset first (stale pid), then the documented reset. */
		_mp_symbolize(pc, &s);
		ok = strcmp(s.function, "mpw_known_function") == 0;
		_mp_symbolize_reset();
		_mp_symbolize(pc, &s);
		ok &= strcmp(s.function, "mpw_known_function") == 0 && s.line == known_line;
		_exit(ok ? 0 : 1);
	}
	check(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0, "fork: child symbolizes before and after reset");
}

static uintptr_t known_pc; /* set before the threads start */

static void *thread_main(void *arg)
{
	uintptr_t known = known_pc;
	size_t (*volatile fn)(const char *) = strlen;
	struct mp_symbol s;
	long bad = 0;

	for (int i = 0; i < 40; i++) {
		if (arg && i % 10 == 0)
			_mp_symbolize_reset();
		_mp_symbolize(known, &s);
		bad += strcmp(s.function, "mpw_known_function") != 0 || s.line != known_line;
		_mp_symbolize((uintptr_t)fn + 1, &s);
		bad += strstr(s.function, "strlen") == NULL;
	}
	return (void *)bad;
}

static void test_threads(void)
{
	pthread_t t[4];
	long bad = 0;

	known_pc = mpw_known_function();

	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, thread_main, i == 0 ? (void *)1 : NULL);
	for (int i = 0; i < 4; i++) {
		void *r;

		pthread_join(t[i], &r);
		bad += (long)r;
	}
	check(bad == 0, "threads: 4 threads symbolizing while one resets");
}

static pthread_mutex_t stop_mutex = PTHREAD_MUTEX_INITIALIZER;
static int stop_spinning;

static int should_stop(void)
{
	int stop;

	pthread_mutex_lock(&stop_mutex);
	stop = stop_spinning;
	pthread_mutex_unlock(&stop_mutex);
	return stop;
}

static void *spin_main(void *arg)
{
	struct mp_symbol s;

	(void)arg;
	while (!should_stop())
		_mp_symbolize(known_pc, &s);
	return NULL;
}

/* fork() while other threads are inside _mp_symbolize: the child must not
 * inherit a held lock or a half-updated cache. */
static void test_fork_while_busy(void)
{
	pthread_t t[2];
	int ok = 1;

	known_pc = mpw_known_function();
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, spin_main, NULL);
	for (int i = 0; i < 5; i++) {
		pid_t child = fork();
		int status = -1;

		if (child == 0) {
			struct mp_symbol s;
			int good;

			_mp_symbolize_reset();
			_mp_symbolize(known_pc, &s);
			good = strcmp(s.function, "mpw_known_function") == 0;
			_exit(good ? 0 : 1);
		}
		ok &= child > 0 && waitpid(child, &status, 0) == child &&
		      WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	pthread_mutex_lock(&stop_mutex);
	stop_spinning = 1;
	pthread_mutex_unlock(&stop_mutex);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	check(ok, "fork while 2 threads symbolize: 5 children reset and symbolize");
}

int main(void)
{
	struct mp_symbol s;

	setvbuf(stdout, NULL, _IONBF, 0); /* keep TAP order sane across fork */
	/* the symbolizer's own memory comes from the real allocator, which
	 * the pool's initialization (not linked here) would look up */
	_mp_real_resolve();
	test_first_call_is_dlclose();
	_mp_symbolize_reset();
	check(1, "reset with nothing cached does not crash");
	test_known_function();
	test_libc();
	test_matches_addrinfo();
	test_garbage();
	test_closed_module();
	test_fork();
	test_threads();
	test_fork_while_busy();
	_mp_symbolize_reset();
	_mp_symbolize_reset();
	check(_mp_symbolize(mpw_known_function(), &s) == 1 &&
	      strcmp(s.function, "mpw_known_function") == 0, "symbolize after double reset");
	_mp_symbolize_reset();
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
