/* dt_shapes.c - one leak shape per run, for the determinism suite
 * (t_verdict.sh): built with gcc and clang at -O0 and -O2, every binary is
 * run many times under the checker and once under memcheck, and the
 * definite/indirect/possible bytes must be the same on every run and equal
 * memcheck's.  No shape scrubs the stack: a verdict that needs it is wrong.
 *
 * The fork-* shapes judge a forked child's own blocks: the parent leaks
 * nothing before the fork (memcheck, which reports a child's whole heap,
 * then agrees), the child's blocks hang from inherited structures.
 *
 * Usage: dt_shapes SHAPE [EXIT], EXIT one of return (default), exit, _exit,
 * thread-exit (another thread calls exit while main waits in join), abort.
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct node { /* 32 bytes */
	struct node *next, *left, *right;
	long val;
};

static void *volatile g_keep;   /* a global root */
static char *volatile g_inner;  /* an interior pointer */
static atomic_int ready;

static TP_NOINLINE struct node *node(void)
{
	struct node *n = calloc(1, sizeof *n);
	tp_escape(n);
	return n;
}

/* Each builder leaves its structure reachable only from its own (dead,
 * once it returns) frame. */
static TP_NOINLINE void single(void)
{
	void *volatile p = malloc(40);
	(void)p;
}

static TP_NOINLINE void list(void)
{
	struct node *volatile head = NULL;
	for (int i = 0; i < 10; i++) {
		struct node *n = node();
		n->next = head;
		head = n;
	}
}

static TP_NOINLINE struct node *tree(int depth)
{
	struct node *n = node();
	if (depth > 1) {
		n->left = tree(depth - 1);
		n->right = tree(depth - 1);
	}
	TP_NO_TAILCALL();
	return n;
}

static TP_NOINLINE void tree3(void)
{
	struct node *volatile root = tree(3); /* 7 nodes */
	(void)root;
}

static TP_NOINLINE void cycle(void)
{
	struct node *volatile a = node(), *volatile b = node(), *volatile c = node();
	a->next = b;
	b->next = c;
	c->next = a;
}

static TP_NOINLINE void self(void)
{
	struct node *volatile a = node();
	a->next = a;
}

static TP_NOINLINE void interior(void)
{
	char *p = malloc(64);
	memset(p, 0x5a, 64); /* no heuristic of memcheck's applies */
	g_inner = p + 40;
}

/* the pointer lives only in an array of a frame that is gone */
static TP_NOINLINE void deadframe(void)
{
	void *volatile arr[16];
	for (int i = 0; i < 16; i++)
		arr[i] = NULL;
	arr[7] = malloc(48);
	tp_escape((void *)arr);
}

static void *hold_in_register(void *arg)
{
	(void)arg;
	void *p = malloc(56);
	tp_escape(p);
	atomic_store(&ready, 1);
	for (;;) {
		pause();
		tp_escape(p); /* p stays live across pause(): rbx at -O2 */
	}
	return NULL;
}

static void *leak96(void *arg)
{
	(void)arg;
	void *volatile p = malloc(96);
	(void)p;
	return NULL;
}

/* keeps replacing its slot's block: at any moment one block is in flight
 * between malloc and the slot (in a register), and one between the slot
 * and free */
#define BUSY_THREADS 16
static void *volatile slots[BUSY_THREADS];
static atomic_int started;

static void *churn(void *arg)
{
	long i = (long)arg;
	atomic_fetch_add(&started, 1);
	for (;;) {
		void *n = malloc(48);
		void *old = slots[i];
		slots[i] = n;
		free(old);
	}
	return NULL;
}

static void *take_arg(void *arg)
{
	void *volatile mine = arg;
	(void)mine;
	for (;;)
		pause();
	return NULL;
}

/* B is kept only by a freed block A: B is lost */
static TP_NOINLINE void freed_holder(void)
{
	char *a1 = malloc(1000), *a2 = malloc(8000);
	void *b1 = malloc(88), *b2 = malloc(104);
	memcpy(a1 + 512, &b1, sizeof b1);   /* past the poisoned first bytes */
	memcpy(a2 + 4000, &b2, sizeof b2);
	tp_escape(a1);
	tp_escape(a2);
	free(tp_launder(a1));
	free(tp_launder(a2));
}

