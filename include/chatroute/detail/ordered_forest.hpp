#pragma once
// OrderedForest: many small ordered sets sharing one node pool (R9, R38).
//
// Each set is a treap keyed by `order` (unique within its tree). The caller owns a
// `Tree` (just a root index), so a space, an agent or a queue can hold one without an
// allocation of its own; every node lives in one std::vector<Node>, so after warm-up
// nothing allocates unless the live node count passes its high-water mark (ranked, with
// a free list) or a larger id arrives (by id).
//
// Every node keeps the minimum `value` in its subtree (for "best entry" queries); a
// ranked forest's nodes also keep their subtree's size (for rank queries). The central
// query is min_from(): among the entries whose value is the tree's minimum, the first at
// or after a cursor in ring order — "the best candidate, first in ring order from the
// cursor".
//
// Two kinds of node (ForestNodes): a ranked forest pools its nodes, each with the
// caller's id and a subtree size (count_less, select and size answer from them; 40 B). A
// forest by id makes the caller's id the node's index, since each id is in one tree at
// most: it stores neither id nor size, so a node is 32 B and never straddles two cache
// lines (issue 13: the roster's rings; a 40 B node straddles one line in two).
//
// Cost: insert, erase, set_value, contains, find, count_less, select, first, min_from are
// O(log n) expected (treap depth); min_value and size are O(1). Recursion depth is the
// tree depth, O(log n) expected.
//
// Determinism: a node's priority is mix64(order), a fixed function, so the same entries
// give the same shape in any process and in any insertion order (a treap's shape depends
// only on its (key, priority) pairs). mix64 is a bijection, so priorities never tie
// within a tree. Nothing depends on pointer values or randomness.

#include <chatroute/detail/hash_index.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace chatroute::detail {

/// What an OrderedForest's nodes carry besides the tree (see above).
enum class ForestNodes : bool {
    ranked,  ///< pooled; each node has the caller's id and its subtree's size: 40 B
    by_id,   ///< node i is the caller's id i, in one tree at most; no sizes: 32 B
};

namespace forest {
inline constexpr std::uint32_t nil = 0xFFFF'FFFF;

template <ForestNodes>
struct Node;
template <>
struct Node<ForestNodes::ranked> {
    std::uint64_t order = 0;
    std::int64_t value = 0;
    std::int64_t min = 0;  // smallest value in this subtree
    std::uint32_t id = 0;
    std::uint32_t left = nil;  // also the free list's link
    std::uint32_t right = nil;
    std::uint32_t size = 0;  // 0 marks a free node
};
template <>
struct alignas(32) Node<ForestNodes::by_id> {
    std::uint64_t order = 0;
    std::int64_t value = 0;
    std::int64_t min = 0;
    std::uint32_t left = nil;
    std::uint32_t right = nil;
};
static_assert(sizeof(Node<ForestNodes::by_id>) == 32, "two nodes to a cache line, none across two");
}  // namespace forest

template <ForestNodes Kind = ForestNodes::ranked>
class OrderedForest {
    static constexpr bool ranked = Kind == ForestNodes::ranked;

public:
    static constexpr std::uint32_t nil = forest::nil;

    struct Tree {
        std::uint32_t root = nil;
    };

    struct Entry {
        std::uint64_t order;
        std::int64_t value;
        std::uint32_t id;
        friend constexpr bool operator==(const Entry&, const Entry&) = default;
    };

    // Adds an entry. Precondition: `order` is not in the tree; in a forest by id, `id` is
    // in no tree. O(log n) expected.
    void insert(Tree& tree, std::uint64_t order, std::int64_t value, std::uint32_t id) {
        const std::uint32_t n = allocate(order, value, id);  // before any index is held
        tree.root = insert_at(tree.root, n);
    }

    // Removes an entry. Precondition: `order` is in the tree. O(log n) expected.
    void erase(Tree& tree, std::uint64_t order) { tree.root = erase_at(tree.root, order); }

    [[nodiscard]] bool contains(const Tree& tree, std::uint64_t order) const { return locate(tree, order) != nil; }

