/* rb_smallstack.c - the library's work on small stacks (issue 24, items 1
 * and 6): a report, the exit report and the first capture at a new pc must
 * not need more stack than the program gave the thread or the handler.
 *
 *   rb_smallstack exit KIB      a thread with a KIB stack leaks, exit(6)
 *   rb_smallstack dfree KIB     a double free on a thread with a KIB stack
 *   rb_smallstack alt MODE KIB  a SIGUSR1 handler on a KIB sigaltstack:
 *                               MODE exit (exit(7)), _exit (_exit(7)) or
 *                               malloc (malloc and free, then main returns)
 *                               or dfree (a double free, main returns)
 *   rb_smallstack overflow      gnulib c-stack style: main recurses until
 *                               its stack overflows, a SIGSEGV handler on
 *                               a 32 KiB sigaltstack says so, _exit(4)
 *   rb_smallstack overflow_ours the same with no handler of the program's:
 *                               the library's reports the overflow (on
 *                               the program's sigaltstack: SA_ONSTACK)
 *   rb_smallstack lockself      a signal inside the library's own report on
 *                               the same thread: a child whose stderr is
 *                               a full pipe blocks in its double free's
 *                               report; a SIGUSR1 handler of its own that
 *                               calls abort() interrupts it there; the
 *                               parent then drains the pipe and prints
 *                               what came and how the child died (before:
 *                               the SIGABRT report waited for the report
 *                               lock its own thread held, for ever)
 *   rb_smallstack thread16      pthread_create with a 16 KiB stack (EINVAL
 *                               when static TLS is large), malloc in it
 *
 * Every allocating function has a name of its own, so that the test can
 * look for it in the report's stacks.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void say(const char *s)
{
	ssize_t r = write(1, s, strlen(s));
	(void)r;
}

static void *keep;

__attribute__((noinline)) void small_leaker(void)
{
	keep = malloc(40);
	memset(keep, 1, 40);
	keep = NULL; /* definitely lost */
}

__attribute__((noinline)) void small_double_free(void)
{
	char *p = malloc(24);
	memset(p, 2, 24);
	free(p);
	free(p);
}

static void *exit_thread(void *a)
{
	(void)a;
	small_leaker();
	say("exiting\n");
	exit(6);
}

static void *dfree_thread(void *a)
{
	(void)a;
	small_double_free();
	say("freed twice\n");
	return NULL;
}

static void run_thread(void *(*fn)(void *), size_t kib)
{
	pthread_attr_t at;
	pthread_t t;
	pthread_attr_init(&at);
	int rc = pthread_attr_setstacksize(&at, kib * 1024);
	if (rc == 0)
		rc = pthread_create(&t, &at, fn, NULL);
	if (rc != 0) {
		printf("pthread_create: %s\n", strerror(rc));
		exit(2);
	}
	pthread_join(t, NULL);
}

static const char *alt_mode;

__attribute__((noinline)) void small_handler_malloc(void)
{
	void *p = malloc(100);
	memset(p, 3, 100);
	free(p);
}

static void on_usr1(int sig)
{
	(void)sig;
	say("handler\n");
	if (strcmp(alt_mode, "exit") == 0)
		exit(7);
	if (strcmp(alt_mode, "_exit") == 0)
		_exit(7);
	if (strcmp(alt_mode, "malloc") == 0)
		small_handler_malloc();
	if (strcmp(alt_mode, "dfree") == 0)
		small_double_free();
	say("handler done\n");
}

static void set_altstack(size_t bytes)
{
	stack_t ss;
	/* mmap'd with nothing around it: an overflow faults at once */
	ss.ss_sp = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	ss.ss_size = bytes;
	ss.ss_flags = 0;
	if (ss.ss_sp == MAP_FAILED || sigaltstack(&ss, NULL) != 0) {
		perror("sigaltstack");
		exit(2);
	}
}

static void run_alt(const char *mode, size_t kib)
{
	alt_mode = mode;
	set_altstack(kib * 1024);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	small_leaker();
	raise(SIGUSR1);
	say("main done\n");
}

/* ---- c-stack */

static void on_overflow(int sig)
{
	(void)sig;
	say("rb_smallstack: stack overflow\n");
	_exit(4);
}

