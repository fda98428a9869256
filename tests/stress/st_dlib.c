/* st_dlib.c - the shared library st_dlopen loads and unloads 200 times.
 *
 * Its constructor allocates a block its destructor frees; st_dlib_work()
 * allocates, reallocates and frees blocks of its own and may hand one back
 * to the caller, which keeps it past dlclose (a block whose allocation
 * stack lies in a module no longer loaded).
 */
#include <stdlib.h>
#include <string.h>

static char *ctor_block;

__attribute__((constructor)) static void st_dlib_init(void)
{
	ctor_block = malloc(100);
	if (ctor_block)
		memset(ctor_block, 1, 100);
}

__attribute__((destructor)) static void st_dlib_fini(void)
{
	free(ctor_block);
	ctor_block = NULL;
}

__attribute__((noinline)) static void *st_dlib_alloc(size_t n)
{
	void *p = malloc(n);
	if (p)
		memset(p, 0x33, n);
	return p;
}

/* n blocks allocated, grown and freed; returns the number of failures.  With
 * keep != NULL one more block is left in *keep for the caller. */
int st_dlib_work(int n, void **keep)
{
	int bad = 0;
	void *p[64];
	if (n > 64)
		n = 64;
	for (int i = 0; i < n; i++)
		if (!(p[i] = st_dlib_alloc((size_t)(i * 37 % 5000 + 1))))
			bad++;
	for (int i = 0; i < n; i++) {
		void *q = p[i] ? realloc(p[i], (size_t)(i * 53 % 7000 + 1)) : NULL;
		if (q)
			p[i] = q;
		else
			bad++;
	}
	for (int i = 0; i < n; i++)
		free(p[i]);
	if (keep)
		*keep = st_dlib_alloc(48);
	if (!ctor_block || ctor_block[99] != 1)
		bad++;
	return bad;
}
