#pragma once
// Every deadline the engine keeps (R25, R26): four per conversation slot, one per pending
// return of an agent after a missed offer (R34), all in one timer queue (one list per
// duration, O(1) schedule and cancel), so together they fire in the order of
// (deadline, order set). Conversations' nodes are the queue's first table, returns' the
// second. Which deadline a slot holds follows from the conversation's status
// (lifecycle.hpp's timer_rules say what each one does).

#include <chatroute/clock.hpp>
#include <chatroute/detail/assert.hpp>
#include <chatroute/detail/index.hpp>
#include <chatroute/detail/prefetch.hpp>
#include <chatroute/detail/timer_queue.hpp>
#include <chatroute/lifecycle.hpp>

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

    /// A timer list of this duration, held until released. Conversations' timers and
    /// returns of one duration share a list.
    TimerQueue::ListId acquire(duration length) { return queue_.acquire(length); }
    void release(TimerQueue::ListId list) { queue_.release(list); }
    [[nodiscard]] duration length(TimerQueue::ListId list) const { return queue_.list_length(list); }

    void grow_conversations(std::size_t slots) { queue_.resize(slots * timer_slots); }
    void grow_returns(std::size_t records) { queue_.resize_second(records); }
    void reserve(std::size_t conversations) { queue_.reserve(conversations * timer_slots); }

    void schedule(ConvIx c, TimerSlot slot, TimerQueue::ListId list, time_point now) {
        queue_.schedule(node(c, slot), list, now);
    }
    void cancel(ConvIx c, TimerSlot slot) { queue_.cancel(node(c, slot)); }
    void cancel_all(ConvIx c) {
        for (std::uint32_t s = 0; s < timer_slots; ++s) queue_.cancel(node(c, static_cast<TimerSlot>(s)));
    }
    /// Asks for a conversation slot's timer nodes: the one a message re-sets, beside the
    /// offer's, on the slot's one line (a hint; any index).
    void prefetch(std::uint32_t conversation, TimerSlot slot) const {
        if (std::size_t{conversation} * timer_slots < queue_.node_count())
            detail::prefetch(&queue_.node(node(ConvIx{conversation}, slot)));
    }
    [[nodiscard]] bool scheduled(ConvIx c, TimerSlot slot) const { return queue_.scheduled(node(c, slot)); }
    [[nodiscard]] const TimerQueue::Node& at(ConvIx c, TimerSlot slot) const { return queue_.node(node(c, slot)); }

    void schedule_return(std::uint32_t record, TimerQueue::ListId list, time_point now) {
        queue_.schedule(return_node(record), list, now);
    }
    void cancel_return(std::uint32_t record) { queue_.cancel(return_node(record)); }
    [[nodiscard]] bool return_scheduled(std::uint32_t record) const {
        return record < queue_.second_count() && queue_.scheduled(return_node(record));
    }

    /// A scheduled timer and its duration.
    struct Timer {
        Due due;
        duration length;
    };
    /// Every scheduled timer in the order it would fire, for snapshots. O(lists + timers ·
    /// log timers).
    [[nodiscard]] std::vector<Timer> in_firing_order() const {
        std::vector<Timer> timers;
        timers.reserve(queue_.size());
        for (const TimerQueue::Timer& t : queue_.in_firing_order())
            timers.push_back({due_of(t.node, time_point{duration{t.deadline}}), t.length});
        return timers;
    }

    /// Restoring a snapshot: timers in the order they would fire. False, and nothing
    /// scheduled, when the timer would fire before one of its list restored earlier.
    [[nodiscard]] bool restore(ConvIx c, TimerSlot slot, TimerQueue::ListId list, std::int64_t deadline) {
        return restore_in(node(c, slot), list, deadline);
    }
    [[nodiscard]] bool restore_return(std::uint32_t record, TimerQueue::ListId list, std::int64_t deadline) {
        return restore_in(return_node(record), list, deadline);
    }

    /// When the next timer fires, from the heap's key alone (no node is read). O(1).
    [[nodiscard]] std::optional<time_point> next_deadline() const {
        if (const auto key = queue_.next_key()) return time_point{duration{key->deadline}};
        return std::nullopt;
    }

    [[nodiscard]] std::optional<Due> next() const {
        const auto due = queue_.next();
        if (!due) return std::nullopt;
        return due_of(due->node, due->deadline);
    }

    [[nodiscard]] std::size_t size() const { return queue_.size(); }
    [[nodiscard]] std::size_t memory_bytes() const { return queue_.memory_bytes(); }

private:
    bool restore_in(TimerQueue::NodeId id, TimerQueue::ListId list, std::int64_t deadline) {
        if (!queue_.appendable(list, deadline)) return false;
        queue_.schedule_exact(id, list, deadline);
        return true;
    }

    // A conversation's four 16 B nodes fill one 64 B line (the queue's tables start on a
    // line), so whatever timers a command touches on one conversation cost one line.
    static_assert(sizeof(TimerQueue::Node) * timer_slots == 64, "a conversation's nodes are one cache line");
    static TimerQueue::NodeId node(ConvIx c, TimerSlot slot) {
        return c.value * timer_slots + static_cast<std::uint32_t>(slot);
    }
    static TimerQueue::NodeId return_node(std::uint32_t record) { return TimerQueue::second | record; }
    // Whose timer a node is: the inverse of node() and return_node().
    static Due due_of(TimerQueue::NodeId id, time_point deadline) {
        if (id & TimerQueue::second) return Due{deadline, true, ConvIx{}, TimerSlot::answer, id & ~TimerQueue::second};
        return Due{deadline, false, ConvIx{id / timer_slots}, static_cast<TimerSlot>(id % timer_slots), nil};
    }

    TimerQueue queue_;  ///< first table: slot · 4 + TimerSlot; second: return records
};

}  // namespace chatroute::detail
