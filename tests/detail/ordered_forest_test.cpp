#include <chatroute/detail/ordered_forest.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <type_traits>
#include <vector>

using chatroute::detail::ForestNodes;
using chatroute::detail::OrderedForest;
using Entry = OrderedForest<>::Entry;
using Tree = OrderedForest<>::Tree;
// The two kinds of node, as types for TEMPLATE_TEST_CASE.
using Ranked = std::integral_constant<ForestNodes, ForestNodes::ranked>;
using ById = std::integral_constant<ForestNodes, ForestNodes::by_id>;

namespace {

// The brute-force model of one tree: entries in no particular order, every query a scan.
struct Model {
    std::vector<Entry> entries;

    [[nodiscard]] Entry* find(std::uint64_t order) {
        for (Entry& e : entries)
            if (e.order == order) return &e;
        return nullptr;
    }
    void erase(std::uint64_t order) {
        entries.erase(std::find_if(entries.begin(), entries.end(), [&](const Entry& e) { return e.order == order; }));
    }
    [[nodiscard]] std::size_t count_less(std::uint64_t order) const {
        return static_cast<std::size_t>(
            std::count_if(entries.begin(), entries.end(), [&](const Entry& e) { return e.order < order; }));
    }
    [[nodiscard]] std::vector<Entry> sorted() const {
        std::vector<Entry> s = entries;
        std::sort(s.begin(), s.end(), [](const Entry& a, const Entry& b) { return a.order < b.order; });
        return s;
    }
    [[nodiscard]] std::optional<std::int64_t> min_value() const {
        if (entries.empty()) return std::nullopt;
        std::int64_t m = entries.front().value;
        for (const Entry& e : entries) m = std::min(m, e.value);
        return m;
    }
    [[nodiscard]] std::optional<Entry> min_from(std::uint64_t from) const {
        const auto m = min_value();
        if (!m) return std::nullopt;
        std::optional<Entry> at_or_after;
        std::optional<Entry> overall;
        for (const Entry& e : entries) {
            if (e.value != *m) continue;
            if (!overall || e.order < overall->order) overall = e;
            if (e.order >= from && (!at_or_after || e.order < at_or_after->order)) at_or_after = e;
        }
        return at_or_after ? at_or_after : overall;
    }
};

template <class Forest>
std::vector<Entry> contents(const Forest& forest, const typename Forest::Tree& tree) {
    std::vector<Entry> out;
    forest.for_each(tree, [&](const auto& e) { out.push_back(Entry{e.order, e.value, e.id}); });
    return out;
}

template <class E>
std::optional<Entry> plain(const std::optional<E>& e) {
    if (!e) return std::nullopt;
    return Entry{e->order, e->value, e->id};
}

}  // namespace