    // The entry with this order, if any. O(log n) expected.
    [[nodiscard]] std::optional<Entry> find(const Tree& tree, std::uint64_t order) const {
        const std::uint32_t n = locate(tree, order);
        if (n == nil) return std::nullopt;
        return entry(n);
    }

    // Changes an entry's value and the minima above it. Precondition: `order` is in the
    // tree. O(log n) expected.
    void set_value(Tree& tree, std::uint64_t order, std::int64_t value) { set_value_at(tree.root, order, value); }

    [[nodiscard]] std::size_t size(const Tree& tree) const
        requires(ranked)
    {
        return size_of(tree.root);
    }
    [[nodiscard]] bool empty(const Tree& tree) const { return tree.root == nil; }

    // How many entries have an order smaller than `order` (present or not). O(log n).
    [[nodiscard]] std::size_t count_less(const Tree& tree, std::uint64_t order) const
        requires(ranked)
    {
        std::size_t count = 0;
        for (std::uint32_t t = tree.root; t != nil;) {
            const Node& node = nodes_[t];
            if (node.order < order) {
                count += size_of(node.left) + 1;
                t = node.right;
            } else {
                t = node.left;
            }
        }
        return count;
    }

    // The entry of rank `rank` (0 = smallest order), if rank < size. O(log n) expected.
    [[nodiscard]] std::optional<Entry> select(const Tree& tree, std::size_t rank) const
        requires(ranked)
    {
        for (std::uint32_t t = tree.root; t != nil;) {
            const Node& node = nodes_[t];
            const std::size_t left = size_of(node.left);
            if (rank < left) {
                t = node.left;
            } else if (rank == left) {
                return entry(t);
            } else {
                rank -= left + 1;
                t = node.right;
            }
        }
        return std::nullopt;
    }

    // The entry with the smallest order. O(log n) expected.
    [[nodiscard]] std::optional<Entry> first(const Tree& tree) const {
        if (tree.root == nil) return std::nullopt;
        std::uint32_t t = tree.root;
        while (nodes_[t].left != nil) t = nodes_[t].left;
        return entry(t);
    }

    // The smallest value in the tree. O(1).
    [[nodiscard]] std::optional<std::int64_t> min_value(const Tree& tree) const {
        if (tree.root == nil) return std::nullopt;
        return nodes_[tree.root].min;
    }

    // Among the entries whose value equals min_value(), the one with the smallest order
    // >= from; if there is none, the one with the smallest order overall (a cyclic search
    // starting at `from`). Empty tree: nullopt. O(log n) expected: one walk down the
    // boundary at `from`, pruned by the subtree minima, plus one walk to a leftmost
    // minimum.
    [[nodiscard]] std::optional<Entry> min_from(const Tree& tree, std::uint64_t from) const {
        if (tree.root == nil) return std::nullopt;
        const std::int64_t best = nodes_[tree.root].min;
        std::uint32_t n = first_min_at_or_after(tree.root, from, best);
        if (n == nil) n = first_min(tree.root, best);
        CHATROUTE_ASSERT(n != nil);
        return entry(n);
    }

