#pragma once
/// \file
/// The routing engine: commands in, events out, time from an injected clock.
///
/// The engine orchestrates parts that each own one piece of state (docs/architecture.md):
/// the conversation table, the slot ledger, the roster with its rings, the waiting line,
/// the timers, the skill sets, and the routing policy. Every command runs the same steps
/// through `command()`: fire due deadlines (R25) → validate (a refusal changes nothing,
/// R27) → act through the parts → route waiting conversations until none can be offered
/// (R10) → check invariants (debug presets). `advance()` is a command with nothing to act.

#include <chatroute/clock.hpp>
#include <chatroute/config.hpp>
#include <chatroute/detail/assert.hpp>
#include <chatroute/detail/bytes.hpp>
#include <chatroute/detail/conversation_table.hpp>
#include <chatroute/detail/conversation_timers.hpp>
#include <chatroute/detail/index.hpp>
#include <chatroute/detail/roster.hpp>
#include <chatroute/detail/skill_sets.hpp>
#include <chatroute/detail/slot_ledger.hpp>
#include <chatroute/detail/waiting_line.hpp>
#include <chatroute/error.hpp>
#include <chatroute/events.hpp>
#include <chatroute/ids.hpp>
#include <chatroute/lifecycle.hpp>
#include <chatroute/routing_policy.hpp>
#include <chatroute/snapshot.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace chatroute {

/// An agent's slots (R8): accepted and not yet closed, offers pending, and the limit.
struct Load {
    std::uint32_t assigned = 0;
    std::uint32_t pending = 0;
    std::uint32_t limit = 0;
    friend constexpr bool operator==(const Load&, const Load&) = default;
};

/// An agent's slots in one space (R31): conversations there assigned or offered to it.
struct SpaceLoad {
    std::uint32_t count = 0;
    std::optional<std::uint32_t> limit{};
    friend constexpr bool operator==(const SpaceLoad&, const SpaceLoad&) = default;
};

/// R37: a space's waiting line at a glance.
struct QueueStats {
    std::size_t waiting = 0;                    ///< waiting conversations without a pending offer
    std::optional<time_point> oldest_start{};   ///< the oldest of them's start
    std::size_t available_agents = 0;           ///< available there with a free slot (both limits)
    friend bool operator==(const QueueStats&, const QueueStats&) = default;
};

/// What the engine's containers hold, for capacity planning and the benchmarks.
struct MemoryUsage {
    std::size_t agents = 0;         ///< agent records, memberships, slots, rings
    std::size_t spaces = 0;         ///< space records and waiting lines
    std::size_t conversations = 0;  ///< conversation records and timers
    [[nodiscard]] std::size_t total() const { return agents + spaces + conversations; }
};

template <class C, class S, class P = StandardPolicy>
    requires Clock<std::remove_reference_t<C>> && EventSink<std::remove_reference_t<S>> && RoutingPolicy<P>
class Engine {
    struct None {};
    using ConvIx = detail::ConvIx;
    using AgentIx = detail::AgentIx;
    using SpaceIx = detail::SpaceIx;
    using MemberIx = detail::MemberIx;
    using ListId = detail::TimerQueue::ListId;
    static constexpr ListId no_list = detail::TimerQueue::no_list;

public:
    /// Deduction (below) makes lvalue arguments references: the engine uses the caller's
    /// clock and sink, which must outlive it. Temporaries are moved in and owned.
    Engine(std::type_identity_t<C> clock, std::type_identity_t<S> sink, EngineOptions options = {})
        : clock_(std::forward<C>(clock)), sink_(std::forward<S>(sink)), site_(options.site) {
        last_now_ = instant_ = std::min(clock_.now(), latest_instant);
    }

    [[nodiscard]] auto& clock() { return clock_; }
    [[nodiscard]] auto& sink() { return sink_; }
    [[nodiscard]] std::uint32_t site() const { return site_; }

    // ---- Time (R25, R26) ----

    /// Fires every deadline at or before the clock's now; returns how many fired.
    [[nodiscard]] Result<std::size_t> advance() {
        return command([] { return Result<None>{}; }, [&](None) { return fired_; });
    }

    /// When the host should call advance() next; empty when nothing is scheduled.
    [[nodiscard]] std::optional<time_point> next_deadline() const { return timers_.next_deadline(); }

    // ---- Site (R1, R13, R24, R34, R36) ----

    /// Errors: invalid_argument (limit out of range, return-after not in (0, max_timing], a workflow that
    /// fails R24's checks). Emits workflow_changed when a workflow field is named.
    [[nodiscard]] Result<> update_site(const SiteUpdate& update) {
        Workflow next = workflow_;
        return command(
            [&]() -> Result<None> {
                if (update.default_limit) {
                    if (auto ok = validate_limit(*update.default_limit); !ok) return tl::unexpected(ok.error());
                }
                if (update.missed_offer_return_after && !valid_timing(*update.missed_offer_return_after))
                    return tl::unexpected(Error::invalid_argument);
                if (update.status_names) next.status_names = *update.status_names;
                if (update.resolutions) next.resolutions = *update.resolutions;
                if (update.unanswered_resolution) next.unanswered_resolution = *update.unanswered_resolution;
                if (update.wrap_up_resolution) next.wrap_up_resolution = *update.wrap_up_resolution;
                if (update.changes_workflow()) {
                    if (auto ok = validate(next); !ok) return tl::unexpected(ok.error());
                }
                return None{};
            },
            [&](None) {
                if (update.plan) plan_ = *update.plan;
                if (update.default_limit) default_limit_ = static_cast<std::uint32_t>(*update.default_limit);
                if (update.missed_offer_scope) missed_offer_scope_ = *update.missed_offer_scope;
                if (update.missed_offer_return_after) set_return_after(*update.missed_offer_return_after);
                if (update.changes_workflow()) {
                    workflow_ = std::move(next);
                    emit(events::WorkflowChanged{instant_});
                }
            });
    }

    // ---- Spaces (R1, R2, R3, R28, R35) ----

    /// Errors: invalid_argument (a timing <= 0).
    [[nodiscard]] Result<SpaceId> add_space(const SpaceSettings& settings = {}) {
        return command([&] { return validate(settings).map([] { return None{}; }); },
                       [&](None) { return add_space_record(settings); });
    }

    /// Errors: unknown_space. A new strategy affects only later choices (R28).
    [[nodiscard]] Result<> update_space(SpaceId id, const SpaceUpdate& update) {
        return command([&] { return space_index(id); },
                       [&](SpaceIx s) {
                           SpaceRecord& space = spaces_[s.value];
                           if (update.fallback_message) space.fallback = *update.fallback_message;
                           if (update.no_agent_action) space.no_agent_action = *update.no_agent_action;
                           if (update.strategy && *update.strategy != space.strategy) {
                               space.strategy = *update.strategy;
                               roster_.rekey_space(s, [&](AgentIx a) { return key_of(a, s); }, keyed(s));
                           }
                       });
    }

    /// Errors: unknown_space, plan_not_eligible (R1).
    [[nodiscard]] Result<> enable_chat(SpaceId id) {
        return command(
            [&]() -> Result<SpaceIx> {
                auto s = space_index(id);
                if (s && !chat_eligible(plan_)) return tl::unexpected(Error::plan_not_eligible);
                return s;
            },
            [&](SpaceIx s) { spaces_[s.value].chat_enabled = true; });
    }

    /// Errors: unknown_space. Conversations already started go on (R3).
    [[nodiscard]] Result<> disable_chat(SpaceId id) {
        return command([&] { return space_index(id); }, [&](SpaceIx s) { spaces_[s.value].chat_enabled = false; });
    }

    // ---- Agents (R4–R8, R30, R31) ----

    /// Errors: invalid_argument (limit out of range, bad skill list).
    [[nodiscard]] Result<AgentId> add_agent(const AgentSettings& settings = {}) {
        return command([&] { return validate(settings).map([] { return None{}; }); },
                       [&](None) {
                           const std::uint32_t limit =
                               settings.limit ? static_cast<std::uint32_t>(*settings.limit) : default_limit_;
                           const AgentIx a = roster_.add_agent(skills_.acquire(settings.skills));
                           ledger_.add_agent(limit);
                           return agent_handle(a);
                       });
    }

