#pragma once
// Engine::check_invariants(): every invariant the engine keeps, recomputed the slow way
// from the conversation records, for tests and the debug presets (checked after every
// command there) and for restore().

#include <chatroute/engine.hpp>

#include <fmt/format.h>

#include <map>
#include <string>
#include <utility>

namespace chatroute {

#define CHATROUTE_ENGINE_TEMPLATE_INV                                                                     \
    template <class C, class S, class P>                                                                  \
        requires Clock<std::remove_reference_t<C>> && EventSink<std::remove_reference_t<S>> && RoutingPolicy<P>

CHATROUTE_ENGINE_TEMPLATE_INV
std::optional<std::string> Engine<C, S, P>::check_invariants() const {
    using detail::TimerSlot;
    std::vector<detail::AgentLoad> loads(roster_.agent_count());
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint32_t> counts;  // (agent, space) → R31 count
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint32_t> offers;  // (agent, space) → pending offers
    std::vector<std::vector<std::uint32_t>> queued(spaces_.size());
    std::vector<std::size_t> waiting(spaces_.size(), 0);
    for (std::uint32_t i = 0; i < conversations_.slots(); ++i) {
        const ConvIx c{i};
        const detail::ConversationRecord& conv = conversations_[c];
        if (!conv.live) continue;
        const auto broken = [&](std::string_view what) { return fmt::format("conversation {}: {}", i, what); };
        if (conv.status == Status::closed) return broken("live but closed");
        const bool waits = conv.status == Status::waiting_for_agent;
        if (waits == conv.assignee.some()) return broken("assignee does not match its status");
        if (!waits && conv.offered_to.some()) return broken("offer pending after acceptance");
        if (waits && conv.ended) return broken("waiting but ended");
        // R20: only an end moves a conversation to wrapping_up, and it sets `ended`.
        if (conv.ended != (conv.status == Status::wrapping_up)) return broken("ended does not match wrapping_up");
        for (std::uint32_t slot = 0; slot < detail::timer_slots; ++slot) {
            const auto s = static_cast<TimerSlot>(slot);
            if (timers_.scheduled(c, s) && !timer_rule(detail::kind_of(s, conv.status, conv.warned), conv.status))
                return broken("a timer that cannot run in its status");
        }
        if (conv.queued != (waits && conv.offered_to.none())) return broken("waiting line membership is wrong");
        if (conv.preferred.some()) return broken("a preferred agent outlived its command");
        if (conv.offered_to.some()) {
            ++loads[conv.offered_to.value].pending;
            ++counts[{conv.offered_to.value, conv.space.value}];
            ++offers[{conv.offered_to.value, conv.space.value}];
            if (!timers_.scheduled(c, TimerSlot::answer)) return broken("offer without its timeout");
            const MemberIx m = roster_.find(conv.offered_to, conv.space);
            if (m.none() || !roster_[m].role || !roster_[m].available) return broken("offered to an absent agent");
        }
        if (conv.assignee.some()) {
            ++loads[conv.assignee.value].assigned;
            ++counts[{conv.assignee.value, conv.space.value}];
        }
        if (conv.queued) ++waiting[conv.space.value], queued[conv.space.value].push_back(i);
        const bool limit = timers_.scheduled(c, TimerSlot::limit);
        if (limit == conv.ended) return broken("max duration timer does not match ended");
        if (waits && !timers_.scheduled(c, TimerSlot::window)) return broken("waiting without its accept window");
        if (conv.status == Status::active && !timers_.scheduled(c, TimerSlot::window))
            return broken("active without its inactivity timer");
        if (conv.status != Status::active && conv.awaiting_reply) return broken("awaiting a reply while not active");
        if (waits && conv.warned) return broken("warned of inactivity while waiting");
        if (conv.status == Status::active && timers_.scheduled(c, TimerSlot::answer) != conv.awaiting_reply)
            return broken("response timer does not match awaiting_reply");
        if (!waits && timers_.scheduled(c, TimerSlot::relax)) return broken("relax timer after acceptance");
        if (waits && conv.offered_to.none() && timers_.scheduled(c, TimerSlot::answer))
            return broken("offer timeout without an offer");
    }
    for (std::uint32_t s = 0; s < spaces_.size(); ++s)
        if (waiting_.waiting(SpaceIx{s}) != waiting[s]) return fmt::format("space {}: waiting count is wrong", s);

    std::vector<std::uint32_t> available(spaces_.size(), 0), eligible(spaces_.size(), 0);
    for (std::uint32_t a = 0; a < roster_.agent_count(); ++a) {
        const AgentIx agent{a};
        const detail::AgentLoad& load = ledger_.load(agent);
        if (load.assigned != loads[a].assigned || load.pending != loads[a].pending)
            return fmt::format("agent {}: slots {}+{} but conversations say {}+{}", a, load.assigned, load.pending,
                               loads[a].assigned, loads[a].pending);
        SpaceIx previous;
        for (const detail::MemberRef& ref : roster_.agent(agent).members) {
            const MemberIx m = ref.member;
            const detail::Membership& x = roster_[m];
            const auto broken = [&](std::string_view what) {
                return fmt::format("agent {} in space {}: {}", a, x.space.value, what);
            };
            if (x.agent != agent) return broken("membership of another agent");
            if (ref.space != x.space) return broken("membership listed under another space");
            if (previous.some() && !(previous < x.space)) return broken("memberships out of space order");
            previous = x.space;
            if (roster_.find(agent, x.space) != m) return broken("membership not found by its pair");
            const detail::SpaceSlots& slots = ledger_.slots(m);
            const auto it = counts.find({a, x.space.value});
            if (slots.count != (it == counts.end() ? 0 : it->second)) return broken("space slot count is wrong");
            if (x.available && !x.role) return broken("available without the role");
            const bool should = x.role && x.available && ledger_.has_room(agent, m);
            if (x.in_ring != should) return broken("ring membership does not match eligibility");
            const Strategy strategy = spaces_[x.space.value].strategy;
            const bool keyed = x.in_ring && (P::reads_load(strategy) || P::reads_last_offer(strategy));
            if (x.keyed != keyed) return broken("keyed list membership is wrong");
            available[x.space.value] += x.available ? 1 : 0;
            eligible[x.space.value] += x.in_ring ? 1 : 0;
            std::uint32_t listed = 0;
            for (ConvIx c = slots.offers_head; c.some(); c = conversations_[c].offer_next) {
                if (conversations_[c].offered_to != agent || conversations_[c].space != x.space)
                    return broken("offer list holds another's offer");
                ++listed;
            }
            const auto expected = offers.find({a, x.space.value});
            if (listed != (expected == offers.end() ? 0 : expected->second)) return broken("offer list misses offers");
            if (x.in_ring) {
                // R10: no waiting conversation of the space has an eligible agent.
                for (std::uint32_t i : queued[x.space.value]) {
                    const detail::ConversationRecord& conv = conversations_[ConvIx{i}];
                    if (skills_.covers(roster_.agent(agent).skills, conv.skills))
                        return fmt::format("conversation {} waits though agent {} is eligible in space {}", i, a,
                                           x.space.value);
                }
            }
        }
    }
    for (std::uint32_t s = 0; s < spaces_.size(); ++s) {
        if (roster_.available_count(SpaceIx{s}) != available[s]) return fmt::format("space {}: available count", s);
        if (roster_.eligible_count(SpaceIx{s}) != eligible[s]) return fmt::format("space {}: eligible count", s);
    }
    return std::nullopt;
}

}  // namespace chatroute
