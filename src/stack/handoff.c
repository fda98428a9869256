/* handoff.c - the point where the program handed control to the checker.
 *
 * The exit scan must read the program's stack as the program left it: from
 * the frame that called exit (or _exit, or was interrupted by a signal) up,
 * never the checker's own deeper frames, whose unwritten buffers hold stale
 * copies of pointers from earlier calls (a leaked block would come out
 * "reachable", differently from run to run).  Frames of the C library and
 * the dynamic linker between the program and us (exit, _dl_fini, the
 * destructor call) are dead to the program too and are skipped the same way.
 * A leak scope's check goes on up to the frame that spans the scope
 * (handoff.h): the frames the test made since it began are dead too.
 */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include "handoff.h"
#include "deepstack.h"
#include "mpassert.h"
#include "reent.h"
#include "procgate.h"
#include "stack.h"

#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <stdatomic.h>
#include "lazylibs.h"
#include <string.h>
#include <ucontext.h>

/* x86-64 leaf functions may keep live data up to 128 bytes below the stack
 * pointer: an interrupted frame's red zone is part of it. */
#define RED_ZONE 128
#define MAX_WALK 256 /* frames of ours, ld.so's and libc's at the most */

extern void *__libc_stack_end;

static uintptr_t keep_word;

void _mp_handoff_keep(uintptr_t word)
{
	keep_word = word;
}

static uintptr_t base_of(const void *addr)
{
	Dl_info di;
	return dladdr(addr, &di) ? (uintptr_t)di.dli_fbase : 0;
}

/* The scope the next _mp_handoff_here judges (_mp_handoff_set_scope):
 * the program's frames when it began, or NULL. */
static const struct mp_frames *_Atomic scope_frames;

static int began_in(const struct mp_frames *f, uintptr_t sp, uintptr_t ip)
{
	for (int i = 0; i < f->n; i++)
		if (f->sp[i] == sp && f->ip[i] == ip)
			return 1;
	return 0;
}

/* A program frame's stack pointer and callee-saved registers (the others
 * are dead at a call site). */
static void take_frame(unw_cursor_t *cur, uintptr_t sp, struct mp_handoff *h)
{
	/* libunwind's number and the mcontext slot of each */
	static const int callee_saved[][2] = {
		{ UNW_X86_64_RBX, REG_RBX }, { UNW_X86_64_RBP, REG_RBP },
		{ UNW_X86_64_R12, REG_R12 }, { UNW_X86_64_R13, REG_R13 },
		{ UNW_X86_64_R14, REG_R14 }, { UNW_X86_64_R15, REG_R15 },
	};
	memset(h, 0, sizeof *h);
	h->sp = sp;
	for (size_t k = 0; k < sizeof callee_saved / sizeof callee_saved[0]; k++) {
		unw_word_t v = 0;
		unw_get_reg(cur, callee_saved[k][0], &v);
		h->regs[callee_saved[k][1]] = (uintptr_t)v;
	}
	h->nregs = MP_HANDOFF_REGS;
}

/* Walk up from the caller past our, ld.so's and libc's frames to the
 * program's first.  rec: record the program's frames there, nothing else.
 * scope: go on up to the frame the scope began in (see handoff.h); none
 * found, the first. */
