#pragma once
// Every deadline of every conversation, in one structure (R25, R26, R38).
//
// Each kind of timer has a fixed duration per space and time only moves forward, so the
// timers of one duration expire in the order they were set: one FIFO list per distinct
// duration keeps them sorted for free (libevent's "common timeouts"). A small heap over
// the lists' heads picks the next deadline. Schedule and cancel are O(1) in the number of
// timers; only the heap of lists, O(log lists), is touched when a head changes.
//
// Order of firing (R25: ties fire in the order they were set) needs no sequence number.
// Of two timers due at one instant, the one with the longer duration was set at an
// earlier instant, and time only moves forward, so it was set first. Two timers due at
// one instant with one duration were set at one instant, and are on one list, whose
// order is the order they were set. So a timer's key is (deadline, -duration), then its
// place in its list; every timer the engine keeps (conversations' and agents' returns
// alike) is in this one queue so that the rule holds across all of them. Without a sequence a node is 16 bytes, and a
// conversation's four nodes share one 64-byte line (decision 70).
//
// Lists (R38): a list is found by its duration in O(1) through a HashIndex keyed by the
// duration's count, and list ids are 32 bits, so any number of distinct durations works.
// A node does not name its list. The head's `prev` and the tail's `next` carry the list
// id with the top bit set, so unlinking a node from the middle needs no list at all and
// one at an end finds its list in the link it already reads.
//
// Two tables: nodes live in two tables that grow apart, one per kind of owner (conversation
// slots; return records). The second-highest bit of a node id names its table.
//
// Lists are reference-counted: acquire() takes a reference, release() gives it back. A
// list with no references and no scheduled timers is freed at once and its id reused
// (most recently freed first, so reuse is deterministic); a list released while timers
// remain on it stays findable (acquire() revives it) and is freed when its last timer
// leaves. Memory is therefore proportional to the durations in use, however many
// configurations came and went.

#include <chatroute/clock.hpp>
#include <chatroute/detail/chunked_vector.hpp>
#include <chatroute/detail/hash_index.hpp>
#include <chatroute/detail/indexed_heap.hpp>

#include <algorithm>
#include <compare>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace chatroute::detail {

/// The order of firing: deadline (µs), then the longer duration first (it was set
/// earlier). Within one list, place in the list breaks the remaining ties.
struct DeadlineKey {
    std::int64_t deadline = 0;
    std::int64_t minus_length = 0;  ///< -duration in µs (durations are positive)
    friend constexpr auto operator<=>(const DeadlineKey&, const DeadlineKey&) = default;
};

class TimerQueue {
public:
    using NodeId = std::uint32_t;
    using ListId = std::uint32_t;
    static constexpr std::uint32_t nil = 0xFFFF'FFFF;
    static constexpr ListId no_list = 0xFFFF'FFFF;

    /// Both links nil: not scheduled. A link with `end_tag` set is an end of the list it
    /// names (the head's prev, the tail's next); node and list ids stay below end_tag.
    struct Node {
        std::int64_t deadline = 0;
        std::uint32_t prev = nil;
        std::uint32_t next = nil;
    };
    static constexpr std::uint32_t end_tag = 0x8000'0000;
    /// Set in the ids of the second table's nodes; below it, the first table's.
    static constexpr NodeId second = 0x4000'0000;

    struct List {
        std::int64_t length = 0;
        NodeId head = nil;
        NodeId tail = nil;
        std::uint32_t heap_position = nil;
        std::uint32_t refs = 0;  // acquire() minus release()
        ListId next_free = no_list;
        bool live = false;
    };

    struct Due {
        time_point deadline;
        NodeId node;
    };

    /// A scheduled timer, for snapshots.
    struct Timer {
        NodeId node;
        std::int64_t deadline;
        duration length;
    };

    // The list for timers of this duration, made on first use; takes a reference
    // (refcount + 1) either way. O(1) expected (one HashIndex probe).
    ListId acquire(duration length) {
        const auto key = static_cast<std::uint64_t>(length.count());
        if (const auto found = by_length_.find(key)) {
            ++lists_[*found].refs;
            return *found;
        }
        ListId id;
        if (free_list_ != no_list) {
            id = free_list_;
            free_list_ = lists_[id].next_free;
        } else {
            CHATROUTE_ASSERT(lists_.size() < end_tag - 1);  // its tag must not read as nil
            id = static_cast<ListId>(lists_.size());
            lists_.emplace_back();
        }
        lists_[id] = List{};
        lists_[id].length = length.count();
        lists_[id].refs = 1;
        lists_[id].live = true;
        by_length_.insert(key, id);
        ++live_lists_;
        return id;
    }

