/* rb_reload.c - blocks allocated by a library that is then unloaded, and
 * another library loaded in its place (same size, so the same addresses):
 * the leak report names the first library and its function for the first
 * blocks, not what is at those addresses now.  The leaks are deliberate. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	for (int i = 1; i <= 2; i++) {
		void *h = dlopen(argv[i], RTLD_NOW);
		void (*leak)(void) = h ? (void (*)(void))dlsym(h, "rb_reload_leak") : NULL;
		if (!leak) {
			fprintf(stderr, "%s\n", dlerror());
			return 3;
		}
		leak();
		dlclose(h);
	}
	return 0;
}
