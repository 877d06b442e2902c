#pragma once
// Engine::check_invariants(): every invariant the engine keeps, checked the slow, plain
// way (loops over everything). For tests and debug builds, never for a command's path.

#include <chatroute/engine.hpp>

#include <fmt/format.h>

#include <optional>
#include <string>
#include <vector>

namespace chatroute {

template <class C, class S>
    requires Clock<std::remove_reference_t<C>> && EventSink<std::remove_reference_t<S>>
std::optional<std::string> Engine<C, S>::check_invariants() const {
    using detail::nil;
    constexpr auto not_waiting = detail::IndexedHeap<std::uint64_t>::npos;
    std::vector<std::uint32_t> pending(agents_.size(), 0);
    std::vector<std::uint32_t> assigned(agents_.size(), 0);
    std::size_t live = 0;
    std::size_t timers = 0;

    for (std::uint32_t c = 0; c < conversations_.size(); ++c) {
        const detail::ConversationState& conv = conversations_[c];
        if (!conv.live) continue;
        ++live;
        const auto scheduled = [&](detail::TimerSlot slot) { return timers_.scheduled(detail::timer_node(c, slot)); };
        const bool offer_timer = scheduled(detail::TimerSlot::offer);
        const bool window_timer = scheduled(detail::TimerSlot::window);
        const bool limit_timer = scheduled(detail::TimerSlot::limit);
        timers += offer_timer + window_timer + limit_timer;
        const bool waiting = conv.waiting_position != not_waiting;
        if (conv.status == Status::closed) return fmt::format("conversation {} is closed but live", c);
        if (conv.offered_to != nil) {
            ++pending[conv.offered_to];
            const detail::Membership* m = agents_[conv.offered_to].membership(conv.space);
            if (m == nullptr || !m->role || !m->available)
                return fmt::format("conversation {} is offered to an agent who may not take it", c);
        }
        if (offer_timer != (conv.offered_to != nil)) return fmt::format("conversation {}: offer timer mismatch", c);
        if (conv.status == Status::waiting_for_agent) {
            if (waiting == (conv.offered_to != nil))
                return fmt::format("waiting conversation {} must have exactly one of: an offer, a place in line", c);
            if (!window_timer || !limit_timer) return fmt::format("waiting conversation {} lacks a timer", c);
            if (waiting && spaces_[conv.space].waiting.entries()[conv.waiting_position].id != c)
                return fmt::format("conversation {} is not where it thinks it is in line", c);
        } else {
            if (waiting || conv.offered_to != nil) return fmt::format("conversation {} was accepted yet is offered", c);
            if (conv.assignee == nil) return fmt::format("conversation {} is {} with no assignee", c, conv.status);
            ++assigned[conv.assignee];
            const bool timed = conv.status == Status::active;
            if (window_timer != timed || limit_timer != timed || conv.ended == timed)
                return fmt::format("conversation {} ({}) has the wrong timers", c, conv.status);
        }
    }
    if (live != live_conversations_) return std::string{"live conversation count is off"};
    if (timers != timers_.size()) return std::string{"a timer belongs to no live conversation"};

    for (std::uint32_t a = 0; a < agents_.size(); ++a) {
        const detail::AgentState& agent = agents_[a];
        if (agent.pending != pending[a] || agent.assigned != assigned[a])
            return fmt::format("agent {} counts {}+{} slots but holds {}+{}", a, agent.assigned, agent.pending,
                               assigned[a], pending[a]);
        std::uint32_t listed = 0;
        for (std::uint32_t c = agent.offers_head; c != nil; c = conversations_[c].offer_next) ++listed;
        if (listed != agent.pending) return fmt::format("agent {}'s offer list is off", a);
        for (std::size_t i = 0; i < agent.memberships.size(); ++i) {
            const detail::Membership& m = agent.memberships[i];
            if (i > 0 && agent.memberships[i - 1].space >= m.space)
                return fmt::format("agent {}'s memberships are out of order", a);
            if (m.available && !m.role) return fmt::format("agent {} is available without the role", a);
            if (m.role && spaces_[m.space].ring[m.ring_position] != a)
                return fmt::format("agent {} is not in space {}'s ring where it should be", a, m.space);
            const bool eligible = m.role && m.available && agent.has_free_slot();
            if (m.role && spaces_[m.space].eligible.test(m.ring_position) != eligible)
                return fmt::format("agent {}'s eligibility in space {} is stale", a, m.space);
        }
    }

    // R10: no waiting conversation has an eligible agent in its space.
    for (std::uint32_t s = 0; s < spaces_.size(); ++s)
        if (!spaces_[s].waiting.empty() && !spaces_[s].eligible.empty())
            return fmt::format("space {} has a waiting conversation and an eligible agent (R10)", s);
    return std::nullopt;
}

}  // namespace chatroute
