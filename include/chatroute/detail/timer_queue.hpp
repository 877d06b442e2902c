#pragma once
// Every deadline of every conversation, in one structure (R25, R26, R38).
//
// Each kind of timer has a fixed duration per space and time only moves forward, so the
// timers of one duration expire in the order they were set: one FIFO list per distinct
// duration keeps them sorted for free (libevent's "common timeouts"). A small heap over
// the lists' heads picks the next deadline. Schedule and cancel are O(1) in the number of
// timers; only the heap of lists, O(log lists), is touched when a head changes.
// Ties fire in the order they were set: the key is (deadline, sequence of setting).
//
// Lists (R38): a list is found by its duration in O(1) through a HashIndex keyed by the
// duration's count, and list ids are 32 bits, so any number of distinct durations works.
// Nodes are 24 bytes (issue 13: a quarter of the engine's bytes were timer nodes): a node
// does not name its list. The head's `prev` and the tail's `next` carry the list id with
// the top bit set, so unlinking a node from the middle needs no list at all and one at an
// end finds its list in the link it already reads.
//
// Lists are reference-counted: acquire() takes a reference, release() gives it back. A
// list with no references and no scheduled timers is freed at once and its id reused
// (most recently freed first, so reuse is deterministic); a list released while timers
// remain on it stays findable (acquire() revives it) and is freed when its last timer
// leaves. Memory is therefore proportional to the durations in use, however many
// configurations came and went.
//
// Sequences: schedule(id, list, now) draws the next sequence from this queue's counter;
// schedule(id, list, now, sequence) takes it from the caller, so two queues can share one
// counter and be merged by next_key(). Within a list, keys must come in increasing
// (deadline, sequence) order, which a shared, increasing counter and a clock that only
// moves forward guarantee.

#include <chatroute/clock.hpp>
#include <chatroute/detail/chunked_vector.hpp>
#include <chatroute/detail/hash_index.hpp>
#include <chatroute/detail/indexed_heap.hpp>

#include <compare>
#include <cstdint>
#include <optional>
#include <vector>

namespace chatroute::detail {

struct DeadlineKey {
    std::int64_t deadline = 0;
    std::uint64_t sequence = 0;
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
        std::uint64_t sequence = 0;
        std::uint32_t prev = nil;
        std::uint32_t next = nil;
    };
    static constexpr std::uint32_t end_tag = 0x8000'0000;

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

    void resize(std::size_t node_count) {
        CHATROUTE_ASSERT(node_count <= end_tag);
        nodes_.resize(node_count);
    }
    void reserve(std::size_t node_count) { nodes_.reserve(node_count); }
    [[nodiscard]] std::size_t node_count() const { return nodes_.size(); }
    [[nodiscard]] std::size_t size() const { return scheduled_; }

    [[nodiscard]] bool scheduled(NodeId id) const { return nodes_[id].prev != nil || nodes_[id].next != nil; }
    [[nodiscard]] time_point deadline(NodeId id) const {
        return time_point{duration{nodes_[id].deadline}};
    }
    [[nodiscard]] const Node& node(NodeId id) const { return nodes_[id]; }

    // Sets timer `id` to fire at now + the list's duration, with the queue's own next
    // sequence. O(1), plus O(log lists) if the list was empty.
    void schedule(NodeId id, ListId list, time_point now) { schedule(id, list, now, next_sequence_); }

    // The same with a sequence from the caller (a counter shared by several queues). It
    // must be greater than that of every timer still on the list with the same deadline.
    void schedule(NodeId id, ListId list, time_point now, std::uint64_t sequence) {
        CHATROUTE_ASSERT(list < lists_.size() && lists_[list].live);
        schedule_exact(id, list, now.time_since_epoch().count() + lists_[list].length, sequence);
    }

    // Whether a timer with this deadline and sequence may join the list's tail: keys within
    // a list increase. Restoring checks it first, so bytes that break it are refused. O(1).
    [[nodiscard]] bool appendable(ListId list, std::int64_t deadline, std::uint64_t sequence) const {
        const NodeId tail = lists_[list].tail;
        return tail == nil || key_of(tail) < DeadlineKey{deadline, sequence};
    }

    // For restoring a snapshot: a timer exactly as it was. Within a list, timers must come
    // in increasing (deadline, sequence) order. O(1), plus O(log lists) if the list was
    // empty.
    void schedule_exact(NodeId id, ListId list, std::int64_t deadline, std::uint64_t sequence) {
        CHATROUTE_ASSERT(id < nodes_.size() && !scheduled(id));
        CHATROUTE_ASSERT(list < lists_.size() && lists_[list].live);
        Node& node = nodes_[id];
        List& owner = lists_[list];
        CHATROUTE_ASSERT((owner.tail == nil || key_of(owner.tail) < DeadlineKey{deadline, sequence}));
        node = Node{deadline, sequence, owner.tail == nil ? end_tag | list : owner.tail, end_tag | list};
        if (owner.tail != nil) nodes_[owner.tail].next = id;
        owner.tail = id;
        if (owner.head == nil) {
            owner.head = id;
            heap_.push(key_of(id), list, moved());
        }
        if (sequence >= next_sequence_) next_sequence_ = sequence + 1;
        ++scheduled_;
    }

