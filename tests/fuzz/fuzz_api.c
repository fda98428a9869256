/* fuzz_api.c - libFuzzer harness for the mp_* API against a reference model.
 *
 * Input: byte 0 picks the configuration (quarantine_mb 0, 1 or 64;
 * stack_depth 0, 1, 4 or 16); the rest is a sequence of operations, each an
 * opcode byte and its argument bytes (missing bytes read as 0):
 *
 *   alloc n            calloc (incl. nmemb*size overflow)   realloc NULL,n
 *   free / realloc / realloc(.., 0) / usable_size / verify of a live block
 *   free / realloc / usable_size of a freed (stale) pointer
 *   free / realloc / usable_size of an interior pointer of a live or a freed
 *     block (front guard .. rear guard)
 *   free / realloc / usable_size of a wild pointer (stack, global, low,
 *     non-canonical, a malloc'd block of the harness) and of NULL
 *   write one guard byte of a live block (overflow / underflow)
 *   write one byte of a quarantined block (use after free), inside or past
 *     the 256 poisoned bytes
 *   mp_check, mp_get_stats, mp_dump_stats, mp_dump_leaks
 *   mp_destroy + mp_init (a new life: the model starts over)
 *
 * Sizes are 0..9000 (slab classes and large blocks).  The model is a table
 * of live blocks (pointer, size, content byte, guard damage, reported flag),
 * a list of freed pointers, and a copy of the quarantine FIFO (weight =
 * size + 32 bytes, budget quarantine_mb MiB, blocks leave oldest first).
 * After every operation the harness asserts:
 *  - contents are preserved (calloc zeroed; realloc keeps min(old, new));
 *  - mp_usable_size == the model's size (0 for anything not live);
 *  - mp_get_stats: allocs, frees, in_use per class, large blocks and bytes,
 *    quarantined per class, bytes_in_use, peak_bytes and errors equal the
 *    model's, and free == total - in_use - quarantined;
 *  - errors grow exactly when the model says the call was bad: 1 per bad
 *    free or realloc, 1 per damaged guard side at the block's free or first
 *    mp_check, 1 per use-after-free write at mp_check or when the block
 *    leaves quarantine, never twice for one block;
 *  - mp_check's return value, mp_dump_leaks' block count, and, at the end
 *    of the input, the number of "ERROR:" reports in the text log.
 * The report text goes to log_path=/tmp/mpwrap-fuzz-api.<pid>.log, set in
 * MPWRAP_OPTIONS before mp_init (emptied before each input).
 *
 * FUZZ_API_TRACE=1 prints one line per operation (for reading a crash).
 *
 * Not modelled (documented in docs/hardening.md): check_every (its counter
 * is process-wide and survives mp_destroy) and threads.
 */
#define _GNU_SOURCE
#include "mempool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The model's own loops need no coverage feedback: tracing every compare
 * of a content check made the harness 20x slower. */
#define NOCOV __attribute__((no_sanitize("coverage")))

#define MAX_LIVE 256
#define MAX_STALE 256
#define MAX_Q 16384
#define MAX_SIZE 9000
#define GUARD 16
#define POISON_MAX 256

#define FAIL(...)                                                           \
	do {                                                                \
		fprintf(stderr, "fuzz_api: op %zu (%s): ", op_no, op_name);   \
		fprintf(stderr, __VA_ARGS__);                               \
		fputc('\n', stderr);                                        \
		abort();                                                    \
	} while (0)

struct blk {
	unsigned char *p;
	size_t size;
	unsigned char fill;   /* every byte of the block */
	int cls;              /* -1 large */
	int dmg_front, dmg_back;
	int reported;         /* guard damage already reported */
};

struct qent {
	unsigned char *p;
	size_t size;
	int cls;
	int uaf;              /* a poisoned byte was changed */
	int reported;
	unsigned char changed[POISON_MAX / 8]; /* which poisoned bytes */
};

/* The errors a freed block's damage makes: one per run of changed bytes,
 * as memcheck reports one per write; the library lists at most 8 (the 8th
 * carries the bytes of the rest). */
#define MAX_UAF_ERRORS 8
static size_t uaf_errors(const struct qent *e)
{
	size_t runs = 0;
	for (size_t i = 0; i < POISON_MAX; i++) {
		int on = e->changed[i / 8] >> (i % 8) & 1;
		int before = i && (e->changed[(i - 1) / 8] >> ((i - 1) % 8) & 1);
		runs += on && !before;
	}
	return runs < MAX_UAF_ERRORS ? runs : MAX_UAF_ERRORS;
}