    // Gives back a reference taken by acquire() or list_for(). When the last reference
    // goes and no timer is scheduled on the list, the list is freed and its id may be
    // reused by the next acquire() of any duration; with timers still on it, it is freed
    // when the last of them leaves. O(1) expected.
    void release(ListId list) {
        CHATROUTE_ASSERT(list < lists_.size() && lists_[list].live && lists_[list].refs > 0);
        if (--lists_[list].refs == 0 && lists_[list].head == nil) free_list(list);
    }

    // The same as acquire(): finds or makes the list and takes a reference. Kept for the
    // callers that never release (their lists then live as long as the queue).
    ListId list_for(duration length) { return acquire(length); }

    // The live list for this duration, without taking a reference. O(1) expected.
    [[nodiscard]] std::optional<ListId> find_list(duration length) const {
        if (const auto found = by_length_.find(static_cast<std::uint64_t>(length.count()))) return ListId{*found};
        return std::nullopt;
    }

    // Node ids 0 .. node_count - 1 of the first table; second-table ids are `second | i`
    // for i below second_count.
    void resize(std::size_t node_count) {
        CHATROUTE_ASSERT(node_count <= second);
        nodes_.resize(node_count);
    }
    void resize_second(std::size_t node_count) {
        CHATROUTE_ASSERT(node_count <= second);
        seconds_.resize(node_count);
    }
    void reserve(std::size_t node_count) { nodes_.reserve(node_count); }
    [[nodiscard]] std::size_t node_count() const { return nodes_.size(); }
    [[nodiscard]] std::size_t second_count() const { return seconds_.size(); }
    [[nodiscard]] std::size_t size() const { return scheduled_; }

    [[nodiscard]] bool scheduled(NodeId id) const { return at(id).prev != nil || at(id).next != nil; }
    [[nodiscard]] time_point deadline(NodeId id) const { return time_point{duration{at(id).deadline}}; }
    [[nodiscard]] const Node& node(NodeId id) const { return at(id); }

    // Sets timer `id` to fire at now + the list's duration. `now` must not be before the
    // instant of any earlier schedule() (the engine's clock only moves forward, R26).
    // O(1), plus O(log lists) if the list was empty.
    void schedule(NodeId id, ListId list, time_point now) {
        CHATROUTE_ASSERT(list < lists_.size() && lists_[list].live);
        const std::int64_t instant = now.time_since_epoch().count();
        CHATROUTE_ASSERT(instant >= latest_set_, "a timer set at an instant before an earlier one's");
        latest_set_ = instant;
        schedule_exact(id, list, instant + lists_[list].length);
    }

    // Whether a timer with this deadline may join the list's tail: deadlines within a
    // list never decrease. Restoring checks it first, so bytes that break it are refused.
    // O(1).
    [[nodiscard]] bool appendable(ListId list, std::int64_t deadline) const {
        const NodeId tail = lists_[list].tail;
        return tail == nil || at(tail).deadline <= deadline;
    }

    // For restoring a snapshot: a timer exactly as it was, at its list's tail (see
    // appendable()). O(1), plus O(log lists) if the list was empty.
    void schedule_exact(NodeId id, ListId list, std::int64_t deadline) {
        CHATROUTE_ASSERT(!scheduled(id));
        CHATROUTE_ASSERT(list < lists_.size() && lists_[list].live);
        List& owner = lists_[list];
        CHATROUTE_ASSERT(appendable(list, deadline));
        at(id) = Node{deadline, owner.tail == nil ? end_tag | list : owner.tail, end_tag | list};
        if (owner.tail != nil) at(owner.tail).next = id;
        owner.tail = id;
        if (owner.head == nil) {
            owner.head = id;
            heap_.push(key_of(id, owner), list, moved());
        }
        ++scheduled_;
    }

    // Removes timer `id` if it is scheduled (a no-op otherwise). O(1), plus O(log lists)
    // if it was its list's head. Frees its list if it was the last timer of a list with no
    // references left.
    void cancel(NodeId id) {
        Node& slot = at(id);
        const Node node = slot;
        if (node.prev == nil && node.next == nil) return;
        slot = Node{};
        --scheduled_;
        const bool head = (node.prev & end_tag) != 0;
        const bool tail = (node.next & end_tag) != 0;
        if (!head && !tail) {  // the middle: the neighbours only, no list
            at(node.prev).next = node.next;
            at(node.next).prev = node.prev;
            return;
        }
        const ListId list = (head ? node.prev : node.next) & ~end_tag;
        List& owner = lists_[list];
        if (head && tail) {
            owner.head = owner.tail = nil;
            heap_.erase(owner.heap_position, moved());
            if (owner.refs == 0) free_list(list);
        } else if (head) {
            owner.head = node.next;
            at(node.next).prev = node.prev;
            heap_.rekey(owner.heap_position, key_of(node.next, owner), moved());
        } else {
            owner.tail = node.prev;
            at(node.prev).next = node.next;
        }
    }

