// mpwrap/gtest_listener.h - googletest: each TEST is a leak scope
// (mpwrap/scope.h).  A test whose blocks are lost when it ends fails, with
// the leaks' stacks in its failure message; the other tests do not.
//
//   int main(int argc, char **argv) {
//       ::testing::InitGoogleTest(&argc, argv);
//       mpwrap::InstallLeakListener();
//       return RUN_ALL_TESTS();
//   }
//
// Run under LD_PRELOAD=libmpwrap.so (or mpcheck); without the library the
// listener does nothing.  The scope spans the fixture's construction to its
// destruction (OnTestStart .. OnTestEnd); SetUpTestSuite's blocks are not
// the test's.  The failure message holds mpwrap's report of the scope
// (mp_scope_report), which is also written to mpwrap's log as usual.
#ifndef MPWRAP_GTEST_LISTENER_H
#define MPWRAP_GTEST_LISTENER_H

#include <gtest/gtest.h>
#include <mpwrap/scope.h>

#include <string>

namespace mpwrap {

class LeakListener : public ::testing::EmptyTestEventListener {
public:
	void OnTestStart(const ::testing::TestInfo &t) override
	{
		std::string name = std::string(t.test_suite_name()) + "." + t.name();
		open_ = mpwrap_scope_begin(name.c_str()) == 0;
	}

	// OnTestEnd runs before the result printer's (googletest calls it in
	// reverse order): the failure added here is this test's.
	void OnTestEnd(const ::testing::TestInfo &) override
	{
		if (!open_)
			return;
		open_ = false;
		long n = mpwrap_scope_end();
		if (n <= 0)
			return;
		std::string report(mp_scope_report ? mp_scope_report(nullptr, 0) : 0, '\0');
		if (!report.empty())
			mp_scope_report(&report[0], report.size() + 1);
		ADD_FAILURE() << "mpwrap: " << n << " block" << (n == 1 ? "" : "s")
			      << " leaked by this test:\n" << report;
	}

private:
	bool open_ = false;
};

// Appends the listener (googletest owns and deletes it).
inline void InstallLeakListener()
{
	::testing::UnitTest::GetInstance()->listeners().Append(new LeakListener);
}

} // namespace mpwrap
#endif
