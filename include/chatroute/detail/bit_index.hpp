#pragma once
// A set of small integers with O(log64 n) insert, erase and "first member at or after i":
// one bit per position, and above it a summary level per 64 words, up to a single word.
// Routing keeps one per space, over the ring positions of its eligible agents (R9).

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstdint>
#include <vector>

namespace chatroute::detail {

class BitIndex {
public:
    static constexpr std::uint32_t npos = 0xFFFF'FFFF;

    [[nodiscard]] std::uint32_t capacity() const { return capacity_; }

    [[nodiscard]] bool test(std::uint32_t i) const {
        return i < capacity_ && (levels_[0][i >> 6] >> (i & 63) & 1U);
    }

    [[nodiscard]] bool empty() const { return levels_.empty() || levels_.back()[0] == 0; }

    void insert(std::uint32_t i) {
        if (i >= capacity_) grow(i + 1);
        for (auto& level : levels_) {
            std::uint64_t& word = level[i >> 6];
            const bool was_empty = word == 0;
            word |= std::uint64_t{1} << (i & 63);
            if (!was_empty) return;
            i >>= 6;
        }
    }

    void erase(std::uint32_t i) {
        if (i >= capacity_) return;
        for (auto& level : levels_) {
            std::uint64_t& word = level[i >> 6];
            word &= ~(std::uint64_t{1} << (i & 63));
            if (word != 0) return;
            i >>= 6;
        }
    }

    // The smallest member >= from, or npos.
    [[nodiscard]] std::uint32_t find_next(std::uint32_t from) const {
        if (from >= capacity_) return npos;
        std::size_t level = 0;
        std::uint64_t position = from;
        for (;;) {
            const std::uint64_t index = position >> 6;
            if (index >= levels_[level].size()) return npos;
            const std::uint64_t word = levels_[level][index] & (~std::uint64_t{0} << (position & 63));
            if (word != 0) {
                position = (index << 6) | static_cast<unsigned>(std::countr_zero(word));
                break;
            }
            if (level + 1 == levels_.size()) return npos;
            position = index + 1;
            ++level;
        }
        while (level > 0) {
            --level;
            position = (position << 6) | static_cast<unsigned>(std::countr_zero(levels_[level][position]));
        }
        return static_cast<std::uint32_t>(position);
    }

    // The first member at or after `from`, wrapping around to the start.
    [[nodiscard]] std::uint32_t find_next_wrapping(std::uint32_t from) const {
        const std::uint32_t found = find_next(from);
        return found != npos ? found : find_next(0);
    }

    void clear() {
        for (auto& level : levels_) std::fill(level.begin(), level.end(), 0);
    }

    [[nodiscard]] std::size_t memory_bytes() const {
        std::size_t bytes = 0;
        for (const auto& level : levels_) bytes += level.capacity() * sizeof(std::uint64_t);
        return bytes;
    }

private:
    void grow(std::uint32_t needed) {
        std::uint32_t capacity = capacity_ == 0 ? 64 : capacity_;
        while (capacity < needed) capacity *= 2;
        std::vector<std::vector<std::uint64_t>> levels;
        std::uint64_t bits = capacity;
        do {
            const std::uint64_t words = (bits + 63) / 64;
            levels.emplace_back(words, 0);
            bits = words;
        } while (bits > 1);
        if (!levels_.empty()) {
            std::copy(levels_[0].begin(), levels_[0].end(), levels[0].begin());
            for (std::size_t level = 1; level < levels.size(); ++level)
                for (std::size_t word = 0; word < levels[level - 1].size(); ++word)
                    if (levels[level - 1][word] != 0) levels[level][word >> 6] |= std::uint64_t{1} << (word & 63);
        }
        levels_ = std::move(levels);
        capacity_ = capacity;
    }

    std::vector<std::vector<std::uint64_t>> levels_;
    std::uint32_t capacity_ = 0;
};

}  // namespace chatroute::detail