static int walk(struct mp_handoff *h, struct mp_frames *rec,
		const struct mp_frames *scope)
{
	uintptr_t ours = base_of((void *)&_mp_handoff_here),
		  ldso = base_of(&__libc_stack_end),
		  libc = base_of((void *)&gnu_get_libc_version);
	memset(h, 0, sizeof *h);
	if (rec)
		rec->n = 0;
	int rc = -1, prog = 0;
	struct mp_handoff cand; /* the program frame below the current one */
	unw_context_t uc;
	unw_cursor_t cur;
	_mp_enter(); /* libunwind may allocate */
	_mp_loader_gate_enter();
	/* on the library's stack (deepstack.c) the program's frames are not
	 * above ours: start from the context saved at the switch
	 * (libunwind's context on x86-64 is a ucontext_t) */
	_Static_assert(sizeof(unw_context_t) == sizeof(ucontext_t), "context");
	const void *caller = _mp_deep_caller((uintptr_t)&uc);
	if (caller)
		memcpy(&uc, caller, sizeof uc);
	/* libunwind missing: the scan starts at this frame.  Never loaded
	 * here (the exit scan may hold pool locks): the full mode loaded it
	 * at init, a sampled block's capture before any block is live */
	h->sp = caller ? (uintptr_t)((const ucontext_t *)caller)->uc_mcontext.gregs[REG_RSP]
		       : (uintptr_t)&uc;
	if (_mp_lazylibs_ready(MP_LZ_UNWIND) &&
	    (caller || unw_getcontext(&uc) == 0) && unw_init_local(&cur, &uc) == 0) {
		for (int i = 0; i < MAX_WALK; i++) {
			unw_word_t ip = 0, sp = 0;
			unw_get_reg(&cur, UNW_REG_IP, &ip);
			unw_get_reg(&cur, UNW_REG_SP, &sp);
			uintptr_t mod = 0;
			if (!prog) {
				mod = base_of((void *)(uintptr_t)(ip ? ip - 1 : 0));
				h->sp = (uintptr_t)sp;
			}
			if (prog || (ip && mod != ours && mod != ldso && mod != libc)) {
				/* above the first program frame every frame
				 * counts, libc's that called main too */
				if (rec) {
					rec->sp[rec->n] = (uintptr_t)sp;
					rec->ip[rec->n] = (uintptr_t)ip;
					rc = 0;
					if (++rec->n == MP_SCOPE_FRAMES)
						break;
				} else if (!prog) {
					take_frame(&cur, (uintptr_t)sp, h);
					rc = 0;
					if (!scope)
						break;
					cand = *h;
				} else if (began_in(scope, (uintptr_t)sp, (uintptr_t)ip)) {
					/* this frame was making the same call when
					 * the scope began: the one below it is the
					 * activation that spans the scope */
					MP_DCHECK(cand.sp >= h->sp); /* up the stack */
					*h = cand;
					break;
				} else if (prog < MP_SCOPE_FRAMES) {
					take_frame(&cur, (uintptr_t)sp, &cand);
				} else {
					break; /* not found: the first frame (h) */
				}
				prog++;
			}
			if (unw_step(&cur) <= 0)
				break;
		}
	}
	_mp_loader_gate_leave();
	_mp_leave();
	if (keep_word) { /* what the pool call returns: in rax at the return */
		h->regs[REG_RAX] = keep_word;
		h->nregs = MP_HANDOFF_REGS;
	}
	return rc;
}

int _mp_handoff_here(struct mp_handoff *h)
{
	return walk(h, NULL, atomic_load(&scope_frames));
}

int _mp_handoff_frames(struct mp_frames *f)
{
	struct mp_handoff h;
	return walk(&h, f, NULL);
}

void _mp_handoff_set_scope(const struct mp_frames *f)
{
	atomic_store(&scope_frames, f && f->n ? f : NULL);
}

static struct mp_handoff fatal_ctx;
static int have_fatal_ctx;

void _mp_handoff_set_context(const void *ucontext)
{
	const ucontext_t *uc = ucontext;
	_Static_assert(NGREG == MP_HANDOFF_REGS, "register count");
	for (int k = 0; k < NGREG; k++)
		fatal_ctx.regs[k] = (uintptr_t)uc->uc_mcontext.gregs[k];
	fatal_ctx.nregs = NGREG;
	fatal_ctx.sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP] - RED_ZONE;
	have_fatal_ctx = 1;
}

int _mp_handoff_context(struct mp_handoff *h)
{
	if (have_fatal_ctx)
		*h = fatal_ctx;
	return have_fatal_ctx;
}

void _mp_handoff_set_checker(int on)
{
	memset(&fatal_ctx, 0, sizeof fatal_ctx); /* sp 0: no stack, no registers */
	have_fatal_ctx = on;
}
