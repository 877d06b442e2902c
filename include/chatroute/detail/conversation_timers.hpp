#pragma once
// Every deadline the engine keeps (R25, R26): four per conversation slot, one per pending
// return of an agent after a missed offer (R34). Two timer queues (one-list-per-duration,
// O(1) schedule and cancel) share one sequence counter, so together they fire in
// (deadline, order set) order. Which deadline a slot holds follows from the
// conversation's status (lifecycle.hpp's timer_rules say what each one does).

#include <chatroute/clock.hpp>
#include <chatroute/detail/assert.hpp>
#include <chatroute/detail/index.hpp>
#include <chatroute/detail/prefetch.hpp>
#include <chatroute/detail/timer_queue.hpp>
#include <chatroute/lifecycle.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace chatroute::detail {

/// A conversation's four timers; each holds one kind at a time, by status.
enum class TimerSlot : std::uint8_t {
    answer = 0,  ///< offer_timeout while waiting; assignee_response_timeout while active
    window = 1,  ///< accept_window; inactivity warning / grace; wrap_up_timeout
    limit = 2,   ///< max_duration
    relax = 3,   ///< skills_relax while waiting
};
inline constexpr std::uint32_t timer_slots = 4;

[[nodiscard]] constexpr TimerKind kind_of(TimerSlot slot, Status status, bool warned) {
    switch (slot) {
        case TimerSlot::answer:
            return status == Status::active ? TimerKind::assignee_response_timeout : TimerKind::offer_timeout;
        case TimerSlot::window:
            if (status == Status::waiting_for_agent) return TimerKind::accept_window;
            if (status == Status::wrapping_up) return TimerKind::wrap_up_timeout;
            return warned ? TimerKind::inactivity_grace : TimerKind::inactivity_warning;
        case TimerSlot::limit: return TimerKind::max_duration;
        case TimerSlot::relax: return TimerKind::skills_relax;
    }
    return TimerKind::max_duration;
}

class ConversationTimers {
public:
    /// What is due next: a conversation's slot, or an agent's return record.
    struct Due {
        time_point deadline;
        bool is_return = false;
        ConvIx conversation;
        TimerSlot slot = TimerSlot::answer;
        std::uint32_t record = nil;
    };

    /// A conversation timer list of this duration, held until released.
    TimerQueue::ListId acquire(duration length) { return conversation_.acquire(length); }
    void release(TimerQueue::ListId list) { conversation_.release(list); }
    [[nodiscard]] duration length(TimerQueue::ListId list) const { return conversation_.list_length(list); }
    /// The same for R34's return timers.
    TimerQueue::ListId acquire_return(duration length) { return returns_.acquire(length); }
    void release_return(TimerQueue::ListId list) { returns_.release(list); }

    void grow_conversations(std::size_t slots) { conversation_.resize(slots * timer_slots); }
    void grow_returns(std::size_t records) { returns_.resize(records); }
    void reserve(std::size_t conversations) { conversation_.reserve(conversations * timer_slots); }

    void schedule(ConvIx c, TimerSlot slot, TimerQueue::ListId list, time_point now) {
        conversation_.schedule(node(c, slot), list, now, sequence_++);
    }
    void cancel(ConvIx c, TimerSlot slot) { conversation_.cancel(node(c, slot)); }
    void cancel_all(ConvIx c) {
        for (std::uint32_t s = 0; s < timer_slots; ++s) conversation_.cancel(node(c, static_cast<TimerSlot>(s)));
    }
    /// Asks for a conversation slot's timer node of this kind: the one a message re-sets,
    /// beside the offer's (a hint; any index).
    void prefetch(std::uint32_t conversation, TimerSlot slot) const {
        if (std::size_t{conversation} * timer_slots < conversation_.node_count())
            detail::prefetch(&conversation_.node(node(ConvIx{conversation}, slot)));
    }
    [[nodiscard]] bool scheduled(ConvIx c, TimerSlot slot) const { return conversation_.scheduled(node(c, slot)); }
    [[nodiscard]] const TimerQueue::Node& at(ConvIx c, TimerSlot slot) const {
        return conversation_.node(node(c, slot));
    }

    void schedule_return(std::uint32_t record, TimerQueue::ListId list, time_point now) {
        returns_.schedule(record, list, now, sequence_++);
    }
    void cancel_return(std::uint32_t record) { returns_.cancel(record); }
    [[nodiscard]] bool return_scheduled(std::uint32_t record) const {
        return record < returns_.node_count() && returns_.scheduled(record);
    }
    [[nodiscard]] duration return_length(TimerQueue::ListId list) const { return returns_.list_length(list); }

