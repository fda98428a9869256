/* st_dlopen.c - dlopen/dlclose of a library that allocates and frees.
 *
 *   st_dlopen LIBRARY [ITERATIONS=200] [KEEP_EVERY=50]
 *
 * Each iteration: dlopen(RTLD_NOW | RTLD_LOCAL), call st_dlib_work() (64
 * blocks allocated, reallocated and freed inside the library; its
 * constructor and destructor allocate and free one more), dlclose.  Every
 * KEEP_EVERY-th call hands back one 48-byte block that the program keeps,
 * reachable from a global, until exit: ITERATIONS / KEEP_EVERY blocks are
 * deliberately kept (printed as keep=N), and their allocation stacks lie in
 * a module closed long before the exit report symbolizes them.
 */
#include "stress.h"

#include <dlfcn.h>

static void *kept[1024];

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *lib = argv[1];
	long iters = st_arg(argc, argv, 2, 200);
	long every = st_arg(argc, argv, 3, 50);
	long bad = 0, nkept = 0, opens = 0;
	double t0 = st_now();
	for (long i = 0; i < iters; i++) {
		void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			printf("# FAIL dlopen: %s\n", dlerror());
			return 1;
		}
		opens++;
		int (*work)(int, void **) = (int (*)(int, void **))dlsym(h, "st_dlib_work");
		if (!work) {
			printf("# FAIL dlsym: %s\n", dlerror());
			return 1;
		}
		void **keep = every > 0 && i % every == every - 1 && nkept < 1024
				      ? &kept[nkept] : NULL;
		bad += work(64, keep);
		if (keep && kept[nkept])
			nkept++;
		if (dlclose(h) != 0) {
			printf("# FAIL dlclose: %s\n", dlerror());
			return 1;
		}
	}
	for (long i = 0; i < nkept; i++) {
		unsigned char *p = kept[i];
		for (int k = 0; k < 48; k++)
			if (p[k] != 0x33)
				bad++;
	}
	printf("# iterations=%ld dlopen=%ld lib_blocks=%ld bad=%ld keep=%ld "
	       "seconds=%.2f\n", iters, opens, iters * (64 + 1), bad, nkept,
	       st_now() - t0);
	if (bad) {
		printf("# FAIL %ld bad blocks or results\n", bad);
		return 1;
	}
	return 0;
}
