#pragma once
/// \file
/// The routing engine: commands in, events out, time from an injected clock.
///
/// Every command first fires the deadlines that are due (R25), then checks its input
/// (a failed command changes nothing and emits nothing, R27), then acts, then routes
/// waiting conversations to eligible agents until none can be offered (R10).

#include <chatroute/clock.hpp>
#include <chatroute/config.hpp>
#include <chatroute/detail/bytes.hpp>
#include <chatroute/detail/state.hpp>
#include <chatroute/error.hpp>
#include <chatroute/events.hpp>
#include <chatroute/ids.hpp>
#include <chatroute/lifecycle.hpp>
#include <chatroute/snapshot.hpp>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
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

/// What the engine's containers hold, for capacity planning and the benchmarks.
struct MemoryUsage {
    std::size_t agents = 0;         ///< agent records and their membership lists
    std::size_t spaces = 0;         ///< space records, rings, eligibility indexes, waiting heaps
    std::size_t conversations = 0;  ///< conversation records, timers, free list
    [[nodiscard]] std::size_t total() const { return agents + spaces + conversations; }
};

namespace detail {
inline std::atomic<std::uint32_t> engines_made{0};
}  // namespace detail

template <class C, class S>
    requires Clock<std::remove_reference_t<C>> && EventSink<std::remove_reference_t<S>>
class Engine {
public:
    /// Deduction (below) makes lvalue arguments references: the engine uses the caller's
    /// clock and sink, which must outlive it. Temporaries are moved in and owned.
    Engine(std::type_identity_t<C> clock, std::type_identity_t<S> sink)
        : clock_(std::forward<C>(clock)),
          sink_(std::forward<S>(sink)),
          tag_(detail::engines_made.fetch_add(1, std::memory_order_relaxed) % 255 + 1) {
        Workflow defaults;
        set_workflow(std::move(defaults));
        last_now_ = instant_ = clock_.now();
    }

    [[nodiscard]] auto& clock() { return clock_; }
    [[nodiscard]] auto& sink() { return sink_; }

    // ---- Time (R25, R26) ----

    /// Fires every deadline at or before the clock's now; returns how many fired.
    Result<std::size_t> advance() { return catch_up(); }

    /// When the host should call advance() next; empty when nothing is scheduled.
    [[nodiscard]] std::optional<time_point> next_deadline() const {
        if (auto due = timers_.next()) return due->deadline;
        return std::nullopt;
    }

    // ---- Site (R1, R13, R24) ----

    Result<> update_site(const SiteUpdate& update) {
        catch_up();
        if (update.default_limit) {
            if (auto ok = validate_limit(*update.default_limit); !ok) return ok;
        }
        Workflow next = workflow_;
        if (update.status_names) next.status_names = *update.status_names;
        if (update.resolutions) next.resolutions = *update.resolutions;
        if (update.unanswered_resolution) next.unanswered_resolution = *update.unanswered_resolution;
        if (update.changes_workflow()) {
            if (auto ok = validate(next); !ok) return ok;
        }
        if (update.plan) plan_ = *update.plan;
        if (update.default_limit) default_limit_ = static_cast<std::uint32_t>(*update.default_limit);
        if (update.missed_offer_scope) missed_offer_scope_ = *update.missed_offer_scope;
        if (update.changes_workflow()) {
            set_workflow(std::move(next));
            emit(events::WorkflowChanged{instant_});
        }
        return {};
    }

    // ---- Spaces (R1, R2, R3) ----

    Result<SpaceId> add_space(const SpaceSettings& settings = {}) {
        catch_up();
        if (auto ok = validate(settings); !ok) return tl::unexpected(ok.error());
        detail::SpaceState space;
        const SpaceTimings& t = settings.timings;
        space.timers = {timers_.list_for(t.offer_timeout), timers_.list_for(t.accept_window),
                        timers_.list_for(t.inactivity_warning), timers_.list_for(t.inactivity_grace),
                        timers_.list_for(t.max_duration)};
        space.offer_timeout = t.offer_timeout;
        space.fallback_message = intern(settings.fallback_message);
        space.chat_enabled = settings.is_new && chat_eligible(plan_);
        spaces_.push_back(std::move(space));
        return SpaceId{static_cast<std::uint32_t>(spaces_.size() - 1), stamp(0)};
    }

    Result<> enable_chat(SpaceId id) {
        catch_up();
        auto space = space_index(id);
        if (!space) return tl::unexpected(space.error());
        if (!chat_eligible(plan_)) return tl::unexpected(Error::plan_not_eligible);
        spaces_[*space].chat_enabled = true;
        return {};
    }

    Result<> disable_chat(SpaceId id) {
        catch_up();
        auto space = space_index(id);
        if (!space) return tl::unexpected(space.error());
        spaces_[*space].chat_enabled = false;
        return {};
    }

    // ---- Agents (R4, R5, R6, R7) ----

