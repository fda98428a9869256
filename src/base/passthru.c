/* passthru.c - the pass-through decision: checked, or every call forwarded
 * to the C library's allocator.
 *
 * A test suite runs hundreds of sh, sed, cmp and make processes whose heaps
 * nobody gates on; under mpcheck (system_passthrough=1) they cost a
 * getenv, one readlink and one small write instead of a pool, stacks and a
 * JSON report.  The decision is made at the first allocator call, with
 * syscalls and no malloc, and never changes for this image.
 */
#define _GNU_SOURCE
#include "passthru.h"
#include "options.h"
#include "real.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Where the distribution installs its programs (mpcheck's SYSTEM_PREFIXES,
 * whose leaks it never gates on either).  /usr/local and /opt are left
 * checked: what is there is often the user's own build. */
static const char *const system_dirs[] = {
	"/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/", "/usr/libexec/",
	"/usr/lib/", "/lib/", "/usr/lib64/", "/lib64/", "/usr/games/",
};

/* Installed programs that stay checked.  Interpreters and VMs load the C
 * extensions a project builds and tests (python3 -m pytest on a module,
 * perl's XS, Ruby's gems, PHP's and Lua's modules, JNI), and those
 * extensions' heaps are theirs. */
static const char *const kept_checked[] = {
	"python", "perl", "ruby", "php", "lua", "luajit", "tclsh", "wish",
	"node", "nodejs", "java", "guile", "R", "Rscript", "octave",
	/* Not interpreters, but programs that drop privileges and exec the
	 * next image in the same pid (`setpriv --reuid=nobody ./test`): run
	 * checked, they leave the start marker (made while still privileged)
	 * that tells mpcheck a checked image began there, so a test that can
	 * no longer write its report fails the gate ("report not written")
	 * instead of passing as one more unchecked system process. */
	"setpriv", "su", "sudo", "runuser", "chroot", "capsh",
};

static int stays_checked(const char *exe)
{
	const char *base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	/* python3.11, perl5.36.0, ruby3.1, php8.2, lua5.4, tclsh8.6,
	 * python3-dbg: the name without its version */
	size_t n = strcspn(base, "0123456789.-");
	for (size_t i = 0; i < sizeof kept_checked / sizeof *kept_checked; i++)
		if (strlen(kept_checked[i]) == n &&
		    memcmp(base, kept_checked[i], n) == 0)
			return 1;
	return 0;
}

int _mp_passthrough_is_system(const char *exe)
{
	for (size_t i = 0; i < sizeof system_dirs / sizeof *system_dirs; i++)
		if (strncmp(exe, system_dirs[i], strlen(system_dirs[i])) == 0)
			return !stays_checked(exe);
	return 0;
}

static char exe_path[4096];
/* -1: not decided yet; 0: checked; 1: AT_SECURE; 2: system program;
 * 3: sampled (sample_rate=N: passed through, but for the sampled blocks;
 * MP_PT_SAMPLED, read by the shims' fast path) */
atomic_int _mp_passthru_mode = -1;

static int decide(void)
{
	if (_mp_secure())
		return 1;
	/* environ is set before any code of the program's runs; if it is
	 * not yet (a call from the loader), the image stays checked */
	size_t len = 0;
	const char *opts = getenv("MPWRAP_OPTIONS");
	const char *v = _mp_options_peek(opts, "system_passthrough", &len);
	/* sample_rate=N, N not 0: sampled mode, unless a system program
	 * passes through wholly (below) */
	size_t slen = 0;
	const char *sr = _mp_options_peek(opts, "sample_rate", &slen);
	int sampled = sr && slen && strspn(sr, "0") < slen;
	if (!v || len != 1 || v[0] != '1')
		return sampled ? MP_PT_SAMPLED : 0;
	/* the kernel's own path of the image: links resolved, no malloc */
	long n = syscall(SYS_readlink, "/proc/self/exe", exe_path,
			 sizeof exe_path - 1);
	if (n <= 0)
		return sampled ? MP_PT_SAMPLED : 0;
	exe_path[n] = '\0';
	return _mp_passthrough_is_system(exe_path) ? 2 : sampled ? MP_PT_SAMPLED : 0;
}

int _mp_passthru_decide(void)
{
	/* the first call of the image, before threads exist: two racing
	 * callers would compute the same answer anyway */
	int m = decide();
	atomic_store_explicit(&_mp_passthru_mode, m, memory_order_release);
	return m;
}

static int get_mode(void)
{
	return _mp_passthru_get();
}

int _mp_passthrough_system(void)
{
	return get_mode() == 2;
}

const char *_mp_passthrough_exe(void)
{
	return get_mode() == 2 ? exe_path : "";
}
