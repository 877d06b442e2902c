// The per-event path is allocation-light: once the run has warmed up (the event heap, the
// engine's tables and the reserved records at their working size), simulating goes on
// without touching the heap. Counted with a replaced global operator new.

#include "mmc.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

namespace {
std::atomic<std::size_t> allocations{0};

[[gnu::noinline]] void* allocate(std::size_t size) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
[[gnu::noinline]] void release(void* p) noexcept { std::free(p); }
}  // namespace

void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }

using namespace chatroute::sim;

TEST_CASE("After warm-up, simulating allocates (almost) nothing") {
#ifdef CHATROUTE_CHECK_INVARIANTS
    // The engine's invariant checks, run after every command, build their own tables.
    WARN("not measured: the engine checks its invariants after every command in this build");
    return;
#endif
    // A busy M/M/c desk, 100,000 customers: progress is reported every 8,192 steps.
    Scenario s = mmc_scenario({300, 10, 96, 0}, 100'000.0 / 300, 11);
    std::vector<std::size_t> seen;
    seen.reserve(1024);
    Simulation simulation(s);
    const Results r = simulation.run([&](double) { seen.push_back(allocations.load(std::memory_order_relaxed)); });
    REQUIRE(seen.size() > 40);
    // The second half of the run: fewer allocations than reports, i.e. < 1 per 8,192 steps
    // (a new peak of live conversations may still grow a table now and then).
    const std::size_t half = seen.size() / 2;
    const std::size_t late = seen.back() - seen[half];
    INFO(late << " allocations over " << seen.size() - 1 - half << " x 8192 steps");
    CHECK(late < seen.size() - 1 - half);
    CHECK(r.engine_errors == 0);
}