    Result<AgentId> add_agent(const AgentSettings& settings = {}) {
        catch_up();
        if (auto ok = validate(settings); !ok) return tl::unexpected(ok.error());
        detail::AgentState agent;
        agent.limit = settings.limit ? static_cast<std::uint32_t>(*settings.limit) : default_limit_;
        agents_.push_back(std::move(agent));
        return AgentId{static_cast<std::uint32_t>(agents_.size() - 1), stamp(0)};
    }

    Result<> set_limit(AgentId id, std::int64_t limit) {
        catch_up();
        if (auto ok = validate_limit(limit); !ok) return ok;
        auto agent = agent_index(id);
        if (!agent) return tl::unexpected(agent.error());
        change_load(*agent, [&](detail::AgentState& a) { a.limit = static_cast<std::uint32_t>(limit); });
        return finish();
    }

    Result<> grant_role(AgentId agent_id, SpaceId space_id) {
        catch_up();
        auto agent = agent_index(agent_id);
        if (!agent) return tl::unexpected(agent.error());
        auto space = space_index(space_id);
        if (!space) return tl::unexpected(space.error());
        detail::AgentState& a = agents_[*agent];
        detail::Membership* m = a.membership(*space);
        if (m != nullptr && m->role) return {};
        if (m == nullptr) {
            auto at = std::lower_bound(a.memberships.begin(), a.memberships.end(), *space,
                                       [](const detail::Membership& x, std::uint32_t s) { return x.space < s; });
            m = &*a.memberships.insert(at, detail::Membership{*space});
        }
        std::vector<std::uint32_t>& ring = spaces_[*space].ring;
        *m = detail::Membership{*space, static_cast<std::uint32_t>(ring.size()), true, false};
        ring.push_back(*agent);
        return {};
    }

    Result<> revoke_role(AgentId agent_id, SpaceId space_id) {
        catch_up();
        auto agent = agent_index(agent_id);
        if (!agent) return tl::unexpected(agent.error());
        auto space = space_index(space_id);
        if (!space) return tl::unexpected(space.error());
        detail::Membership* m = agents_[*agent].membership(*space);
        if (m == nullptr || !m->role) return {};
        if (m->available)
            make_unavailable(*agent, *space, AvailabilityReason::role_revoked, WithdrawReason::role_revoked);
        m = agents_[*agent].membership(*space);
        spaces_[*space].ring[m->ring_position] = detail::nil;
        m->role = false;
        m->ring_position = detail::nil;
        return finish();
    }

    Result<> set_availability(AgentId agent_id, SpaceId space_id, bool available) {
        catch_up();
        auto agent = agent_index(agent_id);
        if (!agent) return tl::unexpected(agent.error());
        auto space = space_index(space_id);
        if (!space) return tl::unexpected(space.error());
        const detail::Membership* m = agents_[*agent].membership(*space);
        if (m == nullptr || !m->role) return tl::unexpected(Error::not_an_agent_in_space);
        if (m->available != available) change_availability(*agent, *space, available, AvailabilityReason::agent);
        return finish();
    }

    /// R5: every space where the agent holds the role, in the order the spaces were added.
    Result<> set_availability(AgentId agent_id, AllSpaces, bool available) {
        catch_up();
        auto agent = agent_index(agent_id);
        if (!agent) return tl::unexpected(agent.error());
        for_each_role(*agent, [&](const detail::Membership& m) {
            if (m.available != available) change_availability(*agent, m.space, available, AvailabilityReason::agent);
        });
        return finish();
    }

    // ---- Conversations (R3, R8–R23) ----

    Result<ConversationId> start_conversation(SpaceId space_id, bool handoff = false) {
        catch_up();
        auto space = space_index(space_id);
        if (!space) return tl::unexpected(space.error());
        if (!spaces_[*space].chat_enabled) return tl::unexpected(Error::chat_disabled);
        const std::uint32_t c = allocate_conversation();
        detail::ConversationState& conv = conversations_[c];
        conv.start_sequence = next_start_sequence_++;
        conv.space = *space;
        conv.status = Status::waiting_for_agent;
        conv.handoff = handoff;
        const detail::SpaceTimers& lists = spaces_[*space].timers;
        timers_.schedule(detail::timer_node(c, detail::TimerSlot::window), lists.accept_window, instant_);
        timers_.schedule(detail::timer_node(c, detail::TimerSlot::limit), lists.max_duration, instant_);
        const ConversationId id = conversation_handle(c);
        emit(events::ConversationStarted{instant_, id, space_id, handoff});
        enqueue_waiting(c);
        finish();
        return id;
    }

    Result<> accept(AgentId agent_id, ConversationId id) {
        catch_up();
        auto target = offer_target(agent_id, id);
        if (!target) return tl::unexpected(target.error());
        const auto [agent, c] = *target;
        detail::ConversationState& conv = conversations_[c];
        unlink_offer(c);
        timers_.cancel(detail::timer_node(c, detail::TimerSlot::offer));
        --agents_[agent].pending;
        ++agents_[agent].assigned;
        conv.assignee = agent;
        emit(events::Accepted{instant_, id, agent_id});
        move_status(c, Trigger::accept);
        if (conv.handoff) emit(events::TranscriptShared{instant_, id, agent_id});
        restart_inactivity(c);
        return finish();
    }

