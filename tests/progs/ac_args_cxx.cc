// ac_args_cxx.cc - memcheck 3.22's alignment checks of C++'s aligned
// operator new and delete, one case per run (argv[1]); the program's own
// outcome (bad_alloc, NULL) is printed, as libstdc++ gives it:
//   new0      operator new(64, align_val_t(0)): bad_alloc; nothrow: NULL
//   del_bad   sized aligned delete of a 64-aligned block with alignment 48:
//             invalid alignment and a mismatch
//   del_null  nothrow aligned delete of NULL with alignment 48
#include <cstdio>
#include <cstring>
#include <new>

#include "tprog.h"

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";
	if (!std::strcmp(c, "new0")) {
		try {
			void *p = ::operator new(64, std::align_val_t(tp_size(0))); /* NEW0 */
			std::printf("allocated %d\n", p != nullptr);
		} catch (const std::bad_alloc &) {
			std::printf("bad_alloc\n");
		}
		void *q = ::operator new(64, std::align_val_t(tp_size(0)), std::nothrow); /* NEW0_NT */
		std::printf("nothrow %s\n", q ? "non-null" : "null");
	} else if (!std::strcmp(c, "del_bad")) {
		void *p = ::operator new(64, std::align_val_t(64)); /* DB_ALLOC */
		::operator delete(p, 64, std::align_val_t(tp_size(48))); /* DB_DELETE */
		std::printf("deleted\n");
	} else if (!std::strcmp(c, "del_null")) {
		::operator delete(nullptr, std::align_val_t(tp_size(48)), std::nothrow); /* DN_DELETE */
		std::printf("deleted\n");
	} else {
		return 2;
	}
	return 0;
}
