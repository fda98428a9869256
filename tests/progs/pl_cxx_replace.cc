// pl_cxx_replace.cc - a program that replaces operator new and delete
// (plain forms only) with its own, malloc-based, counting calls.  Its
// operators must win over the preload's, and mixing them with the
// preload's other forms (sized delete, new[]) must not be reported: no
// error, the counters move, and one block leaked through its new is found.
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "tprog.h"

static long news, deletes;

void *operator new(std::size_t n)
{
	news++;
	void *p = std::malloc(n ? n : 1); /* OWN_NEW */
	if (!p)
		throw std::bad_alloc();
	return p;
}

// only the plain form, on purpose: the sized one stays the runtime's (or ours)
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wsized-deallocation"
#endif
void operator delete(void *p) noexcept
{
	deletes += p != nullptr;
	std::free(p);
}

struct item { long a, b, c; };

TP_NOINLINE static item *leak_one()
{
	return (item *)tp_launder(new item()); /* LEAK_SITE */
}

int main()
{
	for (int i = 0; i < 100; i++)
		delete (item *)tp_launder(new item());   // sized delete: libstdc++'s or ours
	int *arr = (int *)tp_launder(new int[50]);     // operator new[] -> our new
	delete[] arr;
	std::vector<std::string> v;
	for (int i = 0; i < 100; i++)
		v.push_back(std::string(40, 'r'));
	item *volatile kept = leak_one();
	kept->a = 1;
	kept = nullptr;
	std::printf("own new called: %s, own delete called: %s\n",
		    news >= 101 ? "yes" : "no", deletes >= 100 ? "yes" : "no");
	return 0;
}
