/* mpwrap/lsan_interface.h - LeakSanitizer's interface as libmpwrap.so
 * exports it: the same names and prototypes as compiler-rt's
 * <sanitizer/lsan_interface.h>, so code written for LSan builds unchanged
 * with either header.  Declared weak here: a program built with this
 * header links and runs without libmpwrap.so too, where each function is
 * NULL (test it before calling: `if (__lsan_disable) __lsan_disable();`).
 *
 * Thread safety: all may be called from any thread (not from a signal
 * handler); __lsan_disable/__lsan_enable count per thread.  The program's
 * own hooks __lsan_is_turned_off and __lsan_default_suppressions are found
 * with dlsym in the global scope: link the program with -rdynamic (or
 * -Wl,--export-dynamic-symbol=__lsan_*) so they are visible.
 */
#ifndef MPWRAP_LSAN_INTERFACE_H
#define MPWRAP_LSAN_INTERFACE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MPWRAP_LSAN_WEAK __attribute__((weak))

/* Allocations made by this thread until the matching __lsan_enable are
 * never leaks, and are roots (what they point to is reachable). */
void __lsan_disable(void) MPWRAP_LSAN_WEAK;
void __lsan_enable(void) MPWRAP_LSAN_WEAK;

/* The heap block p points into is never a leak, and is a root. */
void __lsan_ignore_object(const void *p) MPWRAP_LSAN_WEAK;

/* [p, p + size) is scanned for pointers like a global, until unregistered
 * (with the same p and size). */
void __lsan_register_root_region(const void *p, size_t size) MPWRAP_LSAN_WEAK;
void __lsan_unregister_root_region(const void *p, size_t size) MPWRAP_LSAN_WEAK;

/* The end-of-process report, now and once: errors, leaks, JSON; exits with
 * option exitcode when something was found; no report at exit follows. */
void __lsan_do_leak_check(void) MPWRAP_LSAN_WEAK;

/* A leak check now ("leak check #N (__lsan_do_recoverable_leak_check)");
 * nonzero when lost blocks of the kinds leak_kinds gates on were found.
 * The program continues. */
int __lsan_do_recoverable_leak_check(void) MPWRAP_LSAN_WEAK;

/* Hooks the program may define (not defined by mpwrap). */
int __lsan_is_turned_off(void);
const char *__lsan_default_suppressions(void);

#ifdef __cplusplus
}
#endif
#endif