    Result<> decline(AgentId agent_id, ConversationId id) {
        catch_up();
        auto target = offer_target(agent_id, id);
        if (!target) return tl::unexpected(target.error());
        const auto [agent, c] = *target;
        const std::uint32_t space = conversations_[c].space;
        remove_offer(c);
        emit(events::OfferDeclined{instant_, id, agent_id});
        const std::uint32_t next = next_agent_after_decline(space, agent);
        if (next != detail::nil)
            offer(c, next);
        else
            enqueue_waiting(c);
        return finish();
    }

    Result<> customer_message(ConversationId id, MessageRef ref = {}) {
        return customer_says<events::Message>(id, Audience::conversation, ref);
    }
    Result<> customer_typing(ConversationId id) {
        return customer_says<events::Typing>(id, Audience::agent, {});
    }
    Result<> agent_message(ConversationId id, AgentId agent, MessageRef ref = {}) {
        return agent_says<events::Message>(id, agent, Audience::conversation, ref);
    }
    Result<> agent_typing(ConversationId id, AgentId agent) {
        return agent_says<events::Typing>(id, agent, Audience::customer, {});
    }

    /// R16: internal notes, for the team only, in any status but closed.
    Result<> note(ConversationId id, AgentId agent_id, MessageRef ref = {}) {
        catch_up();
        auto target = team_target(id, agent_id);
        if (!target) return tl::unexpected(target.error());
        emit(events::Note{instant_, id, agent_id, ref});
        return {};
    }

    Result<> follow_up(ConversationId id, AgentId agent_id) {
        catch_up();
        auto target = team_target(id, agent_id);
        if (!target) return tl::unexpected(target.error());
        emit(events::FollowUpCreated{instant_, id, agent_id});
        return {};
    }

    /// R20: the customer leaves.
    Result<> end_by_customer(ConversationId id) {
        catch_up();
        auto c = live_conversation(id);
        if (!c) return tl::unexpected(c.error());
        if (conversations_[*c].ended) return tl::unexpected(Error::conversation_ended);
        end_conversation(*c, EndReason::customer);
        return finish();
    }

    /// R20: the assignee ends it.
    Result<> end_by_agent(ConversationId id, AgentId agent_id) {
        catch_up();
        auto target = assignee_target(id, agent_id);
        if (!target) return tl::unexpected(target.error());
        end_conversation(target->second, EndReason::agent);
        return finish();
    }

    /// R22: the assignee closes the work item with a resolution from the workflow.
    Result<> resolve(ConversationId id, AgentId agent_id, std::string_view resolution) {
        catch_up();
        auto target = team_target(id, agent_id);
        if (!target) return tl::unexpected(target.error());
        const auto [agent, c] = *target;
        detail::ConversationState& conv = conversations_[c];
        if (conv.assignee != agent) return tl::unexpected(Error::not_assignee);
        if (conv.status == Status::active) return tl::unexpected(Error::conversation_active);
        const auto named = std::find(resolutions_.begin(), resolutions_.end(), resolution);
        if (named == resolutions_.end()) return tl::unexpected(Error::unknown_resolution);
        emit(events::Resolved{instant_, id, *named});
        move_status(c, Trigger::resolve);
        emit(events::SlotReleased{instant_, id, agent_id});
        change_load(agent, [](detail::AgentState& a) { --a.assigned; });
        release_conversation(c);
        return finish();
    }

    // ---- Queries ----

    [[nodiscard]] Result<Status> status(ConversationId id) const {
        auto c = find_conversation(id);
        if (!c) return tl::unexpected(c.error());
        return *c == detail::nil ? Status::closed : conversations_[*c].status;
    }
    [[nodiscard]] Result<std::optional<AgentId>> assignee(ConversationId id) const {
        return conversation_agent(id, &detail::ConversationState::assignee);
    }
    [[nodiscard]] Result<std::optional<AgentId>> offered_to(ConversationId id) const {
        return conversation_agent(id, &detail::ConversationState::offered_to);
    }
    [[nodiscard]] Result<bool> has_role(AgentId agent_id, SpaceId space_id) const {
        return membership_flag(agent_id, space_id, &detail::Membership::role);
    }
    [[nodiscard]] Result<bool> available(AgentId agent_id, SpaceId space_id) const {
        return membership_flag(agent_id, space_id, &detail::Membership::available);
    }
    [[nodiscard]] Result<Load> load(AgentId id) const {
        auto agent = agent_index(id);
        if (!agent) return tl::unexpected(agent.error());
        const detail::AgentState& a = agents_[*agent];
        return Load{a.assigned, a.pending, a.limit};
    }
    [[nodiscard]] Result<bool> chat_enabled(SpaceId id) const {
        auto space = space_index(id);
        if (!space) return tl::unexpected(space.error());
        return spaces_[*space].chat_enabled;
    }
    [[nodiscard]] Plan plan() const { return plan_; }
    [[nodiscard]] MissedOfferScope missed_offer_scope() const { return missed_offer_scope_; }
    [[nodiscard]] std::uint32_t default_limit() const { return default_limit_; }
    [[nodiscard]] const Workflow& workflow() const { return workflow_; }
    [[nodiscard]] std::size_t agent_count() const { return agents_.size(); }
    /// The n-th space or agent added (from 0): how a host rebuilds its id maps after restore().
    [[nodiscard]] Result<SpaceId> space_at(std::size_t n) const {
        if (n >= spaces_.size()) return tl::unexpected(Error::unknown_space);
        return space_handle(static_cast<std::uint32_t>(n));
    }
    [[nodiscard]] Result<AgentId> agent_at(std::size_t n) const {
        if (n >= agents_.size()) return tl::unexpected(Error::unknown_agent);
        return agent_handle(static_cast<std::uint32_t>(n));
    }
    [[nodiscard]] std::size_t space_count() const { return spaces_.size(); }
    [[nodiscard]] std::size_t live_conversations() const { return live_conversations_; }
    [[nodiscard]] std::size_t pending_deadlines() const { return timers_.size(); }
    [[nodiscard]] time_point now() const { return instant_; }