    /// Every scheduled timer's list, from one walk of each list (a node does not name its
    /// list): for snapshots, with length_of(). O(lists + timers).
    struct Lists {
        std::vector<TimerQueue::ListId> conversation;
        std::vector<TimerQueue::ListId> returns;
    };
    [[nodiscard]] Lists lists() const { return {conversation_.lists_of(), returns_.lists_of()}; }
    /// The duration of a scheduled timer of a conversation slot, or of a return record.
    [[nodiscard]] duration length_of(const Lists& lists, ConvIx c, TimerSlot slot) const {
        return conversation_.list_length(lists.conversation[node(c, slot)]);
    }
    [[nodiscard]] duration return_length_of(const Lists& lists, std::uint32_t record) const {
        return returns_.list_length(lists.returns[record]);
    }
    [[nodiscard]] const TimerQueue::Node& return_at(std::uint32_t record) const { return returns_.node(record); }

    /// Restoring a snapshot: timers exactly as they were (in sequence order per queue).
    /// False, and nothing scheduled, when the timer would fire before one of its list set
    /// earlier: a later timer of one duration never fires first, so no state has that.
    [[nodiscard]] bool restore(ConvIx c, TimerSlot slot, TimerQueue::ListId list, std::int64_t deadline,
                               std::uint64_t sequence) {
        return restore_in(conversation_, node(c, slot), list, deadline, sequence);
    }
    [[nodiscard]] bool restore_return(std::uint32_t record, TimerQueue::ListId list, std::int64_t deadline,
                                      std::uint64_t sequence) {
        return restore_in(returns_, record, list, deadline, sequence);
    }

    /// When the next timer fires, from the two heaps' keys alone (no node is read). O(1).
    [[nodiscard]] std::optional<time_point> next_deadline() const {
        if (const auto f = first()) return time_point{duration{f->key.deadline}};
        return std::nullopt;
    }

    [[nodiscard]] std::optional<Due> next() const {
        const auto f = first();
        if (!f) return std::nullopt;
        const time_point deadline{duration{f->key.deadline}};
        if (!f->conversation) return Due{deadline, true, ConvIx{}, TimerSlot::answer, returns_.next()->node};
        const auto id = conversation_.next()->node;
        const std::uint32_t c = id / timer_slots;
        return Due{deadline, false, ConvIx{c}, slot_at[c & 1][id % timer_slots], nil};
    }

    /// The sequence numbers a snapshot may hold: 2^63 timers over the site's life (292
    /// years at a billion a second) leave the counter room, so it never wraps (R25's ties).
    static constexpr std::uint64_t max_sequence = std::uint64_t{1} << 63;

    [[nodiscard]] std::size_t size() const { return conversation_.size() + returns_.size(); }
    [[nodiscard]] std::uint64_t sequence() const { return sequence_; }
    void set_sequence(std::uint64_t sequence) { sequence_ = sequence; }
    [[nodiscard]] std::size_t memory_bytes() const { return conversation_.memory_bytes() + returns_.memory_bytes(); }

private:
    /// The key that fires first, and whether it is a conversation's (else a return's).
    struct First {
        DeadlineKey key;
        bool conversation;
    };
    [[nodiscard]] std::optional<First> first() const {
        const auto a = conversation_.next_key();
        const auto b = returns_.next_key();
        if (a && (!b || *a < *b)) return First{*a, true};
        if (b) return First{*b, false};
        return std::nullopt;
    }

    static bool restore_in(TimerQueue& queue, TimerQueue::NodeId id, TimerQueue::ListId list, std::int64_t deadline,
                           std::uint64_t sequence) {
        if (!queue.appendable(list, deadline, sequence)) return false;
        queue.schedule_exact(id, list, deadline, sequence);
        return true;
    }

    // A conversation's four 24 B nodes take 96 B, so conversations alternate between two
    // layouts across 64 B lines, and in each one node straddles two lines. That one is the
    // relax timer, the rarest: the window timer, which every message re-sets, never does.
    static constexpr std::uint8_t positions[2][timer_slots] = {{0, 1, 3, 2}, {0, 2, 3, 1}};
    /// The inverse of positions: the slot whose node sits at each position.
    static constexpr auto slot_at = [] {
        std::array<std::array<TimerSlot, timer_slots>, 2> at{};
        for (std::uint32_t parity = 0; parity < 2; ++parity)
            for (std::uint32_t s = 0; s < timer_slots; ++s) at[parity][positions[parity][s]] = static_cast<TimerSlot>(s);
        return at;
    }();
    static constexpr std::uint32_t position(std::uint32_t c, TimerSlot slot) {
        return positions[c & 1][static_cast<std::uint32_t>(slot)];
    }
    static_assert(sizeof(TimerQueue::Node) * timer_slots == 96, "the layouts above assume 24 B nodes");

    static TimerQueue::NodeId node(ConvIx c, TimerSlot slot) { return c.value * timer_slots + position(c.value, slot); }

    TimerQueue conversation_;  ///< nodes: slot · 4 + position(slot, TimerSlot)
    TimerQueue returns_;       ///< nodes: return record ids
    std::uint64_t sequence_ = 0;
};

}  // namespace chatroute::detail