    /// Errors: invalid_argument, unknown_agent. Lowering takes nothing away (R8 D).
    [[nodiscard]] Result<> set_limit(AgentId id, std::int64_t limit) {
        return command(
            [&]() -> Result<AgentIx> {
                if (auto ok = validate_limit(limit); !ok) return tl::unexpected(ok.error());
                return agent_index(id);
            },
            [&](AgentIx a) {
                const bool had_room = ledger_.load(a).has_room();
                ledger_.load(a).limit = static_cast<std::uint32_t>(limit);
                agent_changed(a, Change::load, had_room);
            });
    }

    /// R31: the agent's limit in one space; nullopt removes it. No role is needed there.
    /// Errors: invalid_argument, unknown_agent, unknown_space.
    [[nodiscard]] Result<> set_space_limit(AgentId agent_id, SpaceId space_id, std::optional<std::int64_t> limit) {
        return command(
            [&]() -> Result<std::pair<AgentIx, SpaceIx>> {
                if (limit) {
                    if (auto ok = validate_limit(*limit); !ok) return tl::unexpected(ok.error());
                }
                return agent_space(agent_id, space_id);
            },
            [&](std::pair<AgentIx, SpaceIx> target) {
                const MemberIx m = ensure_member(target.first, target.second);
                ledger_.slots(m).limit = limit ? static_cast<std::uint32_t>(*limit) : detail::nil;
                refresh(m, false);
                drop_if_empty(m);
            });
    }

    /// R30: replaces the agent's skills; pending offers stay. Errors: invalid_argument, unknown_agent.
    [[nodiscard]] Result<> set_skills(AgentId id, std::span<const std::string> skills) {
        return command(
            [&]() -> Result<AgentIx> {
                if (auto ok = validate_skills(skills); !ok) return tl::unexpected(ok.error());
                return agent_index(id);
            },
            [&](AgentIx a) {
                const detail::SkillSetIx next = skills_.acquire(skills);
                detail::AgentRecord& agent = roster_.agent(a);
                const detail::SkillSetIx before = agent.skills;
                roster_.for_each_active(a, [&](MemberIx m) {
                    if (roster_[m].in_ring) roster_.leave_ring(m);
                });
                agent.skills = next;
                skills_.release(before);
                roster_.for_each_active(a, [&](MemberIx m) { refresh(m, false); });
            });
    }

    /// R4, R9: the agent joins the end of the space's ring, unavailable there (R5).
    /// Errors: unknown_agent, unknown_space. Granting a held role emits nothing.
    [[nodiscard]] Result<> grant_role(AgentId agent_id, SpaceId space_id) {
        return command([&] { return agent_space(agent_id, space_id); },
                       [&](std::pair<AgentIx, SpaceIx> target) {
                           const MemberIx m = ensure_member(target.first, target.second);
                           if (!roster_[m].role) roster_.grant(m);
                       });
    }

    /// R4, R14: withdraws the agent's pending offers there; assigned conversations stay.
    /// Errors: unknown_agent, unknown_space. Revoking a role not held emits nothing.
    [[nodiscard]] Result<> revoke_role(AgentId agent_id, SpaceId space_id) {
        return command([&] { return agent_space(agent_id, space_id); },
                       [&](std::pair<AgentIx, SpaceIx> target) {
                           const MemberIx m = roster_.find(target.first, target.second);
                           if (m.none() || !roster_[m].role) return;
                           if (roster_[m].available) {
                               const std::array<MemberIx, 1> one{m};
                               go_unavailable(target.first, one, AvailabilityReason::role_revoked,
                                              WithdrawReason::role_revoked);
                           }
                           cancel_return(m);  // R34: lost the role since
                           roster_.revoke(m);
                           drop_if_empty(m);
                       });
    }

    /// R5–R7, R14. Errors: unknown_agent, unknown_space, not_an_agent_in_space.
    [[nodiscard]] Result<> set_availability(AgentId agent_id, SpaceId space_id, bool available) {
        return command(
            [&]() -> Result<MemberIx> {
                auto target = agent_space(agent_id, space_id);
                if (!target) return tl::unexpected(target.error());
                const MemberIx m = roster_.find(target->first, target->second);
                if (m.none() || !roster_[m].role) return tl::unexpected(Error::not_an_agent_in_space);
                return m;
            },
            [&](MemberIx m) {
                if (roster_[m].available == available) return;
                const std::array<MemberIx, 1> one{m};
                if (available)
                    make_available(m, AvailabilityReason::agent);
                else
                    go_unavailable(roster_[m].agent, one, AvailabilityReason::agent, WithdrawReason::agent_unavailable);
            });
    }

    /// R5: every space where the agent holds the role, in the order the spaces were added.
    [[nodiscard]] Result<> set_availability(AgentId agent_id, AllSpaces, bool available) {
        return command([&] { return agent_index(agent_id); },
                       [&](AgentIx a) {
                           changing_.clear();
                           for (const detail::MemberRef& ref : roster_.agent(a).members)
                               if (roster_[ref.member].role && roster_[ref.member].available != available)
                                   changing_.push_back(ref.member);
                           if (!available) {
                               go_unavailable(a, changing_, AvailabilityReason::agent, WithdrawReason::agent_unavailable);
                               return;
                           }
                           for (MemberIx m : changing_) make_available(m, AvailabilityReason::agent);
                       });
    }

    // ---- Conversations (R3, R8–R23, R29, R30, R35, R39) ----

    /// Errors: invalid_argument (priority, skills), unknown_space, unknown_agent (the
    /// preferred agent), chat_disabled. R35 may end it at once.
    [[nodiscard]] Result<ConversationId> start_conversation(SpaceId space_id, const StartOptions& options = {}) {
        return command(
            [&]() -> Result<std::pair<SpaceIx, AgentIx>> {
                if (auto ok = validate(options); !ok) return tl::unexpected(ok.error());
                auto s = space_index(space_id);
                if (!s) return tl::unexpected(s.error());
                AgentIx preferred;
                if (options.preferred_agent) {
                    auto a = agent_index(*options.preferred_agent);
                    if (!a) return tl::unexpected(a.error());
                    preferred = *a;
                }
                if (!spaces_[s->value].chat_enabled) return tl::unexpected(Error::chat_disabled);
                return std::pair{*s, preferred};
            },
            [&](std::pair<SpaceIx, AgentIx> target) { return start(target.first, target.second, options); });
    }

    /// R29: in any status but closed. Errors: invalid_argument, unknown_conversation, work_item_closed.
    [[nodiscard]] Result<> set_priority(ConversationId id, std::int64_t priority) {
        return command(
            [&]() -> Result<ConvIx> {
                if (auto ok = validate_priority(priority); !ok) return tl::unexpected(ok.error());
                return live_conversation(id);
            },
            [&](ConvIx c) {
                detail::ConversationRecord& conv = conversations_[c];
                if (conv.priority == priority) return;
                const bool queued = conv.queued;
                if (queued) dequeue(c);
                conv.priority = static_cast<std::uint16_t>(priority);
                if (queued) enqueue(c);
                emit(events::PriorityChanged{instant_, id, priority});
            });
    }

    /// R11. Errors: unknown_agent, unknown_conversation, work_item_closed,
    /// not_an_agent_in_space, conversation_ended, no_offer.
    [[nodiscard]] Result<> accept(ConversationId id, AgentId agent_id) {
        prefetch(id, agent_id);
        return command([&] { return offer_target(id, agent_id); }, [&](Target t) { accept_offer(t.c, t.a); });
    }

    /// R12: re-offered at once to the next eligible agent (the decliner only if it is the
    /// only one). Errors: as accept.
    [[nodiscard]] Result<> decline(ConversationId id, AgentId agent_id) {
        prefetch(id, agent_id);
        return command([&] { return offer_target(id, agent_id); }, [&](Target t) { decline_offer(t.c, t.a); });
    }