    // The list a scheduled timer is on: walks to its list's tail, O(timers after it). For
    // tests and checks.
    [[nodiscard]] ListId list_of(NodeId id) const {
        CHATROUTE_ASSERT(scheduled(id));
        NodeId node = id;
        while (after(node) != nil) node = after(node);
        return at(node).next & ~end_tag;
    }

    // Every scheduled timer in the order it would fire: by key, then by place in its list.
    // One walk of each live list and a sort, O(lists + timers · log timers). For snapshots.
    [[nodiscard]] std::vector<Timer> in_firing_order() const {
        struct Placed {
            DeadlineKey key;
            std::uint64_t place;
            Timer timer;
        };
        std::vector<Placed> all;
        all.reserve(scheduled_);
        for (ListId list = 0; list < lists_.size(); ++list) {
            const List& owner = lists_[list];
            std::uint64_t place = 0;
            for (NodeId node = owner.live ? owner.head : nil; node != nil; node = after(node))
                all.push_back({key_of(node, owner), place++, {node, at(node).deadline, duration{owner.length}}});
        }
        std::sort(all.begin(), all.end(), [](const Placed& x, const Placed& y) {
            return x.key != y.key ? x.key < y.key : x.place < y.place;
        });
        std::vector<Timer> timers;
        timers.reserve(all.size());
        for (const Placed& p : all) timers.push_back(p.timer);
        return timers;
    }

    // The timer that fires first: least key, first in its list. O(1).
    [[nodiscard]] std::optional<Due> next() const {
        if (heap_.empty()) return std::nullopt;
        const NodeId head = lists_[heap_.top().id].head;
        return Due{deadline(head), head};
    }

    // The key of the timer that fires first. O(1).
    [[nodiscard]] std::optional<DeadlineKey> next_key() const {
        if (heap_.empty()) return std::nullopt;
        return heap_.top().key;
    }

    // List ids in use or free: ids are below this. A freed id is not live (list_live()).
    [[nodiscard]] std::size_t list_count() const { return lists_.size(); }
    [[nodiscard]] std::size_t live_list_count() const { return live_lists_; }
    [[nodiscard]] bool list_live(ListId list) const { return list < lists_.size() && lists_[list].live; }
    [[nodiscard]] std::uint32_t list_refs(ListId list) const { return lists_[list].refs; }
    // Timers on the list: walks it, O(its timers); for tests and checks.
    [[nodiscard]] std::size_t list_timers(ListId list) const {
        std::size_t count = 0;
        for (NodeId node = lists_[list].head; node != nil; node = after(node)) ++count;
        return count;
    }
    [[nodiscard]] duration list_length(ListId list) const { return duration{lists_[list].length}; }

    [[nodiscard]] std::size_t memory_bytes() const {
        return nodes_.memory_bytes() + seconds_.memory_bytes() + lists_.capacity() * sizeof(List) +
               heap_.entries().capacity() * sizeof(heap_.top()) + by_length_.memory_bytes();
    }

private:
    // A node by id, in its table. Second-table ids are rare (agents' returns), so the
    // branch is predicted.
    CHATROUTE_DETAIL_ALWAYS_INLINE Node& at(NodeId id) {
        return (id & second) ? seconds_[id & ~second] : nodes_[id];
    }
    CHATROUTE_DETAIL_ALWAYS_INLINE const Node& at(NodeId id) const {
        return (id & second) ? seconds_[id & ~second] : nodes_[id];
    }

    // The timer after `node` on its list; nil at the tail.
    [[nodiscard]] NodeId after(NodeId node) const { return (at(node).next & end_tag) ? nil : at(node).next; }

    [[nodiscard]] DeadlineKey key_of(NodeId id, const List& owner) const {
        return {at(id).deadline, -owner.length};
    }

    void free_list(ListId list) {
        List& owner = lists_[list];
        CHATROUTE_ASSERT(owner.live && owner.refs == 0 && owner.head == nil);
        by_length_.erase(static_cast<std::uint64_t>(owner.length));
        owner = List{};
        owner.next_free = free_list_;
        free_list_ = list;
        --live_lists_;
    }

    struct ListMoved {
        std::vector<List>* lists;
        void operator()(std::uint32_t list, std::uint32_t position) const { (*lists)[list].heap_position = position; }
    };
    ListMoved moved() { return {&lists_}; }

    ChunkedVector<Node> nodes_;    ///< the first table; grows by chunks: slack ≤ one chunk (issue 13)
    ChunkedVector<Node> seconds_;  ///< the second table
    std::vector<List> lists_;
    HashIndex by_length_;  // duration count -> live list
    ListId free_list_ = no_list;
    std::size_t live_lists_ = 0;
    IndexedHeap<DeadlineKey> heap_;
    std::size_t scheduled_ = 0;
    std::int64_t latest_set_ = std::numeric_limits<std::int64_t>::min();  // the order of firing needs it
};

}  // namespace chatroute::detail
