// A custom routing policy (R28): the engine's third template parameter. A policy maps
// each strategy and an agent's view (load over all spaces, last offer) to a key; the
// space offers to the smallest key, ties in ring order. It must say which inputs each
// key reads, so that the engine re-keys an agent exactly when they change.
// This one redefines least_active as "least utilised": load as a share of the limit.
#include <chatroute/chatroute.hpp>

#include <fmt/format.h>

#include <limits>
#include <string_view>

struct LeastUtilised {
    static constexpr std::int64_t key(chatroute::Strategy s, const chatroute::AgentView& a) {
        if (s != chatroute::Strategy::least_active) return chatroute::StandardPolicy::key(s, a);
        if (a.limit == 0) return std::numeric_limits<std::int64_t>::max();
        return (std::int64_t{a.assigned} + a.pending) * 1'000'000 / a.limit;  // parts per million
    }
    static constexpr bool reads_load(chatroute::Strategy s) { return chatroute::StandardPolicy::reads_load(s); }
    static constexpr bool reads_last_offer(chatroute::Strategy s) {
        return chatroute::StandardPolicy::reads_last_offer(s);
    }
};
static_assert(chatroute::RoutingPolicy<LeastUtilised>);

// Ana (limit 2) holds one conversation, Ben (limit 10) two. Who gets the next one?
template <class Policy>
int run(std::string_view label) {
    chatroute::ManualClock clock;
    chatroute::NullSink sink;
    chatroute::Engine<chatroute::ManualClock&, chatroute::NullSink&, Policy> engine{clock, sink};

    auto warmup = engine.add_space();
    auto desk = engine.add_space({.strategy = chatroute::Strategy::least_active});
    auto ana = engine.add_agent({.limit = 2});
    auto ben = engine.add_agent({.limit = 10});
    if (!warmup || !desk || !ana || !ben) return 1;
    for (auto [agent, chats] : {std::pair{*ana, 1}, std::pair{*ben, 2}}) {
        if (!engine.grant_role(agent, *warmup) || !engine.set_availability(agent, *warmup, true)) return 1;
        for (int i = 0; i < chats; ++i) {
            auto chat = engine.start_conversation(*warmup);
            if (!chat || !engine.accept(*chat, agent)) return 1;
        }
        if (!engine.set_availability(agent, *warmup, false)) return 1;
        if (!engine.grant_role(agent, *desk) || !engine.set_availability(agent, *desk, true)) return 1;
    }

    auto chat = engine.start_conversation(*desk);
    if (!chat) return 1;
    auto to = engine.offered_to(*chat);
    if (!to || !*to) return 1;
    fmt::print("{}: offered to {}\n", label, **to == *ana ? "ana (1 of 2)" : "ben (2 of 10)");
    return 0;
}

int main() { return run<chatroute::StandardPolicy>("standard") | run<LeastUtilised>("least utilised"); }
