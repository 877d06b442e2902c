#pragma once
// Issue 13's help desk: live conversations in proportion to agents, so the engine's
// conversation records and timers outgrow the caches as the site grows.
//
//   - N agents, limit 3, each with the role in 1-3 of N/100 spaces (a fixed hash of its
//     index), all available;
//   - 1.7 N conversation "slots" that the host cycles through: start -> (10% of them)
//     decline -> accept -> 4 messages (customer and agent in turn) -> end by the agent ->
//     resolve -> the slot starts a new conversation. 1% of first offers are left to expire
//     (R13): the agent turns unavailable, the conversation is offered again, and the host
//     makes the agent available again once it sees the new offer;
//   - the slots are visited in one fixed random order, one command per visit at most, and
//     each visit moves the clock by 10 s / slots, so a slot advances one step every 10 s of
//     site time and an offer is answered ~10 s after it was made (the timeout is 120 s);
//   - each slot waits 0-8 visits before its first start, so the steps are spread evenly.
//
// About 89% of the slots hold a live conversation at any time: ~1.5 live conversations per
// agent, half the agents' slots, as in the issue. Arrivals are closed-loop (a slot starts
// again when its conversation closes), which gives the same steady population and random
// access pattern as Poisson arrivals at that rate.
//
// Written against the public API only, and for both argument orders of accept/decline, so
// the same file measures the engine before and after a change of API.

#include "workload.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <numeric>
#include <optional>
#include <vector>

namespace chatroute::bench {

template <class R>
Result<> accept_offer(R& r, ConversationId c, AgentId a) {
    if constexpr (requires { r.accept(c, a); })
        return r.accept(c, a);
    else
        return r.accept(a, c);
}

template <class R>
Result<> decline_offer(R& r, ConversationId c, AgentId a) {
    if constexpr (requires { r.decline(c, a); })
        return r.decline(c, a);
    else
        return r.decline(a, c);
}

// SPEC's default timers (§1, §12): inactivity warnings are armed and re-armed for real.
inline SpaceSettings live_space() {
    SpaceSettings settings;
    settings.timings.offer_timeout = 120s;
    return settings;
}

template <class R>
class LiveSite {
public:
    static constexpr double slots_per_agent = 1.7;

    explicit LiveSite(std::uint32_t agents) : agents_(agents) {
        router_ = std::make_unique<R>(ManualClock{}, CountingSink{});
        R& r = *router_;
        const std::uint32_t spaces = std::max<std::uint32_t>(1, agents / 100);
        for (std::uint32_t s = 0; s < spaces; ++s) spaces_.push_back(must(r.add_space(live_space()), "add_space"));
        agent_ids_.reserve(agents);
        for (std::uint32_t i = 0; i < agents; ++i) {
            const AgentId a = must(r.add_agent(AgentSettings{3}), "add_agent");
            agent_ids_.push_back(a);
            std::uint64_t h = (std::uint64_t{i} + 1) * 0x9E37'79B9'7F4A'7C15ULL;
            const std::uint32_t roles = std::min<std::uint32_t>(spaces, 1 + static_cast<std::uint32_t>((h >> 40) % 3));
            std::uint32_t first = static_cast<std::uint32_t>((h >> 8) % spaces);
            for (std::uint32_t j = 0; j < roles; ++j)  // distinct spaces: first, first + 1, ...
                must(r.grant_role(a, spaces_[(first + j) % spaces]), "grant_role");
            must(r.set_availability(a, all_spaces, true), "available");
        }
        const auto n = static_cast<std::size_t>(slots_per_agent * agents);
        slots_.resize(n);
        order_.resize(n);
        std::iota(order_.begin(), order_.end(), 0u);
        for (std::size_t k = n; k > 1; --k) std::swap(order_[k - 1], order_[rng_.below(k)]);
        for (Slot& s : slots_) s.delay = static_cast<std::uint8_t>(rng_.below(9));
        step_ = std::max(duration{1}, std::chrono::duration_cast<duration>(std::chrono::seconds{10}) / static_cast<std::int64_t>(n));
    }

