// dt_cxx.cc - interior pointers C++ makes on purpose (t_verdict.sh): each
// block below is held only through a pointer into its inside, of a shape
// memcheck's leak heuristics recognise, so memcheck (default heuristics)
// and mpwrap (leak_heuristics, default all) call it reachable, and count it
// "via heuristic"; with the heuristics off it is possibly lost.  Built with
// the old string ABI, whose strings point 3 words into their block.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

struct Tracked { // a destructor: new[] stores the element count first
	char c;
	~Tracked() { std::fputc(c, stderr); }
};

struct Pair { // 2 bytes and a destructor: new[] of 3 is 8 + 6 bytes
	char c[2];
	~Pair() { std::fputc(c[0], stderr); }
};

struct A {
	long a = 1;
	virtual ~A() {}
};
struct B {
	long b = 2;
	virtual ~B() {}
};
struct C : A, B {
	long c = 3;
};

static std::string *volatile g_str;
static Tracked *volatile g_arr;
static Pair *volatile g_pairs;
static char *volatile g_len64;
static B *volatile g_base;

__attribute__((noinline)) static void make(void)
{
	g_str = new std::string(40, 'x');     // stdstring: rep + 41 chars
	g_arr = new Tracked[3];               // count 3, then 3 bytes: length64
	g_pairs = new Pair[3];                // newarray: count, then 3 x 2 bytes
	size_t n = 23;                        // length64: length, then n bytes
	char *p = static_cast<char *>(std::malloc(8 + n));
	std::memcpy(p, &n, sizeof n);
	g_len64 = p + 8;
	g_base = new C;                       // multipleinheritance: the B part
	void *volatile lost = std::malloc(8); // and one plain leak
	(void)lost;
}

int main()
{
	make();
	return 0;
}