static struct blk live[MAX_LIVE];
static size_t nlive;
static unsigned char *stale[MAX_STALE];
static size_t nstale, stale_pos;
static struct qent q[MAX_Q];
static size_t qhead, qlen, qbytes, qbudget;
static int q_overflow; /* more than MAX_Q quarantined: model gives up */

/* expected counters, since this life's mp_init */
static size_t e_allocs, e_frees, e_errors, e_bytes, e_peak;
static size_t log_errors; /* expected ERROR: lines in the log, this input */
static size_t op_no;
static const char *op_name = "start";

static char log_path[128];
static int trace; /* FUZZ_API_TRACE=1: one line per operation on stderr */
static char global_buf[64];
static unsigned long cfg_qmb, cfg_depth;

/* ---- input reader ---------------------------------------------------- */

struct in {
	const uint8_t *d;
	size_t n, i;
};

static unsigned u8(struct in *in)
{
	return in->i < in->n ? in->d[in->i++] : 0;
}

static unsigned u16(struct in *in)
{
	unsigned lo = u8(in);
	return lo | (u8(in) << 8);
}

/* ---- model helpers ----------------------------------------------------- */

static int class_of(size_t n)
{
	if (n > 4096)
		return -1;
	int c = 0;
	while (((size_t)32 << c) < n)
		c++;
	return c;
}

NOCOV static struct blk *find_live(const void *p)
{
	for (size_t i = 0; i < nlive; i++)
		if (live[i].p == p)
			return &live[i];
	return NULL;
}

static void remember_stale(unsigned char *p)
{
	if (nstale < MAX_STALE) {
		stale[nstale++] = p;
	} else {
		stale[stale_pos] = p;
		stale_pos = (stale_pos + 1) % MAX_STALE;
	}
}

NOCOV static void verify_contents(const struct blk *b, const char *what)
{
	/* fast path: first byte right and every byte equal to the next */
	if (!b->size || (b->p[0] == b->fill &&
			 memcmp(b->p, b->p + 1, b->size - 1) == 0))
		return;
	for (size_t i = 0; i < b->size; i++)
		if (b->p[i] != b->fill)
			FAIL("%s: byte %zu of the %zu-byte block %p is 0x%02x, "
			     "expected 0x%02x", what, i, b->size, (void *)b->p,
			     b->p[i], b->fill);
}

static void count_error(size_t n)
{
	e_errors += n;
	log_errors += n;
}

/* A block leaves quarantine (oldest first). */
static void q_evict_one(void)
{
	struct qent *e = &q[qhead % MAX_Q];
	if (e->uaf && !e->reported)
		count_error(uaf_errors(e));
	qbytes -= e->size + 32;
	qhead++;
	qlen--;
}

static void q_push(unsigned char *p, size_t size, int cls)
{
	if (qlen == MAX_Q) {
		q_overflow = 1;
		q_evict_one();
	}
	q[(qhead + qlen) % MAX_Q] = (struct qent){ p, size, cls, 0, 0, { 0 } };
	qlen++;
	qbytes += size + 32;
	while (qlen && qbytes > qbudget)
		q_evict_one();
}

NOCOV static struct qent *q_find(const void *p)
{
	for (size_t i = 0; i < qlen; i++)
		if (q[(qhead + i) % MAX_Q].p == p)
			return &q[(qhead + i) % MAX_Q];
	return NULL;
}

static void add_live(unsigned char *p, size_t size, unsigned char fill)
{
	if (((uintptr_t)p & 15) != 0)
		FAIL("%p is not 16-byte aligned", (void *)p);
	if (find_live(p))
		FAIL("%p handed out while still live", (void *)p);
	if (q_find(p))
		FAIL("%p handed out while in quarantine", (void *)p);
	live[nlive++] = (struct blk){ p, size, fill, class_of(size), 0, 0, 0 };
	e_allocs++;
	e_bytes += size;
	if (e_bytes > e_peak)
		e_peak = e_bytes;
}

/* The model side of a successful free of live block b (removed). */
static void model_free(struct blk *b)
{
	if (!b->reported)
		count_error((size_t)(b->dmg_front + b->dmg_back));
	e_frees++;
	e_bytes -= b->size;
	unsigned char *p = b->p;
	size_t size = b->size;
	int cls = b->cls;
	*b = live[--nlive];
	remember_stale(p);
	q_push(p, size, cls);
}