    [[nodiscard]] MemoryUsage memory_usage() const {
        MemoryUsage usage;
        usage.agents = agents_.capacity() * sizeof(detail::AgentState);
        for (const auto& a : agents_) usage.agents += a.memberships.capacity() * sizeof(detail::Membership);
        usage.spaces = spaces_.capacity() * sizeof(detail::SpaceState);
        for (const auto& s : spaces_)
            usage.spaces += s.ring.capacity() * sizeof(std::uint32_t) + s.eligible.memory_bytes() +
                            s.waiting.entries().capacity() * sizeof(s.waiting.top());
        usage.conversations = conversations_.capacity() * sizeof(detail::ConversationState) +
                              free_conversations_.capacity() * sizeof(std::uint32_t) + timers_.memory_bytes();
        return usage;
    }

    /// Makes room for this many live conversations up front, so that growing to them
    /// allocates nothing more and leaves no doubling slack (capacity planning).
    void reserve_conversations(std::size_t count) {
        conversations_.reserve(count);
        free_conversations_.reserve(count);
        timers_.reserve(count * detail::timer_slots);
    }

    /// Every invariant the engine keeps, checked the slow way; the first one broken, if any.
    [[nodiscard]] std::optional<std::string> check_invariants() const;

    // ---- Snapshots (docs/snapshot-format.md) ----

    /// The whole state as bytes. Equal states give equal bytes.
    [[nodiscard]] std::vector<std::byte> snapshot() const;

    /// An engine that from now on emits exactly the events the snapshotted one would have.
    /// Handles issued by the snapshotted engine stay valid in the restored one.
    [[nodiscard]] static tl::expected<Engine, SnapshotError> restore(std::span<const std::byte> bytes, C clock,
                                                                     S sink);

private:
    void write_state(detail::ByteWriter& out) const;
    [[nodiscard]] bool read_state(detail::ByteReader& in);

    // ---- Handles ----

