// pl_mismatch.cc - C++ deallocation by the wrong family or with the wrong
// size or alignment, one mode per case (argv[1]); each allocates in a
// by_*() function and deallocates in a drop_*() one, so the report names
// both.  "clean" uses every replaceable new/delete correctly: no report.
// Built with -fsized-deallocation (clang 14 lacks it by default).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <string>
#include <vector>

#include "tprog.h"

struct widget { int v[6]; };                 // 24 bytes, trivial
struct alignas(64) wide { char c[64]; };     // aligned new, 64 bytes
struct base { int x; };                      // 4 bytes, no virtual dtor
struct derived : base { int y[8]; };         // 36 bytes
struct owner {                               // non-trivial dtor: new[] cookie
	std::string s;
	owner() : s(40, 'o') {}
};

TP_NOINLINE void *by_malloc(size_t n) { return tp_launder(malloc(tp_size(n))); /* A_MALLOC */ }
TP_NOINLINE void *by_new() { return tp_launder(new widget()); /* A_NEW */ }
TP_NOINLINE void *by_new_array() { return tp_launder(new int[10]()); /* A_NEW_ARRAY */ }
TP_NOINLINE void *by_new_aligned() { return tp_launder(new wide()); /* A_NEW_ALIGNED */ }
TP_NOINLINE base *by_derived() { return (base *)tp_launder(new derived()); /* A_DERIVED */ }

TP_NOINLINE void drop_free(void *p) { free(tp_launder(p)); /* D_FREE */ TP_NO_TAILCALL(); }
TP_NOINLINE void drop_delete(void *p) { delete (widget *)tp_launder(p); /* D_DELETE */ TP_NO_TAILCALL(); }
TP_NOINLINE void drop_delete_array(void *p) { delete[] (int *)tp_launder(p); /* D_DELETE_ARRAY */ TP_NO_TAILCALL(); }
TP_NOINLINE void drop_plain(void *p) { ::operator delete(tp_launder(p)); /* D_PLAIN */ TP_NO_TAILCALL(); }
TP_NOINLINE void drop_aligned(void *p, size_t al)
{
	::operator delete(tp_launder(p), std::align_val_t(tp_size(al))); /* D_ALIGNED */
	TP_NO_TAILCALL();
}
TP_NOINLINE void drop_base(base *b) { delete (base *)tp_launder(b); /* D_BASE */ TP_NO_TAILCALL(); }
TP_NOINLINE void *drop_realloc(void *p) { return tp_launder(realloc(tp_launder(p), tp_size(100))); /* D_REALLOC */ }

// Every replaceable form, each paired correctly.
TP_NOINLINE static void clean()
{
	delete (widget *)tp_launder(new widget());
	delete[] (int *)tp_launder(new int[7]);
	delete[] (owner *)tp_launder(new owner[3]); // cookie: sized delete[]
	wide *w = (wide *)tp_launder(new wide());
	delete w;                                   // sized aligned delete
	w = (wide *)tp_launder(new wide[3]);
	delete[] w;
	void *p = ::operator new(10, std::nothrow);
	::operator delete(tp_launder(p), std::nothrow);
	p = ::operator new[](10, std::nothrow);
	::operator delete[](tp_launder(p), std::nothrow);
	p = ::operator new(100, std::align_val_t(128));
	::operator delete(tp_launder(p), std::align_val_t(128));
	p = ::operator new(100, std::align_val_t(8), std::nothrow);
	::operator delete(tp_launder(p), std::align_val_t(8), std::nothrow);
	p = ::operator new[](100, std::align_val_t(256), std::nothrow);
	::operator delete[](tp_launder(p), std::align_val_t(256), std::nothrow);
	p = ::operator new[](48, std::align_val_t(32));
	::operator delete[](tp_launder(p), 48, std::align_val_t(32));
	p = ::operator new(33);
	::operator delete(tp_launder(p), 33);
	p = ::operator new[](5000);
	::operator delete[](tp_launder(p), 5000);
	::operator delete(nullptr);
	::operator delete[](nullptr, 8);
	std::vector<std::string> v;
	std::map<int, std::vector<int>> m;
	for (int i = 0; i < 200; i++) {
		v.push_back(std::string(30 + i % 40, 'x'));
		m[i].resize(i);
	}
	std::printf("clean %zu %zu\n", v.size(), m.size());
}

static int handler_calls;
static void handler()
{
	if (++handler_calls == 3)
		std::set_new_handler(nullptr);
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "clean";
	if (!strcmp(m, "clean")) {
		clean();
	} else if (!strcmp(m, "malloc_delete")) {
		drop_delete(by_malloc(24));
	} else if (!strcmp(m, "new_free")) {
		drop_free(by_new());
	} else if (!strcmp(m, "newarr_delete")) {
		drop_delete(by_new_array());
	} else if (!strcmp(m, "new_deletearr")) {
		drop_delete_array(by_new());
	} else if (!strcmp(m, "aligned_plain")) {
		drop_plain(by_new_aligned());
	} else if (!strcmp(m, "plain_aligned")) {
		drop_aligned(by_new(), 64);
	} else if (!strcmp(m, "new_realloc")) {
		free(drop_realloc(by_new()));
	} else if (!strcmp(m, "sized")) {
		drop_base(by_derived());
	} else if (!strcmp(m, "align")) {
		drop_aligned(by_new_aligned(), 32);
	} else if (!strcmp(m, "toobig")) {
		// reported once; the new-handler is called until it gives up
		std::set_new_handler(handler);
		try {
			void *p = ::operator new(tp_size(SIZE_MAX - 4095)); /* TOO_BIG */
			std::printf("allocated %p\n", p);
		} catch (const std::bad_alloc &) {
			std::printf("bad_alloc after %d handler calls\n", handler_calls);
		}
		void *q = ::operator new[](tp_size(SIZE_MAX / 2 + 1), std::nothrow);
		std::printf("nothrow %s\n", q ? "non-null" : "null");
	} else if (!strcmp(m, "badalign")) {
		try {
			void *p = ::operator new(64, std::align_val_t(tp_size(48))); /* BAD_ALIGN */
			std::printf("allocated %p\n", p);
		} catch (const std::bad_alloc &) {
			std::printf("bad_alloc\n");
		}
		void *q = ::operator new(64, std::align_val_t(tp_size(48)), std::nothrow);
		std::printf("nothrow %s\n", q ? "non-null" : "null");
	}
	return 0;
}
