#pragma once
// The engine's records. Plain data; the engine keeps them consistent.

#include <chatroute/config.hpp>
#include <chatroute/detail/bit_index.hpp>
#include <chatroute/detail/indexed_heap.hpp>
#include <chatroute/detail/timer_queue.hpp>
#include <chatroute/lifecycle.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace chatroute::detail {

inline constexpr std::uint32_t nil = 0xFFFF'FFFF;

// An agent's place in one space: the role, the availability there, and its ring position.
struct Membership {
    std::uint32_t space = nil;
    std::uint32_t ring_position = nil;
    bool role = false;
    bool available = false;
};

struct AgentState {
    std::uint32_t limit = 0;
    std::uint32_t assigned = 0;  // accepted and not yet closed (wrapping_up still counts)
    std::uint32_t pending = 0;   // offers waiting for an answer: each holds a slot (R8 D)
    std::uint32_t offers_head = nil;  // the agent's pending offers, oldest first
    std::uint32_t offers_tail = nil;
    std::vector<Membership> memberships;  // sorted by space

    [[nodiscard]] bool has_free_slot() const { return assigned + pending < limit; }

    [[nodiscard]] Membership* membership(std::uint32_t space) {
        auto it = std::lower_bound(memberships.begin(), memberships.end(), space,
                                   [](const Membership& m, std::uint32_t s) { return m.space < s; });
        return it != memberships.end() && it->space == space ? &*it : nullptr;
    }
    [[nodiscard]] const Membership* membership(std::uint32_t space) const {
        return const_cast<AgentState*>(this)->membership(space);
    }
    [[nodiscard]] bool has_role(std::uint32_t space) const {
        const Membership* m = membership(space);
        return m != nullptr && m->role;
    }
};

// The timer lists a space's conversations use, one per kind of deadline.
struct SpaceTimers {
    TimerQueue::ListId offer_timeout = TimerQueue::no_list;
    TimerQueue::ListId accept_window = TimerQueue::no_list;
    TimerQueue::ListId inactivity_warning = TimerQueue::no_list;
    TimerQueue::ListId inactivity_grace = TimerQueue::no_list;
    TimerQueue::ListId max_duration = TimerQueue::no_list;
};

struct SpaceState {
    SpaceTimers timers;
    duration offer_timeout{};
    std::string_view fallback_message;  // interned: stable for the engine's lifetime
    bool chat_enabled = false;
    bool dirty = false;  // may have become routable during this command

    // R9: agents in the order they gained the role; nil where one has left.
    std::vector<std::uint32_t> ring;
    std::uint32_t cursor = 0;     // ring position just past the agent offered to last
    BitIndex eligible;            // ring positions of agents that may be offered now (R8)
    IndexedHeap<std::uint64_t> waiting;  // waiting conversations without an offer, oldest first
};

// A conversation and its work item.
struct ConversationState {
    std::uint64_t start_sequence = 0;  // age: start time, then start order (R10)
    std::uint32_t space = nil;
    std::uint32_t assignee = nil;
    std::uint32_t offered_to = nil;  // the one pending offer (R8), if any
    std::uint32_t offer_prev = nil;  // neighbours in offered_to's list of pending offers
    std::uint32_t offer_next = nil;
    std::uint32_t waiting_position = IndexedHeap<std::uint64_t>::npos;
    std::uint32_t generation = 0;
    Status status = Status::closed;
    bool live = false;
    bool handoff = false;
    bool ended = false;   // the customer-facing conversation is over
    bool warned = false;  // inactivity_warning sent; the grace runs
};

// Each conversation owns three timer nodes, one per concurrent kind.
enum class TimerSlot : std::uint32_t { offer = 0, window = 1, limit = 2 };
inline constexpr std::uint32_t timer_slots = 3;

[[nodiscard]] constexpr TimerQueue::NodeId timer_node(std::uint32_t conversation, TimerSlot slot) {
    return conversation * timer_slots + static_cast<std::uint32_t>(slot);
}

}  // namespace chatroute::detail
