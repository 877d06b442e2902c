#pragma once
// Every deadline of every conversation, in one structure (R25, R26).
//
// Each kind of timer has a fixed duration per space and time only moves forward, so the
// timers of one duration expire in the order they were set: one FIFO list per distinct
// duration keeps them sorted for free (libevent's "common timeouts"). A small heap over
// the lists' heads picks the next deadline. Schedule and cancel are O(1) in the number of
// timers; only the heap of lists, O(log lists), is touched when a head changes.
// Ties fire in the order they were set: the key is (deadline, sequence of setting).

#include <chatroute/clock.hpp>
#include <chatroute/detail/indexed_heap.hpp>

#include <cassert>
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
    using ListId = std::uint16_t;
    static constexpr std::uint32_t nil = 0xFFFF'FFFF;
    static constexpr ListId no_list = 0xFFFF;

    struct Node {
        std::int64_t deadline = 0;
        std::uint64_t sequence = 0;
        std::uint32_t prev = nil;
        std::uint32_t next = nil;
        ListId list = no_list;
    };

    struct List {
        std::int64_t length = 0;
        NodeId head = nil;
        NodeId tail = nil;
        std::uint32_t heap_position = nil;
    };

    struct Due {
        time_point deadline;
        NodeId node;
    };

    // The list for timers of this duration, made on first use.
    ListId list_for(duration length) {
        for (std::size_t i = 0; i < lists_.size(); ++i)
            if (lists_[i].length == length.count()) return static_cast<ListId>(i);
        assert(lists_.size() < no_list);
        lists_.push_back(List{length.count()});
        return static_cast<ListId>(lists_.size() - 1);
    }

    void resize(std::size_t node_count) { nodes_.resize(node_count); }
    void reserve(std::size_t node_count) { nodes_.reserve(node_count); }
    [[nodiscard]] std::size_t node_count() const { return nodes_.size(); }
    [[nodiscard]] std::size_t size() const { return scheduled_; }

    [[nodiscard]] bool scheduled(NodeId id) const { return nodes_[id].list != no_list; }
    [[nodiscard]] time_point deadline(NodeId id) const {
        return time_point{duration{nodes_[id].deadline}};
    }
    [[nodiscard]] const Node& node(NodeId id) const { return nodes_[id]; }

    void schedule(NodeId id, ListId list, time_point now) {
        schedule_exact(id, list, now.time_since_epoch().count() + lists_[list].length, next_sequence_++);
    }

    // For restoring a snapshot: a timer exactly as it was. Nodes must come in sequence order.
    void schedule_exact(NodeId id, ListId list, std::int64_t deadline, std::uint64_t sequence) {
        assert(!scheduled(id));
        Node& node = nodes_[id];
        List& owner = lists_[list];
        assert(owner.tail == nil || nodes_[owner.tail].deadline <= deadline);
        node = Node{deadline, sequence, owner.tail, nil, list};
        if (owner.tail != nil) nodes_[owner.tail].next = id;
        owner.tail = id;
        if (owner.head == nil) {
            owner.head = id;
            heap_.push(key_of(id), list, moved());
        }
        if (sequence >= next_sequence_) next_sequence_ = sequence + 1;
        ++scheduled_;
    }

    void cancel(NodeId id) {
        Node& node = nodes_[id];
        if (node.list == no_list) return;
        List& owner = lists_[node.list];
        const bool was_head = owner.head == id;
        (node.prev != nil ? nodes_[node.prev].next : owner.head) = node.next;
        (node.next != nil ? nodes_[node.next].prev : owner.tail) = node.prev;
        node = Node{};
        --scheduled_;
        if (!was_head) return;
        if (owner.head == nil)
            heap_.erase(owner.heap_position, moved());
        else
            heap_.rekey(owner.heap_position, key_of(owner.head), moved());
    }

    [[nodiscard]] std::optional<Due> next() const {
        if (heap_.empty()) return std::nullopt;
        const NodeId head = lists_[heap_.top().id].head;
        return Due{deadline(head), head};
    }

    [[nodiscard]] std::uint64_t next_sequence() const { return next_sequence_; }
    void set_next_sequence(std::uint64_t sequence) { next_sequence_ = sequence; }
    [[nodiscard]] std::size_t list_count() const { return lists_.size(); }
    [[nodiscard]] duration list_length(ListId list) const { return duration{lists_[list].length}; }

    [[nodiscard]] std::size_t memory_bytes() const {
        return nodes_.capacity() * sizeof(Node) + lists_.capacity() * sizeof(List) +
               heap_.entries().capacity() * sizeof(heap_.top());
    }

private:
    [[nodiscard]] DeadlineKey key_of(NodeId id) const { return {nodes_[id].deadline, nodes_[id].sequence}; }

    struct ListMoved {
        std::vector<List>* lists;
        void operator()(std::uint32_t list, std::uint32_t position) const { (*lists)[list].heap_position = position; }
    };
    ListMoved moved() { return {&lists_}; }

    std::vector<Node> nodes_;
    std::vector<List> lists_;
    IndexedHeap<DeadlineKey> heap_;
    std::uint64_t next_sequence_ = 0;
    std::size_t scheduled_ = 0;
};

}  // namespace chatroute::detail