    // min_from() as if the entry with order `except` were not in the tree (R12: a
    // decline's re-offer skips the decliner without taking it out). Precondition: `except`
    // is in the tree. nullopt if it is the only entry. O(log n) expected: at most one
    // min_from(), one walk down to `except`, and one search pruned by the subtree minima
    // whose fruitless branches lie on the paths to `from` and to `except`.
    [[nodiscard]] std::optional<Entry> min_from_except(const Tree& tree, std::uint64_t from,
                                                       std::uint64_t except) const {
        CHATROUTE_ASSERT(tree.root != nil);
        if (nodes_[tree.root].left == nil && nodes_[tree.root].right == nil) return std::nullopt;
        const std::int64_t best = nodes_[tree.root].min;
        std::uint32_t n = first_min_at_or_after(tree.root, from, best);
        if (n == nil) n = first_min(tree.root, best);
        if (nodes_[n].order != except) return entry(n);  // the same answer with or without it
        // `except` is the first of the best from `from`: the best value without it...
        std::int64_t without = std::numeric_limits<std::int64_t>::max();
        for (std::uint32_t t = tree.root;;) {
            CHATROUTE_ASSERT(t != nil);  // precondition: present
            const Node& node = nodes_[t];
            const bool here = node.order == except;
            if (!here && node.value < without) without = node.value;
            if ((here || except > node.order) && node.left != nil && nodes_[node.left].min < without)
                without = nodes_[node.left].min;
            if ((here || except < node.order) && node.right != nil && nodes_[node.right].min < without)
                without = nodes_[node.right].min;
            if (here) break;
            t = except < node.order ? node.left : node.right;
        }
        // ...and the first entry of that value other than `except`, cyclically from `from`.
        n = first_value_at_or_after(tree.root, from, without, except);
        if (n == nil) n = first_value_at_or_after(tree.root, 0, without, except);
        CHATROUTE_ASSERT(n != nil);
        return entry(n);
    }

    // Calls f(Entry) for every entry in increasing order. O(n).
    template <class F>
    void for_each(const Tree& tree, F&& f) const {
        for_each_at(tree.root, f);
    }

    // Removes every entry of the tree, returning its nodes to the pool. O(n).
    void clear(Tree& tree) {
        clear_at(tree.root);
        tree.root = nil;
    }

    // Levels from the root to the deepest leaf (0 for an empty tree). O(n); for tests
    // and diagnostics.
    [[nodiscard]] std::size_t height(const Tree& tree) const { return height_at(tree.root); }

    void reserve(std::size_t nodes) { nodes_.reserve(nodes); }
    [[nodiscard]] std::size_t memory_bytes() const { return nodes_.capacity() * sizeof(Node); }
    // Nodes in the pool, live or free: the high-water mark of live entries (ranked), or
    // the largest id ever inserted plus one (by id).
    [[nodiscard]] std::size_t node_count() const { return nodes_.size(); }
    // Entries in all trees together.
    [[nodiscard]] std::size_t live_count() const { return live_; }

private:
    using Node = forest::Node<Kind>;

    [[nodiscard]] static std::uint64_t priority(std::uint64_t order) { return mix64(order); }
    [[nodiscard]] std::size_t size_of(std::uint32_t t) const {
        if constexpr (ranked) return t == nil ? 0 : nodes_[t].size;
        return 0;
    }
    [[nodiscard]] Entry entry(std::uint32_t n) const {
        if constexpr (ranked)
            return {nodes_[n].order, nodes_[n].value, nodes_[n].id};
        else
            return {nodes_[n].order, nodes_[n].value, n};
    }

    // Subtree sizes, in a ranked forest only.
    void add_size(Node& node, std::int64_t delta) {
        if constexpr (ranked) node.size = static_cast<std::uint32_t>(node.size + delta);
    }

    void update(std::uint32_t t) {
        Node& node = nodes_[t];
        if constexpr (ranked) node.size = 1;
        node.min = node.value;
        if (node.left != nil) {
            add_size(node, size_of(node.left));
            if (nodes_[node.left].min < node.min) node.min = nodes_[node.left].min;
        }
        if (node.right != nil) {
            add_size(node, size_of(node.right));
            if (nodes_[node.right].min < node.min) node.min = nodes_[node.right].min;
        }
    }

    std::uint32_t allocate(std::uint64_t order, std::int64_t value, std::uint32_t id) {
        std::uint32_t n = id;
        if constexpr (ranked) {
            if (free_ != nil) {
                n = free_;
                free_ = nodes_[n].left;
            } else {
                CHATROUTE_ASSERT(nodes_.size() < nil);
                n = static_cast<std::uint32_t>(nodes_.size());
                nodes_.emplace_back();
            }
            nodes_[n] = Node{order, value, value, id, nil, nil, 1};
        } else {
            CHATROUTE_ASSERT(id < nil);
            if (id >= nodes_.size()) nodes_.resize(std::size_t{id} + 1);
            nodes_[n] = Node{order, value, value, nil, nil};
        }
        ++live_;
        return n;
    }