/* ---- checks against the pool --------------------------------------------- */

NOCOV static void check_stats(void)
{
	struct mp_stats st;
	size_t in_use[MP_NUM_CLASSES] = { 0 }, quar[MP_NUM_CLASSES] = { 0 };
	size_t large = 0, large_bytes = 0;
	for (size_t i = 0; i < nlive; i++) {
		if (live[i].cls < 0) {
			large++;
			large_bytes += live[i].size;
		} else {
			in_use[live[i].cls]++;
		}
	}
	for (size_t i = 0; i < qlen; i++) {
		const struct qent *e = &q[(qhead + i) % MAX_Q];
		if (e->cls >= 0)
			quar[e->cls]++;
	}
	mp_get_stats(&st);
	for (int c = 0; c < MP_NUM_CLASSES; c++) {
		const struct mp_class_stats *s = &st.cls[c];
		if (s->size != (size_t)32 << c)
			FAIL("class %d size %zu", c, s->size);
		if (s->in_use != in_use[c])
			FAIL("class %zu: in_use %zu, model %zu", s->size, s->in_use,
			     in_use[c]);
		if (!q_overflow && s->quarantined != quar[c])
			FAIL("class %zu: quarantined %zu, model %zu", s->size,
			     s->quarantined, quar[c]);
		if (s->in_use + s->quarantined > s->total ||
		    s->free != s->total - s->in_use - s->quarantined)
			FAIL("class %zu: total %zu in_use %zu quarantined %zu free %zu",
			     s->size, s->total, s->in_use, s->quarantined, s->free);
	}
	if (st.large_blocks != large || st.large_bytes != large_bytes)
		FAIL("large: %zu blocks %zu bytes, model %zu blocks %zu bytes",
		     st.large_blocks, st.large_bytes, large, large_bytes);
	if (st.bytes_in_use != e_bytes || st.peak_bytes != e_peak)
		FAIL("bytes_in_use %zu peak %zu, model %zu peak %zu",
		     st.bytes_in_use, st.peak_bytes, e_bytes, e_peak);
	if (st.allocs != e_allocs || st.frees != e_frees)
		FAIL("allocs %zu frees %zu, model %zu %zu", st.allocs, st.frees,
		     e_allocs, e_frees);
	if (st.allocs - st.frees != nlive)
		FAIL("allocs - frees = %zu, %zu live", st.allocs - st.frees, nlive);
	if (st.errors != e_errors)
		FAIL("errors %zu, model %zu", st.errors, e_errors);
}

static void check_usable(const void *p)
{
	const struct blk *b = p ? find_live(p) : NULL;
	size_t want = b ? b->size : 0;
	size_t got = mp_usable_size(p);
	if (got != want)
		FAIL("mp_usable_size(%p) = %zu, model %zu", p, got, want);
}

/* What mp_check must find: unreported guard damage of live blocks, and
 * unreported poison damage of quarantined ones. */
NOCOV static void do_check(void)
{
	size_t blocks = 0, errs = 0;
	for (size_t i = 0; i < nlive; i++) {
		struct blk *b = &live[i];
		if (!b->reported && (b->dmg_front || b->dmg_back)) {
			blocks++;
			errs += (size_t)(b->dmg_front + b->dmg_back);
			b->reported = 1;
		}
	}
	for (size_t i = 0; i < qlen; i++) {
		struct qent *e = &q[(qhead + i) % MAX_Q];
		if (e->uaf && !e->reported) {
			blocks++;
			errs += uaf_errors(e);
			e->reported = 1;
		}
	}
	int got = mp_check();
	count_error(errs);
	if (got < 0 || (size_t)got != blocks)
		FAIL("mp_check() = %d, model %zu damaged blocks", got, blocks);
}

/* ---- life cycle ---------------------------------------------------------- */

static void model_reset(void)
{
	nlive = nstale = stale_pos = 0;
	qhead = qlen = qbytes = 0;
	q_overflow = 0;
	e_allocs = e_frees = e_errors = e_bytes = e_peak = 0;
}

static void start_pool(void)
{
	char opts[256];
	snprintf(opts, sizeof opts, "log_path=%s:quarantine_mb=%lu:stack_depth=%lu"
		 ":verbosity=0", log_path, cfg_qmb, cfg_depth);
	if (setenv("MPWRAP_OPTIONS", opts, 1) != 0 || mp_init() != 0) {
		fprintf(stderr, "fuzz_api: mp_init failed\n");
		abort();
	}
	qbudget = (size_t)cfg_qmb << 20;
	model_reset();
	check_stats();
}

