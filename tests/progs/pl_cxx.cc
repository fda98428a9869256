// pl_cxx.cc - C++ allocations through operator new: new/delete,
// new[]/delete[], std::vector, std::map, std::string, all released, and one
// `new int[10]` (40 bytes) leaked by leaky_function().
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "tprog.h"

struct widget {
	std::string name;
	std::vector<int> data;
	explicit widget(int i) : name("widget-" + std::to_string(i)), data(100, i) {}
};

TP_NOINLINE int *leaky_function()
{
	int *p = new int[10]; /* ALLOC_SITE */
	tp_escape(p);
	return p;
}

TP_NOINLINE static long exercise()
{
	long sum = 0;
	std::vector<int> v;
	for (int i = 0; i < 10000; i++)
		v.push_back(i);
	std::map<int, std::string> m;
	for (int i = 0; i < 300; i++)
		m[i] = std::string(40 + i % 50, 'x') + std::to_string(i);
	for (auto &kv : m)
		sum += (long)kv.second.size();
	widget *w = new widget(7);
	sum += (long)w->data.size();
	delete w;
	void *raw = ::operator new(64);
	::operator delete(raw);
	int *arr = new int[1000];
	arr[999] = 1;
	sum += arr[999];
	delete[] arr;
	std::string s;
	for (int i = 0; i < 200; i++)
		s += "grow ";
	sum += (long)s.size() + v[9999];
	return sum;
}

int main()
{
	long sum = exercise();
	int *volatile leaked = leaky_function();
	leaked[0] = 1;
	leaked = nullptr;
	std::printf("sum %ld\n", sum);
	return 0;
}