    R& r() { return *router_; }
    [[nodiscard]] std::size_t slots() const { return slots_.size(); }
    [[nodiscard]] std::uint32_t agents() const { return agents_; }
    // Heap bytes of the host's own arrays (and this object), not the engine's.
    [[nodiscard]] std::size_t host_bytes() const {
        return sizeof(*this) + spaces_.capacity() * sizeof(SpaceId) + agent_ids_.capacity() * sizeof(AgentId) +
               slots_.capacity() * sizeof(Slot) + order_.capacity() * sizeof(std::uint32_t);
    }

    // One visit to the next slot in the order: at most one command, plus queries.
    // Returns the number of commands issued.
    std::uint32_t visit() {
        R& r = *router_;
        r.clock().advance(step_);
        const std::uint32_t k = order_[at_];
        if (++at_ == order_.size()) at_ = 0;
        Slot& s = slots_[k];
        if (s.delay > 0) {
            --s.delay;
            return 0;
        }
        switch (s.phase) {
            case Phase::idle:
                s = Slot{};
                s.c = must(r.start_conversation(spaces_[rng_.below(spaces_.size())]), "start");
                s.phase = Phase::offered;
                return 1;
            case Phase::offered: {
                const auto to = must(r.offered_to(s.c), "offered_to");
                if (!to) {
                    // Waiting (nobody eligible yet), or closed by the accept window (R15).
                    if (must(r.status(s.c), "status") == Status::closed) s.phase = Phase::idle;
                    return 0;
                }
                if (s.missed) {
                    if (*to == *s.missed) return 0;  // still pending: let it expire
                    must(r.set_availability(*s.missed, all_spaces, true), "available");  // R13: back
                    s.missed.reset();
                    return 1;
                }
                const std::uint64_t roll = rng_.below(1000);
                // The command may find the offer withdrawn: another conversation's missed
                // offer, due at this instant, made the agent unavailable first (R13, R14).
                const auto withdrawn = [](const Result<>& result, const char* what) {
                    if (!result && result.error() != Error::no_offer) must(result, what);
                    return !result;
                };
                if (!s.declined && roll < 100) {
                    s.declined = !withdrawn(decline_offer(r, s.c, *to), "decline");
                    return 1;
                }
                if (!s.missed_once && roll >= 990) {  // 1% of offers are missed
                    s.missed = *to;
                    s.missed_once = true;
                    return 0;
                }
                if (withdrawn(accept_offer(r, s.c, *to), "accept")) return 1;
                s.agent = *to;
                s.phase = Phase::active;
                return 1;
            }
            case Phase::active:
                if (s.messages < 4) {
                    if (s.messages % 2 == 0)
                        must(r.customer_message(s.c, MessageRef{at_}), "message");
                    else
                        must(r.agent_message(s.c, s.agent, MessageRef{at_}), "message");
                    ++s.messages;
                    return 1;
                }
                must(r.end_by_agent(s.c, s.agent), "end");
                s.phase = Phase::wrapping;
                return 1;
            case Phase::wrapping:
                must(r.resolve(s.c, s.agent, "Done"), "resolve");
                s.phase = Phase::idle;
                return 1;
        }
        return 0;
    }

    // Visits every slot `n` times (untimed warm-up, or a measured run).
    std::uint64_t sweep(std::uint32_t n = 1) {
        std::uint64_t commands = 0;
        for (std::uint64_t v = 0; v < std::uint64_t{n} * slots_.size(); ++v) commands += visit();
        return commands;
    }

private:
    enum class Phase : std::uint8_t { idle, offered, active, wrapping };
    struct Slot {
        ConversationId c{};
        AgentId agent{};
        std::optional<AgentId> missed{};
        Phase phase = Phase::idle;
        std::uint8_t messages = 0;
        std::uint8_t delay = 0;
        bool declined = false;
        bool missed_once = false;
    };

    std::uint32_t agents_;
    std::unique_ptr<R> router_;
    std::vector<SpaceId> spaces_;
    std::vector<AgentId> agent_ids_;
    std::vector<Slot> slots_;
    std::vector<std::uint32_t> order_;
    std::size_t at_ = 0;
    duration step_{1};
    Rng rng_;
};

}  // namespace chatroute::bench
