// chatroute's benchmark suite: throughput, per-command cost against scale, memory and
// steady-state allocations, for the engine and for a naive router on the same workload.
//
//   chatroute_bench                 the full suite, then a summary table against the targets
//   chatroute_bench --tiny          every benchmark once at a tiny size (CI: never rots)
// plus every Google Benchmark flag (--benchmark_filter, --benchmark_min_time, ...).

#include "alloc_counter.hpp"
#include "live_workload.hpp"
#include "workload.hpp"

#include <benchmark/benchmark.h>

// Under `valgrind --tool=callgrind --collect-atstart=no`, only the measured operations are
// counted: instructions per operation = Ir / the `ops` counter. Elsewhere these do nothing.
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define CHATROUTE_MEASURE_BEGIN() CALLGRIND_TOGGLE_COLLECT
#define CHATROUTE_MEASURE_END() CALLGRIND_TOGGLE_COLLECT
// With --instr-atstart=no (fast, for the cache simulation): the live series turns the
// simulation on for its last warm-up sweeps, so the caches are warm when counting starts.
#define CHATROUTE_INSTRUMENT_BEGIN() CALLGRIND_START_INSTRUMENTATION
#else
#define CHATROUTE_MEASURE_BEGIN() ((void)0)
#define CHATROUTE_MEASURE_END() ((void)0)
#define CHATROUTE_INSTRUMENT_BEGIN() ((void)0)
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <unistd.h>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <numeric>
#include <vector>

