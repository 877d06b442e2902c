#pragma once
// The help desk every benchmark drives, written once for chatroute's engine and for the
// naive router: same commands, same order, same clock, same counting sink.

#include "alloc_counter.hpp"
#include "naive_router.hpp"

#include <chatroute/chatroute.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace chatroute::bench {

using namespace std::chrono_literals;

// Counts the events; does nothing else with them.
struct CountingSink {
    std::uint64_t events = 0;
    template <class E>
    void operator()(const E&) noexcept {
        ++events;
    }
};

using Ours = Engine<ManualClock, CountingSink>;
using Naive = NaiveRouter<ManualClock, CountingSink>;

// Throws on failure: a benchmark that drifts from its steady state must stop, not lie.
template <class T>
T must(Result<T> result, const char* what) {
    if (!result) throw std::runtime_error(std::string(what) + ": " + std::string(to_string(result.error())));
    if constexpr (!std::is_void_v<T>) return std::move(*result);
}

struct Shape {
    std::uint32_t agents = 1000;
    std::uint32_t spaces = 100;
    std::uint32_t memberships = 1;    // spaces each agent holds the role in
    std::uint32_t limit = 3;          // each agent's conversation limit
    std::uint32_t free_every = 1;     // 1: every agent idle; 100: 99% of agents at their limit
    std::uint64_t background = 0;     // live, accepted conversations held by idle agents
    Strategy strategy = Strategy::round_robin;  // every space's (R28)
    std::uint32_t skilled_percent = 0;  // share of conversations with a priority and skills (R29, R30)

    friend bool operator==(const Shape&, const Shape&) = default;
};

