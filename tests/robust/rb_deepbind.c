/* rb_deepbind.c - a library loaded with RTLD_DEEPBIND (as PHP loads its
 * extensions) frees the program's blocks and allocates blocks the program
 * frees: under the checker both sides must use the same allocator (the
 * flag is dropped, and said once).  Also: a library found through the
 * program's own RUNPATH by bare name still loads, i.e. dlopen still sees
 * the program as its caller.  Prints "ok". */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_DEEPBIND);
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 3;
	}
	void *(*lib_alloc)(size_t) = (void *(*)(size_t))dlsym(h, "rb_lib_alloc");
	void (*lib_free)(void *) = (void (*)(void *))dlsym(h, "rb_lib_free");
	char *p = malloc(100);
	strcpy(p, "from the program");
	lib_free(p);
	char *q = lib_alloc(200);
	strcpy(q, "from the library");
	q = realloc(q, 500);
	free(q);
	/* by bare name: only the program's RUNPATH knows where it is */
	void *r = dlopen(argv[2], RTLD_NOW);
	if (!r) {
		fprintf(stderr, "dlopen by RUNPATH: %s\n", dlerror());
		return 4;
	}
	printf("ok\n");
	return 0;
}