    /// R16, R17, R33. Errors: unknown_conversation, work_item_closed, conversation_ended.
    [[nodiscard]] Result<> customer_message(ConversationId id, MessageRef ref = {}) {
        return customer_says<events::Message>(id, Audience::conversation, ref);
    }
    [[nodiscard]] Result<> customer_typing(ConversationId id) {
        return customer_says<events::Typing>(id, Audience::agent, {});
    }
    /// R16, R17, R33. Errors: unknown_conversation, unknown_agent, work_item_closed,
    /// not_an_agent_in_space, conversation_ended, not_assignee.
    [[nodiscard]] Result<> agent_message(ConversationId id, AgentId agent, MessageRef ref = {}) {
        return agent_says<events::Message>(id, agent, Audience::conversation, ref);
    }
    [[nodiscard]] Result<> agent_typing(ConversationId id, AgentId agent) {
        return agent_says<events::Typing>(id, agent, Audience::customer, {});
    }

    /// R16: internal notes, for the team only, in any status but closed.
    /// Errors: unknown_conversation, unknown_agent, work_item_closed, not_an_agent_in_space.
    [[nodiscard]] Result<> note(ConversationId id, AgentId agent_id, MessageRef ref = {}) {
        prefetch(id, agent_id);
        return command([&] { return team_target(id, agent_id); },
                       [&](Target) { emit(events::Note{instant_, id, agent_id, ref}); });
    }
    [[nodiscard]] Result<> follow_up(ConversationId id, AgentId agent_id) {
        prefetch(id, agent_id);
        return command([&] { return team_target(id, agent_id); },
                       [&](Target) { emit(events::FollowUpCreated{instant_, id, agent_id}); });
    }

    /// R32: the assignee hands an active conversation to a space (its own: a requeue),
    /// optionally to one agent there. Errors: unknown_conversation, unknown_agent,
    /// unknown_space, unknown_agent (to_agent), work_item_closed, not_an_agent_in_space,
    /// chat_disabled, conversation_ended, not_assignee.
    [[nodiscard]] Result<> transfer(ConversationId id, AgentId agent_id, SpaceId target,
                                    std::optional<AgentId> to_agent = std::nullopt) {
        return command([&] { return transfer_target(id, agent_id, target, to_agent); },
                       [&](TransferTarget t) {
                           transfer_conversation(t.c, TransferReason::agent, t.space, t.to);
                       });
    }

    /// R20: the customer leaves. Errors: unknown_conversation, work_item_closed, conversation_ended.
    [[nodiscard]] Result<> end_by_customer(ConversationId id) {
        prefetch(id);
        return command(
            [&]() -> Result<ConvIx> {
                auto c = live_conversation(id);
                if (c && conversations_[*c].ended) return tl::unexpected(Error::conversation_ended);
                return c;
            },
            [&](ConvIx c) { end_conversation(c, EndReason::customer); });
    }

    /// R20: the assignee ends it. Errors: as agent_message.
    [[nodiscard]] Result<> end_by_agent(ConversationId id, AgentId agent_id) {
        prefetch(id, agent_id);
        return command([&] { return assignee_target(id, agent_id); },
                       [&](Target t) { end_conversation(t.c, EndReason::agent); });
    }

    /// R22: the assignee closes the work item with a resolution from the workflow.
    /// Errors: unknown_conversation, unknown_agent, work_item_closed, not_an_agent_in_space,
    /// not_assignee, conversation_active, unknown_resolution.
    [[nodiscard]] Result<> resolve(ConversationId id, AgentId agent_id, std::string_view resolution) {
        prefetch(id, agent_id);
        return command(
            [&]() -> Result<Target> {
                auto t = team_target(id, agent_id);
                if (!t) return t;
                const detail::ConversationRecord& conv = conversations_[t->c];
                if (conv.assignee != t->a) return tl::unexpected(Error::not_assignee);
                if (conv.status == Status::active) return tl::unexpected(Error::conversation_active);
                if (!resolution_named(resolution)) return tl::unexpected(Error::unknown_resolution);
                return t;
            },
            [&](Target t) { resolve_item(t.c, *resolution_named(resolution)); });
    }

    // ---- Queries (no catch-up: they answer for the last instant a command saw) ----

    [[nodiscard]] Result<Status> status(ConversationId id) const {
        return find_conversation(id).map([&](ConvIx c) { return c.none() ? Status::closed : conversations_[c].status; });
    }
    [[nodiscard]] Result<std::optional<AgentId>> assignee(ConversationId id) const {
        return conversation_agent(id, &detail::ConversationRecord::assignee);
    }
    [[nodiscard]] Result<std::optional<AgentId>> offered_to(ConversationId id) const {
        return conversation_agent(id, &detail::ConversationRecord::offered_to);
    }
    [[nodiscard]] Result<std::int64_t> priority(ConversationId id) const {
        return find_conversation(id).map(
            [&](ConvIx c) { return c.none() ? std::int64_t{0} : std::int64_t{conversations_[c].priority}; });
    }
    /// R37: 1 + the waiting conversations of its space served before it; empty unless it
    /// waits without a pending offer.
    [[nodiscard]] Result<std::optional<std::size_t>> queue_position(ConversationId id) const {
        return find_conversation(id).map([&](ConvIx c) {
            std::optional<std::size_t> position;
            if (c.some() && conversations_[c].queued)
                position = waiting_.position(conversations_[c].space, conversations_[c].wait_key());
            return position;
        });
    }
    /// R37: waiting count, oldest waiting start, agents available there with a free slot.
    [[nodiscard]] Result<QueueStats> queue(SpaceId id) const {
        return space_index(id).map([&](SpaceIx s) {
            QueueStats stats;
            stats.waiting = waiting_.waiting(s);
            if (auto oldest = waiting_.oldest_start_us(s)) stats.oldest_start = time_point{duration{*oldest}};
            stats.available_agents = roster_.eligible_count(s);
            return stats;
        });
    }
    [[nodiscard]] Result<bool> has_role(AgentId agent_id, SpaceId space_id) const {
        return agent_space(agent_id, space_id).map([&](auto t) { return roster_.has_role(t.first, t.second); });
    }
    [[nodiscard]] Result<bool> available(AgentId agent_id, SpaceId space_id) const {
        return agent_space(agent_id, space_id).map([&](auto t) {
            const MemberIx m = roster_.find(t.first, t.second);
            return m.some() && roster_[m].available;
        });
    }
    [[nodiscard]] Result<Load> load(AgentId id) const {
        return agent_index(id).map([&](AgentIx a) {
            const detail::AgentLoad& l = ledger_.load(a);
            return Load{l.assigned, l.pending, l.limit};
        });
    }
    [[nodiscard]] Result<SpaceLoad> space_load(AgentId agent_id, SpaceId space_id) const {
        return agent_space(agent_id, space_id).map([&](auto t) {
            SpaceLoad out;
            const MemberIx m = roster_.find(t.first, t.second);
            if (m.none()) return out;
            const detail::SpaceSlots& slots = ledger_.slots(m);
            out.count = slots.count;
            if (slots.limit != detail::nil) out.limit = slots.limit;
            return out;
        });
    }
    [[nodiscard]] Result<std::vector<std::string>> skills(AgentId id) const {
        return agent_index(id).map([&](AgentIx a) { return skills_.names(roster_.agent(a).skills); });
    }
    [[nodiscard]] Result<bool> chat_enabled(SpaceId id) const {
        return space_index(id).map([&](SpaceIx s) { return spaces_[s.value].chat_enabled; });
    }
    [[nodiscard]] Result<Strategy> strategy(SpaceId id) const {
        return space_index(id).map([&](SpaceIx s) { return spaces_[s.value].strategy; });
    }
    [[nodiscard]] Plan plan() const { return plan_; }
    [[nodiscard]] MissedOfferScope missed_offer_scope() const { return missed_offer_scope_; }
    [[nodiscard]] std::optional<duration> missed_offer_return_after() const { return return_after_; }
    [[nodiscard]] std::uint32_t default_limit() const { return default_limit_; }
    [[nodiscard]] const Workflow& workflow() const { return workflow_; }
    /// The n-th space or agent added (from 0): how a host rebuilds its id maps after restore().
    [[nodiscard]] Result<SpaceId> space_at(std::size_t n) const {
        if (n >= spaces_.size()) return tl::unexpected(Error::unknown_space);
        return space_handle(SpaceIx{static_cast<std::uint32_t>(n)});
    }
    [[nodiscard]] Result<AgentId> agent_at(std::size_t n) const {
        if (n >= roster_.agent_count()) return tl::unexpected(Error::unknown_agent);
        return agent_handle(AgentIx{static_cast<std::uint32_t>(n)});
    }
    [[nodiscard]] std::size_t space_count() const { return spaces_.size(); }
    [[nodiscard]] std::size_t agent_count() const { return roster_.agent_count(); }
    [[nodiscard]] std::size_t live_conversations() const { return conversations_.live(); }
    [[nodiscard]] std::size_t pending_deadlines() const { return timers_.size(); }
    [[nodiscard]] time_point now() const { return instant_; }

