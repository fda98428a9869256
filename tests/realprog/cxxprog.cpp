// cxxprog.cpp - a correct C++ program for t_realprog.sh: new/delete, new[]/
// delete[], std::vector, std::map, std::unordered_map, std::string, a
// polymorphic hierarchy through unique_ptr and a shared_ptr cycle broken by
// weak_ptr.  It frees everything it allocates; output is deterministic.
// Build: g++ -g -O2 cxxprog.cpp -o cxxprog.  Usage: cxxprog [N]
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

struct Shape {
	virtual ~Shape() = default;
	virtual double area() const = 0;
	virtual std::string name() const = 0;
};

struct Rect : Shape {
	double w, h;
	Rect(double a, double b) : w(a), h(b) {}
	double area() const override { return w * h; }
	std::string name() const override { return "rect" + std::to_string(int(w)); }
};

struct Circle : Shape {
	double r;
	explicit Circle(double a) : r(a) {}
	double area() const override { return 3 * r * r; }
	std::string name() const override { return "circle" + std::to_string(int(r)); }
};

struct Node {
	std::string label;
	std::vector<std::shared_ptr<Node>> children;
	std::weak_ptr<Node> parent;
};

uint64_t mix(uint64_t h, const std::string &s)
{
	for (unsigned char c : s)
		h = (h ^ c) * 1099511628211ull;
	return h;
}

} // namespace

int main(int argc, char **argv)
{
	const int n = argc > 1 ? std::atoi(argv[1]) : 20000;
	uint64_t h = 1469598103934665603ull;

	// raw new/delete and new[]/delete[]
	int **rows = new int *[64];
	for (int i = 0; i < 64; i++) {
		rows[i] = new int[i + 1];
		for (int j = 0; j <= i; j++)
			rows[i][j] = i * j;
	}
	long tri = 0;
	for (int i = 0; i < 64; i++) {
		tri += rows[i][i];
		delete[] rows[i];
	}
	delete[] rows;

	// vector of strings, sorted
	std::vector<std::string> words;
	for (int i = 0; i < n; i++)
		words.push_back("w" + std::to_string((i * 7919) % n) +
				std::string(i % 23, 'x'));
	std::sort(words.begin(), words.end());

	// map and unordered_map keyed by string
	std::map<std::string, int> ordered;
	std::unordered_map<std::string, std::vector<int>> buckets;
	for (int i = 0; i < n; i++) {
		const std::string &w = words[i];
		ordered[w.substr(0, 4)] += 1;
		buckets[w.substr(1, 3)].push_back(i);
	}
	for (auto it = ordered.begin(); it != ordered.end();)
		it = it->second % 3 == 0 ? ordered.erase(it) : std::next(it);
	for (auto &kv : ordered)
		h = mix(h, kv.first);
	size_t total = 0;
	for (auto &kv : buckets)
		total += kv.second.size();

	// polymorphism through owning pointers
	std::vector<std::unique_ptr<Shape>> shapes;
	for (int i = 1; i <= 200; i++) {
		if (i % 3)
			shapes.emplace_back(new Rect(i, i % 7 + 1));
		else
			shapes.push_back(std::make_unique<Circle>(i % 11));
	}
	double area = 0;
	for (auto &s : shapes) {
		area += s->area();
		h = mix(h, s->name());
	}
	shapes.erase(shapes.begin(), shapes.begin() + 50);

	// a tree of shared_ptr nodes with weak parent links
	auto root = std::make_shared<Node>();
	root->label = "root";
	for (int i = 0; i < 100; i++) {
		auto c = std::make_shared<Node>();
		c->label = "child" + std::to_string(i);
		c->parent = root;
		root->children.push_back(c);
	}
	std::ostringstream os;
	for (auto &c : root->children)
		os << c->label << (c->parent.lock() == root ? '+' : '-');
	h = mix(h, os.str());

	std::cout << "tri=" << tri << " words=" << words.size()
		  << " ordered=" << ordered.size() << " buckets=" << buckets.size()
		  << " total=" << total << " shapes=" << shapes.size()
		  << " area=" << area << " hash=" << std::hex << h << "\n";
	return 0;
}
