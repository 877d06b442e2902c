#include <chatroute/detail/hash_index.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <random>
#include <vector>

using chatroute::detail::hash_bytes;
using chatroute::detail::HashIndex;
using chatroute::detail::mix64;

namespace {

// The inverse of mix64, so a test can pick keys by their mixed value.
std::uint64_t inverse_multiplier(std::uint64_t a) {
    std::uint64_t x = a;  // correct to 3 bits for odd a; each step doubles the bits
    for (int i = 0; i < 5; ++i) x *= 2 - a * x;
    return x;
}
std::uint64_t unshift(std::uint64_t z, int shift) {
    std::uint64_t x = z;
    for (int s = shift; s < 64; s += shift) x = z ^ (x >> shift);
    return x;
}
std::uint64_t unmix64(std::uint64_t z) {
    z = unshift(z, 31);
    z *= inverse_multiplier(0x94d049bb133111ebULL);
    z = unshift(z, 27);
    z *= inverse_multiplier(0xbf58476d1ce4e5b9ULL);
    return unshift(z, 30);
}

// Keys whose mixed values agree in their low 32 bits: they share a home slot in any
// table of up to 2^32 slots.
std::vector<std::uint64_t> colliding_keys(std::size_t count) {
    std::vector<std::uint64_t> keys;
    for (std::uint64_t i = 1; i <= count; ++i) keys.push_back(unmix64((i << 32) | 0x1234u));
    return keys;
}

}  // namespace