    [[nodiscard]] MemoryUsage memory_usage() const {
        MemoryUsage usage;
        usage.agents = roster_.memory_bytes() + ledger_.memory_bytes() + skills_.memory_bytes();
        usage.spaces = spaces_.capacity() * sizeof(SpaceRecord) + waiting_.memory_bytes();
        for (const SpaceRecord& s : spaces_) usage.spaces += s.fallback.capacity();
        usage.conversations = conversations_.memory_bytes() + timers_.memory_bytes() +
                              heads_.capacity() * sizeof(detail::WaitingLine::Head);
        return usage;
    }

    /// Makes room for this many live conversations and agents up front, so that growing to
    /// them allocates nothing more (capacity planning; zero allocations after warm-up).
    void reserve_conversations(std::size_t count) {
        conversations_.reserve(count);
        timers_.reserve(count);
        waiting_.reserve(count);
    }

    /// Every invariant the engine keeps, checked the slow way; the first one broken, if any.
    [[nodiscard]] std::optional<std::string> check_invariants() const;

    // ---- Snapshots (docs/snapshot-format.md) ----

    /// The whole state as bytes. Equal states give equal bytes, in any process.
    [[nodiscard]] std::vector<std::byte> snapshot() const;

    /// An engine that from now on emits exactly the events the snapshotted one would have.
    /// Handles issued by the snapshotted engine stay valid in the restored one.
    [[nodiscard]] static tl::expected<Engine, SnapshotError> restore(std::span<const std::byte> bytes, C clock,
                                                                     S sink);

private:
    struct SpaceRecord {
        SpaceTimings timings;
        std::array<ListId, 8> lists{};  ///< by TimerKind; no_list where the timer is off
        std::string fallback;
        Strategy strategy = Strategy::round_robin;
        NoAgentAction no_agent_action = NoAgentAction::wait;
        bool chat_enabled = false;
        [[nodiscard]] ListId list(TimerKind kind) const { return lists[static_cast<std::size_t>(kind)]; }
    };
    struct Target {
        ConvIx c;
        AgentIx a;
    };
    struct TransferTarget {
        ConvIx c;
        SpaceIx space;
        AgentIx to;
    };
    struct ReturnRecord {
        AgentIx agent;
        std::vector<MemberIx> members;  ///< the spaces the miss made it unavailable in, in space order
        std::uint32_t pending = 0;      ///< members whose return still stands
    };
    enum class Change : std::uint8_t { load, last_offer, both };

    struct BusyGuard {
        bool& busy;
        explicit BusyGuard(bool& b) : busy(b) { busy = true; }
        ~BusyGuard() { busy = false; }
        BusyGuard(const BusyGuard&) = delete;
        BusyGuard& operator=(const BusyGuard&) = delete;
    };

    /// The one path of every command: catch up → validate → act → route → check.
    template <class Check, class Act>
    auto command(Check&& check, Act&& act) {
        using Checked = std::remove_cvref_t<decltype(check())>;
        using Value = typename Checked::value_type;
        using Out = std::invoke_result_t<Act&, Value&>;
        using R = Result<Out>;
        if (busy_) return R{tl::unexpected(Error::reentrant_call)};
        BusyGuard guard(busy_);
        fired_ = catch_up();
        auto target = check();
        if (!target) return R{tl::unexpected(target.error())};
        if constexpr (std::is_void_v<Out>) {
            act(*target);
            finish();
            return R{};
        } else {
            Out out = act(*target);
            finish();
            return R{std::move(out)};
        }
    }

    void finish() {
        route();
        for (ConvIx c : preferring_) conversations_[c].preferred = AgentIx{};  // R32, R39: once
        preferring_.clear();
#ifdef CHATROUTE_CHECK_INVARIANTS
        // Every command while the state is small (every rule test); past that, often enough
        // to cost a bounded amount per command on average, so stress tests stay linear.
        const std::size_t size = spaces_.size() + roster_.agent_count() + conversations_.live();
        if (++unchecked_commands_ < 1 + size / 256) return;
        unchecked_commands_ = 0;
        if (auto broken = check_invariants()) {
            std::fprintf(stderr, "chatroute invariant broken: %s\n", broken->c_str());
            std::abort();
        }
#endif
    }

    void write_state(detail::ByteWriter& out) const;
    /// The first fault in the bytes, or none: a half-read engine is never checked or used.
    [[nodiscard]] std::optional<SnapshotError> read_state(detail::ByteReader& in);

    // ---- Handles ----

    [[nodiscard]] Result<SpaceIx> space_index(SpaceId id) const {
        if (id.index >= spaces_.size() || id.site != site_ || id.serial != 0) return tl::unexpected(Error::unknown_space);
        return SpaceIx{id.index};
    }
    [[nodiscard]] Result<AgentIx> agent_index(AgentId id) const {
        if (id.index >= roster_.agent_count() || id.site != site_ || id.serial != 0)
            return tl::unexpected(Error::unknown_agent);
        return AgentIx{id.index};
    }
    [[nodiscard]] Result<std::pair<AgentIx, SpaceIx>> agent_space(AgentId agent_id, SpaceId space_id) const {
        auto a = agent_index(agent_id);
        if (!a) return tl::unexpected(a.error());
        auto s = space_index(space_id);
        if (!s) return tl::unexpected(s.error());
        return std::pair{*a, *s};
    }
    static constexpr std::size_t prefetch_from_slots = std::size_t{1} << 14;

    /// Before a command reads anything: asks for the records its handles name, so their
    /// cache misses overlap (issue 13). A hint: no effect on state or results. Below
    /// 16,384 conversation slots (under 1 MiB of records) the tables sit in the caches
    /// and the hint would only cost instructions, so it is skipped.
    void prefetch(ConversationId id) const {
        if (conversations_.slots() >= prefetch_from_slots) prefetch_records(id);
    }
    void prefetch(ConversationId id, AgentId agent) const {
        if (conversations_.slots() < prefetch_from_slots) return;
        prefetch_records(id);
        roster_.prefetch(agent.index);
    }
    void prefetch_records(ConversationId id) const {
        conversations_.prefetch(id);
        timers_.prefetch(id.index, detail::TimerSlot::window);
    }

    /// A known conversation's index, or none where it is closed.
    [[nodiscard]] Result<ConvIx> find_conversation(ConversationId id) const {
        switch (conversations_.find(id, site_)) {
            case detail::ConversationTable::Lookup::live: return ConvIx{id.index};
            case detail::ConversationTable::Lookup::closed: return ConvIx{};
            case detail::ConversationTable::Lookup::unknown: break;
        }
        return tl::unexpected(Error::unknown_conversation);
    }
    [[nodiscard]] ConversationId conversation_handle(ConvIx c) const { return conversations_.handle(c, site_); }
    [[nodiscard]] AgentId agent_handle(AgentIx a) const { return AgentId{a.value, site_, 0}; }
    [[nodiscard]] SpaceId space_handle(SpaceIx s) const { return SpaceId{s.value, site_, 0}; }

    // ---- Command preconditions, in R27's order ----

    [[nodiscard]] Result<ConvIx> live_conversation(ConversationId id) const {
        auto c = find_conversation(id);
        if (c && c->none()) return tl::unexpected(Error::work_item_closed);
        return c;
    }