namespace chatroute::bench {
namespace {

// ---- One site per router type, kept while consecutive benchmarks share its shape ----

template <class R>
std::unique_ptr<Site<R>>& cached_site() {
    static std::unique_ptr<Site<R>> site;
    return site;
}

template <class R>
Site<R>& site_for(const Shape& shape) {
    auto& site = cached_site<R>();
    if (!site || !(site->shape == shape)) {
        site.reset();  // free the old one before building the next
        site = build_site<R>(shape);
    }
    return *site;
}

// Runs a benchmark body; on failure the site is dropped and the run is marked as an error.
template <class R, class F>
void guarded(benchmark::State& state, F&& body) {
    try {
        body();
    } catch (const std::exception& e) {
        cached_site<R>().reset();
        state.SkipWithError(e.what());
    }
}

// Hand-timed sections use this thread's CPU time, like Google Benchmark's own default
// (CPU time), so other processes on the shared machine do not inflate them.
struct ThreadClock {
    using duration = std::chrono::nanoseconds;
    static duration now() {
        timespec t{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
        return duration{std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec};
    }
};

// Every measured operation of every run of every benchmark: Google Benchmark runs a
// benchmark several times (growing the iteration count) and callgrind counts all of
// them, so cachesim.py divides by this total, not by the last run's `ops`.
std::uint64_t& measured_ops_total() {
    static std::uint64_t total = 0;
    return total;
}

void finish(benchmark::State& state, std::uint64_t ops, std::uint64_t allocations) {
    measured_ops_total() += ops;
    state.SetItemsProcessed(static_cast<std::int64_t>(ops));
    state.counters["ops"] = static_cast<double>(ops);
    state.counters["allocs/op"] = ops == 0 ? 0.0 : static_cast<double>(allocations) / static_cast<double>(ops);
}

// ---- Whole lifecycles ----

template <class R>
void bm_lifecycle(benchmark::State& state, Shape shape) {
    guarded<R>(state, [&] {
        Site<R>& site = site_for<R>(shape);
        R& r = site.r();
        for (int k = 0; k < 256; ++k, ++site.tick) lifecycle(site, site.tick);  // warm-up
        const std::uint64_t events = r.sink().events;
        const AllocStats before = alloc_stats();
        CHATROUTE_MEASURE_BEGIN();
        for (auto _ : state) {
            lifecycle(site, site.tick);
            ++site.tick;
        }
        CHATROUTE_MEASURE_END();
        finish(state, state.iterations(), allocations_since(before));
        state.counters["events/op"] =
            static_cast<double>(r.sink().events - events) / static_cast<double>(std::max<std::int64_t>(1, state.iterations()));
    });
}

// ---- Commands that need a fresh conversation each: timed in batches ----
//
// prepare (untimed) -> act on a batch (timed by hand) -> clean up (untimed), so the site
// is back where it was after every batch.

// Up to 256 per batch, and never more than half the free slots, so every start is offered.
std::size_t batch_size(const Shape& shape) {
    const std::uint64_t free_agents = (shape.agents + shape.free_every - 1) / shape.free_every;
    const std::uint64_t free_slots = free_agents * shape.limit - std::min(free_agents * shape.limit, shape.background);
    return static_cast<std::size_t>(std::clamp<std::uint64_t>(free_slots / 2, 1, 256));
}

struct Batch {
    explicit Batch(std::size_t n) : conversations(n), agents(n) {}
    std::vector<ConversationId> conversations;
    std::vector<AgentId> agents;
};

template <class R, class Prepare, class Act, class Cleanup>
void batched(benchmark::State& state, Shape shape, Prepare prepare, Act act, Cleanup cleanup) {
    guarded<R>(state, [&] {
        Site<R>& site = site_for<R>(shape);
        R& r = site.r();
        const std::size_t batch = batch_size(shape);
        Batch b(batch);
        std::uint64_t ops = 0;
        std::uint64_t allocations = 0;
        for (auto _ : state) {
            for (std::size_t k = 0; k < batch; ++k) prepare(site, r, b, k);
            const AllocStats before = alloc_stats();
            const auto t0 = ThreadClock::now();
            CHATROUTE_MEASURE_BEGIN();
            for (std::size_t k = 0; k < batch; ++k) act(site, r, b, k);
            CHATROUTE_MEASURE_END();
            const auto t1 = ThreadClock::now();
            if (ops > 0) allocations += allocations_since(before);  // the first batch warms up
            state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
            for (std::size_t k = 0; k < batch; ++k) cleanup(site, r, b, k);
            ops += batch;
        }
        finish(state, ops, allocations);
        state.counters["allocs/op"] = ops > batch ? static_cast<double>(allocations) / static_cast<double>(ops - batch) : 0.0;
    });
}

template <class R>
void start_one(Site<R>& site, R&, Batch& b, std::size_t k) {
    b.conversations[k] = site.start(site.tick++);
}
template <class R>
void start_offered(Site<R>& site, R& r, Batch& b, std::size_t k) {
    start_one(site, r, b, k);
    b.agents[k] = offered(r, b.conversations[k]);
}
template <class R>
void start_accepted(Site<R>& site, R& r, Batch& b, std::size_t k) {
    start_offered(site, r, b, k);
    must(r.accept(b.conversations[k], b.agents[k]), "accept");
}
template <class R>
void close_one(Site<R>&, R& r, Batch& b, std::size_t k) {
    close(r, b.conversations[k]);
}
template <class R>
void nothing(Site<R>&, R&, Batch&, std::size_t) {}

template <class R>
void bm_start(benchmark::State& state, Shape shape) {
    batched<R>(state, shape, nothing<R>, start_one<R>, close_one<R>);
}

template <class R>
void bm_accept(benchmark::State& state, Shape shape) {
    batched<R>(
        state, shape, start_offered<R>,
        [](Site<R>&, R& r, Batch& b, std::size_t k) { must(r.accept(b.conversations[k], b.agents[k]), "accept"); },
        close_one<R>);
}

template <class R>
void bm_decline(benchmark::State& state, Shape shape) {
    batched<R>(
        state, shape, start_offered<R>,
        [](Site<R>&, R& r, Batch& b, std::size_t k) { must(r.decline(b.conversations[k], b.agents[k]), "decline"); },
        close_one<R>);
}

template <class R>
void bm_end(benchmark::State& state, Shape shape) {
    batched<R>(
        state, shape, start_accepted<R>,
        [](Site<R>&, R& r, Batch& b, std::size_t k) { must(r.end_by_agent(b.conversations[k], b.agents[k]), "end"); },
        [](Site<R>&, R& r, Batch& b, std::size_t k) { must(r.resolve(b.conversations[k], b.agents[k], "Done"), "resolve"); });
}

template <class R>
void bm_resolve(benchmark::State& state, Shape shape) {
    batched<R>(
        state, shape,
        [](Site<R>& site, R& r, Batch& b, std::size_t k) {
            start_accepted(site, r, b, k);
            must(r.end_by_agent(b.conversations[k], b.agents[k]), "end");
        },
        [](Site<R>&, R& r, Batch& b, std::size_t k) { must(r.resolve(b.conversations[k], b.agents[k], "Done"), "resolve"); },
        nothing<R>);
}

// ---- Commands on live conversations: steady, no setup per operation ----

enum class Talk { message, typing, note };

template <class R>
void bm_talk(benchmark::State& state, Shape shape, Talk talk) {
    guarded<R>(state, [&] {
        Site<R>& site = site_for<R>(shape);
        R& r = site.r();
        if (site.background.empty()) throw std::runtime_error("no live conversations to talk in");
        Rng rng;
        for (std::size_t k = 0; k < site.background.size(); ++k)  // warm-up
            must(r.customer_message(site.background[k], MessageRef{k}), "message");
        const AllocStats before = alloc_stats();
        std::uint64_t ops = 0;
        CHATROUTE_MEASURE_BEGIN();
        for (auto _ : state) {
            const std::size_t k = rng.below(site.background.size());
            const ConversationId c = site.background[k];
            const AgentId a = site.background_assignee[k];
            switch (talk) {
                case Talk::message:
                    must((ops & 1) ? r.agent_message(c, a, MessageRef{ops}) : r.customer_message(c, MessageRef{ops}), "message");
                    break;
                case Talk::typing:
                    must((ops & 1) ? r.agent_typing(c, a) : r.customer_typing(c), "typing");
                    break;
                case Talk::note: must(r.note(c, a, MessageRef{ops}), "note"); break;
            }
            ++ops;
        }
        CHATROUTE_MEASURE_END();
        finish(state, ops, allocations_since(before));
    });
}

// Off then on again, in the agent's (first) space: two commands per iteration.
template <class R>
void bm_set_availability(benchmark::State& state, Shape shape) {
    guarded<R>(state, [&] {
        Site<R>& site = site_for<R>(shape);
        R& r = site.r();
        const AllocStats before = alloc_stats();
        std::uint64_t i = 0;
        CHATROUTE_MEASURE_BEGIN();
        for (auto _ : state) {
            const std::uint64_t agent = i++ % site.agents.size();
            const AgentId a = site.agents[agent];
            const SpaceId s = site.spaces[agent % site.spaces.size()];
            must(r.set_availability(a, s, false), "unavailable");
            must(r.set_availability(a, s, true), "available");
        }
        CHATROUTE_MEASURE_END();
        finish(state, 2 * static_cast<std::uint64_t>(state.iterations()), allocations_since(before));
    });
}

// ---- An offer-timeout storm: a burst of deadlines fired by one advance() ----
//
// Untimed: one conversation per agent (capped), offered round robin; the agents of one
// offer in ten (a fixed pseudo-random 10% of the agents) leave theirs to expire. Timed: the clock moves 120 s and advance() fires every
// missed offer: each agent turns unavailable, its conversation waits and is offered again.
// Untimed: everything closed, the agents who missed made available again.

// One agent in ten, spread evenly over the spaces and the rings: a fixed hash of its index.
bool misses_offers(AgentId a) { return (std::uint64_t{a.index} * 2'654'435'761ULL >> 16) % 10 == 0; }

// "storm": one conversation per agent, up to 100,000 (10% of the agents miss, up to 10,000
// deadlines). "storm_1k": always 1,000 conversations (100 deadlines), whatever the site's
// size, to separate the cost of a bigger site from the cost of a bigger burst.
std::uint64_t storm_size(const Shape& shape, bool fixed) {
    return std::min<std::uint64_t>(shape.agents, fixed ? 1'000 : 100'000);
}

template <class R>
void bm_storm(benchmark::State& state, Shape shape, bool fixed) {
    guarded<R>(state, [&] {
        Site<R>& site = site_for<R>(shape);
        R& r = site.r();
        const std::uint64_t size = storm_size(shape, fixed);
        std::vector<ConversationId> conversations(size);
        std::vector<AgentId> missed;
        std::uint64_t fired_total = 0;
        std::uint64_t counted = 0;
        std::uint64_t allocations = 0;
        for (auto _ : state) {
            missed.clear();
            for (std::uint64_t k = 0; k < size; ++k) {
                conversations[k] = site.start(site.tick++);
                const AgentId a = offered(r, conversations[k]);
                if (misses_offers(a))
                    missed.push_back(a);
                else
                    must(r.accept(conversations[k], a), "accept");
            }
            r.clock().advance(120s);
            const AllocStats before = alloc_stats();
            const auto t0 = ThreadClock::now();
            CHATROUTE_MEASURE_BEGIN();
            const std::size_t fired = must(r.advance(), "advance");
            CHATROUTE_MEASURE_END();
            const auto t1 = ThreadClock::now();
            if (fired_total > 0) {  // the first storm warms up
                allocations += allocations_since(before);
                counted += fired;
            }
            state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
            if (fired != missed.size()) throw std::runtime_error("storm fired an unexpected number of deadlines");
            fired_total += fired;
            for (const ConversationId c : conversations) close(r, c);
            for (const AgentId a : missed) must(r.set_availability(a, all_spaces, true), "available");
        }
        finish(state, fired_total, allocations);
        state.counters["allocs/op"] = counted == 0 ? 0.0 : static_cast<double>(allocations) / static_cast<double>(counted);
    });
}

// ---- Issue 13's series: live conversations in proportion to agents ----
//
// One operation is one visit of live_workload.hpp's host to a conversation slot; the cost
// is reported per command (visits that only look, or wait for a missed offer to expire,
// issue none). The site is built and run for 20 sweeps untimed, so every slot is in its
// cycle and every container at its steady size; allocations are counted after that.

template <class R>
std::unique_ptr<LiveSite<R>>& cached_live() {
    static std::unique_ptr<LiveSite<R>> site;
    return site;
}

// Heap bytes the engine holds (the host's own arrays taken out) per live conversation,
// right after the warm-up.
inline double live_heap_per_conversation = 0;

template <class R>
LiveSite<R>& live_for(std::uint32_t agents, std::uint32_t warmup) {
    auto& site = cached_live<R>();
    if (!site || site->agents() != agents) {
        site.reset();
        cached_site<R>().reset();  // one big site in memory at a time
        const AllocStats before = alloc_stats();
        site = std::make_unique<LiveSite<R>>(agents);
        site->sweep(warmup > 2 ? warmup - 2 : 0);
        CHATROUTE_INSTRUMENT_BEGIN();
        site->sweep(warmup > 2 ? 2 : warmup);
        const std::int64_t engine = alloc_stats().live_bytes - before.live_bytes - static_cast<std::int64_t>(site->host_bytes());
        live_heap_per_conversation = static_cast<double>(engine) / static_cast<double>(site->r().live_conversations());
    }
    return *site;
}

template <class R>
void bm_live(benchmark::State& state, std::uint32_t agents, std::uint32_t warmup) {
    try {
        LiveSite<R>& site = live_for<R>(agents, warmup);
        R& r = site.r();
        const std::uint64_t events = r.sink().events;
        std::uint64_t commands = 0;
        const AllocStats before = alloc_stats();
        CHATROUTE_MEASURE_BEGIN();
        for (auto _ : state) commands += site.visit();
        CHATROUTE_MEASURE_END();
        finish(state, commands, allocations_since(before));
        const double live = static_cast<double>(r.live_conversations());
        state.counters["visits"] = static_cast<double>(state.iterations());
        state.counters["live/agent"] = live / agents;
        state.counters["events/op"] = static_cast<double>(r.sink().events - events) / static_cast<double>(std::max<std::uint64_t>(1, commands));
        // R13 + the engine's own account of its containers, whole engine, per live conversation.
        const auto usage = r.memory_usage();
        state.counters["usage B/live"] = static_cast<double>(usage.total()) / live;
        state.counters["agents B/live"] = static_cast<double>(usage.agents) / live;
        state.counters["spaces B/live"] = static_cast<double>(usage.spaces) / live;
        state.counters["conversations B/live"] = static_cast<double>(usage.conversations) / live;
        state.counters["heap B/live"] = live_heap_per_conversation;
    } catch (const std::exception& e) {
        cached_live<R>().reset();
        state.SkipWithError(e.what());
    }
}

// ---- The memory floor (issue 13's `message` target) ----

// The least any command on a random one of n conversations must do: read one 48 B record
// (its handle is checked against the record's generation), here from a plain table of n.
// `read`: each index is drawn independently, so misses may overlap, as those of
// consecutive commands can; `chase`: each read gives the next index, one whole miss
// latency per read. Compare `conversations/message/ours/N` with these at the same N.
void bm_floor(benchmark::State& state, std::uint64_t n, bool chase) {
    struct Record {
        std::uint64_t words[6];
    };
    std::vector<Record> table(n);
    Rng rng;
    // One cycle through every record (Sattolo's shuffle), so a chase never settles in a
    // short loop that fits in the cache.
    std::vector<std::uint64_t> next(n);
    std::iota(next.begin(), next.end(), std::uint64_t{0});
    for (std::uint64_t i = n - 1; i > 0; --i) std::swap(next[i], next[rng.below(i)]);
    for (std::uint64_t i = 0; i < n; ++i) table[i].words[0] = next[i];
    std::uint64_t k = 0;
    std::uint64_t sum = 0;
    std::uint64_t ops = 0;
    for (auto _ : state) {
        k = chase ? table[k].words[0] : rng.below(n);
        sum += table[k].words[0];
        ++ops;
    }
    benchmark::DoNotOptimize(sum);
    finish(state, ops, 0);
}

// ---- Memory: read from the phases of building a site ----

template <class R>
void bm_memory(benchmark::State& state, Shape shape) {
    guarded<R>(state, [&] {
        for (auto _ : state) {
            Site<R>& site = site_for<R>(shape);
            const auto per = [](std::int64_t bytes, std::uint64_t n) {
                return n == 0 ? 0.0 : static_cast<double>(bytes) / static_cast<double>(n);
            };
            const std::uint64_t memberships = std::uint64_t{shape.agents} * shape.memberships;
            state.counters["heap B/agent"] = per(site.after_agents.heap - site.after_spaces.heap, shape.agents);
            state.counters["heap B/membership"] =
                per(site.after_available.heap - site.after_agents.heap, memberships);
            state.counters["heap B/conversation"] =
                per(site.after_background.heap - site.after_available.heap, shape.background);
            state.counters["usage B/agent"] = per(site.after_agents.usage - site.after_spaces.usage, shape.agents);
            state.counters["usage B/membership"] =
                per(site.after_available.usage - site.after_agents.usage, memberships);
            state.counters["usage B/conversation"] =
                per(site.after_background.usage - site.after_available.usage, shape.background);
        }
    });
}

// ---- What ran, for the summary ----

struct Meta {
    std::string series;   // agents, spaces, conversations, loaded, memory
    std::string command;  // lifecycle, start, ...
    std::string router;   // ours, naive
    std::uint64_t size = 0;
};

std::map<std::string, Meta>& registry() {
    static std::map<std::string, Meta> metas;
    return metas;
}

struct Outcome {
    double ns_per_op = 0;
    std::map<std::string, double> counters;
    bool error = false;
    std::string message;
};

std::map<std::string, Outcome>& results() {
    static std::map<std::string, Outcome> all;
    return all;
}

class Collector : public benchmark::ConsoleReporter {
public:
    // Tabular counters always; colour only on a terminal.
    Collector() : ConsoleReporter(isatty(fileno(stdout)) ? OO_ColorTabular : OO_Tabular) {}

    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& run : runs) {
            if (run.run_type == Run::RT_Aggregate && run.aggregate_name != "median") continue;
            Outcome result;
            result.error = run.error_occurred;
            result.message = run.error_message;
            for (const auto& [name, counter] : run.counters) result.counters[name] = counter.value;
            const auto rate = run.counters.find("items_per_second");
            if (rate != run.counters.end() && rate->second.value > 0) result.ns_per_op = 1e9 / rate->second.value;
            results()[run.run_name.function_name] = result;
        }
        ConsoleReporter::ReportRuns(runs);
    }
};

// ---- Registration ----

std::string size_label(std::uint64_t n) {
    if (n >= 1000 && n % 1000 == 0) {
        int power = 0;
        std::uint64_t m = n;
        while (m % 10 == 0) {
            m /= 10;
            ++power;
        }
        if (m == 1) return "1e" + std::to_string(power);
    }
    return std::to_string(n);
}

using Body = std::function<void(benchmark::State&)>;

benchmark::internal::Benchmark* add(const Meta& meta, Body body) {
    const std::string name = meta.series + "/" + meta.command + "/" + meta.router + "/" + size_label(meta.size);
    registry()[name] = meta;
    return benchmark::RegisterBenchmark(name.c_str(), [body](benchmark::State& state) { body(state); });
}

template <class R>
void add_commands(const std::string& series, const std::string& router, std::uint64_t size, const Shape& shape,
                  const std::vector<std::string>& commands, bool tiny) {
    for (const std::string& command : commands) {
        const Meta meta{series, command, router, size};
        benchmark::internal::Benchmark* b = nullptr;
        if (command == "lifecycle") b = add(meta, [shape](auto& s) { bm_lifecycle<R>(s, shape); });
        if (command == "start") b = add(meta, [shape](auto& s) { bm_start<R>(s, shape); })->UseManualTime();
        if (command == "accept") b = add(meta, [shape](auto& s) { bm_accept<R>(s, shape); })->UseManualTime();
        if (command == "decline") b = add(meta, [shape](auto& s) { bm_decline<R>(s, shape); })->UseManualTime();
        if (command == "end") b = add(meta, [shape](auto& s) { bm_end<R>(s, shape); })->UseManualTime();
        if (command == "resolve") b = add(meta, [shape](auto& s) { bm_resolve<R>(s, shape); })->UseManualTime();
        if (command == "message") b = add(meta, [shape](auto& s) { bm_talk<R>(s, shape, Talk::message); });
        if (command == "typing") b = add(meta, [shape](auto& s) { bm_talk<R>(s, shape, Talk::typing); });
        if (command == "note") b = add(meta, [shape](auto& s) { bm_talk<R>(s, shape, Talk::note); });
        if (command == "set_availability") b = add(meta, [shape](auto& s) { bm_set_availability<R>(s, shape); });
        if (command == "storm" || command == "storm_1k") {
            const bool fixed = command == "storm_1k";
            const std::uint64_t fired = std::max<std::uint64_t>(1, storm_size(shape, fixed) / 10);
            const auto iterations = static_cast<benchmark::IterationCount>(
                tiny ? 2 : std::clamp<std::uint64_t>(100'000 / fired, 3, 500));
            b = add(meta, [shape, fixed](auto& s) { bm_storm<R>(s, shape, fixed); })
                    ->UseManualTime()
                    ->Iterations(iterations);
        }
        if (command == "memory") b = add(meta, [shape](auto& s) { bm_memory<R>(s, shape); })->Iterations(1);
        if (b == nullptr) throw std::logic_error("unknown command " + command);
        b->Unit(benchmark::kNanosecond);
    }
}

struct SizePlan {
    std::vector<std::uint64_t> agents, agents_naive, spaces, conversations, conversations_naive, loaded, memory_agents;
    std::vector<std::uint64_t> strategies, skills, live;
};

const std::vector<std::string> all_commands{"lifecycle", "start",      "accept",           "decline",
                                            "message",   "typing",     "note",             "set_availability",
                                            "end",       "resolve",    "storm",            "storm_1k"};

Shape agents_shape(std::uint64_t agents) {
    return Shape{static_cast<std::uint32_t>(agents), 100, 1, 3, 1, std::min<std::uint64_t>(agents, 1024)};
}
Shape spaces_shape(std::uint64_t spaces, std::uint64_t agents) {
    return Shape{static_cast<std::uint32_t>(agents), static_cast<std::uint32_t>(spaces), 1, 3, 1,
                 std::min<std::uint64_t>(agents, 1024)};
}
Shape conversations_shape(std::uint64_t conversations, std::uint32_t agents) {
    return Shape{agents, 100, 1, static_cast<std::uint32_t>(conversations / agents + 3), 1, conversations};
}
Shape loaded_shape(std::uint64_t agents, std::uint32_t spaces) {
    return Shape{static_cast<std::uint32_t>(agents), spaces, 1, 3, 100, 0};
}
Shape memory_agents_shape(std::uint64_t agents) { return Shape{static_cast<std::uint32_t>(agents), 100, 4, 3, 1, 0}; }
// The agents series under another strategy (R28), or with 20% of conversations carrying a
// priority and required skills, agents in four skill groups (R29, R30).
Shape strategy_shape(std::uint64_t agents, Strategy strategy) {
    Shape shape = agents_shape(agents);
    shape.strategy = strategy;
    return shape;
}
Shape skills_shape(std::uint64_t agents, std::uint32_t spaces) {
    Shape shape = agents_shape(agents);
    shape.spaces = spaces;  // at least 4 agents a space, so that every skill group is in every space
    shape.skilled_percent = 20;
    return shape;
}

void register_all(bool tiny) {
    SizePlan plan;
    std::uint32_t spaces_agents = 100'000, conversation_agents = 10'000, loaded_spaces = 100;
    if (tiny) {
        plan = {{100}, {100}, {1, 10}, {1000}, {1000}, {1000}, {1000}, {100}, {100}, {100}};
        spaces_agents = 100;
        conversation_agents = 100;
        loaded_spaces = 10;
    } else {
        plan.agents = {100, 1'000, 10'000, 100'000, 1'000'000};
        plan.agents_naive = {100, 1'000, 10'000, 100'000, 1'000'000};
        plan.spaces = {1, 10, 100, 1'000, 10'000, 100'000};
        plan.conversations = {1'000, 10'000, 100'000, 1'000'000, 10'000'000};
        plan.conversations_naive = {1'000, 10'000, 100'000, 1'000'000};
        plan.loaded = {10'000, 100'000};
        plan.memory_agents = {1'000, 10'000, 100'000, 1'000'000};
        plan.strategies = {1'000, 10'000, 100'000, 1'000'000};
        plan.skills = {1'000, 10'000, 100'000, 1'000'000};
        plan.live = {1'000, 10'000, 100'000, 1'000'000};
    }
    // Agents: 100 spaces, one role each, limit 3, every agent idle, up to 1,024 live chats.
    for (std::uint64_t n : plan.agents) add_commands<Ours>("agents", "ours", n, agents_shape(n), all_commands, tiny);
    for (std::uint64_t n : plan.agents_naive)
        add_commands<Naive>("agents", "naive", n, agents_shape(n), all_commands, tiny);
    // Peak hour: 99% of the agents at their limit, so eligible agents are sparse.
    const std::vector<std::string> loaded_commands{"lifecycle", "start", "accept", "decline", "set_availability"};
    for (std::uint64_t n : plan.loaded) {
        add_commands<Ours>("loaded", "ours", n, loaded_shape(n, loaded_spaces), loaded_commands, tiny);
        add_commands<Naive>("loaded", "naive", n, loaded_shape(n, loaded_spaces), loaded_commands, tiny);
    }
    // Spaces: a fixed number of agents spread over 1 .. 1e5 spaces.
    const std::vector<std::string> spaces_commands{"lifecycle", "start", "accept", "decline", "message",
                                                   "set_availability", "resolve", "storm"};
    for (std::uint64_t n : plan.spaces)
        add_commands<Ours>("spaces", "ours", n, spaces_shape(n, spaces_agents), spaces_commands, tiny);
    // Live conversations: accepted and active, spread over the agents.
    const std::vector<std::string> conversation_commands{"memory", "lifecycle", "start", "accept", "message",
                                                         "note", "end", "resolve", "storm"};
    for (std::uint64_t n : plan.conversations)
        add_commands<Ours>("conversations", "ours", n, conversations_shape(n, conversation_agents),
                           conversation_commands, tiny);
    for (std::uint64_t n : plan.conversations_naive)
        add_commands<Naive>("conversations", "naive", n, conversations_shape(n, conversation_agents),
                            {"memory", "lifecycle", "message"}, tiny);
    // R28's other strategies, against the naive router given the same strategy (a scan).
    const std::vector<std::string> strategy_commands{"lifecycle", "start", "accept", "decline", "resolve"};
    const std::vector<std::string> strategy_naive_commands{"lifecycle", "start", "decline"};
    for (const Strategy strategy : {Strategy::least_active, Strategy::most_available, Strategy::least_recent})
        for (std::uint64_t n : plan.strategies) {
            const std::string series{to_string(strategy)};
            add_commands<Ours>(series, "ours", n, strategy_shape(n, strategy), strategy_commands, tiny);
            add_commands<Naive>(series, "naive", n, strategy_shape(n, strategy), strategy_naive_commands, tiny);
        }
    // Priority and skills: 20% of conversations (R29, R30).
    for (std::uint64_t n : plan.skills) {
        const std::uint32_t spaces = tiny ? 10 : 100;
        add_commands<Ours>("skills", "ours", n, skills_shape(n, spaces), strategy_commands, tiny);
        add_commands<Naive>("skills", "naive", n, skills_shape(n, spaces), strategy_naive_commands, tiny);
    }
    // Issue 13: live conversations in proportion to agents (~1.5 each).
    for (std::uint64_t n : plan.live) {
        const auto agents = static_cast<std::uint32_t>(n);
        const std::uint32_t warmup = tiny ? 3 : 20;
        add(Meta{"live", "mix", "ours", n}, [agents, warmup](auto& s) { bm_live<Ours>(s, agents, warmup); })
            ->Unit(benchmark::kNanosecond);
    }
    // The memory floor: one random record read per operation, at each conversation count.
    for (std::uint64_t n : plan.conversations)
        for (const bool chase : {false, true})
            add(Meta{"floor", chase ? "chase" : "read", "plain", n}, [n, chase](auto& s) { bm_floor(s, n, chase); })
                ->Unit(benchmark::kNanosecond);
    // Memory per agent and per membership: four roles each in 100 spaces.
    for (std::uint64_t n : plan.memory_agents) {
        add_commands<Ours>("agents", "ours", n, memory_agents_shape(n), {"memory"}, tiny);
        add_commands<Naive>("agents", "naive", n, memory_agents_shape(n), {"memory"}, tiny);
    }
}

// ---- The summary ----

std::optional<Outcome> find(const std::string& series, const std::string& command, const std::string& router,
                           std::uint64_t size) {
    const auto it = results().find(series + "/" + command + "/" + router + "/" + size_label(size));
    if (it == results().end() || it->second.error) return std::nullopt;
    return it->second;
}

std::string fixed(double v, int decimals = 1) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, v);
    return text;
}

std::vector<std::uint64_t> sizes_of(const std::string& series, const std::string& router = "ours",
                                    const std::string& command = "") {
    std::vector<std::uint64_t> sizes;
    for (const auto& [name, meta] : registry())
        if (meta.series == series && meta.router == router && (command.empty() || meta.command == command) &&
            meta.command != "memory")
            sizes.push_back(meta.size);
    std::sort(sizes.begin(), sizes.end());
    sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
    return sizes;
}

std::vector<std::string> commands_of(const std::string& series) {
    std::vector<std::string> commands;
    std::vector<std::string> listed = all_commands;
    listed.push_back("mix");
    for (const std::string& c : listed)
        for (const auto& [name, meta] : registry())
            if (meta.series == series && meta.command == c) {
                commands.push_back(c);
                break;
            }
    return commands;
}

// ns per operation: rows are commands, columns sizes; the last column is largest/smallest
// (or, with `against`, the cost at the largest size over the cost at `against`).
void scaling_table(const std::string& series, const std::string& title, std::optional<std::uint64_t> against) {
    const std::vector<std::uint64_t> sizes = sizes_of(series);
    if (sizes.empty()) return;
    std::printf("\n%s: ns per operation (ours)\n%-18s", title.c_str(), "command");
    for (std::uint64_t n : sizes) std::printf("%10s", size_label(n).c_str());
    const std::uint64_t base = against && std::find(sizes.begin(), sizes.end(), *against) != sizes.end() ? *against : sizes.front();
    std::printf("   %s/%s\n", size_label(sizes.back()).c_str(), size_label(base).c_str());
    for (const std::string& command : commands_of(series)) {
        std::printf("%-18s", command.c_str());
        for (std::uint64_t n : sizes) {
            const auto r = find(series, command, "ours", n);
            std::printf("%10s", r ? fixed(r->ns_per_op).c_str() : "-");
        }
        const auto lo = find(series, command, "ours", base);
        const auto hi = find(series, command, "ours", sizes.back());
        std::printf("   %s\n", lo && hi ? (fixed(hi->ns_per_op / lo->ns_per_op, 2) + "x").c_str() : "-");
    }
}

void naive_table(const std::string& series, const std::string& title) {
    const std::vector<std::uint64_t> sizes = sizes_of(series, "naive");
    if (sizes.empty()) return;
    std::printf("\n%s: naive/ours cost ratio (higher is better for ours)\n%-18s", title.c_str(), "command");
    for (std::uint64_t n : sizes) std::printf("%10s", size_label(n).c_str());
    std::printf("\n");
    for (const std::string& command : commands_of(series)) {
        if (command == "memory") continue;
        std::printf("%-18s", command.c_str());
        for (std::uint64_t n : sizes) {
            const auto ours = find(series, command, "ours", n);
            const auto naive = find(series, command, "naive", n);
            std::printf("%10s", ours && naive ? (fixed(naive->ns_per_op / ours->ns_per_op) + "x").c_str() : "-");
        }
        std::printf("\n");
    }
}

double counter(const std::optional<Outcome>& r, const std::string& name) {
    if (!r) return NAN;
    const auto it = r->counters.find(name);
    return it == r->counters.end() ? NAN : it->second;
}

void memory_table() {
    std::printf("\nMemory (heap: bytes the allocator handed out, per unit; usage: engine.memory_usage())\n");
    std::printf("%-32s%14s%14s%14s%14s\n", "shape", "heap ours", "usage ours", "heap naive", "naive/ours");
    for (const auto& [name, meta] : registry()) {
        if (meta.command != "memory" || meta.router != "ours") continue;
        const auto ours = find(meta.series, "memory", "ours", meta.size);
        const auto naive = find(meta.series, "memory", "naive", meta.size);
        const std::vector<std::string> units =
            meta.series == "agents" ? std::vector<std::string>{"agent", "membership"} : std::vector<std::string>{"conversation"};
        for (const std::string& unit : units) {
            const double h = counter(ours, "heap B/" + unit);
            const double u = counter(ours, "usage B/" + unit);
            const double n = counter(naive, "heap B/" + unit);
            std::printf("%-32s%14s%14s%14s%14s\n", ("B/" + unit + " @ " + size_label(meta.size) + " " + meta.series).c_str(),
                        fixed(h).c_str(), fixed(u).c_str(), std::isnan(n) ? "-" : fixed(n).c_str(),
                        std::isnan(n) ? "-" : (fixed(n / h) + "x").c_str());
        }
    }
}

void targets_table() {
    std::printf("\nTargets\n%-64s%16s%12s%8s\n", "target", "measured", "goal", "met");
    const auto row = [](const std::string& what, double measured, const std::string& shown, const std::string& goal,
                        bool met) {
        std::printf("%-64s%16s%12s%8s\n", what.c_str(), std::isnan(measured) ? "-" : shown.c_str(), goal.c_str(),
                    std::isnan(measured) ? "?" : (met ? "yes" : "NO"));
    };
    // Throughput.
    for (const std::string& series : {std::string("agents"), std::string("loaded")}) {
        const auto r = find(series, "lifecycle", "ours", 10'000);
        const double per_second = r ? 1e9 / r->ns_per_op : NAN;
        row("lifecycles/s, 1e4 agents in 100 spaces (" + std::string(series == "agents" ? "idle" : "99% busy") + ")",
            per_second, fixed(per_second / 1e6, 2) + "M", ">= 2.00M", per_second >= 2e6);
    }
    // Scaling: 1e6 agents over 1e3 agents, worst command.
    double worst = NAN;
    std::string worst_command;
    for (const std::string& command : commands_of("agents")) {
        const auto lo = find("agents", command, "ours", 1'000);
        const auto hi = find("agents", command, "ours", 1'000'000);
        if (!lo || !hi || command == "storm") continue;  // its burst grows with the site: below
        const double ratio = hi->ns_per_op / lo->ns_per_op;
        if (std::isnan(worst) || ratio > worst) {
            worst = ratio;
            worst_command = command;
        }
    }
    row("cost at 1e6 agents / at 1e3, worst command (" + worst_command + ")", worst, fixed(worst, 2) + "x", "<= 3x",
        worst <= 3);
    {
        const auto lo = find("agents", "storm", "ours", 1'000);
        const auto hi = find("agents", "storm", "ours", 1'000'000);
        const double ratio = lo && hi ? hi->ns_per_op / lo->ns_per_op : NAN;
        row("  per missed offer, storm of 10% of agents (1e2 vs 1e4 deadlines)", ratio, fixed(ratio, 2) + "x", "<= 3x",
            ratio <= 3);
    }
    // Against the naive router at 1e5 agents.
    for (const std::string& series : {std::string("agents"), std::string("loaded")}) {
        double least = NAN;
        std::string least_command;
        for (const std::string& command : commands_of(series)) {
            const auto ours = find(series, command, "ours", 100'000);
            const auto naive = find(series, command, "naive", 100'000);
            if (!ours || !naive) continue;
            const double ratio = naive->ns_per_op / ours->ns_per_op;
            if (std::isnan(least) || ratio < least) {
                least = ratio;
                least_command = command;
            }
        }
        const auto ours = find(series, "lifecycle", "ours", 100'000);
        const auto naive = find(series, "lifecycle", "naive", 100'000);
        const double lifecycle = ours && naive ? naive->ns_per_op / ours->ns_per_op : NAN;
        const std::string label = series == "agents" ? "idle" : "99% busy";
        row("naive/ours at 1e5 agents, lifecycle (" + label + ")", lifecycle, fixed(lifecycle) + "x", ">= 50x",
            lifecycle >= 50);
        row("naive/ours at 1e5 agents, least command (" + label + ": " + least_command + ")", least,
            fixed(least) + "x", ">= 50x", least >= 50);
    }
    // Memory.
    double per_conversation = NAN;
    std::uint64_t conversations_at = 0;
    for (std::uint64_t n : sizes_of("conversations", "ours", "")) {
        const double v = counter(find("conversations", "memory", "ours", n), "heap B/conversation");
        if (!std::isnan(v) && (std::isnan(per_conversation) || v > per_conversation)) {
            per_conversation = v;
            conversations_at = n;
        }
    }
    row("heap bytes per live conversation (worst size: " + size_label(conversations_at) + ")", per_conversation,
        fixed(per_conversation), "<= 256", per_conversation <= 256);
    double per_agent = NAN, per_membership = NAN;
    std::uint64_t agents_at = 0;
    for (const auto& [name, meta] : registry()) {
        if (meta.command != "memory" || meta.series != "agents" || meta.router != "ours") continue;
        const auto r = find("agents", "memory", "ours", meta.size);
        const double a = counter(r, "heap B/agent"), m = counter(r, "heap B/membership");
        if (std::isnan(per_agent) || a > per_agent) {
            per_agent = a;
            agents_at = meta.size;
        }
        if (std::isnan(per_membership) || m > per_membership) per_membership = m;
    }
    row("heap bytes per agent (worst size: " + size_label(agents_at) + ")", per_agent, fixed(per_agent), "<= 128",
        per_agent <= 128);
    row("heap bytes per agent-space membership (worst size)", per_membership, fixed(per_membership), "<= 32",
        per_membership <= 32);
    // Allocations in steady state.
    for (const char* command : {"message", "typing", "note", "start", "decline", "storm", "lifecycle"}) {
        double most = NAN;
        for (const auto& [name, meta] : registry()) {
            if (meta.router != "ours" || meta.command != command) continue;
            const double v = counter(find(meta.series, command, "ours", meta.size), "allocs/op");
            if (!std::isnan(v) && (std::isnan(most) || v > most)) most = v;
        }
        const std::string what = std::string(command) == "start"     ? "start (offers)"
                                 : std::string(command) == "decline" ? "decline (re-offers)"
                                 : std::string(command) == "storm"   ? "missed offers (re-offers)"
                                                                     : std::string(command);
        char shown[32];
        std::snprintf(shown, sizeof shown, most == 0 ? "%.0f" : "%.2g", most);
        row("allocations per op, worst size: " + what, most, shown, "0", most == 0);
    }
}

// Issue 13: the live series, and its targets.
void live_table() {
    const std::vector<std::uint64_t> sizes = sizes_of("live");
    if (sizes.empty()) return;
    std::printf("\nLive conversations in proportion to agents (issue 13): per command (ours)\n");
    std::printf("%-10s%12s%10s%12s%12s%14s%14s%12s%30s\n", "agents", "ns/command", "x 1st", "live/agent", "events/cmd",
                "usage B/live", "heap B/live", "allocs/cmd", "usage: agents+spaces+convs");
    const auto base = find("live", "mix", "ours", sizes.front());
    for (std::uint64_t n : sizes) {
        const auto r = find("live", "mix", "ours", n);
        if (!r) continue;
        std::printf("%-10s%12s%10s%12s%12s%14s%14s%12.2g%30s\n", size_label(n).c_str(), fixed(r->ns_per_op).c_str(),
                    base ? (fixed(r->ns_per_op / base->ns_per_op, 2) + "x").c_str() : "-",
                    fixed(counter(r, "live/agent"), 2).c_str(), fixed(counter(r, "events/op"), 2).c_str(),
                    fixed(counter(r, "usage B/live")).c_str(), fixed(counter(r, "heap B/live")).c_str(),
                    counter(r, "allocs/op"),
                    (fixed(counter(r, "agents B/live")) + " + " + fixed(counter(r, "spaces B/live")) + " + " +
                     fixed(counter(r, "conversations B/live")))
                        .c_str());
    }
    std::printf("\nIssue 13 targets\n%-64s%16s%12s%8s\n", "target", "measured", "goal", "met");
    const auto row = [](const std::string& what, double measured, const std::string& goal, bool met) {
        std::printf("%-64s%16s%12s%8s\n", what.c_str(), std::isnan(measured) ? "-" : fixed(measured, 2).c_str(),
                    goal.c_str(), std::isnan(measured) ? "?" : (met ? "yes" : "NO"));
    };
    const auto ratio = [](const std::string& series, const std::string& command, std::uint64_t hi, std::uint64_t lo) {
        const auto h = find(series, command, "ours", hi);
        const auto l = find(series, command, "ours", lo);
        return h && l ? h->ns_per_op / l->ns_per_op : NAN;
    };
    const double r5 = ratio("live", "mix", 100'000, 1'000), r6 = ratio("live", "mix", 1'000'000, 1'000);
    row("live series: ns/command at 1e5 agents / at 1e3", r5, "<= 4x", r5 <= 4);
    row("live series: ns/command at 1e6 agents / at 1e3", r6, "<= 6x", r6 <= 6);
    const double m = ratio("conversations", "message", 10'000'000, 1'000);
    row("message at 1e7 live conversations / at 1e3", m, "<= 3x", m <= 3);
    // The floor under that target: one dependent read of a random record among 1e7,
    // against the whole message command at 1e3 (no command can do less than one read).
    const auto chase = find("floor", "chase", "plain", 10'000'000);
    const auto small = find("conversations", "message", "ours", 1'000);
    const double floor = chase && small ? chase->ns_per_op / small->ns_per_op : NAN;
    row("  floor: one random read among 1e7 records / message at 1e3", floor, "(< 3x?)", floor < 3);
    const double st = ratio("agents", "storm", 1'000'000, 1'000);
    row("missed-offer storm (10% of agents) per deadline, 1e6 / 1e3 agents", st, "<= 3x", st <= 3);
    double worst = NAN;
    for (std::uint64_t n : sizes) {
        const double b = counter(find("live", "mix", "ours", n), "usage B/live");
        if (!std::isnan(b) && (std::isnan(worst) || b > worst)) worst = b;
    }
    row("bytes per live conversation, whole engine (worst size)", worst, "< 117", worst < 117);
    double allocs = NAN;
    for (std::uint64_t n : sizes) {
        const double a = counter(find("live", "mix", "ours", n), "allocs/op");
        if (!std::isnan(a) && (std::isnan(allocs) || a > allocs)) allocs = a;
    }
    char shown[32];
    std::snprintf(shown, sizeof shown, allocs == 0 ? "%.0f" : "%.2g", allocs);
    std::printf("%-64s%16s%12s%8s\n", "allocations per command after warm-up, live series (worst size)",
                std::isnan(allocs) ? "-" : shown, "0", std::isnan(allocs) ? "?" : (allocs == 0 ? "yes" : "NO"));
}

void print_summary() {
    std::printf("\n================================ summary ================================\n");
    targets_table();
    scaling_table("agents", "Agents (100 spaces, 1 role each, idle)", 1'000);
    scaling_table("loaded", "Agents at peak (99% at their limit)", std::nullopt);
    scaling_table("spaces", "Spaces (agents fixed, 1 role each)", std::nullopt);
    scaling_table("conversations", "Live conversations", std::nullopt);
    naive_table("agents", "Agents (idle)");
    naive_table("loaded", "Agents at peak (99% busy)");
    naive_table("conversations", "Live conversations");
    for (const std::string series : {"least_active", "most_available", "least_recent", "skills"}) {
        const std::string what = series == "skills" ? std::string("Priority and skills on 20% of conversations") : "Strategy " + series;
        scaling_table(series, what + " (agents series: 100 spaces, idle)", std::nullopt);
        naive_table(series, what + ", against the naive router doing the same by scanning");
    }
    live_table();
    memory_table();
    std::vector<std::string> errors;
    for (const auto& [name, result] : results())
        if (result.error) errors.push_back(name + ": " + result.message);
    if (!errors.empty()) {
        std::printf("\nFAILED benchmarks\n");
        for (const std::string& e : errors) std::printf("  %s\n", e.c_str());
    }
    std::fflush(stdout);
}

}  // namespace
}  // namespace chatroute::bench

int main(int argc, char** argv) {
    bool tiny = false;
    std::vector<char*> args;
    for (int i = 0; i < argc; ++i) {
        if (std::strcmp(argv[i], "--tiny") == 0)
            tiny = true;
        else
            args.push_back(argv[i]);
    }
    int count = static_cast<int>(args.size());
    benchmark::Initialize(&count, args.data());
    if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
    chatroute::bench::register_all(tiny);
    chatroute::bench::Collector collector;
    benchmark::RunSpecifiedBenchmarks(&collector);
    benchmark::Shutdown();
    chatroute::bench::print_summary();
    std::fprintf(stderr, "chatroute_bench: measured ops in all runs: %llu\n",
                 static_cast<unsigned long long>(chatroute::bench::measured_ops_total()));
    for (const auto& [name, result] : chatroute::bench::results())
        if (result.error) return 1;
    return 0;
}
