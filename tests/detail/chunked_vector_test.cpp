#include <chatroute/detail/chunked_vector.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

using chatroute::detail::ChunkedVector;

namespace {
struct Item {
    std::uint64_t a = 7;
    std::uint32_t b = 0;
};
}  // namespace

TEST_CASE("ChunkedVector holds what a std::vector holds, through growth past many chunks [R38]", "[detail][R38]") {
    ChunkedVector<Item, 3> chunked;  // chunks of 8, so 1,000 elements span 125 chunks
    std::vector<Item> plain;
    std::mt19937_64 random(42);
    for (std::uint32_t i = 0; i < 1000; ++i) {
        Item& added = chunked.emplace_back();
        CHECK(added.a == 7);  // value-initialized, whatever the slot held before
        added.b = i;
        plain.push_back(added);
        const std::size_t at = random() % plain.size();
        chunked[at].a = plain[at].a = random();
    }
    REQUIRE(chunked.size() == plain.size());
    for (std::size_t i = 0; i < plain.size(); ++i) {
        CHECK(chunked[i].a == plain[i].a);
        CHECK(chunked[i].b == plain[i].b);
    }
}

TEST_CASE("ChunkedVector's slack is at most one chunk, and small tables stay small [R38]", "[detail][R38]") {
    ChunkedVector<Item, 6> v;  // chunks of 64
    for (std::size_t n = 1; n <= 1000; ++n) {
        v.emplace_back();
        CHECK(v.capacity() >= n);
        CHECK(v.capacity() - n < 64);
        if (n <= 64) CHECK(v.capacity() <= 2 * n + 8);  // the first chunk doubles, like a vector
    }
}

TEST_CASE("ChunkedVector: reserve, resize, assign and clear keep the size and contents exact", "[detail]") {
    ChunkedVector<Item, 4> v;
    v.reserve(100);
    CHECK(v.size() == 0);
    CHECK(v.capacity() >= 100);
    const std::size_t reserved = v.capacity();
    for (int i = 0; i < 100; ++i) v.emplace_back().b = 1;
    CHECK(v.capacity() == reserved);  // no growth up to what was reserved
    v.resize(40);
    CHECK(v.size() == 40);
    v.resize(50);
    CHECK(v[45].b == 0);  // brought back into the size as T{}
    CHECK(v[39].b == 1);
    v.assign(200, Item{3, 9});
    CHECK(v.size() == 200);
    CHECK(v[199].a == 3);
    CHECK(v[0].b == 9);
    v.clear();
    CHECK(v.empty());
    CHECK(v.capacity() >= 200);  // capacity never shrinks: refilling allocates nothing
}

TEST_CASE("ChunkedVector: a reserve past the first chunk from empty gives a full first chunk", "[detail]") {
    ChunkedVector<Item, 4> v;
    v.reserve(40);
    CHECK(v.capacity() >= 40);
    for (int i = 0; i < 40; ++i) v.emplace_back().b = static_cast<std::uint32_t>(i);
    for (int i = 0; i < 40; ++i) CHECK(v[static_cast<std::size_t>(i)].b == static_cast<std::uint32_t>(i));
}

TEST_CASE("ChunkedVector: every chunk starts on a cache line, so records fall the same way across lines",
          "[detail]") {
    struct Node24 {
        std::uint64_t a = 0, b = 0, c = 0;
    };
    ChunkedVector<Node24, 4> nodes;  // chunks of 16: the first doubles 8 -> 16, then new chunks
    for (int i = 0; i < 100; ++i) nodes.emplace_back().a = static_cast<std::uint64_t>(i);
    for (std::size_t i = 0; i < nodes.size(); i += 16) {
        REQUIRE(reinterpret_cast<std::uintptr_t>(&nodes[i]) % 64 == 0);
        REQUIRE(nodes[i].a == i);  // and growing the first chunk kept its contents
    }
}

TEST_CASE("ChunkedVector: elements that own memory move when the first chunk grows", "[detail]") {
    ChunkedVector<std::vector<int>, 4> lists;
    for (int i = 0; i < 40; ++i) lists.push_back(std::vector<int>(static_cast<std::size_t>(i), i));
    for (std::size_t i = 0; i < lists.size(); ++i) {
        REQUIRE(lists[i].size() == i);
        if (i > 0) REQUIRE(lists[i].back() == static_cast<int>(i));
    }
}
