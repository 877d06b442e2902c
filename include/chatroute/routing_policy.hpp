#pragma once
/// \file
/// R28: how a space chooses among its eligible agents. A routing policy turns an agent's
/// load and offer history into a key; the space offers to the agent with the smallest key,
/// ties going in ring order from the space's cursor (R9), and every strategy moves the
/// cursor just past the agent it chose. With all keys equal every strategy is round robin.
///
/// The engine's third template parameter is the policy, `StandardPolicy` by default. A
/// custom policy gives other meanings to the four strategies (examples/small/custom_policy.cpp):
/// it must say which inputs each key reads, so that the engine re-keys an agent exactly
/// when one of them changes (an agent's key is kept in every space where it is eligible).

#include <chatroute/config.hpp>

#include <concepts>
#include <cstdint>
#include <limits>

namespace chatroute {

/// What a policy may read about an agent: its slots over all spaces and its last offer.
struct AgentView {
    std::uint32_t assigned = 0;       ///< accepted, not yet closed
    std::uint32_t pending = 0;        ///< offers waiting for an answer
    std::uint32_t limit = 0;          ///< overall conversation limit
    std::int64_t last_offer_us = 0;   ///< when it was last offered a conversation, in any space
    bool ever_offered = false;
};

template <class P>
concept RoutingPolicy = requires(Strategy strategy, const AgentView& agent) {
    /// Smaller is offered first.
    { P::key(strategy, agent) } -> std::same_as<std::int64_t>;
    /// Whether the key reads assigned/pending/limit, or the last offer.
    { P::reads_load(strategy) } -> std::same_as<bool>;
    { P::reads_last_offer(strategy) } -> std::same_as<bool>;
};

/// SPEC R28's four strategies.
struct StandardPolicy {
    static constexpr std::int64_t key(Strategy strategy, const AgentView& a) {
        switch (strategy) {
            case Strategy::round_robin: return 0;
            // Fewest assigned + pending, over all spaces.
            case Strategy::least_active: return std::int64_t{a.assigned} + a.pending;
            // Most free slots against the overall limit (R31: not the per-space one).
            case Strategy::most_available:
                return -(std::int64_t{a.limit} - std::int64_t{a.assigned} - std::int64_t{a.pending});
            // Offered least recently; never offered before everyone; same instant ties.
            case Strategy::least_recent:
                return a.ever_offered ? a.last_offer_us : std::numeric_limits<std::int64_t>::min();
        }
        return 0;
    }
    static constexpr bool reads_load(Strategy s) {
        return s == Strategy::least_active || s == Strategy::most_available;
    }
    static constexpr bool reads_last_offer(Strategy s) { return s == Strategy::least_recent; }
};

static_assert(RoutingPolicy<StandardPolicy>);

}  // namespace chatroute