    /// R4: the assignee, or an agent with the role in the conversation's space.
    [[nodiscard]] bool acts_in(AgentIx a, ConvIx c) const {
        const detail::ConversationRecord& conv = conversations_[c];
        return conv.assignee == a || roster_.has_role(a, conv.space);
    }

    /// Fields: conversation, agent. The agent acts in the conversation's space.
    [[nodiscard]] Result<Target> team_target(ConversationId id, AgentId agent_id) const {
        auto c = find_conversation(id);
        if (!c) return tl::unexpected(c.error());
        auto a = agent_index(agent_id);
        if (!a) return tl::unexpected(a.error());
        if (c->none()) return tl::unexpected(Error::work_item_closed);
        if (!acts_in(*a, *c)) return tl::unexpected(Error::not_an_agent_in_space);
        return Target{*c, *a};
    }

    /// Fields: conversation, agent. The agent is the assignee of a conversation not yet ended.
    [[nodiscard]] Result<Target> assignee_target(ConversationId id, AgentId agent_id) const {
        auto t = team_target(id, agent_id);
        if (!t) return t;
        const detail::ConversationRecord& conv = conversations_[t->c];
        if (conv.ended) return tl::unexpected(Error::conversation_ended);
        if (conv.assignee != t->a) return tl::unexpected(Error::not_assignee);
        return t;
    }

    /// Fields (SPEC §10): agent, conversation. The agent holds the conversation's offer.
    [[nodiscard]] Result<Target> offer_target(ConversationId id, AgentId agent_id) const {
        auto a = agent_index(agent_id);
        if (!a) return tl::unexpected(a.error());
        auto c = find_conversation(id);
        if (!c) return tl::unexpected(c.error());
        if (c->none()) return tl::unexpected(Error::work_item_closed);
        if (!acts_in(*a, *c)) return tl::unexpected(Error::not_an_agent_in_space);
        const detail::ConversationRecord& conv = conversations_[*c];
        if (conv.ended) return tl::unexpected(Error::conversation_ended);
        if (conv.offered_to != *a) return tl::unexpected(Error::no_offer);
        return Target{*c, *a};
    }

    /// Fields: conversation, agent, space, to_agent; then R27's list order.
    [[nodiscard]] Result<TransferTarget> transfer_target(ConversationId id, AgentId agent_id, SpaceId target,
                                                         std::optional<AgentId> to_agent) const {
        auto c = find_conversation(id);
        if (!c) return tl::unexpected(c.error());
        auto a = agent_index(agent_id);
        if (!a) return tl::unexpected(a.error());
        auto s = space_index(target);
        if (!s) return tl::unexpected(s.error());
        AgentIx to;
        if (to_agent) {
            auto t = agent_index(*to_agent);
            if (!t) return tl::unexpected(t.error());
            to = *t;
        }
        if (c->none()) return tl::unexpected(Error::work_item_closed);
        if (!acts_in(*a, *c) || (to.some() && !roster_.has_role(to, *s)))
            return tl::unexpected(Error::not_an_agent_in_space);
        if (!spaces_[s->value].chat_enabled) return tl::unexpected(Error::chat_disabled);
        const detail::ConversationRecord& conv = conversations_[*c];
        if (conv.ended) return tl::unexpected(Error::conversation_ended);
        if (conv.assignee != *a) return tl::unexpected(Error::not_assignee);
        return TransferTarget{*c, *s, to};
    }

    // ---- Spaces and the site ----

    SpaceId add_space_record(const SpaceSettings& settings) {
        SpaceRecord space;
        const SpaceTimings& t = settings.timings;
        space.timings = t;
        const auto list = [&](std::optional<duration> length) { return length ? timers_.acquire(*length) : no_list; };
        space.lists = {list(t.offer_timeout),          list(t.accept_window),   list(t.skills_relax_after),
                       list(t.inactivity_warning),     list(t.inactivity_grace), list(t.assignee_response_timeout),
                       list(t.wrap_up_timeout),        list(t.max_duration)};
        space.fallback = settings.fallback_message;
        space.strategy = settings.strategy;
        space.no_agent_action = settings.no_agent_action;
        space.chat_enabled = settings.is_new && chat_eligible(plan_);
        spaces_.push_back(std::move(space));
        roster_.add_space();
        waiting_.add_space();
        return space_handle(SpaceIx{static_cast<std::uint32_t>(spaces_.size() - 1)});
    }

    void set_return_after(duration length) {
        if (return_list_ != no_list) timers_.release(return_list_);
        return_after_ = length;
        return_list_ = timers_.acquire(length);
    }

    [[nodiscard]] std::optional<std::string_view> resolution_named(std::string_view name) const {
        for (const std::string& known : workflow_.resolutions)
            if (known == name) return std::string_view{known};
        return std::nullopt;
    }

    // ---- Eligibility (R8, R28, R30, R31) ----

    [[nodiscard]] AgentView view(AgentIx a) const {
        const detail::AgentLoad& l = ledger_.load(a);
        const std::int64_t last = roster_.agent(a).last_offer_us;
        return AgentView{l.assigned, l.pending, l.limit, last, last != detail::never_offered};
    }
    [[nodiscard]] std::int64_t key_of(AgentIx a, SpaceIx s) const { return P::key(spaces_[s.value].strategy, view(a)); }

    /// Whether the space's key reads an agent's load or offers (then it is re-keyed on them).
    [[nodiscard]] bool keyed(SpaceIx s) const {
        const Strategy strategy = spaces_[s.value].strategy;
        return P::reads_load(strategy) || P::reads_last_offer(strategy);
    }

    /// Puts the membership in or out of its ring as R8 and R31 say; re-keys it when asked.
    void refresh(MemberIx m, bool rekey) {
        const detail::Membership& x = roster_[m];
        const bool eligible = x.role && x.available && ledger_.has_room(x.agent, m);
        if (eligible && !x.in_ring) {
            roster_.enter_ring(m, key_of(x.agent, x.space), keyed(x.space));
            waiting_.agent_arrived(x.space, roster_.agent(x.agent).skills, skills_);
        } else if (!eligible && x.in_ring) {
            roster_.leave_ring(m);
        } else if (eligible && rekey) {
            roster_.rekey(m, key_of(x.agent, x.space));
        }
    }

    /// After a change of the agent's load or last offer. Where its overall room flipped,
    /// each space where it is available may let it in or out; otherwise only the spaces
    /// whose key reads what changed are touched (R38: the cost of what changes).
    void agent_changed(AgentIx a, Change change, bool had_room) {
        const auto reads = [&](MemberIx m) {
            const Strategy s = spaces_[roster_[m].space.value].strategy;
            return (change != Change::last_offer && P::reads_load(s)) ||
                   (change != Change::load && P::reads_last_offer(s));
        };
        if (ledger_.load(a).has_room() != had_room) {
            roster_.for_each_active(a, [&](MemberIx m) { refresh(m, reads(m)); });
            return;
        }
        roster_.for_each_keyed(a, [&](MemberIx m) {
            if (reads(m)) roster_.rekey(m, key_of(a, roster_[m].space));
        });
    }

    /// The pair's membership (made without the role if missing), with its slots.
    MemberIx ensure_member(AgentIx a, SpaceIx s) {
        const MemberIx m = roster_.ensure(a, s);
        (void)ledger_.slots(m);  // grows the ledger's table with the roster's
        // changing_ lists one agent's memberships at a time: sized here, at a new high-water
        // mark of memberships per agent, so availability changes never allocate.
        const std::size_t held = roster_.agent(a).members.size();
        if (changing_.capacity() < held) changing_.reserve(std::max(held, 2 * changing_.capacity()));
        return m;
    }

    /// A membership that holds nothing (no role, no slots, no limit) is forgotten (R38).
    void drop_if_empty(MemberIx m) {
        const detail::Membership& x = roster_[m];
        if (x.role || x.available || x.in_ring || x.return_record != detail::nil) return;
        if (!ledger_.slots(m).empty()) return;
        roster_.drop(m);
    }

    // ---- Availability (R5–R7, R13, R14, R33, R34) ----