// Offer timeout 120 s (SPEC's default); every other timer far away, so the only
// deadlines that fire are the ones a benchmark fires on purpose.
inline SpaceSettings bench_space() {
    SpaceSettings settings;
    settings.timings.offer_timeout = 120s;
    settings.timings.accept_window = std::chrono::hours{100'000};
    settings.timings.inactivity_warning = std::chrono::hours{100'000};
    settings.timings.inactivity_grace = std::chrono::hours{100'000};
    settings.timings.max_duration = std::chrono::hours{200'000};
    return settings;
}

// R30: a vocabulary of 8 skills; agent group g (of four) holds skills 2g, 2g+1 and 2g+2,
// so every skill is held by one or two groups. Groups go round within each space.
inline const std::vector<std::string>& skill_vocabulary() {
    static const std::vector<std::string> names{"billing", "refunds", "returns", "shipping",
                                                "spanish", "german",  "enterprise", "api"};
    return names;
}
inline std::vector<std::string> agent_skills(std::uint32_t group) {
    const std::vector<std::string>& v = skill_vocabulary();
    const std::uint32_t g = group % 4;
    return {v[2 * g], v[2 * g + 1], v[(2 * g + 2) % v.size()]};
}
// 64 start options, cycled through by the workload (made once: starting allocates nothing
// on the benchmark's side). `percent` of them carry a priority of 1-10 and one or two
// required skills that one agent group covers; the rest are plain.
inline std::vector<StartOptions> skilled_options(std::uint32_t percent) {
    const std::vector<std::string>& v = skill_vocabulary();
    std::vector<StartOptions> options(64);
    for (std::uint32_t j = 0; j < options.size(); ++j) {
        if ((j * 37 + 11) % 100 >= percent) continue;
        const std::uint32_t g = (j / 3) % 4;
        options[j].priority = 1 + j % 10;
        options[j].skills = j % 2 == 0 ? std::vector<std::string>{v[2 * g]} : std::vector<std::string>{v[2 * g], v[2 * g + 1]};
    }
    return options;
}

// Heap bytes (and, for the engine, memory_usage().total()) after each phase of building.
struct Footprint {
    std::int64_t heap = 0;
    std::int64_t usage = 0;
};

template <class R>
Footprint footprint(const R& r) {
    Footprint f{alloc_stats().live_bytes, 0};
    if constexpr (requires { r.memory_usage(); }) f.usage = static_cast<std::int64_t>(r.memory_usage().total());
    return f;
}

template <class R>
struct Site {
    Shape shape;
    Footprint after_spaces, after_agents, after_roles, after_available, after_background;
    std::unique_ptr<R> router;
    std::vector<SpaceId> spaces;
    std::vector<AgentId> agents;
    std::vector<ConversationId> background;       // accepted, active, kept live
    std::vector<AgentId> background_assignee;
    std::uint64_t tick = 0;                       // rotates spaces and conversations
    std::vector<StartOptions> options;            // cycled through when the shape is skilled

    R& r() { return *router; }
    SpaceId space_for(std::uint64_t i) const { return spaces[i % spaces.size()]; }
    // Starts the i-th conversation: in space i % spaces, with options i % 64 if skilled.
    ConversationId start(std::uint64_t i) {
        if (options.empty()) return must(router->start_conversation(space_for(i)), "start");
        return must(router->start_conversation(space_for(i), options[i % options.size()]), "start");
    }
};

// The agent currently offered `c`; throws when nobody is.
template <class R>
AgentId offered(R& r, ConversationId c) {
    auto to = must(r.offered_to(c), "offered_to");
    if (!to) throw std::runtime_error("conversation not offered: no eligible agent");
    return *to;
}

template <class R>
AgentId start_and_accept(R& r, SpaceId space, ConversationId* out = nullptr) {
    const ConversationId c = must(r.start_conversation(space), "start");
    const AgentId a = offered(r, c);
    must(r.accept(c, a), "accept");
    if (out != nullptr) *out = c;
    return a;
}

template <class R>
std::unique_ptr<Site<R>> build_site(const Shape& shape) {
    auto site = std::make_unique<Site<R>>();
    site->shape = shape;
    site->router = std::make_unique<R>(ManualClock{}, CountingSink{});
    R& r = *site->router;
    site->spaces.reserve(shape.spaces);
    site->agents.reserve(shape.agents);
    site->background.reserve(shape.background);
    site->background_assignee.reserve(shape.background);
    SpaceSettings settings = bench_space();
    settings.strategy = shape.strategy;
    for (std::uint32_t s = 0; s < shape.spaces; ++s) site->spaces.push_back(must(r.add_space(settings), "add_space"));
    site->after_spaces = footprint(r);
    for (std::uint32_t i = 0; i < shape.agents; ++i) {
        AgentSettings agent{shape.limit};
        if (shape.skilled_percent > 0) agent.skills = agent_skills(i / shape.spaces);  // i-th in space i % spaces
        site->agents.push_back(must(r.add_agent(agent), "add_agent"));
    }
    if (shape.skilled_percent > 0) site->options = skilled_options(shape.skilled_percent);
    site->after_agents = footprint(r);
    const std::uint32_t step = shape.memberships == 0 ? 1 : std::max<std::uint32_t>(1, shape.spaces / shape.memberships);
    for (std::uint32_t j = 0; j < shape.memberships; ++j)
        for (std::uint32_t i = 0; i < shape.agents; ++i)
            must(r.grant_role(site->agents[i], site->spaces[(i + j * step) % shape.spaces]), "grant_role");
    site->after_roles = footprint(r);
    // Agent i holds the role in space i % spaces first: every space gets its share of idle agents.
    const auto busy = [&](std::uint32_t i) { return (i / shape.spaces) % shape.free_every != 0; };
    // Busy agents first: available alone, filled to their limit with accepted conversations.
    if (shape.free_every > 1) {
        for (std::uint32_t i = 0; i < shape.agents; ++i)
            if (busy(i)) must(r.set_availability(site->agents[i], all_spaces, true), "available");
        for (std::uint32_t i = 0; i < shape.agents; ++i) {
            if (!busy(i)) continue;
            for (std::uint32_t k = 0; k < shape.limit; ++k) start_and_accept(r, site->spaces[i % shape.spaces]);
        }
    }
    for (std::uint32_t i = 0; i < shape.agents; ++i)
        if (!busy(i) && shape.memberships > 0) must(r.set_availability(site->agents[i], all_spaces, true), "available");
    site->after_available = footprint(r);
    // Background conversations: accepted, active, spread over the spaces.
    for (std::uint64_t k = 0; k < shape.background; ++k) {
        ConversationId c;
        const AgentId a = start_and_accept(r, site->space_for(k), &c);
        site->background.push_back(c);
        site->background_assignee.push_back(a);
    }
    site->after_background = footprint(r);
    return site;
}

// Closes a conversation whatever its state: ended by the customer, then resolved if accepted.
template <class R>
void close(R& r, ConversationId c) {
    const Status status = must(r.status(c), "status");
    if (status == Status::closed) return;
    const auto assignee = must(r.assignee(c), "assignee");
    must(r.end_by_customer(c), "end");
    if (assignee) must(r.resolve(c, *assignee, "Done"), "resolve");
}

// offer -> accept -> three messages -> end -> resolve, for a conversation just started.
template <class R>
void lifecycle_after_start(R& r, ConversationId c, std::uint64_t i) {
    const AgentId a = offered(r, c);
    must(r.accept(c, a), "accept");
    must(r.customer_message(c, MessageRef{i}), "message");
    must(r.agent_message(c, a, MessageRef{i}), "message");
    must(r.customer_message(c, MessageRef{i}), "message");
    must(r.end_by_agent(c, a), "end");
    must(r.resolve(c, a, "Done"), "resolve");
}

// start -> offer -> accept -> three messages -> end -> resolve.
template <class R>
void lifecycle(R& r, SpaceId space, std::uint64_t i) {
    lifecycle_after_start(r, must(r.start_conversation(space), "start"), i);
}
// The same, started as the site starts its i-th conversation (options when skilled).
template <class R>
void lifecycle(Site<R>& site, std::uint64_t i) {
    lifecycle_after_start(site.r(), site.start(i), i);
}

// A small, fast, deterministic generator for picking conversations at random.
struct Rng {
    std::uint64_t state = 0x9E37'79B9'7F4A'7C15ULL;
    std::uint64_t next() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }
    std::uint64_t below(std::uint64_t n) { return next() % n; }
};

}  // namespace chatroute::bench
