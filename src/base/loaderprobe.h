/* loaderprobe.h - can this process still use the dynamic loader? */
#ifndef MP_LOADERPROBE_H
#define MP_LOADERPROBE_H

/* 1 when dl_iterate_phdr and dladdr return within a short time, 0 when
 * they would wait forever: a child forked while another thread of its
 * parent was inside dlopen inherits the loader's locks held by a thread it
 * does not have.  Arms a timer and a signal handler while it probes. */
int _mp_loader_usable(void);

/* The fork child handler: the next _mp_loader_ok probes once. */
void _mp_loader_forked(void);
/* Whether the checker may use the loader (stack walking past known code,
 * symbolization, the leak scan's module roots): always in the process that
 * loaded us, once probed in a forked child.  When not, stacks keep the
 * calling frame only and reports print raw addresses. */
int _mp_loader_ok(void);

/* The signal the probe's timer sends (SIGRTMAX - 7): it must stay at its
 * default for the probe to arm it, so no handler of ours may take it (with
 * one in place the probe cannot tell, trusts the loader, and a child whose
 * loader lock another thread held at the fork hangs in its exit report). */
int _mp_loader_probe_signal(void);

#endif