    /// R34: the membership's pending return is off (its availability changed, or the role
    /// went); a return left with no space is dropped, so next_deadline() never names it.
    void cancel_return(MemberIx m) {
        const std::uint32_t r = roster_[m].return_record;
        if (r == detail::nil) return;
        roster_[m].return_record = detail::nil;
        if (--returns_[r].pending > 0) return;
        timers_.cancel_return(r);
        returns_[r].members.clear();
        free_returns_.push_back(r);
    }

    void make_available(MemberIx m, AvailabilityReason why) {
        detail::Membership& x = roster_[m];
        cancel_return(m);
        roster_.set_available(m, true);
        emit(events::AvailabilityChanged{instant_, agent_handle(x.agent), space_handle(x.space), true, why});
        refresh(m, true);
    }

    /// R14: the agent turns unavailable in these spaces (given in space order), each
    /// followed by the withdrawal of its offers there, oldest first. All spaces leave the
    /// rings first, so the withdrawals cost O(1) each, not O(spaces) (R38).
    void go_unavailable(AgentIx a, std::span<const MemberIx> members, AvailabilityReason why, WithdrawReason withdraw) {
        for (MemberIx m : members) {
            cancel_return(m);
            roster_.set_available(m, false);
            refresh(m, false);
        }
        for (MemberIx m : members) {
            emit(events::AvailabilityChanged{instant_, agent_handle(a), space_handle(roster_[m].space), false, why});
            while (ledger_.slots(m).offers_head.some()) withdraw_offer(ledger_.slots(m).offers_head, withdraw);
        }
    }

    /// R13, R33: unavailable where it is available (or in `space` only, by the site's
    /// scope); R34: back that long after, unless that changes first.
    void missed(AgentIx a, SpaceIx space, AvailabilityReason why) {
        std::vector<MemberIx>& members = changing_;
        members.clear();
        if (missed_offer_scope_ == MissedOfferScope::offer_space) {
            const MemberIx m = roster_.find(a, space);
            if (m.some() && roster_[m].role && roster_[m].available) members.push_back(m);
        } else {
            for (const detail::MemberRef& ref : roster_.agent(a).members)
                if (roster_[ref.member].role && roster_[ref.member].available) members.push_back(ref.member);
        }
        go_unavailable(a, members, why, WithdrawReason::agent_unavailable);
        if (return_after_ && !members.empty()) schedule_return(a, members);
    }

    void schedule_return(AgentIx a, const std::vector<MemberIx>& members) {
        std::uint32_t r;
        if (!free_returns_.empty()) {
            r = free_returns_.back();
            free_returns_.pop_back();
        } else {
            r = static_cast<std::uint32_t>(returns_.size());
            returns_.emplace_back();
            timers_.grow_returns(returns_.size());
        }
        for (MemberIx m : members) roster_[m].return_record = r;
        returns_[r].agent = a;
        returns_[r].pending = static_cast<std::uint32_t>(members.size());
        returns_[r].members.assign(members.begin(), members.end());  // keeps its capacity when reused
        timers_.schedule_return(r, return_list_, instant_);
    }

    /// R34: back in each space the miss changed that nothing changed since, in space order.
    void fire_return(std::uint32_t r) {
        ReturnRecord& record = returns_[r];
        for (MemberIx m : record.members) {
            if (roster_[m].return_record != r) continue;
            roster_[m].return_record = detail::nil;
            --record.pending;
            make_available(m, AvailabilityReason::auto_return);
        }
        CHATROUTE_ASSERT(record.pending == 0, "a return fired with spaces still pending");
        record.members.clear();
        free_returns_.push_back(r);
    }

    // ---- Offers (R8, R9, R11–R14, R28, R39) ----

    struct Pick {
        AgentIx agent;
        MemberIx member;  ///< its membership in the conversation's space
        bool chosen_by_strategy;
    };

    /// The conversation's next agent: its preferred one (R32, R39) if eligible for it,
    /// else the space's strategy's choice (R28).
    [[nodiscard]] std::optional<Pick> pick_agent(ConvIx c) {
        const detail::ConversationRecord& conv = conversations_[c];
        if (conv.preferred.some()) {
            const MemberIx m = eligible_member(conv.preferred, c);
            if (m.some()) return Pick{conv.preferred, m, false};
        }
        if (auto choice = roster_.choose(conv.space, conv.skills, skills_)) return Pick{choice->agent, choice->member, true};
        return std::nullopt;
    }

    /// The agent's membership in the conversation's space if it is eligible for it there, else none.
    [[nodiscard]] MemberIx eligible_member(AgentIx a, ConvIx c) const {
        const detail::ConversationRecord& conv = conversations_[c];
        const MemberIx m = roster_.find(a, conv.space);
        return m.some() && roster_[m].in_ring && skills_.covers(roster_.agent(a).skills, conv.skills) ? m : MemberIx{};
    }

    /// `m` is the agent's membership in the conversation's space (the caller found it).
    void offer(ConvIx c, AgentIx a, MemberIx m, bool chosen_by_strategy) {
        detail::ConversationRecord& conv = conversations_[c];
        const SpaceRecord& space = spaces_[conv.space.value];
        CHATROUTE_ASSERT(m.some() && roster_[m].agent == a && roster_[m].space == conv.space && !conv.queued &&
                             conv.offered_to.none(),
                         "offer of an unroutable conversation");
        transition(c, Trigger::offer);
        const bool had_room = ledger_.load(a).has_room();
        ledger_.add_offer(conversations_, c, a, m);
        if (chosen_by_strategy) roster_.move_cursor_past(m);
        roster_.agent(a).last_offer_us = instant_.time_since_epoch().count();
        timers_.schedule(c, detail::TimerSlot::answer, space.list(TimerKind::offer_timeout), instant_);
        emit(events::Offered{instant_, conversation_handle(c), agent_handle(a), space_handle(conv.space),
                             instant_ + space.timings.offer_timeout});
        refresh(m, false);  // R31: its room in this space
        agent_changed(a, Change::both, had_room);
    }

    /// Takes the offer from its agent; its slot is freed (or kept as assigned, R11). No event.
    AgentIx remove_offer(ConvIx c, bool keep_slot) {
        detail::ConversationRecord& conv = conversations_[c];
        const AgentIx a = conv.offered_to;
        const MemberIx m = roster_.find(a, conv.space);
        const bool had_room = ledger_.load(a).has_room();
        ledger_.remove_offer(conversations_, c, m, keep_slot);
        timers_.cancel(c, detail::TimerSlot::answer);
        if (!keep_slot) {
            refresh(m, false);
            agent_changed(a, Change::load, had_room);
        }
        return a;
    }

    void withdraw_offer(ConvIx c, WithdrawReason why) {
        transition(c, Trigger::withdraw);
        const AgentIx a = remove_offer(c, false);
        emit(events::OfferWithdrawn{instant_, conversation_handle(c), agent_handle(a), why});
        if (why != WithdrawReason::conversation_ended) enqueue(c);
    }

    void accept_offer(ConvIx c, AgentIx a) {
        detail::ConversationRecord& conv = conversations_[c];
        remove_offer(c, true);
        timers_.cancel(c, detail::TimerSlot::relax);  // R30: an accept cancels it
        conv.assignee = a;
        const ConversationId id = conversation_handle(c);
        emit(events::Accepted{instant_, id, agent_handle(a)});
        transition(c, Trigger::accept);
        if (conv.share_transcript) emit(events::TranscriptShared{instant_, id, agent_handle(a)});
        restart_inactivity(c);
    }

    /// R12, R28: the strategy's next agent other than the decliner, else the decliner.
    void decline_offer(ConvIx c, AgentIx decliner) {
        detail::ConversationRecord& conv = conversations_[c];
        remove_offer(c, false);
        emit(events::OfferDeclined{instant_, conversation_handle(c), agent_handle(decliner)});
        transition(c, Trigger::decline);
        const MemberIx own = eligible_member(decliner, c);
        auto other = roster_.choose(conv.space, conv.skills, skills_, own);
        if (other)
            offer(c, other->agent, other->member, true);
        else if (own.some())
            offer(c, decliner, own, true);
        else
            enqueue(c);
    }