static void *freed_holder_thread(void *arg)
{
	(void)arg;
	freed_holder();
	return NULL;
}

/* pages of the heap made inaccessible by the program: the checks at exit
 * must neither fault nor hang */
static TP_NOINLINE void protnone(void)
{
	static void *keep[64];
	char *big = memalign(4096, 3 * 4096);
	memset(big, 0, 3 * 4096);
	mprotect(big + 4096, 4096, PROT_NONE);
	g_keep = big;
	for (int i = 0; i < 64; i++)
		keep[i] = malloc(4000);
	uintptr_t mid = ((uintptr_t)keep[32] + 4095) & ~(uintptr_t)4095;
	mprotect((void *)mid, 4096, PROT_NONE);
	single();
}

/* pointers kept only in shared anonymous memory, a memfd mapping and a
 * private mapping of an ordinary file: all program memory, all roots */
static TP_NOINLINE void shared(void)
{
	void **sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int fd = memfd_create("dt_shapes", 0);
	FILE *tmp = tmpfile();
	if (sh == MAP_FAILED || fd < 0 || ftruncate(fd, 4096) != 0 || !tmp ||
	    ftruncate(fileno(tmp), 4096) != 0)
		abort();
	void **mf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	void **pf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			 fileno(tmp), 0);
	if (mf == MAP_FAILED || pf == MAP_FAILED)
		abort();
	sh[3] = malloc(16);
	mf[5] = malloc(24);
	pf[7] = malloc(40);
}

/* a live thread whose stack has an inaccessible page in its live frames
 * (a JVM's guard zones): the scan skips it, never faults */
static void *stack_hole(void *arg)
{
	(void)arg;
	volatile char frame[3 * 4096];
	void *volatile p = malloc(72);
	frame[0] = 1;
	uintptr_t page = ((uintptr_t)frame + 4095) & ~(uintptr_t)4095;
	mprotect((void *)page, 4096, PROT_NONE);
	atomic_store(&ready, 1);
	for (;;)
		pause();
	(void)p;
	return NULL;
}

/* ---- forked children ----------------------------------------------------
 * g_tab: a structure the parent builds and keeps (a global points to it):
 * a slab block, a large block of 64 slots, and a chain of inherited
 * blocks; the child hangs its own blocks from them. */
struct tab {
	void **big;          /* 512 bytes: a large block's array */
	struct node *chain;  /* 3 inherited nodes deep */
	void *slot;          /* in this (slab) block */
};
static struct tab *volatile g_tab;

static void build_tab(void)
{
	struct tab *t = calloc(1, sizeof *t);
	t->big = calloc(1024, sizeof(void *)); /* 8 KiB: a large block */
	t->chain = node();
	t->chain->next = node();
	t->chain->next->next = node();
	g_tab = t;
}

static TP_NOINLINE struct node *child_list(int n)
{
	struct node *head = NULL;
	for (int i = 0; i < n; i++) {
		struct node *x = node();
		x->next = head;
		head = x;
	}
	return head;
}

/* the child's blocks: reachable only through inherited blocks (a slab
 * block, a large block, the end of an inherited chain), one leaked list
 * (definite 32, indirect 288) and one interior pointer from an inherited
 * block (possibly lost 64) */
static TP_NOINLINE void fork_child_shapes(const char *s)
{
	struct tab *t = g_tab;
	t->slot = malloc(24);
	t->big[700] = child_list(3);
	t->chain->next->next->right = node();
	if (!strcmp(s, "fork-lost"))
		(void)child_list(10);
	if (!strcmp(s, "fork-interior")) {
		char *p = calloc(1, 64);
		tp_escape(p);
		t->big[5] = p + 16; /* no leak heuristic's offset */
	}
}

/* A child that forks a child of its own after linking its blocks into
 * inherited ones: the pages it wrote are then shared with that
 * grandchild, alive while the child exits. */
