/* scangate.c - one leak scan at a time.  A check while the program runs
 * (preload/longrun.c) holds the gate for its whole scan and report; the
 * exit report closes it for good, after waiting for a check in progress,
 * so its verdict is the last word.  Declared in leakscan.h. */
#include "leakscan.h"

#include <pthread.h>

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static int gate_final; /* the exit report scans: no check after it */
static __thread int gate_inside __attribute__((tls_model("initial-exec")));

int _mp_scan_gate_enter(void)
{
	if (gate_inside)
		return -1;
	pthread_mutex_lock(&gate_lock);
	if (gate_final) {
		pthread_mutex_unlock(&gate_lock);
		return -1;
	}
	gate_inside = 1;
	return 0;
}

void _mp_scan_gate_leave(void)
{
	gate_inside = 0;
	pthread_mutex_unlock(&gate_lock);
}

int _mp_scan_gate_inside(void)
{
	return gate_inside;
}

void _mp_scan_gate_final(void)
{
	if (gate_inside) { /* abort_on_error inside this thread's own check */
		gate_final = 1;
		return;
	}
	pthread_mutex_lock(&gate_lock);
	gate_final = 1;
	pthread_mutex_unlock(&gate_lock);
}

void _mp_scan_gate_child(void)
{
	pthread_mutex_init(&gate_lock, NULL);
	gate_final = 0;
	gate_inside = 0;
}