    void release(std::uint32_t n) {
        nodes_[n] = Node{};
        if constexpr (ranked) {
            nodes_[n].left = free_;
            free_ = n;
        }
        --live_;
    }

    [[nodiscard]] std::uint32_t locate(const Tree& tree, std::uint64_t order) const {
        std::uint32_t t = tree.root;
        while (t != nil && nodes_[t].order != order) t = order < nodes_[t].order ? nodes_[t].left : nodes_[t].right;
        return t;
    }

    // After t lost the entries of subtree `gone` (split off it): its size drops by theirs;
    // its minimum stays when t's own value is it (always so with equal values), else it is
    // recomputed from the children. Touches no node off the path where it can.
    void shrink(std::uint32_t t, std::uint32_t gone) {
        Node& node = nodes_[t];
        if (node.value == node.min) {
            add_size(node, -static_cast<std::int64_t>(size_of(gone)));
        } else {
            update(t);
        }
    }

    // Splits t into (orders < key, orders > key); key itself must not be present.
    void split(std::uint32_t t, std::uint64_t key, std::uint32_t& less, std::uint32_t& greater) {
        if (t == nil) {
            less = greater = nil;
            return;
        }
        CHATROUTE_ASSERT(nodes_[t].order != key);
        if (nodes_[t].order < key) {
            split(nodes_[t].right, key, nodes_[t].right, greater);
            less = t;
            shrink(t, greater);
        } else {
            split(nodes_[t].left, key, less, nodes_[t].left);
            greater = t;
            shrink(t, less);
        }
    }

    // Joins two treaps, every order in a below every order in b. The root kept gains the
    // other's size and minimum, so no node off the merge path is read.
    std::uint32_t merge(std::uint32_t a, std::uint32_t b) {
        if (a == nil) return b;
        if (b == nil) return a;
        Node& x = nodes_[a];
        Node& y = nodes_[b];
        if (priority(x.order) > priority(y.order)) {
            add_size(x, size_of(b));
            if (y.min < x.min) x.min = y.min;
            x.right = merge(x.right, b);
            return a;
        }
        add_size(y, size_of(a));
        if (x.min < y.min) y.min = x.min;
        y.left = merge(a, y.left);
        return b;
    }

    std::uint32_t insert_at(std::uint32_t t, std::uint32_t n) {
        if (t == nil) return n;
        const std::uint64_t order = nodes_[n].order;
        CHATROUTE_ASSERT(nodes_[t].order != order);  // precondition: not present
        if (priority(order) > priority(nodes_[t].order)) {
            std::uint32_t less = nil;
            std::uint32_t greater = nil;
            split(t, order, less, greater);
            nodes_[n].left = less;
            nodes_[n].right = greater;
            update(n);
            return n;
        }
        // t's subtree gains the one entry n: its size and minimum follow without a look at
        // the other child.
        if (order < nodes_[t].order) {
            const std::uint32_t child = insert_at(nodes_[t].left, n);
            nodes_[t].left = child;
        } else {
            const std::uint32_t child = insert_at(nodes_[t].right, n);
            nodes_[t].right = child;
        }
        Node& node = nodes_[t];
        add_size(node, 1);
        if (nodes_[n].value < node.min) node.min = nodes_[n].value;
        return t;
    }

    // Removes `order` from subtree t; `value` receives its value. Above it, a subtree's
    // minimum is recomputed only where the removed entry may have been its only holder.
    std::uint32_t erase_at(std::uint32_t t, std::uint64_t order, std::int64_t& value) {
        CHATROUTE_ASSERT(t != nil);  // precondition: present
        if (nodes_[t].order == order) {
            value = nodes_[t].value;
            const std::uint32_t joined = merge(nodes_[t].left, nodes_[t].right);
            release(t);
            return joined;
        }
        if (order < nodes_[t].order) {
            const std::uint32_t child = erase_at(nodes_[t].left, order, value);
            nodes_[t].left = child;
        } else {
            const std::uint32_t child = erase_at(nodes_[t].right, order, value);
            nodes_[t].right = child;
        }
        Node& node = nodes_[t];
        if (value > node.min || node.value == node.min)
            add_size(node, -1);  // its minimum stays
        else
            update(t);
        return t;
    }
    std::uint32_t erase_at(std::uint32_t t, std::uint64_t order) {
        std::int64_t value = 0;
        return erase_at(t, order, value);
    }

