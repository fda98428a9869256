/* quarantine.c - FIFO of freed blocks, bounded by bytes and by count.
 *
 * A freed block waits here, poisoned, before its memory can be reused, so a
 * double free still finds it freed and a write through a stale pointer is
 * found when it leaves (see pool.c).  The ring is mmap'd and reserved once;
 * only the quarantine lock guards it, and it never holds a class lock.
 */
#define _GNU_SOURCE
#include "quarantine.h"
#include "options.h"
#include "vm.h"

#include <pthread.h>

#define RING_CAP ((size_t)1 << 20) /* entries */

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mp_qent *ring;
static size_t head, count, bytes;

/* What a block costs the budget: its bytes plus its guards, so zero-byte
 * blocks still move through a small or empty quarantine. */
static size_t weight(size_t size)
{
	return size + 32;
}

static size_t budget(void)
{
	return (size_t)_mp_opt.quarantine_mb << 20;
}

/* q_lock held */
static size_t evict_locked(struct mp_qent *out, size_t max)
{
	size_t k = 0;
	while (k < max && count &&
	       (bytes > budget() || count == RING_CAP)) {
		out[k++] = ring[head];
		bytes -= weight(ring[head].size);
		head = (head + 1) & (RING_CAP - 1);
		count--;
	}
	return k;
}

size_t _mp_quarantine_push(uintptr_t user, size_t size, struct mp_qent *out,
			   size_t max)
{
	pthread_mutex_lock(&q_lock);
	if (!ring) {
		void *m = _mp_map(RING_CAP * sizeof *ring, 1);
		if (!m) {
			/* no ring: release at once rather than fail the free */
			pthread_mutex_unlock(&q_lock);
			out[0].user = user;
			out[0].size = size;
			return 1;
		}
		ring = m;
	}
	size_t k = 0;
	if (count == RING_CAP)
		k = evict_locked(out, 1);
	ring[(head + count) & (RING_CAP - 1)] = (struct mp_qent){ user, size };
	count++;
	bytes += weight(size);
	k += evict_locked(out + k, max - k);
	pthread_mutex_unlock(&q_lock);
	return k;
}

size_t _mp_quarantine_drain(struct mp_qent *out, size_t max)
{
	pthread_mutex_lock(&q_lock);
	size_t k = evict_locked(out, max);
	pthread_mutex_unlock(&q_lock);
	return k;
}

void _mp_quarantine_foreach(void (*fn)(const struct mp_qent *, void *),
			    void *arg)
{
	pthread_mutex_lock(&q_lock);
	for (size_t i = 0; i < count; i++)
		fn(&ring[(head + i) & (RING_CAP - 1)], arg);
	pthread_mutex_unlock(&q_lock);
}

void _mp_quarantine_reset(void)
{
	pthread_mutex_lock(&q_lock);
	if (ring)
		_mp_unmap(ring, RING_CAP * sizeof *ring);
	ring = NULL;
	head = count = bytes = 0;
	pthread_mutex_unlock(&q_lock);
}

void _mp_quarantine_lock(void) { pthread_mutex_lock(&q_lock); }
void _mp_quarantine_unlock(void) { pthread_mutex_unlock(&q_lock); }
