/* pl_dlopen.c - dlopen the library argv[1] (pl_dlib.c), leak 55 bytes
 * allocated by its dl_leaky_alloc(), dlclose it (it really unloads), exit.
 * The leak's stack must still name dl_leaky_alloc. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "tprog.h"

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		printf("dlopen: %s\n", dlerror());
		return 2;
	}
	void *(*fn)(size_t) = (void *(*)(size_t))dlsym(h, "dl_leaky_alloc");
	if (!fn)
		return 2;
	char *volatile p = fn(55);
	p[0] = 1;
	p = NULL;
	if (dlclose(h) != 0)
		return 2;
	void *again = dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD);
	printf("%s\n", again ? "still loaded" : "unloaded");
	return 0;
}