static TP_NOINLINE void fork_again(int hold)
{
	int q[2];
	if (pipe(q) != 0)
		_exit(3);
	fflush(NULL);
	pid_t g = fork();
	if (g == 0) { /* waits for the child's exit, keeps `hold` open */
		char c;
		close(q[1]);
		while (read(q[0], &c, 1) > 0)
			;
		close(hold);
		exit(0);
	}
	close(q[0]);
	single(); /* the child's one leak: 40 bytes, definite */
}

static void forked(const char *s)
{
	build_tab();
	int hold[2]; /* the parent waits until every descendant has exited */
	if (pipe(hold) != 0)
		return;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(hold[0]);
		fork_child_shapes(s);
		if (!strcmp(s, "fork-again"))
			fork_again(hold[1]);
		exit(0);
	}
	close(hold[1]);
	int st;
	waitpid(pid, &st, 0);
	char c;
	while (read(hold[0], &c, 1) > 0)
		;
	close(hold[0]);
}

static int run_shape(const char *s)
{
	if (!strcmp(s, "single")) single();
	else if (!strcmp(s, "list")) list();
	else if (!strcmp(s, "tree")) tree3();
	else if (!strcmp(s, "cycle")) cycle();
	else if (!strcmp(s, "self")) self();
	else if (!strcmp(s, "interior")) interior();
	else if (!strcmp(s, "deadframe")) deadframe();
	else if (!strcmp(s, "global")) g_keep = malloc(24);
	else if (!strcmp(s, "freed")) freed_holder();
	else if (!strcmp(s, "protnone")) protnone();
	else if (!strcmp(s, "shared")) shared();
	else if (!strcmp(s, "stackhole")) {
		pthread_t t;
		pthread_create(&t, NULL, stack_hole, NULL);
		while (!atomic_load(&ready))
			sched_yield();
		single();
	}
	else if (!strcmp(s, "register")) {
		pthread_t t;
		pthread_create(&t, NULL, hold_in_register, NULL);
		while (!atomic_load(&ready))
			sched_yield();
	} else if (!strcmp(s, "busy")) {
		pthread_t t;
		for (long i = 0; i < BUSY_THREADS; i++)
			pthread_create(&t, NULL, churn, (void *)i);
		while (atomic_load(&started) < BUSY_THREADS)
			sched_yield();
	} else if (!strcmp(s, "threads")) {
		pthread_t t[6];
		for (int i = 0; i < 6; i++)
			pthread_create(&t[i], NULL, leak96, NULL);
		for (int i = 0; i < 6; i++)
			pthread_join(t[i], NULL);
	} else if (!strcmp(s, "freed-thread")) {
		pthread_t t;
		pthread_create(&t, NULL, freed_holder_thread, NULL);
		pthread_join(t, NULL);
	} else if (!strcmp(s, "unstarted")) {
		pthread_t t;
		pthread_create(&t, NULL, take_arg, malloc(80));
	} else if (!strncmp(s, "fork-", 5)) {
		forked(s);
	} else if (!strcmp(s, "fork")) {
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0) {
			single();
			exit(0);
		}
		int st;
		waitpid(pid, &st, 0);
	} else {
		fprintf(stderr, "unknown shape %s\n", s);
		return 2;
	}
	return 0;
}

static const char *shape;

static void *exit_from_thread(void *arg)
{
	(void)arg;
	run_shape(shape);
	exit(0);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	shape = argv[1];
	const char *how = argc > 2 ? argv[2] : "return";
	if (!strcmp(how, "thread-exit")) {
		pthread_t t;
		pthread_create(&t, NULL, exit_from_thread, NULL);
		pthread_join(t, NULL);
		return 1; /* not reached */
	}
	int rc = run_shape(shape);
	if (rc)
		return rc;
	if (!strcmp(how, "exit"))
		exit(0);
	if (!strcmp(how, "_exit"))
		_exit(0);
	if (!strcmp(how, "abort"))
		abort();
	return 0;
}
