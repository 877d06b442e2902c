#pragma once
// HashIndex: an open-addressing map from 64-bit keys to 32-bit values (R38).
//
// Used wherever the engine must find "the thing with this key" in O(1) instead of a
// linear scan: timer lists by duration, interned strings by hash, and so on.
//
// Layout and cost:
// - One flat array of slots, capacity a power of two, linear probing from the slot
//   picked by mix64(key). The load factor is kept at or below 1/2, so an unsuccessful
//   probe sequence is short on average (about 2.5 slots); find, insert, assign and erase
//   are O(1) expected.
// - The table doubles when an insertion would pass load 1/2 (amortised O(1)); it never
//   shrinks on its own, so after warm-up nothing allocates unless the number of keys
//   passes its high-water mark. shrink_to_fit() gives memory back on request.
// - Erase uses backward-shift deletion: the entries after the hole that may move into it
//   do, so there are no tombstones and churn at a constant size never grows the table or
//   lengthens probe sequences.
// - Deterministic: the mixer is fixed (splitmix64's finalizer), no randomness, no pointer
//   values. Iteration is deliberately not offered, because its order would leak the hash
//   order into whatever iterated it (events, snapshots).

#if defined(__has_include)
#if __has_include(<chatroute/detail/assert.hpp>)
#include <chatroute/detail/assert.hpp>
#endif
#endif
#ifndef CHATROUTE_ASSERT
#include <cstdio>
#include <cstdlib>
#define CHATROUTE_ASSERT(cond)                                                                          \
    ((cond) ? static_cast<void>(0)                                                                      \
            : (std::fprintf(stderr, "%s:%d: CHATROUTE_ASSERT(%s) failed\n", __FILE__, __LINE__, #cond), \
               std::abort()))
#endif

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace chatroute::detail {

// splitmix64's finalizer: a fixed bijection of 64-bit words whose every output bit
// depends on every input bit. O(1). Being a bijection, distinct keys never share a full
// mixed value; only the bits a table uses can collide.
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// A 64-bit hash of a byte string: FNV-1a 64, then mix64 so the low bits a table uses
// depend on every byte. O(length). The same bytes give the same hash in any process.
[[nodiscard]] inline std::uint64_t hash_bytes(std::string_view bytes) noexcept {
    std::uint64_t h = 14695981039346656037ULL;
    for (const char c : bytes) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL;
    }
    return mix64(h);
}

class HashIndex {
public:
    // O(1) expected.
    [[nodiscard]] std::optional<std::uint32_t> find(std::uint64_t key) const {
        if (slots_.empty()) return std::nullopt;
        for (std::size_t i = home(key);; i = (i + 1) & mask()) {
            const Slot& slot = slots_[i];
            if (!slot.used) return std::nullopt;
            if (slot.key == key) return slot.value;
        }
    }

    [[nodiscard]] bool contains(std::uint64_t key) const { return find(key).has_value(); }

    // Adds key -> value; false (and the stored value unchanged) if key is present.
    // O(1) expected, amortised over doublings.
    bool insert(std::uint64_t key, std::uint32_t value) { return put(key, value, false); }

    // Adds key -> value, or overwrites the value of a present key. O(1) expected.
    void assign(std::uint64_t key, std::uint32_t value) { put(key, value, true); }

    // Removes key; false if it was absent. O(1) expected: backward shift moves at most
    // the rest of the cluster, which load <= 1/2 keeps short.
    bool erase(std::uint64_t key) {
        if (slots_.empty()) return false;
        std::size_t hole = home(key);
        for (;; hole = (hole + 1) & mask()) {
            if (!slots_[hole].used) return false;
            if (slots_[hole].key == key) break;
        }
        // Backward shift: an entry at j may fill the hole iff the hole lies on its probe
        // path, i.e. its distance from home is at least the distance from hole to j.
        for (std::size_t j = (hole + 1) & mask();; j = (j + 1) & mask()) {
            Slot& slot = slots_[j];
            if (!slot.used) break;
            const std::size_t from_home = (j - home(slot.key)) & mask();
            const std::size_t from_hole = (j - hole) & mask();
            if (from_home >= from_hole) {
                slots_[hole] = slot;
                hole = j;
            }
        }
        slots_[hole] = Slot{};
        --size_;
        return true;
    }

    [[nodiscard]] std::size_t size() const { return size_; }
    [[nodiscard]] bool empty() const { return size_ == 0; }
    [[nodiscard]] std::size_t capacity() const { return slots_.size(); }

    // Makes room for n keys without further allocation. O(n + capacity) if it grows.
    void reserve(std::size_t n) {
        const std::size_t wanted = capacity_for(n);
        if (wanted > slots_.size()) rehash(wanted);
    }

    // Gives memory back: the smallest capacity that holds size() at load <= 1/2.
    // O(capacity). Not called automatically, so churn never reallocates.
    void shrink_to_fit() {
        const std::size_t wanted = size_ == 0 ? 0 : capacity_for(size_);
        if (wanted < slots_.size()) rehash(wanted);
    }

    [[nodiscard]] std::size_t memory_bytes() const { return slots_.capacity() * sizeof(Slot); }

    // Forgets every key, keeps the capacity. O(capacity).
    void clear() {
        for (Slot& slot : slots_) slot = Slot{};
        size_ = 0;
    }

private:
    struct Slot {
        std::uint64_t key = 0;
        std::uint32_t value = 0;
        std::uint32_t used = 0;
    };
    static constexpr std::size_t min_capacity = 8;

    [[nodiscard]] std::size_t mask() const { return slots_.size() - 1; }
    [[nodiscard]] std::size_t home(std::uint64_t key) const { return static_cast<std::size_t>(mix64(key)) & mask(); }

    // Smallest power of two >= 2n (and >= min_capacity).
    [[nodiscard]] static std::size_t capacity_for(std::size_t n) {
        std::size_t c = min_capacity;
        while (c / 2 < n) c *= 2;
        return c;
    }

    bool put(std::uint64_t key, std::uint32_t value, bool overwrite) {
        if ((size_ + 1) * 2 > slots_.size()) {
            if (auto i = locate(key)) {
                if (overwrite) slots_[*i].value = value;
                return false;
            }
            rehash(capacity_for(size_ + 1));
        }
        std::size_t i = home(key);
        for (; slots_[i].used; i = (i + 1) & mask()) {
            if (slots_[i].key == key) {
                if (overwrite) slots_[i].value = value;
                return false;
            }
        }
        slots_[i] = Slot{key, value, 1};
        ++size_;
        return true;
    }

    [[nodiscard]] std::optional<std::size_t> locate(std::uint64_t key) const {
        if (slots_.empty()) return std::nullopt;
        for (std::size_t i = home(key);; i = (i + 1) & mask()) {
            if (!slots_[i].used) return std::nullopt;
            if (slots_[i].key == key) return i;
        }
    }

    void rehash(std::size_t capacity) {
        CHATROUTE_ASSERT(capacity == 0 || (capacity & (capacity - 1)) == 0);
        CHATROUTE_ASSERT(capacity >= 2 * size_);
        std::vector<Slot> old(capacity);
        old.swap(slots_);
        for (const Slot& slot : old) {
            if (!slot.used) continue;
            std::size_t i = home(slot.key);
            while (slots_[i].used) i = (i + 1) & mask();
            slots_[i] = slot;
        }
    }

    std::vector<Slot> slots_;
    std::size_t size_ = 0;
};

}  // namespace chatroute::detail
