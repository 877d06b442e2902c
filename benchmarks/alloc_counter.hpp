#pragma once
// Counts every heap allocation the program makes, through a replaced global operator
// new/delete (alloc_counter.cpp). Live bytes use malloc_usable_size, so they are what
// the allocator really handed out, rounding included (its 8-byte headers excluded).

#include <cstdint>

namespace chatroute::bench {

struct AllocStats {
    std::uint64_t allocations = 0;    // calls to operator new, ever
    std::uint64_t deallocations = 0;  // calls to operator delete with a pointer, ever
    std::int64_t live_bytes = 0;      // usable bytes allocated and not yet freed
};

// A snapshot of the counters (single-threaded use: plain counters).
[[nodiscard]] AllocStats alloc_stats();

// Allocations made since a snapshot.
[[nodiscard]] inline std::uint64_t allocations_since(const AllocStats& before) {
    return alloc_stats().allocations - before.allocations;
}

}  // namespace chatroute::bench