    // ---- Waiting and routing (R10, R29) ----

    void enqueue(ConvIx c) {
        detail::ConversationRecord& conv = conversations_[c];
        CHATROUTE_ASSERT(!conv.queued && conv.offered_to.none(), "enqueue of a queued or offered conversation");
        conv.queued = true;
        waiting_.enqueue(conv.space, conv.skills, conv.wait_key(), conv.start_us, c);
    }

    void dequeue(ConvIx c) {
        detail::ConversationRecord& conv = conversations_[c];
        if (!conv.queued) return;
        conv.queued = false;
        waiting_.dequeue(conv.space, conv.skills, conv.wait_key());
    }

    /// Offers waiting conversations, by priority then age across spaces, until none can be
    /// offered. Only groups marked since the last routing can have become routable;
    /// offering only takes eligibility away, so a group with nobody to offer to is done.
    void route() {
        const auto later = [](const detail::WaitingLine::Head& x, const detail::WaitingLine::Head& y) {
            return x.key > y.key;
        };
        for (waiting_.take_dirty(heads_); !heads_.empty(); waiting_.take_dirty(heads_)) {
            std::make_heap(heads_.begin(), heads_.end(), later);
            while (!heads_.empty()) {
                std::pop_heap(heads_.begin(), heads_.end(), later);
                const detail::WaitingLine::Head head = heads_.back();
                heads_.pop_back();
                const auto pick = pick_agent(head.conversation);
                if (!pick) continue;
                dequeue(head.conversation);
                offer(head.conversation, pick->agent, pick->member, pick->chosen_by_strategy);
                if (auto next = waiting_.head(head.space, head.skills)) {
                    heads_.push_back(*next);
                    std::push_heap(heads_.begin(), heads_.end(), later);
                }
            }
        }
    }

    // ---- Lifecycle (lifecycle.hpp's table) ----

    /// Moves the work item as the table says; a pair the table lacks stops the engine.
    void transition(ConvIx c, Trigger trigger) {
        detail::ConversationRecord& conv = conversations_[c];
        const std::optional<Status> to = next_status(conv.status, trigger);
        CHATROUTE_ASSERT(to.has_value(), "a transition the lifecycle table does not have");
        const Status from = conv.status;
        if (*to == from) return;
        conv.status = *to;
        emit(events::StatusChanged{instant_, conversation_handle(c), from, *to});
    }

    ConversationId start(SpaceIx s, AgentIx preferred, const StartOptions& options) {
        const ConvIx c = conversations_.allocate();
        if (conversations_.slots() * detail::timer_slots > timer_nodes_) {
            timer_nodes_ = conversations_.slots() * detail::timer_slots;
            timers_.grow_conversations(conversations_.slots());
        }
        detail::ConversationRecord& conv = conversations_[c];
        conv.start_us = instant_.time_since_epoch().count();
        conv.space = s;
        conv.status = Status::waiting_for_agent;
        conv.share_transcript = options.handoff;
        conv.priority = static_cast<std::uint16_t>(options.priority);
        conv.skills = skills_.acquire(options.skills);
        const ConversationId id = conversation_handle(c);
        const SpaceRecord& space = spaces_[s.value];
        emit(events::ConversationStarted{instant_, id, space_handle(s), options.handoff});
        if (space.no_agent_action == NoAgentAction::fallback && roster_.available_count(s) == 0) {
            end_conversation(c, EndReason::no_agent, true);  // R35
            return id;
        }
        timers_.schedule(c, detail::TimerSlot::window, space.list(TimerKind::accept_window), instant_);
        timers_.schedule(c, detail::TimerSlot::limit, space.list(TimerKind::max_duration), instant_);
        schedule_relax(c);
        prefer(c, preferred);
        enqueue(c);
        return id;
    }

    void prefer(ConvIx c, AgentIx a) {
        if (a.none()) return;
        conversations_[c].preferred = a;
        preferring_.push_back(c);
    }

    /// R30: where the space relaxes skills and the conversation still requires some.
    void schedule_relax(ConvIx c) {
        const detail::ConversationRecord& conv = conversations_[c];
        const ListId relax = spaces_[conv.space.value].list(TimerKind::skills_relax);
        if (relax != no_list && conv.skills != detail::no_skills)
            timers_.schedule(c, detail::TimerSlot::relax, relax, instant_);
    }

    /// R17: a message while active starts the 20 minutes again.
    void restart_inactivity(ConvIx c) {
        detail::ConversationRecord& conv = conversations_[c];
        timers_.cancel(c, detail::TimerSlot::window);
        conv.warned = false;
        timers_.schedule(c, detail::TimerSlot::window, spaces_[conv.space.value].list(TimerKind::inactivity_warning),
                         instant_);
    }

    /// R32, R33: back to waiting in `target`, keeping age, priority and skills.
    void transfer_conversation(ConvIx c, TransferReason why, SpaceIx target, AgentIx to) {
        detail::ConversationRecord& conv = conversations_[c];
        const AgentIx a = conv.assignee;
        const MemberIx m = roster_.find(a, conv.space);
        const ConversationId id = conversation_handle(c);
        emit(events::Transferred{instant_, id, agent_handle(a), space_handle(target), why});
        transition(c, Trigger::transfer);
        emit(events::SlotReleased{instant_, id, agent_handle(a)});
        const bool had_room = ledger_.load(a).has_room();
        ledger_.release_assigned(a, m);
        conv.assignee = AgentIx{};
        timers_.cancel(c, detail::TimerSlot::window);
        timers_.cancel(c, detail::TimerSlot::answer);
        conv.warned = conv.awaiting_reply = false;
        conv.space = target;
        conv.share_transcript = true;
        timers_.schedule(c, detail::TimerSlot::window, spaces_[target.value].list(TimerKind::accept_window), instant_);
        schedule_relax(c);
        prefer(c, to);
        enqueue(c);
        refresh(m, false);
        agent_changed(a, Change::load, had_room);
        drop_if_empty(m);
    }

    /// R20: before acceptance straight to closed, unanswered; after it, to wrapping_up.
    void end_conversation(ConvIx c, EndReason reason, bool fallback = false) {
        detail::ConversationRecord& conv = conversations_[c];
        const ConversationId id = conversation_handle(c);
        for (auto slot : {detail::TimerSlot::window, detail::TimerSlot::limit, detail::TimerSlot::answer,
                          detail::TimerSlot::relax})
            timers_.cancel(c, slot);
        conv.awaiting_reply = false;
        if (conv.status == Status::active) {
            conv.ended = true;
            emit(events::ConversationEnded{instant_, id, reason});
            transition(c, Trigger::end);
            const ListId wrap_up = spaces_[conv.space.value].list(TimerKind::wrap_up_timeout);
            if (wrap_up != no_list) timers_.schedule(c, detail::TimerSlot::window, wrap_up, instant_);  // R36
            return;
        }
        if (conv.offered_to.some()) withdraw_offer(c, WithdrawReason::conversation_ended);
        dequeue(c);
        if (fallback) emit(events::FallbackMessage{instant_, id, spaces_[conv.space.value].fallback});
        conv.ended = true;
        emit(events::ConversationEnded{instant_, id, reason});
        emit(events::Resolved{instant_, id, workflow_.unanswered_resolution});
        transition(c, Trigger::end);
        release_conversation(c);
    }

    /// R22, R36: closed, and the assignee's slot given back.
    void resolve_item(ConvIx c, std::string_view resolution) {
        detail::ConversationRecord& conv = conversations_[c];
        const AgentIx a = conv.assignee;
        const MemberIx m = roster_.find(a, conv.space);
        const ConversationId id = conversation_handle(c);
        emit(events::Resolved{instant_, id, resolution});
        transition(c, Trigger::resolve);
        emit(events::SlotReleased{instant_, id, agent_handle(a)});
        const bool had_room = ledger_.load(a).has_room();
        ledger_.release_assigned(a, m);
        release_conversation(c);
        refresh(m, false);
        agent_changed(a, Change::load, had_room);
        drop_if_empty(m);
    }