NOCOV static size_t count_log_errors(void)
{
	static char buf[1 << 16];
	size_t n = 0, carry = 0;
	int fd = open(log_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t r;
	/* count "ERROR: " occurrences, also across read boundaries */
	while ((r = read(fd, buf + carry, sizeof buf - 1 - carry)) > 0) {
		size_t len = carry + (size_t)r;
		buf[len] = '\0';
		for (char *s = buf; (s = strstr(s, "ERROR: ")); s++)
			n++;
		carry = len < 6 ? len : 6;
		memmove(buf, buf + len - carry, carry);
	}
	close(fd);
	return n;
}

/* ---- operations ---------------------------------------------------------- */

static unsigned char *wild_pointer(unsigned k, void *stack_addr)
{
	static unsigned char *heap_block;
	if (!heap_block)
		heap_block = malloc(64); /* the harness's own heap, not the pool's */
	switch (k % 6) {
	case 0: return (unsigned char *)stack_addr;
	case 1: return (unsigned char *)global_buf + (k / 6) % 48;
	case 2: return (unsigned char *)(uintptr_t)(0x1000 + 16 * (k / 6));
	case 3: return (unsigned char *)(uintptr_t)(0xffff800000000000ULL + 16 * (k / 6));
	case 4: return heap_block;
	default: return heap_block ? heap_block + 1 + (k / 6) % 63 : NULL;
	}
}

/* An interior pointer: front guard, inside, or rear guard of b. */
static unsigned char *interior(const struct blk *b, unsigned k)
{
	size_t span = b->size + 2 * GUARD - 1; /* offsets -16 .. size+15, not 0 */
	long off = (long)(k % span) - GUARD;
	if (off >= 0)
		off++;
	return b->p + off;
}

/* A bad pointer handed to free/realloc/usable_size: the model expects one
 * error per free and realloc call and 0 from usable_size. */
static void bad_pointer_ops(unsigned char *p, unsigned how, unsigned size)
{
	switch (how % 3) {
	case 0:
		mp_free(p);
		count_error(1);
		break;
	case 1: {
		errno = 0;
		void *r = mp_realloc(p, size);
		if (r != NULL || errno != EINVAL)
			FAIL("mp_realloc(bad %p) = %p, errno %d; expected NULL, EINVAL",
			     (void *)p, r, errno);
		count_error(1);
		break;
	}
	default:
		check_usable(p);
	}
}

static void op_alloc(size_t n, unsigned char fill)
{
	if (nlive == MAX_LIVE)
		return;
	unsigned char *p = mp_alloc(n);
	if (!p)
		FAIL("mp_alloc(%zu) = NULL", n);
	add_live(p, n, fill);
	memset(p, fill, n);
}

static void op_calloc(struct in *in)
{
	unsigned a = u8(in), b = u16(in);
	if (a == 255) { /* nmemb * size overflows: NULL, ENOMEM, nothing counted */
		errno = 0;
		void *p = mp_calloc(SIZE_MAX / 2 + 1 + b, 2 + (a & 1));
		if (p || errno != ENOMEM)
			FAIL("overflowing mp_calloc = %p errno %d", p, errno);
		return;
	}
	size_t nmemb = a % 17, size = b % 601;
	if (nlive == MAX_LIVE)
		return;
	unsigned char *p = mp_calloc(nmemb, size);
	if (!p)
		FAIL("mp_calloc(%zu, %zu) = NULL", nmemb, size);
	for (size_t i = 0; i < nmemb * size; i++)
		if (p[i])
			FAIL("mp_calloc(%zu, %zu): byte %zu is 0x%02x", nmemb, size, i,
			     p[i]);
	add_live(p, nmemb * size, (unsigned char)(a ^ b));
	memset(p, (unsigned char)(a ^ b), nmemb * size);
}

static void op_realloc_live(struct blk *b, size_t n, unsigned char fill)
{
	struct blk old = *b;
	verify_contents(b, "before realloc");
	unsigned char *r = mp_realloc(b->p, n);
	if (n == 0) {
		if (r)
			FAIL("mp_realloc(p, 0) = %p, expected NULL", (void *)r);
		model_free(b);
		return;
	}
	if (!r)
		FAIL("mp_realloc(%p, %zu) = NULL", (void *)old.p, n);
	size_t keep = old.size < n ? old.size : n;
	for (size_t i = 0; i < keep; i++)
		if (r[i] != old.fill)
			FAIL("mp_realloc(%zu -> %zu): byte %zu is 0x%02x, expected 0x%02x",
			     old.size, n, i, r[i], old.fill);
	if (r == old.p) {
		/* resized in place (a large block realloc made, with room, guards
		 * intact): counted as one allocation and one free, but the old
		 * and the new size are never in use together, and nothing goes
		 * to the quarantine */
		if (old.dmg_front || old.dmg_back)
			FAIL("mp_realloc resized a damaged block %p in place",
			     (void *)r);
		e_allocs++;
		e_frees++;
		e_bytes += n - old.size;
		if (e_bytes > e_peak)
			e_peak = e_bytes;
		*b = (struct blk){ r, n, fill, class_of(n), 0, 0, 0 };
		memset(r, fill, n);
		return;
	}
	/* new block first, then the old one is freed */
	e_allocs++;
	e_bytes += n;
	if (e_bytes > e_peak)
		e_peak = e_bytes;
	if (find_live(r) && r != old.p)
		FAIL("realloc returned live block %p", (void *)r);
	if (q_find(r))
		FAIL("realloc returned quarantined %p", (void *)r);
	model_free(b); /* b is gone from the table now */
	if (find_live(r))
		FAIL("realloc returned the block it freed");
	live[nlive++] = (struct blk){ r, n, fill, class_of(n), 0, 0, 0 };
	memset(r, fill, n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	snprintf(log_path, sizeof log_path, "/tmp/mpwrap-fuzz-api.%d.log",
		 (int)getpid());
	trace = getenv("FUZZ_API_TRACE") != NULL;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned long qmbs[4] = { 0, 1, 64, 0 };
	static const unsigned long depths[4] = { 0, 1, 4, 16 };
	struct in in = { data, size, 0 };
	unsigned char stack_byte = 0;
	unsigned cfg = u8(&in);

	cfg_qmb = qmbs[cfg & 3];
	cfg_depth = depths[(cfg >> 2) & 3];
	unlink(log_path);
	log_errors = 0;
	op_no = 0;
	op_name = "mp_init";
	start_pool();

	while (in.i < in.n) {
		unsigned opc = u8(&in) % 24;
		op_no++;
		switch (opc) {
		case 0:
		case 1:
			op_name = "alloc";
			op_alloc(u16(&in) % (MAX_SIZE + 1), (unsigned char)u8(&in));
			break;
		case 2:
			op_name = "alloc small";
			op_alloc(u8(&in) % 70, (unsigned char)u8(&in));
			break;
		case 3:
			op_name = "calloc";
			op_calloc(&in);
			break;
		case 4: {
			op_name = "realloc(NULL)";
			size_t n = u16(&in) % (MAX_SIZE + 1);
			unsigned char fill = (unsigned char)u8(&in);
			if (nlive == MAX_LIVE)
				break;
			unsigned char *p = mp_realloc(NULL, n);
			if (!p)
				FAIL("mp_realloc(NULL, %zu) = NULL", n);
			add_live(p, n, fill);
			memset(p, fill, n);
			break;
		}
		case 5:
		case 6: {
			op_name = "free live";
			unsigned k = u8(&in);
			if (!nlive)
				break;
			struct blk *b = &live[k % nlive];
			verify_contents(b, "before free");
			mp_free(b->p);
			model_free(b);
			break;
		}
		case 7: {
			op_name = "realloc live";
			unsigned k = u8(&in);
			size_t n = u16(&in) % (MAX_SIZE + 1);
			unsigned char fill = (unsigned char)u8(&in);
			if (!nlive)
				break;
			op_realloc_live(&live[k % nlive], n ? n : 1, fill);
			break;
		}
		case 8: {
			op_name = "realloc live to 0";
			unsigned k = u8(&in);
			if (!nlive)
				break;
			op_realloc_live(&live[k % nlive], 0, 0);
			break;
		}
		case 9: {
			op_name = "stale pointer";
			unsigned k = u8(&in), how = u8(&in), n = u16(&in) % (MAX_SIZE + 1);
			if (!nstale)
				break;
			unsigned char *p = stale[k % nstale];
			struct blk *b = find_live(p);
			if (b) { /* the address came back as a live block: legal */
				if (how % 3 == 0) {
					verify_contents(b, "before free");
					mp_free(p);
					model_free(b);
				} else if (how % 3 == 1) {
					op_realloc_live(b, n, (unsigned char)how);
				} else {
					check_usable(p);
				}
				break;
			}
			bad_pointer_ops(p, how, n);
			break;
		}
		case 10: {
			op_name = "interior of live";
			unsigned k = u8(&in), off = u16(&in), how = u8(&in);
			if (!nlive)
				break;
			bad_pointer_ops(interior(&live[k % nlive], off), how, off % 100);
			break;
		}
		case 11: {
			op_name = "interior of stale";
			unsigned k = u8(&in), off = u8(&in), how = u8(&in);
			if (!nstale)
				break;
			/* 1..15 bytes in: never a live block's (16-aligned) start */
			bad_pointer_ops(stale[k % nstale] + 1 + off % 15, how, off);
			break;
		}
		case 12: {
			op_name = "wild pointer";
			unsigned k = u16(&in), how = u8(&in);
			bad_pointer_ops(wild_pointer(k, &stack_byte), how, k % 100);
			break;
		}
		case 13: {
			op_name = "NULL";
			unsigned how = u8(&in);
			if (how % 2) {
				mp_free(NULL);
			} else {
				check_usable(NULL);
			}
			break;
		}
		case 14: {
			op_name = "usable_size live";
			unsigned k = u8(&in);
			if (nlive)
				check_usable(live[k % nlive].p);
			break;
		}
		case 15: {
			op_name = "overflow/underflow write";
			unsigned k = u8(&in), where = u8(&in), v = u8(&in);
			if (!nlive)
				break;
			struct blk *b = &live[k % nlive];
			unsigned j = where % GUARD;
			unsigned char val = (unsigned char)(v == 0xAB ? 0 : v);
			if (where & 0x80) {
				b->p[-1 - (long)j] = val;
				b->dmg_front = 1;
			} else {
				b->p[b->size + j] = val;
				b->dmg_back = 1;
			}
			break;
		}
		case 16: {
			op_name = "use-after-free write";
			unsigned k = u8(&in), off = u16(&in), v = u8(&in);
			if (!qlen)
				break;
			struct qent *e = &q[(qhead + k % qlen) % MAX_Q];
			if (!e->size)
				break;
			size_t o = off % e->size;
			e->p[o] = (unsigned char)(v == 0xA0 ? 0 : v); /* 0xA0: the poison */
			if (o < POISON_MAX) { /* only the first 256 are poisoned */
				e->uaf = 1;
				e->changed[o / 8] |= (unsigned char)(1u << (o % 8));
			}
			break;
		}
		case 17:
			op_name = "mp_check";
			do_check();
			break;
		case 18: {
			op_name = "verify";
			unsigned k = u8(&in);
			if (nlive)
				verify_contents(&live[k % nlive], "verify");
			break;
		}
		case 19: {
			op_name = "mp_dump_leaks";
			if (u8(&in) % 4)
				break; /* symbolizes: keep it rare */
			size_t n = mp_dump_leaks();
			if (n != nlive)
				FAIL("mp_dump_leaks() = %zu, model %zu live", n, nlive);
			break;
		}
		case 20:
			op_name = "mp_dump_stats";
			if (u8(&in) % 4 == 0)
				mp_dump_stats();
			break;
		case 21: {
			op_name = "destroy+init";
			if (u8(&in) % 8)
				break;
			mp_destroy();
			start_pool();
			break;
		}
		default: /* 22, 23: more allocations of small sizes */
			op_name = "alloc tiny";
			op_alloc(u8(&in) % 40, (unsigned char)opc);
			break;
		}
		check_stats();
		if (trace)
			fprintf(stderr, "op %zu %s: %zu live, %zu quarantined, "
				"%zu errors\n", op_no, op_name, nlive, qlen, e_errors);
	}

	/* Wind down: free everything (reporting remaining guard damage), then a
	 * final check finds what is left in quarantine. */
	op_name = "final frees";
	while (nlive) {
		struct blk *b = &live[nlive - 1];
		verify_contents(b, "final free");
		mp_free(b->p);
		model_free(b);
		check_stats();
	}
	op_name = "final mp_check";
	do_check();
	check_stats();
	size_t in_log = count_log_errors();
	if (in_log != log_errors)
		FAIL("%zu ERROR reports in %s, model %zu", in_log, log_path,
		     log_errors);
	mp_destroy();
	unlink(log_path);
	return 0;
}