    // Sets the value of `order` in subtree t; `old` receives the value it had. A minimum
    // is recomputed from the children only where it rose.
    void set_value_at(std::uint32_t t, std::uint64_t order, std::int64_t value, std::int64_t& old) {
        CHATROUTE_ASSERT(t != nil);  // precondition: present
        if (nodes_[t].order == order) {
            old = nodes_[t].value;
            nodes_[t].value = value;
        } else {
            set_value_at(order < nodes_[t].order ? nodes_[t].left : nodes_[t].right, order, value, old);
        }
        Node& node = nodes_[t];
        if (value <= node.min)
            node.min = value;
        else if (old == node.min)
            update(t);  // it held the minimum and rose: another entry may hold it now
    }
    void set_value_at(std::uint32_t t, std::uint64_t order, std::int64_t value) {
        std::int64_t old = 0;
        set_value_at(t, order, value, old);
    }

    // The leftmost node of subtree t whose value is `best`, if t's minimum is `best`.
    [[nodiscard]] std::uint32_t first_min(std::uint32_t t, std::int64_t best) const {
        if (t == nil || nodes_[t].min != best) return nil;
        for (;;) {
            const Node& node = nodes_[t];
            if (node.left != nil && nodes_[node.left].min == best)
                t = node.left;
            else if (node.value == best)
                return t;
            else
                t = node.right;  // its minimum must be `best`
        }
    }

    // The node with the smallest order >= from whose value is `best`, in subtree t.
    [[nodiscard]] std::uint32_t first_min_at_or_after(std::uint32_t t, std::uint64_t from, std::int64_t best) const {
        while (t != nil && nodes_[t].min == best) {
            const Node& node = nodes_[t];
            if (node.order < from) {
                t = node.right;
                continue;
            }
            if (const std::uint32_t found = first_min_at_or_after(node.left, from, best); found != nil) return found;
            if (node.value == best) return t;
            return first_min(node.right, best);
        }
        return nil;
    }

    // The node with the smallest order >= from whose value is `value`, other than the one
    // with order `except`, in subtree t. Subtrees whose minimum is above `value` are
    // skipped; one whose minimum is below it holds `except`, whose value is the only one
    // below (min_from_except), so it is searched.
    [[nodiscard]] std::uint32_t first_value_at_or_after(std::uint32_t t, std::uint64_t from, std::int64_t value,
                                                        std::uint64_t except) const {
        while (t != nil && nodes_[t].min <= value) {
            const Node& node = nodes_[t];
            if (node.order < from) {
                t = node.right;
                continue;
            }
            if (const std::uint32_t found = first_value_at_or_after(node.left, from, value, except); found != nil)
                return found;
            if (node.value == value && node.order != except) return t;
            t = node.right;  // every order there is past `from`
        }
        return nil;
    }

    template <class F>
    void for_each_at(std::uint32_t t, F& f) const {
        if (t == nil) return;
        for_each_at(nodes_[t].left, f);
        f(entry(t));
        for_each_at(nodes_[t].right, f);
    }

    [[nodiscard]] std::size_t height_at(std::uint32_t t) const {
        if (t == nil) return 0;
        const std::size_t left = height_at(nodes_[t].left);
        const std::size_t right = height_at(nodes_[t].right);
        return 1 + (left > right ? left : right);
    }

    void clear_at(std::uint32_t t) {
        if (t == nil) return;
        clear_at(nodes_[t].left);
        clear_at(nodes_[t].right);
        release(t);
    }

    std::vector<Node> nodes_;
    std::uint32_t free_ = nil;
    std::size_t live_ = 0;
};

}  // namespace chatroute::detail