__attribute__((noinline)) int recurse(int d)
{
	volatile char buf[1024];
	buf[0] = (char)d;
	buf[sizeof buf - 1] = (char)d;
	return recurse(d + 1) + buf[0] + buf[sizeof buf - 1];
}

static void run_overflow(int handler)
{
	set_altstack(32 * 1024);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_overflow;
	sa.sa_flags = SA_ONSTACK | SA_NODEFER | SA_RESETHAND;
	if (handler)
		sigaction(SIGSEGV, &sa, NULL);
	small_leaker();
	printf("%d\n", recurse(0));
}

/* ---- a signal inside our own report */

static pid_t main_tid;
static int sync_fd;

static void on_usr1_abort(int sig)
{
	(void)sig;
	abort();
}

/* In the child: wait until the main thread sleeps in write(2) (the report
 * on the full pipe), interrupt it, then let the parent drain the pipe. */
static void *interrupter(void *a)
{
	(void)a;
	char path[64], buf[64];
	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)main_tid);
	for (;;) {
		int fd = open(path, O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n > 0) {
			buf[n] = 0;
			if (strncmp(buf, "1 ", 2) == 0) /* SYS_write */
				break;
		}
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	pthread_kill(*(pthread_t *)a, SIGUSR1);
	if (write(sync_fd, "g", 1) != 1)
		_exit(3);
	return NULL;
}

static void lockself_child(void)
{
	/* fill stderr (the pipe, as the library found it at start) */
	fcntl(2, F_SETPIPE_SZ, 4096);
	int fl = fcntl(2, F_GETFL);
	fcntl(2, F_SETFL, fl | O_NONBLOCK);
	char junk[512];
	memset(junk, '.', sizeof junk);
	while (write(2, junk, sizeof junk) > 0)
		;
	fcntl(2, F_SETFL, fl);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1_abort;
	sigaction(SIGUSR1, &sa, NULL);
	main_tid = (pid_t)syscall(SYS_gettid);
	static pthread_t self;
	self = pthread_self();
	pthread_t t;
	pthread_create(&t, NULL, interrupter, &self);
	small_double_free();
	say("not reached\n");
}

static void run_lockself(const char *self)
{
	int p[2], s[2];
	if (pipe(p) != 0 || pipe(s) != 0)
		exit(2);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 2);
		dup2(s[1], 3);
		close(p[0]);
		close(p[1]);
		close(s[0]);
		close(s[1]);
		execl(self, self, "lockself_child", (char *)NULL);
		_exit(2);
	}
	close(p[1]);
	close(s[1]);
	char c, buf[4096];
	if (read(s[0], &c, 1) != 1) /* the child's report is interrupted */
		exit(2);
	ssize_t n;
	while ((n = read(p[0], buf, sizeof buf)) > 0)
		if (write(1, buf, (size_t)n) != n)
			exit(2);
	int st;
	waitpid(pid, &st, 0);
	printf("\nchild: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit",
	       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

static void *thread16(void *a)
{
	(void)a;
	small_handler_malloc();
	say("thread ran\n");
	return NULL;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 3 && strcmp(argv[1], "exit") == 0)
		run_thread(exit_thread, strtoul(argv[2], NULL, 10));
	else if (argc == 3 && strcmp(argv[1], "dfree") == 0)
		run_thread(dfree_thread, strtoul(argv[2], NULL, 10));
	else if (argc == 4 && strcmp(argv[1], "alt") == 0)
		run_alt(argv[2], strtoul(argv[3], NULL, 10));
	else if (argc == 2 && strcmp(argv[1], "overflow") == 0)
		run_overflow(1);
	else if (argc == 2 && strcmp(argv[1], "overflow_ours") == 0)
		run_overflow(0);
	else if (argc == 2 && strcmp(argv[1], "lockself") == 0)
		run_lockself(argv[0]);
	else if (argc == 2 && strcmp(argv[1], "lockself_child") == 0) {
		sync_fd = 3;
		lockself_child();
	} else if (argc == 2 && strcmp(argv[1], "thread16") == 0)
		run_thread(thread16, 16);
	else
		return 2;
	return 0;
}
