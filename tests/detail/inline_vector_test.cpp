#include <chatroute/detail/inline_vector.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

using chatroute::detail::InlineVector;

namespace {
template <class V>
std::vector<std::uint32_t> contents(const V& v) {
    return {v.begin(), v.end()};
}
}  // namespace

TEST_CASE("InlineVector inserts and erases as a std::vector does, inline and on the heap", "[detail]") {
    InlineVector<std::uint32_t, 3> small;
    std::vector<std::uint32_t> plain;
    std::mt19937 random(7);
    for (int step = 0; step < 4000; ++step) {
        const bool grow = plain.size() < 2 || random() % 3 != 0;
        if (grow && plain.size() < 12) {
            const auto at = random() % (plain.size() + 1);
            const std::uint32_t value = random();
            CHECK(*small.insert(small.begin() + at, value) == value);
            plain.insert(plain.begin() + static_cast<std::ptrdiff_t>(at), value);
        } else if (!plain.empty()) {
            const auto at = random() % plain.size();
            small.erase(small.begin() + at);
            plain.erase(plain.begin() + static_cast<std::ptrdiff_t>(at));
        }
        REQUIRE(contents(small) == plain);
    }
}

TEST_CASE("InlineVector stays inside itself up to N elements, then holds all on the heap", "[detail]") {
    InlineVector<std::uint32_t, 3> v;
    for (std::uint32_t i = 0; i < 3; ++i) v.push_back(i);
    CHECK_FALSE(v.on_heap());
    CHECK(v.heap_bytes() == 0);
    CHECK(v.capacity() == 3);
    v.push_back(3);
    CHECK(v.on_heap());
    CHECK(v.capacity() == 6);
    CHECK(v.heap_bytes() == 6 * sizeof(std::uint32_t));
    CHECK(contents(v) == std::vector<std::uint32_t>{0, 1, 2, 3});
    v.clear();
    CHECK(v.empty());
    CHECK(v.capacity() == 6);  // never shrinks: a steady agent allocates nothing
}

TEST_CASE("InlineVector inserts a copy of its own element safely while growing", "[detail]") {
    InlineVector<std::uint32_t, 2> v;
    v.push_back(10);
    v.push_back(20);
    v.insert(v.begin(), v[1]);  // the source moves to the heap during the insert
    CHECK(contents(v) == std::vector<std::uint32_t>{20, 10, 20});
}

TEST_CASE("InlineVector copies and moves keep the elements, inline or on the heap", "[detail]") {
    for (std::uint32_t n : {2u, 5u}) {
        InlineVector<std::uint32_t, 3> v;
        for (std::uint32_t i = 0; i < n; ++i) v.push_back(i * 11);
        const InlineVector<std::uint32_t, 3> copy = v;
        CHECK(contents(copy) == contents(v));
        InlineVector<std::uint32_t, 3> moved = std::move(v);
        CHECK(contents(moved) == contents(copy));
        CHECK(v.empty());  // NOLINT(bugprone-use-after-move): a moved-from vector is empty and usable
        v.push_back(1);
        CHECK(contents(v) == std::vector<std::uint32_t>{1});
    }
}