    /// A closed work item is final (R23): its slot is reused; its old handle reads as closed.
    void release_conversation(ConvIx c) {
        detail::ConversationRecord& conv = conversations_[c];
        timers_.cancel_all(c);
        skills_.release(conv.skills);
        conv.skills = detail::no_skills;
        conversations_.release(c);
    }

    // ---- Deadlines (R13, R15, R17, R18, R25, R30, R33, R34, R36) ----

    std::size_t catch_up() {
        time_point now = clock_.now();
        if (now < last_now_) now = last_now_;  // R26: a clock that goes back is clamped
        if (now > latest_instant) now = latest_instant;  // and one past the end of time too
        last_now_ = now;
        std::size_t fired = 0;
        for (auto when = timers_.next_deadline(); when && *when <= now; when = timers_.next_deadline()) {
            const auto due = timers_.next();
            instant_ = due->deadline;  // R25: effects happen at the deadline's own instant
            fire(*due);
            route();
            ++fired;
        }
        instant_ = now;
        return fired;
    }

    void fire(const detail::ConversationTimers::Due& due) {
        if (due.is_return) {
            timers_.cancel_return(due.record);
            fire_return(due.record);
            return;
        }
        const ConvIx c = due.conversation;
        const detail::ConversationRecord& conv = conversations_[c];
        timers_.cancel(c, due.slot);
        const TimerKind kind = detail::kind_of(due.slot, conv.status, conv.warned);
        const auto rule = timer_rule(kind, conv.status);
        CHATROUTE_ASSERT(rule.has_value(), "a deadline fired in a status where it cannot run");
        (this->*timer_actions[static_cast<std::size_t>(kind)])(c);
    }

    /// R13: the agent missed the offer; it becomes unavailable and the conversation waits again.
    void on_offer_timeout(ConvIx c) {
        const SpaceIx space = conversations_[c].space;
        const AgentIx a = remove_offer(c, false);
        emit(events::OfferTimedOut{instant_, conversation_handle(c), agent_handle(a)});
        transition(c, Trigger::offer_timeout);
        missed(a, space, AvailabilityReason::offer_timeout);
        enqueue(c);
    }
    void on_accept_window(ConvIx c) { end_conversation(c, EndReason::no_agent, true); }
    void on_max_duration(ConvIx c) { end_conversation(c, EndReason::max_duration); }
    void on_grace(ConvIx c) { end_conversation(c, EndReason::inactivity); }
    void on_wrap_up(ConvIx c) { resolve_item(c, workflow_.wrap_up()); }

    /// R30: requirements dropped for good; it may now go to anyone in its space.
    void on_relax(ConvIx c) {
        detail::ConversationRecord& conv = conversations_[c];
        const bool queued = conv.queued;
        if (queued) dequeue(c);
        skills_.release(conv.skills);
        conv.skills = detail::no_skills;
        if (queued) enqueue(c);
        emit(events::SkillsRelaxed{instant_, conversation_handle(c)});
        transition(c, Trigger::relax);
    }

    void on_warning(ConvIx c) {
        detail::ConversationRecord& conv = conversations_[c];
        conv.warned = true;
        emit(events::InactivityWarning{instant_, conversation_handle(c)});
        transition(c, Trigger::warn);
        timers_.schedule(c, detail::TimerSlot::window, spaces_[conv.space.value].list(TimerKind::inactivity_grace),
                         instant_);
    }

    /// R33: requeued in its own space; the assignee is away as after a missed offer.
    void on_unresponsive(ConvIx c) {
        const AgentIx a = conversations_[c].assignee;
        const SpaceIx space = conversations_[c].space;
        transfer_conversation(c, TransferReason::assignee_unresponsive, space, AgentIx{});
        missed(a, space, AvailabilityReason::assignee_unresponsive);
    }

    /// What each deadline does when it fires, by TimerKind (lifecycle.hpp's timer_rules).
    using TimerAction = void (Engine::*)(ConvIx);
    static constexpr std::array<TimerAction, timer_kind_count> timer_actions{
        &Engine::on_offer_timeout, &Engine::on_accept_window, &Engine::on_relax,    &Engine::on_warning,
        &Engine::on_grace,         &Engine::on_unresponsive,  &Engine::on_wrap_up, &Engine::on_max_duration};

    // ---- Talking (R16, R17, R21, R33) ----

    template <class E>
    Result<> customer_says(ConversationId id, Audience audience, MessageRef ref) {
        prefetch(id);
        return command(
            [&]() -> Result<ConvIx> {
                auto c = live_conversation(id);
                if (c && conversations_[*c].ended) return tl::unexpected(Error::conversation_ended);
                return c;
            },
            [&](ConvIx c) {
                emit(E{instant_, id, Party::customer, audience, AgentId{}, ref});
                detail::ConversationRecord& conv = conversations_[c];
                if (!std::is_same_v<E, events::Message> || conv.status != Status::active) return;
                restart_inactivity(c);
                const ListId response = spaces_[conv.space.value].list(TimerKind::assignee_response_timeout);
                if (response != no_list && !conv.awaiting_reply) {  // R33: the first unanswered message
                    conv.awaiting_reply = true;
                    timers_.schedule(c, detail::TimerSlot::answer, response, instant_);
                }
            });
    }

    template <class E>
    Result<> agent_says(ConversationId id, AgentId agent_id, Audience audience, MessageRef ref) {
        prefetch(id, agent_id);
        return command([&] { return assignee_target(id, agent_id); },
                       [&](Target t) {
                           emit(E{instant_, id, Party::agent, audience, agent_id, ref});
                           detail::ConversationRecord& conv = conversations_[t.c];
                           if (!std::is_same_v<E, events::Message> || conv.status != Status::active) return;
                           restart_inactivity(t.c);
                           conv.awaiting_reply = false;  // R33: answered
                           timers_.cancel(t.c, detail::TimerSlot::answer);
                       });
    }

    // ---- Query helpers ----

    Result<std::optional<AgentId>> conversation_agent(ConversationId id, AgentIx detail::ConversationRecord::*field) const {
        return find_conversation(id).map([&](ConvIx c) {
            // Built engaged, then emptied: the payload is never uninitialized, which keeps
            // GCC's -Wmaybe-uninitialized quiet in hosts that copy the result at -O2.
            std::optional<AgentId> agent{AgentId{}};
            if (c.none() || (conversations_[c].*field).none())
                agent.reset();
            else
                agent = agent_handle(conversations_[c].*field);
            return agent;
        });
    }

    template <class E>
    void emit(const E& event) {
        sink_(event);
    }

    C clock_;
    S sink_;
    std::uint32_t site_ = 0;
    bool busy_ = false;
    std::size_t fired_ = 0;
    std::size_t unchecked_commands_ = 0;  ///< debug presets: commands since the last invariant check

    Plan plan_ = Plan::premium;
    std::uint32_t default_limit_ = 3;
    MissedOfferScope missed_offer_scope_ = MissedOfferScope::all_spaces;
    std::optional<duration> return_after_{};
    ListId return_list_ = no_list;
    Workflow workflow_{};

    std::vector<SpaceRecord> spaces_;
    detail::SkillSets skills_;
    detail::Roster roster_;
    detail::SlotLedger ledger_;
    detail::ConversationTable conversations_;
    detail::WaitingLine waiting_;
    detail::ConversationTimers timers_;
    std::size_t timer_nodes_ = 0;
    std::vector<ReturnRecord> returns_;
    std::vector<std::uint32_t> free_returns_;

    time_point last_now_{};
    time_point instant_{};  ///< the instant events carry: now, or a firing deadline's own

    std::vector<detail::WaitingLine::Head> heads_;  ///< routing's candidates (reused)
    std::vector<MemberIx> changing_;                ///< set_availability "*" (reused)
    std::vector<ConvIx> preferring_;                ///< conversations with a one-shot preferred agent
};

template <class C, class S>
Engine(C&&, S&&) -> Engine<C, S>;
template <class C, class S>
Engine(C&&, S&&, EngineOptions) -> Engine<C, S>;

}  // namespace chatroute

#include <chatroute/detail/invariants.hpp>
#include <chatroute/detail/snapshot_io.hpp>
