// gtest_scopes.cc - googletest with mpwrap's leak listener: each TEST is a
// leak scope; LeaksOnPurpose fails with the leak's stack, the others pass.
//   g++ -g examples/gtest_scopes.cc -Iinclude -lgtest -pthread -o gtest_scopes
//   LD_PRELOAD=./libmpwrap.so ./gtest_scopes
#include <mpwrap/gtest_listener.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

static std::vector<std::string> *registry; // kept for the whole run

static char *make_name(const char *s)
{
	char *p = static_cast<char *>(malloc(strlen(s) + 1));
	strcpy(p, s);
	return p;
}

TEST(Scopes, Clean)
{
	char *p = make_name("clean");
	EXPECT_STREQ(p, "clean");
	free(p);
}

TEST(Scopes, LeaksOnPurpose)
{
	char *p = make_name("lost");
	EXPECT_STREQ(p, "lost");
	p = nullptr; // the only pointer to it is gone
}

TEST(Scopes, KeepsInRegistry)
{
	if (!registry)
		registry = new std::vector<std::string>;
	registry->push_back(std::string(100, 'x')); // reachable: no leak
	EXPECT_EQ(registry->size(), 1u);
}

int main(int argc, char **argv)
{
	::testing::InitGoogleTest(&argc, argv);
	mpwrap::InstallLeakListener();
	return RUN_ALL_TESTS();
}