TEMPLATE_TEST_CASE("OrderedForest: 300k random operations on 50 trees agree with a brute-force model",
                   "[R9][R38][ordered_forest]", Ranked, ById) {
    constexpr bool ranked = TestType::value == ForestNodes::ranked;
    using Forest = OrderedForest<TestType::value>;
    constexpr std::size_t tree_count = 50;
    constexpr std::uint64_t order_universe = 300;  // per tree: dense enough for hits
    std::mt19937_64 random{20261129};
    Forest forest;
    std::vector<typename Forest::Tree> trees(tree_count);
    std::vector<Model> models(tree_count);
    std::size_t high_water = 0;
    // Ids: new ones in a ranked forest; in a forest by id, an id is in one tree at most, so
    // an erased entry's id is given out again (most recently freed first).
    std::uint32_t next_id = 0;
    std::vector<std::uint32_t> free_ids;
    const auto take_id = [&] {
        if (ranked || free_ids.empty()) return next_id++;
        const std::uint32_t id = free_ids.back();
        free_ids.pop_back();
        return id;
    };

    auto random_order = [&] { return random() % order_universe; };
    auto random_value = [&] { return static_cast<std::int64_t>(random() % 5) - 2; };  // many ties
    auto existing = [&](const Model& model) { return model.entries[random() % model.entries.size()].order; };

    for (int op = 0; op < 300'000; ++op) {
        const std::size_t t = random() % tree_count;
        auto& tree = trees[t];
        Model& model = models[t];
        // Phases: grow, churn, shrink, churn, so trees get empty and full and the pool is reused.
        const int phase = (op / 25'000) % 4;
        const unsigned insert_weight = phase == 0 ? 6 : phase == 2 ? 1 : 3;
        const unsigned erase_weight = phase == 2 ? 6 : phase == 0 ? 1 : 3;
        const unsigned pick = static_cast<unsigned>(random() % (insert_weight + erase_weight + 8));

        if (pick < insert_weight) {
            const std::uint64_t order = random_order();
            if (model.find(order) == nullptr) {
                const Entry e{order, random_value(), take_id()};
                forest.insert(tree, e.order, e.value, e.id);
                model.entries.push_back(e);
            }
        } else if (pick < insert_weight + erase_weight) {
            if (!model.entries.empty()) {
                const std::uint64_t order = existing(model);
                free_ids.push_back(model.find(order)->id);
                forest.erase(tree, order);
                model.erase(order);
            }
        } else {
            switch (pick - insert_weight - erase_weight) {
            case 0:
            case 1:
                if (!model.entries.empty()) {
                    const std::uint64_t order = existing(model);
                    const std::int64_t value = random_value();
                    forest.set_value(tree, order, value);
                    model.find(order)->value = value;
                }
                break;
            case 2:
            case 3: {
                // from anywhere, including past the last order and at 0
                const std::uint64_t from = random() % 8 == 0 ? order_universe + random() % 10 : random_order();
                REQUIRE(plain(forest.min_from(tree, from)) == model.min_from(from));
                if (!model.entries.empty()) {
                    // R12: the same search with one entry skipped, as if it were not there
                    const std::uint64_t except = existing(model);
                    Model without = model;
                    without.erase(except);
                    REQUIRE(plain(forest.min_from_except(tree, from, except)) == without.min_from(from));
                }
                break;
            }
            case 4: {
                const std::uint64_t order = random() % (order_universe + 2);
                if constexpr (ranked) REQUIRE(forest.count_less(tree, order) == model.count_less(order));
                REQUIRE(forest.contains(tree, order) == (model.find(order) != nullptr));
                break;
            }
            case 5: {
                const auto sorted = model.sorted();
                REQUIRE(plain(forest.first(tree)) ==
                        (sorted.empty() ? std::nullopt : std::optional<Entry>{sorted.front()}));
                if constexpr (ranked) {
                    if (!sorted.empty()) {
                        const std::size_t rank = random() % sorted.size();
                        REQUIRE(plain(forest.select(tree, rank)) == std::optional<Entry>{sorted[rank]});
                    }
                    REQUIRE_FALSE(forest.select(tree, sorted.size()).has_value());
                }
                break;
            }
            case 6:
                REQUIRE(forest.min_value(tree) == model.min_value());
                break;
            default:
                if constexpr (ranked) REQUIRE(forest.size(tree) == model.entries.size());
                REQUIRE(forest.empty(tree) == model.entries.empty());
            }
        }

        std::size_t live = 0;
        if (op % 5'000 == 0) {
            for (std::size_t i = 0; i < tree_count; ++i) {
                REQUIRE(contents(forest, trees[i]) == models[i].sorted());
                live += models[i].entries.size();
            }
            REQUIRE(forest.live_count() == live);
        }
        high_water = std::max(high_water, forest.live_count());
        // Pool reuse: the pool never holds more nodes than were ever live at once (by id:
        // since ids are reused, the largest id also stays below that).
        REQUIRE(forest.node_count() == high_water);
    }
    for (std::size_t i = 0; i < tree_count; ++i) REQUIRE(contents(forest, trees[i]) == models[i].sorted());
}

TEMPLATE_TEST_CASE("OrderedForest: min_from is a cyclic search among the entries of least value",
                   "[R9][ordered_forest]", Ranked, ById) {
    constexpr bool ranked = TestType::value == ForestNodes::ranked;
    OrderedForest<TestType::value> forest;
    typename OrderedForest<TestType::value>::Tree tree;
    REQUIRE_FALSE(forest.min_from(tree, 0).has_value());
    REQUIRE_FALSE(forest.min_value(tree).has_value());
    REQUIRE_FALSE(forest.first(tree).has_value());
    if constexpr (ranked) {
        REQUIRE(forest.size(tree) == 0);
        REQUIRE(forest.count_less(tree, 5) == 0);
    }

    // orders 10..90 by 10; the least value 1 at orders 20, 50 and 80
    for (std::uint32_t i = 1; i <= 9; ++i) {
        const std::int64_t value = (i == 2 || i == 5 || i == 8) ? 1 : 3;
        forest.insert(tree, i * 10, value, 100 + i);
    }
    auto order_at = [&](std::uint64_t from) { return forest.min_from(tree, from)->order; };
    CHECK(order_at(0) == 20);
    CHECK(order_at(20) == 20);  // `from` itself counts
    CHECK(order_at(21) == 50);
    CHECK(order_at(50) == 50);
    CHECK(order_at(51) == 80);
    CHECK(order_at(81) == 20);  // past the last of the best: wraps to the first
    CHECK(order_at(1'000) == 20);  // past the last order of all
    CHECK(forest.min_from(tree, 51)->id == 108);
    CHECK(forest.min_from(tree, 51)->value == 1);

    // A lower value anywhere wins over ring position.
    forest.set_value(tree, 90, 0);
    CHECK(order_at(0) == 90);
    CHECK(order_at(91) == 90);
    CHECK(forest.min_value(tree) == std::optional<std::int64_t>{0});
    // Raising it back restores the ties; the minima above it follow.
    forest.set_value(tree, 90, 7);
    CHECK(forest.min_value(tree) == std::optional<std::int64_t>{1});
    CHECK(order_at(81) == 20);
    forest.erase(tree, 20);
    CHECK(order_at(81) == 50);
    CHECK(order_at(0) == 50);
    if constexpr (ranked) {
        CHECK(forest.count_less(tree, 50) == 3);  // 10, 30, 40
        CHECK(forest.size(tree) == 8);
    }
}

TEMPLATE_TEST_CASE("OrderedForest: min_from_except skips one entry, ties going on in ring order from the cursor",
                   "[R9][R12][R28][ordered_forest]", Ranked, ById) {
    OrderedForest<TestType::value> forest;
    typename OrderedForest<TestType::value>::Tree tree;
    // orders 10..90 by 10; the least value 1 at orders 20, 50 and 80
    for (std::uint32_t i = 1; i <= 9; ++i) forest.insert(tree, i * 10, (i == 2 || i == 5 || i == 8) ? 1 : 3, i);
    auto order_at = [&](std::uint64_t from, std::uint64_t except) {
        return forest.min_from_except(tree, from, except)->order;
    };
    CHECK(order_at(21, 50) == 80);  // the skipped one was first from the cursor: the next tie
    CHECK(order_at(81, 20) == 50);  // ... wrapping past the end
    CHECK(order_at(0, 80) == 20);   // not the one found: the answer is min_from's
    CHECK(order_at(51, 30) == 80);
    forest.set_value(tree, 50, 0);  // the skipped one is the only best: the next best value
    CHECK(order_at(21, 50) == 80);
    CHECK(order_at(81, 50) == 20);
    CHECK(forest.min_from_except(tree, 21, 50)->value == 1);
    CHECK(forest.min_value(tree) == std::optional<std::int64_t>{0});  // nothing left the tree
    CHECK(forest.contains(tree, 50));

    typename OrderedForest<TestType::value>::Tree single;
    forest.insert(single, 7, 0, 10);
    CHECK_FALSE(forest.min_from_except(single, 0, 7).has_value());
}

TEST_CASE("OrderedForest: trees sharing the pool do not see each other", "[R9][ordered_forest]") {
    OrderedForest<> forest;
    Tree a;
    Tree b;
    forest.insert(a, 5, 1, 1);
    forest.insert(b, 5, 2, 2);  // the same order in another tree
    forest.insert(b, 6, 0, 3);
    CHECK(forest.find(a, 5) == std::optional<Entry>{Entry{5, 1, 1}});
    CHECK(forest.find(b, 5) == std::optional<Entry>{Entry{5, 2, 2}});
    CHECK_FALSE(forest.contains(a, 6));
    CHECK(forest.min_from(a, 6)->order == 5);
    forest.clear(b);
    CHECK(forest.empty(b));
    CHECK(forest.size(a) == 1);
    CHECK(forest.live_count() == 1);
    forest.insert(b, 7, 0, 4);  // reuses a freed node
    CHECK(forest.node_count() == 3);
}

TEST_CASE("OrderedForest: sorted insertion stays shallow and churn reuses the pool",
          "[R38][ordered_forest]") {
    OrderedForest<> forest;
    forest.reserve(100'000);
    const std::size_t bytes = forest.memory_bytes();
    Tree tree;
    for (std::uint64_t order = 0; order < 100'000; ++order) forest.insert(tree, order, 0, 0);
    // A plain search tree would be 100,000 deep; the treap's depth is logarithmic.
    CHECK(forest.height(tree) < 60);
    CHECK(forest.memory_bytes() == bytes);
    // Churn at a constant live size: remove the oldest, add a new one, many times over.
    for (std::uint64_t order = 100'000; order < 400'000; ++order) {
        forest.erase(tree, order - 100'000);
        forest.insert(tree, order, static_cast<std::int64_t>(order % 3), 0);
    }
    CHECK(forest.node_count() == 100'000);
    CHECK(forest.memory_bytes() == bytes);
    CHECK(forest.size(tree) == 100'000);
    CHECK(forest.height(tree) < 60);
    CHECK(forest.first(tree)->order == 300'000);
    CHECK(forest.min_from(tree, 399'999)->order == 399'999);  // value 0, at `from`
    CHECK(forest.min_from(tree, 400'000)->order == 300'000);  // past the end: wraps
}

TEST_CASE("OrderedForest: the same entries give the same shape whatever the insertion order",
          "[R38][ordered_forest]") {
    OrderedForest<> forest;
    Tree ascending;
    Tree descending;
    for (std::uint64_t order = 0; order < 1'000; ++order) forest.insert(ascending, order, 0, 0);
    for (std::uint64_t order = 1'000; order-- > 0;) forest.insert(descending, order, 0, 0);
    CHECK(forest.height(ascending) == forest.height(descending));
}

TEST_CASE("OrderedForest by id: the id is the node, 32 bytes, two to a cache line", "[R9][R38][ordered_forest]") {
    OrderedForest<ForestNodes::by_id> forest;
    OrderedForest<ForestNodes::by_id>::Tree a;
    OrderedForest<ForestNodes::by_id>::Tree b;
    forest.insert(a, 5, 1, 7);
    forest.insert(b, 5, 2, 3);  // the same order in another tree, another id
    CHECK(forest.node_count() == 8);  // ids 0..7: the pool is indexed by id
    CHECK(forest.find(a, 5)->id == 7);
    CHECK(forest.find(b, 5)->id == 3);
    CHECK(forest.min_from(b, 0)->value == 2);
    forest.erase(a, 5);
    CHECK(forest.empty(a));
    CHECK(forest.live_count() == 1);
    forest.insert(b, 6, 0, 7);  // id 7 left tree a: it may join tree b
    CHECK(forest.min_from(b, 0)->id == 7);
    CHECK(forest.node_count() == 8);
}