TEST_CASE("HashIndex: the inverse mixer used by these tests is right", "[R38][hash_index]") {
    for (std::uint64_t z : {0ULL, 1ULL, 0x1234ULL, 0xFFFF'FFFF'FFFF'FFFFULL, 0x8000'0000'0000'0000ULL})
        CHECK(mix64(unmix64(z)) == z);
    for (std::uint64_t k : colliding_keys(50)) CHECK((mix64(k) & 0xFFFF'FFFFu) == 0x1234u);
}

TEST_CASE("HashIndex: 200k random operations agree with std::map", "[R38][hash_index]") {
    std::mt19937_64 random{20261129};
    HashIndex index;
    std::map<std::uint64_t, std::uint32_t> model;
    // A small key universe so that finds hit, inserts collide with present keys and
    // erases find something; a few wide keys as well.
    auto key = [&] {
        const std::uint64_t r = random();
        return (r & 7) == 0 ? r : (r >> 8) % 4096;
    };
    for (int op = 0; op < 200'000; ++op) {
        const std::uint64_t k = key();
        const auto v = static_cast<std::uint32_t>(random());
        switch (random() % 5) {
        case 0: {
            const bool inserted = model.emplace(k, v).second;
            REQUIRE(index.insert(k, v) == inserted);
            break;
        }
        case 1:
            model[k] = v;
            index.assign(k, v);
            break;
        case 2:
        case 3:
            REQUIRE(index.erase(k) == (model.erase(k) == 1));
            break;
        default: {
            const auto it = model.find(k);
            const auto found = index.find(k);
            REQUIRE(found.has_value() == (it != model.end()));
            if (found) REQUIRE(*found == it->second);
        }
        }
        REQUIRE(index.size() == model.size());
    }
    for (const auto& [k, v] : model) REQUIRE(index.find(k) == std::optional<std::uint32_t>{v});
    for (std::uint64_t k = 0; k < 4096; ++k) REQUIRE(index.find(k).has_value() == (model.count(k) == 1));
}

TEST_CASE("HashIndex: keys that share a home slot are all found, inserted once, erased alone",
          "[R38][hash_index]") {
    const auto keys = colliding_keys(300);
    HashIndex index;
    for (std::size_t i = 0; i < keys.size(); ++i) REQUIRE(index.insert(keys[i], static_cast<std::uint32_t>(i)));
    for (std::size_t i = 0; i < keys.size(); ++i) {
        REQUIRE_FALSE(index.insert(keys[i], 999'999));
        REQUIRE(index.find(keys[i]) == std::optional<std::uint32_t>{static_cast<std::uint32_t>(i)});
    }
    // Erase from the front, the middle and the back of the one long cluster.
    std::vector<bool> present(keys.size(), true);
    for (std::size_t i : {std::size_t{0}, std::size_t{150}, std::size_t{299}, std::size_t{1}, std::size_t{298}}) {
        REQUIRE(index.erase(keys[i]));
        REQUIRE_FALSE(index.erase(keys[i]));
        present[i] = false;
        for (std::size_t j = 0; j < keys.size(); ++j)
            REQUIRE(index.find(keys[j]).has_value() == present[j]);
    }
    REQUIRE(index.size() == keys.size() - 5);
    // A key that also lands in that cluster but was never inserted is not found.
    REQUIRE_FALSE(index.find(unmix64((std::uint64_t{1000} << 32) | 0x1234u)).has_value());
}

TEST_CASE("HashIndex: erase keeps every other key findable, wrapping around the table end",
          "[R38][hash_index]") {
    // Keys homed in the last slots of a 16-slot table spill over into slot 0 and on.
    HashIndex index;
    index.reserve(8);
    REQUIRE(index.capacity() == 16);
    std::vector<std::uint64_t> keys;
    for (std::uint64_t i = 1; keys.size() < 8; ++i) keys.push_back(unmix64((i << 8) | 14u | (i % 2)));
    for (std::size_t i = 0; i < keys.size(); ++i) REQUIRE(index.insert(keys[i], static_cast<std::uint32_t>(i)));
    REQUIRE(index.capacity() == 16);
    for (std::size_t erased = 0; erased < keys.size(); ++erased) {
        REQUIRE(index.erase(keys[erased]));
        for (std::size_t j = 0; j < keys.size(); ++j)
            REQUIRE(index.find(keys[j]) ==
                    (j > erased ? std::optional<std::uint32_t>{static_cast<std::uint32_t>(j)} : std::nullopt));
    }
    REQUIRE(index.empty());
}

TEST_CASE("HashIndex: churn at a constant size never grows the table", "[R38][hash_index]") {
    HashIndex index;
    constexpr std::uint64_t live = 1000;
    for (std::uint64_t k = 0; k < live; ++k) index.insert(k, 0);
    const std::size_t bytes = index.memory_bytes();
    REQUIRE(bytes <= 4 * live * 16);
    // Every key is replaced a hundred times over by new ones: no tombstones pile up.
    for (std::uint64_t k = live; k < 100 * live; ++k) {
        REQUIRE(index.erase(k - live));
        REQUIRE(index.insert(k, static_cast<std::uint32_t>(k)));
    }
    REQUIRE(index.size() == live);
    REQUIRE(index.memory_bytes() == bytes);
    for (std::uint64_t k = 99 * live; k < 100 * live; ++k) REQUIRE(index.find(k) == std::optional<std::uint32_t>{k});
    REQUIRE_FALSE(index.find(0).has_value());
}

TEST_CASE("HashIndex: assign overwrites, insert does not, clear and shrink_to_fit", "[R38][hash_index]") {
    HashIndex index;
    REQUIRE_FALSE(index.find(7).has_value());
    REQUIRE_FALSE(index.erase(7));
    REQUIRE(index.insert(7, 1));
    REQUIRE_FALSE(index.insert(7, 2));
    REQUIRE(index.find(7) == std::optional<std::uint32_t>{1});
    index.assign(7, 3);
    REQUIRE(index.find(7) == std::optional<std::uint32_t>{3});
    index.assign(8, 4);
    REQUIRE(index.size() == 2);

    for (std::uint64_t k = 100; k < 10'000; ++k) index.insert(k, 0);
    const std::size_t big = index.memory_bytes();
    index.clear();
    REQUIRE(index.size() == 0);
    REQUIRE_FALSE(index.find(7).has_value());
    REQUIRE(index.memory_bytes() == big);  // clear keeps the room
    index.insert(5, 5);
    index.shrink_to_fit();
    REQUIRE(index.memory_bytes() < big / 100);
    REQUIRE(index.find(5) == std::optional<std::uint32_t>{5});
}

TEST_CASE("HashIndex: reserve makes room once, inserts up to it do not reallocate", "[R38][hash_index]") {
    HashIndex index;
    index.reserve(1000);
    const std::size_t bytes = index.memory_bytes();
    const std::size_t room = index.capacity() / 2;
    REQUIRE(room >= 1000);
    for (std::uint64_t k = 0; k < room; ++k) index.insert(k * 7919, 0);
    REQUIRE(index.memory_bytes() == bytes);
    index.insert(1'000'000'007, 0);
    REQUIRE(index.memory_bytes() == 2 * bytes);  // past the high-water mark it doubles
}

TEST_CASE("hash_bytes: fixed values, every byte counts", "[R38][hash_index]") {
    // FNV-1a 64 of "" and "a" are well-known constants; hash_bytes mixes them.
    CHECK(hash_bytes("") == mix64(14695981039346656037ULL));
    CHECK(hash_bytes("a") == mix64(0xaf63dc4c8601ec8cULL));
    CHECK(hash_bytes("ab") != hash_bytes("ba"));
    CHECK(hash_bytes(std::string_view{"a\0b", 3}) != hash_bytes("ab"));
}