    [[nodiscard]] std::uint32_t stamp(std::uint32_t generation) const {
        return (tag_ << 24) | (generation & 0xFF'FFFFU);
    }
    [[nodiscard]] bool ours(std::uint32_t handle_stamp) const { return handle_stamp >> 24 == tag_; }

    [[nodiscard]] Result<std::uint32_t> space_index(SpaceId id) const {
        if (id.index >= spaces_.size() || !ours(id.stamp)) return tl::unexpected(Error::unknown_space);
        return id.index;
    }
    [[nodiscard]] Result<std::uint32_t> agent_index(AgentId id) const {
        if (id.index >= agents_.size() || !ours(id.stamp)) return tl::unexpected(Error::unknown_agent);
        return id.index;
    }
    /// A known conversation's index, or nil where it is closed (its slot since reused).
    [[nodiscard]] Result<std::uint32_t> find_conversation(ConversationId id) const {
        if (id.index >= conversations_.size() || !ours(id.stamp))
            return tl::unexpected(Error::unknown_conversation);
        const detail::ConversationState& conv = conversations_[id.index];
        if (!conv.live || stamp(conv.generation) != id.stamp) return detail::nil;
        return id.index;
    }
    [[nodiscard]] ConversationId conversation_handle(std::uint32_t c) const {
        return {c, stamp(conversations_[c].generation)};
    }
    [[nodiscard]] AgentId agent_handle(std::uint32_t a) const { return {a, stamp(0)}; }
    [[nodiscard]] SpaceId space_handle(std::uint32_t s) const { return {s, stamp(0)}; }

    // ---- Command preconditions, in R27's order ----

    Result<std::uint32_t> live_conversation(ConversationId id) const {
        auto c = find_conversation(id);
        if (!c) return c;
        if (*c == detail::nil) return tl::unexpected(Error::work_item_closed);
        return c;
    }

    /// R4: the assignee, or an agent with the role in the conversation's space.
    [[nodiscard]] bool acts_in(std::uint32_t agent, std::uint32_t c) const {
        const detail::ConversationState& conv = conversations_[c];
        return conv.assignee == agent || agents_[agent].has_role(conv.space);
    }

    using AgentConversation = std::pair<std::uint32_t, std::uint32_t>;

    /// Fields: conversation, agent. The agent acts in the conversation's space.
    Result<AgentConversation> team_target(ConversationId id, AgentId agent_id) const {
        auto c = find_conversation(id);
        if (!c) return tl::unexpected(c.error());
        auto agent = agent_index(agent_id);
        if (!agent) return tl::unexpected(agent.error());
        if (*c == detail::nil) return tl::unexpected(Error::work_item_closed);
        if (!acts_in(*agent, *c)) return tl::unexpected(Error::not_an_agent_in_space);
        return AgentConversation{*agent, *c};
    }

    /// Fields: conversation, agent. The agent is the assignee of a conversation not yet ended.
    Result<AgentConversation> assignee_target(ConversationId id, AgentId agent_id) const {
        auto target = team_target(id, agent_id);
        if (!target) return target;
        const detail::ConversationState& conv = conversations_[target->second];
        if (conv.ended) return tl::unexpected(Error::conversation_ended);
        if (conv.assignee != target->first) return tl::unexpected(Error::not_assignee);
        return target;
    }

    /// Fields: agent, conversation. The agent holds the conversation's pending offer.
    Result<AgentConversation> offer_target(AgentId agent_id, ConversationId id) const {
        auto agent = agent_index(agent_id);
        if (!agent) return tl::unexpected(agent.error());
        auto c = find_conversation(id);
        if (!c) return tl::unexpected(c.error());
        if (*c == detail::nil) return tl::unexpected(Error::work_item_closed);
        if (!acts_in(*agent, *c)) return tl::unexpected(Error::not_an_agent_in_space);
        const detail::ConversationState& conv = conversations_[*c];
        if (conv.ended) return tl::unexpected(Error::conversation_ended);
        if (conv.offered_to != *agent) return tl::unexpected(Error::no_offer);
        return AgentConversation{*agent, *c};
    }

    // ---- Talking (R16, R17, R21) ----

    template <class E>
    Result<> customer_says(ConversationId id, Audience audience, MessageRef ref) {
        catch_up();
        auto c = live_conversation(id);
        if (!c) return tl::unexpected(c.error());
        if (conversations_[*c].ended) return tl::unexpected(Error::conversation_ended);
        emit(E{instant_, id, Party::customer, audience, AgentId{}, ref});
        if constexpr (std::is_same_v<E, events::Message>) note_activity(*c);
        return {};
    }

    template <class E>
    Result<> agent_says(ConversationId id, AgentId agent_id, Audience audience, MessageRef ref) {
        catch_up();
        auto target = assignee_target(id, agent_id);
        if (!target) return tl::unexpected(target.error());
        emit(E{instant_, id, Party::agent, audience, agent_id, ref});
        if constexpr (std::is_same_v<E, events::Message>) note_activity(target->second);
        return {};
    }

    /// R17: a message while active starts the 20 minutes again.
    void note_activity(std::uint32_t c) {
        if (conversations_[c].status == Status::active) restart_inactivity(c);
    }

    void restart_inactivity(std::uint32_t c) {
        detail::ConversationState& conv = conversations_[c];
        const auto node = detail::timer_node(c, detail::TimerSlot::window);
        timers_.cancel(node);
        conv.warned = false;
        timers_.schedule(node, spaces_[conv.space].timers.inactivity_warning, instant_);
    }

    // ---- Availability (R5, R6, R7, R14) ----

    template <class F>
    void for_each_role(std::uint32_t agent, F&& f) {
        // Indexes, not iterators: f may not reshape the list, but keep it obviously safe.
        for (std::size_t i = 0; i < agents_[agent].memberships.size(); ++i) {
            const detail::Membership m = agents_[agent].memberships[i];
            if (m.role) f(m);
        }
    }

    void change_availability(std::uint32_t agent, std::uint32_t space, bool available, AvailabilityReason reason) {
        if (!available) {
            make_unavailable(agent, space, reason, WithdrawReason::agent_unavailable);
            return;
        }
        detail::AgentState& a = agents_[agent];
        detail::Membership& m = *a.membership(space);
        m.available = true;
        emit(events::AvailabilityChanged{instant_, agent_handle(agent), space_handle(space), true, reason});
        if (a.has_free_slot()) make_eligible(space, m.ring_position);
    }

    /// R14: turning unavailable withdraws the agent's pending offers in that space.
    void make_unavailable(std::uint32_t agent, std::uint32_t space, AvailabilityReason reason, WithdrawReason why) {
        detail::Membership& m = *agents_[agent].membership(space);
        assert(m.role && m.available);
        m.available = false;
        spaces_[space].eligible.erase(m.ring_position);
        emit(events::AvailabilityChanged{instant_, agent_handle(agent), space_handle(space), false, reason});
        for (std::uint32_t c = agents_[agent].offers_head; c != detail::nil;) {
            const std::uint32_t next = conversations_[c].offer_next;
            if (conversations_[c].space == space) withdraw_offer(c, why);
            c = next;
        }
    }

    /// R8: an agent may be offered a conversation where it holds the role, is available,
    /// and has a free slot. A change of load can flip the last, in every space at once.
    template <class F>
    void change_load(std::uint32_t agent, F&& change) {
        detail::AgentState& a = agents_[agent];
        const bool was_free = a.has_free_slot();
        change(a);
        const bool now_free = a.has_free_slot();
        if (was_free == now_free) return;
        for (const detail::Membership& m : a.memberships) {
            if (!m.role || !m.available) continue;
            if (now_free)
                make_eligible(m.space, m.ring_position);
            else
                spaces_[m.space].eligible.erase(m.ring_position);
        }
    }

    void make_eligible(std::uint32_t space, std::uint32_t ring_position) {
        spaces_[space].eligible.insert(ring_position);
        mark_dirty(space);
    }

    void mark_dirty(std::uint32_t space) {
        if (spaces_[space].dirty) return;
        spaces_[space].dirty = true;
        dirty_spaces_.push_back(space);
    }

    // ---- Offers (R8, R9, R12, R13) ----

    void offer(std::uint32_t c, std::uint32_t agent) {
        detail::ConversationState& conv = conversations_[c];
        detail::SpaceState& space = spaces_[conv.space];
        assert(conv.offered_to == detail::nil && conv.waiting_position == detail::IndexedHeap<std::uint64_t>::npos);
        link_offer(c, agent);
        change_load(agent, [](detail::AgentState& a) { ++a.pending; });
        space.cursor = agents_[agent].membership(conv.space)->ring_position + 1;
        timers_.schedule(detail::timer_node(c, detail::TimerSlot::offer), space.timers.offer_timeout, instant_);
        emit(events::Offered{instant_, conversation_handle(c), agent_handle(agent), space_handle(conv.space),
                             instant_ + space.offer_timeout});
    }

    /// Takes the offer away from its agent and gives the slot back. No event.
    std::uint32_t remove_offer(std::uint32_t c) {
        const std::uint32_t agent = conversations_[c].offered_to;
        unlink_offer(c);
        timers_.cancel(detail::timer_node(c, detail::TimerSlot::offer));
        change_load(agent, [](detail::AgentState& a) { --a.pending; });
        return agent;
    }

    void withdraw_offer(std::uint32_t c, WithdrawReason why) {
        const std::uint32_t agent = remove_offer(c);
        emit(events::OfferWithdrawn{instant_, conversation_handle(c), agent_handle(agent), why});
        if (why != WithdrawReason::conversation_ended) enqueue_waiting(c);
    }

    void link_offer(std::uint32_t c, std::uint32_t agent) {
        detail::AgentState& a = agents_[agent];
        detail::ConversationState& conv = conversations_[c];
        conv.offered_to = agent;
        conv.offer_prev = a.offers_tail;
        conv.offer_next = detail::nil;
        (a.offers_tail != detail::nil ? conversations_[a.offers_tail].offer_next : a.offers_head) = c;
        a.offers_tail = c;
    }

    void unlink_offer(std::uint32_t c) {
        detail::ConversationState& conv = conversations_[c];
        detail::AgentState& a = agents_[conv.offered_to];
        (conv.offer_prev != detail::nil ? conversations_[conv.offer_prev].offer_next : a.offers_head) = conv.offer_next;
        (conv.offer_next != detail::nil ? conversations_[conv.offer_next].offer_prev : a.offers_tail) = conv.offer_prev;
        conv.offered_to = conv.offer_prev = conv.offer_next = detail::nil;
    }

    /// R9: the first eligible agent from the cursor on, wrapping around.
    [[nodiscard]] std::uint32_t next_eligible(std::uint32_t space) const {
        const detail::SpaceState& s = spaces_[space];
        const std::uint32_t position = s.eligible.find_next_wrapping(s.cursor);
        return position == detail::BitIndex::npos ? detail::nil : s.ring[position];
    }

    /// R12: the next eligible agent other than the decliner; else the decliner, if eligible.
    [[nodiscard]] std::uint32_t next_agent_after_decline(std::uint32_t space, std::uint32_t decliner) const {
        const detail::SpaceState& s = spaces_[space];
        const std::uint32_t own = agents_[decliner].membership(space)->ring_position;
        const std::uint32_t first = s.eligible.find_next_wrapping(s.cursor);
        if (first == detail::BitIndex::npos) return detail::nil;
        if (first != own) return s.ring[first];
        const std::uint32_t other = s.eligible.find_next_wrapping(own + 1);
        return s.ring[other];  // `own` itself when the decliner is the only one
    }

    // ---- Waiting and routing (R10) ----

    struct WaitingMoved {
        std::vector<detail::ConversationState>* conversations;
        void operator()(std::uint32_t c, std::uint32_t position) const {
            (*conversations)[c].waiting_position = position;
        }
    };
    WaitingMoved waiting_moved() { return {&conversations_}; }

    void enqueue_waiting(std::uint32_t c) {
        detail::ConversationState& conv = conversations_[c];
        spaces_[conv.space].waiting.push(conv.start_sequence, c, waiting_moved());
        mark_dirty(conv.space);
    }

    void dequeue_waiting(std::uint32_t c) {
        detail::ConversationState& conv = conversations_[c];
        if (conv.waiting_position == detail::IndexedHeap<std::uint64_t>::npos) return;
        spaces_[conv.space].waiting.erase(conv.waiting_position, waiting_moved());
    }

    [[nodiscard]] bool routable(std::uint32_t space) const {
        return !spaces_[space].waiting.empty() && !spaces_[space].eligible.empty();
    }

    /// Offers waiting conversations, oldest first across spaces, until none can be offered.
    /// Only spaces touched since the last routing can have become routable; offering only
    /// ever takes eligibility away, so the candidates shrink as it goes.
    void route() {
        using Candidate = std::pair<std::uint64_t, std::uint32_t>;  // (age of head, space)
        candidates_.clear();
        for (std::uint32_t space : dirty_spaces_) {
            spaces_[space].dirty = false;
            if (routable(space)) candidates_.emplace_back(spaces_[space].waiting.top().key, space);
        }
        dirty_spaces_.clear();
        const auto later = [](const Candidate& x, const Candidate& y) { return x > y; };
        std::make_heap(candidates_.begin(), candidates_.end(), later);
        while (!candidates_.empty()) {
            std::pop_heap(candidates_.begin(), candidates_.end(), later);
            const std::uint32_t space = candidates_.back().second;
            candidates_.pop_back();
            if (!routable(space)) continue;
            const std::uint32_t c = spaces_[space].waiting.top().id;
            dequeue_waiting(c);
            offer(c, next_eligible(space));
            if (routable(space)) {
                candidates_.emplace_back(spaces_[space].waiting.top().key, space);
                std::push_heap(candidates_.begin(), candidates_.end(), later);
            }
        }
        for (std::uint32_t space : dirty_spaces_) spaces_[space].dirty = false;
        dirty_spaces_.clear();
    }

    Result<> finish() {
        route();
#ifdef CHATROUTE_CHECK_INVARIANTS
        if (auto broken = check_invariants()) {
            std::fprintf(stderr, "chatroute invariant broken: %s\n", broken->c_str());
            std::abort();
        }
#endif
        return {};
    }

    // ---- Lifecycle (R11, R15, R18, R20, R22) ----

    void move_status(std::uint32_t c, Trigger trigger) {
        detail::ConversationState& conv = conversations_[c];
        const std::optional<Status> to = next_status(conv.status, trigger);
        assert(to.has_value());
        const Status from = conv.status;
        conv.status = *to;
        emit(events::StatusChanged{instant_, conversation_handle(c), from, *to});
    }

    /// R20: before acceptance straight to closed, unanswered; after it, to wrapping_up.
    void end_conversation(std::uint32_t c, EndReason reason, bool fallback = false) {
        detail::ConversationState& conv = conversations_[c];
        const ConversationId id = conversation_handle(c);
        timers_.cancel(detail::timer_node(c, detail::TimerSlot::window));
        timers_.cancel(detail::timer_node(c, detail::TimerSlot::limit));
        if (conv.status == Status::active) {
            conv.ended = true;
            emit(events::ConversationEnded{instant_, id, reason});
            move_status(c, Trigger::end);
            return;
        }
        assert(conv.status == Status::waiting_for_agent);
        if (conv.offered_to != detail::nil) withdraw_offer(c, WithdrawReason::conversation_ended);
        dequeue_waiting(c);
        if (fallback) emit(events::FallbackMessage{instant_, id, spaces_[conv.space].fallback_message});
        conv.ended = true;
        emit(events::ConversationEnded{instant_, id, reason});
        emit(events::Resolved{instant_, id, unanswered_});
        move_status(c, Trigger::end);
        release_conversation(c);
    }

    std::uint32_t allocate_conversation() {
        std::uint32_t c;
        if (!free_conversations_.empty()) {
            c = free_conversations_.back();
            free_conversations_.pop_back();
        } else {
            c = static_cast<std::uint32_t>(conversations_.size());
            conversations_.emplace_back();
            timers_.resize(conversations_.size() * detail::timer_slots);
        }
        const std::uint32_t generation = conversations_[c].generation;
        conversations_[c] = detail::ConversationState{};
        conversations_[c].generation = generation;
        conversations_[c].live = true;
        ++live_conversations_;
        return c;
    }

    /// A closed work item is final (R23): its slot is reused; its old handle reads as closed.
    void release_conversation(std::uint32_t c) {
        detail::ConversationState& conv = conversations_[c];
        assert(conv.status == Status::closed && conv.offered_to == detail::nil);
        for (std::uint32_t slot = 0; slot < detail::timer_slots; ++slot)
            timers_.cancel(c * detail::timer_slots + slot);
        conv.live = false;
        conv.generation = (conv.generation + 1) & 0xFF'FFFFU;
        free_conversations_.push_back(c);
        --live_conversations_;
    }

    // ---- Deadlines (R13, R15, R17, R18, R25) ----

    Result<std::size_t> catch_up() {
        time_point now = clock_.now();
        if (now < last_now_) now = last_now_;  // R26: a clock that goes back is clamped
        last_now_ = now;
        std::size_t fired = 0;
        while (auto due = timers_.next()) {
            if (due->deadline > now) break;
            timers_.cancel(due->node);
            instant_ = due->deadline;  // R25: effects happen at the deadline's own instant
            fire(due->node / detail::timer_slots, static_cast<detail::TimerSlot>(due->node % detail::timer_slots));
            route();
            ++fired;
        }
        instant_ = now;
        return fired;
    }

    void fire(std::uint32_t c, detail::TimerSlot slot) {
        detail::ConversationState& conv = conversations_[c];
        switch (slot) {
            case detail::TimerSlot::offer: return offer_timed_out(c);
            case detail::TimerSlot::limit: return end_conversation(c, EndReason::max_duration);
            case detail::TimerSlot::window:
                if (conv.status == Status::waiting_for_agent) return end_conversation(c, EndReason::no_agent, true);
                if (conv.warned) return end_conversation(c, EndReason::inactivity);
                conv.warned = true;
                emit(events::InactivityWarning{instant_, conversation_handle(c)});
                timers_.schedule(detail::timer_node(c, slot), spaces_[conv.space].timers.inactivity_grace, instant_);
                return;
        }
    }

    /// R13: the agent missed the offer; it becomes unavailable and the conversation waits again.
    void offer_timed_out(std::uint32_t c) {
        const std::uint32_t space = conversations_[c].space;
        const std::uint32_t agent = remove_offer(c);  // its timer has fired already
        emit(events::OfferTimedOut{instant_, conversation_handle(c), agent_handle(agent)});
        if (missed_offer_scope_ == MissedOfferScope::offer_space) {
            make_unavailable(agent, space, AvailabilityReason::offer_timeout, WithdrawReason::agent_unavailable);
        } else {
            for_each_role(agent, [&](const detail::Membership& m) {
                if (m.available)
                    make_unavailable(agent, m.space, AvailabilityReason::offer_timeout, WithdrawReason::agent_unavailable);
            });
        }
        enqueue_waiting(c);
    }

    // ---- Workflow (R24) ----

    /// Names live in a pool that only grows, so events may keep views of them.
    std::string_view intern(std::string_view text) {
        for (const std::string& known : strings_)
            if (known == text) return known;
        return strings_.emplace_back(text);
    }

    void set_workflow(Workflow workflow) {
        resolutions_.clear();
        for (const std::string& name : workflow.resolutions) resolutions_.push_back(intern(name));
        unanswered_ = intern(workflow.unanswered_resolution);
        workflow_ = std::move(workflow);
    }

    // ---- Query helpers ----

    Result<std::optional<AgentId>> conversation_agent(ConversationId id,
                                                      std::uint32_t detail::ConversationState::*field) const {
        auto c = find_conversation(id);
        if (!c) return tl::unexpected(c.error());
        // Built engaged, then emptied: the payload is never uninitialized, which keeps
        // GCC's -Wmaybe-uninitialized quiet in hosts that copy the result at -O2.
        std::optional<AgentId> agent{AgentId{}};
        if (*c == detail::nil || conversations_[*c].*field == detail::nil)
            agent.reset();
        else
            agent = agent_handle(conversations_[*c].*field);
        return agent;
    }

    Result<bool> membership_flag(AgentId agent_id, SpaceId space_id, bool detail::Membership::*flag) const {
        auto agent = agent_index(agent_id);
        if (!agent) return tl::unexpected(agent.error());
        auto space = space_index(space_id);
        if (!space) return tl::unexpected(space.error());
        const detail::Membership* m = agents_[*agent].membership(*space);
        return m != nullptr && m->*flag;
    }

    template <class E>
    void emit(const E& event) {
        sink_(event);
    }

    C clock_;
    S sink_;
    std::uint32_t tag_;

    Plan plan_ = Plan::premium;
    std::uint32_t default_limit_ = 3;
    MissedOfferScope missed_offer_scope_ = MissedOfferScope::all_spaces;
    Workflow workflow_;
    std::deque<std::string> strings_;
    std::vector<std::string_view> resolutions_;
    std::string_view unanswered_;

    std::vector<detail::AgentState> agents_;
    std::vector<detail::SpaceState> spaces_;
    std::vector<detail::ConversationState> conversations_;
    std::vector<std::uint32_t> free_conversations_;
    std::size_t live_conversations_ = 0;
    std::uint64_t next_start_sequence_ = 0;
    detail::TimerQueue timers_;

    time_point last_now_{};
    time_point instant_{};  ///< the instant events carry: now, or a firing deadline's own

    std::vector<std::uint32_t> dirty_spaces_;
    std::vector<std::pair<std::uint64_t, std::uint32_t>> candidates_;
};

template <class C, class S>
Engine(C&&, S&&) -> Engine<C, S>;

}  // namespace chatroute

#include <chatroute/detail/invariants.hpp>
#include <chatroute/detail/snapshot_io.hpp>