    // Removes timer `id` if it is scheduled (a no-op otherwise). O(1), plus O(log lists)
    // if it was its list's head. Frees its list if it was the last timer of a list with no
    // references left.
    void cancel(NodeId id) {
        const Node node = nodes_[id];
        if (node.prev == nil && node.next == nil) return;
        nodes_[id] = Node{};
        --scheduled_;
        const bool head = (node.prev & end_tag) != 0;
        const bool tail = (node.next & end_tag) != 0;
        if (!head && !tail) {  // the middle: the neighbours only, no list
            nodes_[node.prev].next = node.next;
            nodes_[node.next].prev = node.prev;
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
            nodes_[node.next].prev = node.prev;
            heap_.rekey(owner.heap_position, key_of(node.next), moved());
        } else {
            owner.tail = node.prev;
            nodes_[node.prev].next = node.next;
        }
    }

    // The list a scheduled timer is on: walks to its list's tail, O(timers after it). For
    // snapshots and checks, which visit every list once through lists_of().
    [[nodiscard]] ListId list_of(NodeId id) const {
        CHATROUTE_ASSERT(scheduled(id));
        NodeId at = id;
        while (after(at) != nil) at = after(at);
        return nodes_[at].next & ~end_tag;
    }

    // Every node's list (no_list where nothing is scheduled), indexed by node: one walk of
    // each live list, O(lists + timers). For snapshots.
    [[nodiscard]] std::vector<ListId> lists_of() const {
        std::vector<ListId> of(nodes_.size(), no_list);
        for (ListId list = 0; list < lists_.size(); ++list)
            for (NodeId at = lists_[list].live ? lists_[list].head : nil; at != nil; at = after(at)) of[at] = list;
        return of;
    }

    // The timer that fires first: least (deadline, sequence). O(1).
    [[nodiscard]] std::optional<Due> next() const {
        if (heap_.empty()) return std::nullopt;
        const NodeId head = lists_[heap_.top().id].head;
        return Due{deadline(head), head};
    }

    // The (deadline, sequence) of the timer that fires first, to merge several queues. O(1).
    [[nodiscard]] std::optional<DeadlineKey> next_key() const {
        if (heap_.empty()) return std::nullopt;
        return heap_.top().key;
    }

    [[nodiscard]] std::uint64_t next_sequence() const { return next_sequence_; }
    void set_next_sequence(std::uint64_t sequence) { next_sequence_ = sequence; }

    // List ids in use or free: ids are below this. A freed id is not live (list_live()).
    [[nodiscard]] std::size_t list_count() const { return lists_.size(); }
    [[nodiscard]] std::size_t live_list_count() const { return live_lists_; }
    [[nodiscard]] bool list_live(ListId list) const { return list < lists_.size() && lists_[list].live; }
    [[nodiscard]] std::uint32_t list_refs(ListId list) const { return lists_[list].refs; }
    // Timers on the list: walks it, O(its timers); for tests and checks.
    [[nodiscard]] std::size_t list_timers(ListId list) const {
        std::size_t count = 0;
        for (NodeId at = lists_[list].head; at != nil; at = after(at)) ++count;
        return count;
    }
    [[nodiscard]] duration list_length(ListId list) const { return duration{lists_[list].length}; }

    [[nodiscard]] std::size_t memory_bytes() const {
        return nodes_.memory_bytes() + lists_.capacity() * sizeof(List) +
               heap_.entries().capacity() * sizeof(heap_.top()) + by_length_.memory_bytes();
    }

private:
    // The timer after `at` on its list; nil at the tail.
    [[nodiscard]] NodeId after(NodeId at) const { return (nodes_[at].next & end_tag) ? nil : nodes_[at].next; }

    [[nodiscard]] DeadlineKey key_of(NodeId id) const { return {nodes_[id].deadline, nodes_[id].sequence}; }

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

    ChunkedVector<Node> nodes_;  ///< grows by chunks: slack ≤ one chunk (issue 13)
    std::vector<List> lists_;
    HashIndex by_length_;  // duration count -> live list
    ListId free_list_ = no_list;
    std::size_t live_lists_ = 0;
    IndexedHeap<DeadlineKey> heap_;
    std::uint64_t next_sequence_ = 0;
    std::size_t scheduled_ = 0;
};

}  // namespace chatroute::detail
