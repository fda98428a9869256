/* real.h - the real (next) allocator and the bootstrap arena. */
#ifndef MP_REAL_H
#define MP_REAL_H

#include <stddef.h>

/* Look the real allocator up with dlsym(RTLD_NEXT); 0 or -1.  Allocation
 * requests made by dlsym itself meanwhile are served from the arena. */
int _mp_real_resolve(void);

/* The real malloc and calloc themselves, NULL until resolved: sampled
 * mode's fast path (preload.c) calls them with nothing in between. */
extern void *(*_mp_real_malloc_fn)(size_t);
extern void *(*_mp_real_calloc_fn)(size_t, size_t);

void *_mp_real_malloc(size_t n);
void *_mp_real_calloc(size_t nmemb, size_t size);
void *_mp_real_realloc(void *p, size_t n);
void *_mp_real_memalign(size_t align, size_t n);
void _mp_real_free(void *p);

/* libc's sigaction, never the shim of the same name (longrun.c), which
 * shows the program its own view of the signals libmpwrap.so owns.  No
 * dlsym: usable in a forked child whose loader locks another thread held
 * (loaderprobe.c). */
struct sigaction;
int _mp_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old);

/* Set-user-ID / set-group-ID process (AT_SECURE): the preload library then
 * passes every call through and writes nothing. */
int _mp_secure(void);
size_t _mp_real_usable_size(void *p);

/* Bootstrap arena: static memory for requests made before the real
 * allocator is known.  Its blocks are never freed. */
void *_mp_boot_alloc(size_t n, size_t align);
int _mp_boot_owns(const void *p);
/* Requested size of a bootstrap block (for realloc). */
size_t _mp_boot_size(const void *p);

#endif
