#include <chatroute/detail/timer_queue.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <vector>

using chatroute::duration;
using chatroute::time_point;
using chatroute::detail::DeadlineKey;
using chatroute::detail::TimerQueue;

namespace {

time_point at(std::int64_t micros) { return time_point{duration{micros}}; }

// Fires everything: next(), then cancel it, as the engine does. Returns the keys in
// firing order.
std::vector<DeadlineKey> drain(TimerQueue& queue) {
    std::vector<DeadlineKey> fired;
    while (auto due = queue.next()) {
        const TimerQueue::Node& node = queue.node(due->node);
        const auto key = queue.next_key();
        REQUIRE(key.has_value());
        REQUIRE(key->deadline == node.deadline);
        REQUIRE(key->minus_length == -queue.list_length(queue.list_of(due->node)).count());
        REQUIRE(due->deadline == at(node.deadline));
        fired.push_back(*key);
        queue.cancel(due->node);
    }
    REQUIRE_FALSE(queue.next_key().has_value());
    return fired;
}

}  // namespace

TEST_CASE("TimerQueue: 70,000 distinct durations, one timer each, fire in exact (deadline, -duration) order",
          "[R25][R38][timer_queue]") {
    constexpr std::uint32_t count = 70'000;  // past 65,536: a 16-bit list id would wrap
    TimerQueue queue;
    queue.resize(count);
    std::mt19937_64 random{20261129};
    std::vector<DeadlineKey> expected;
    std::set<TimerQueue::ListId> ids;
    std::int64_t now = 1'000'000;
    for (std::uint32_t i = 0; i < count; ++i) {
        // durations 1 s + i µs: all distinct, as in many_timings.py
        const duration length{1'000'000 + std::int64_t{i}};
        const TimerQueue::ListId list = queue.list_for(length);
        REQUIRE(queue.list_length(list) == length);
        ids.insert(list);
        now += static_cast<std::int64_t>(random() % 3);  // time moves forward, often not at all
        queue.schedule(i, list, at(now));
        REQUIRE(queue.deadline(i) == at(now) + length);
        expected.push_back({now + length.count(), -length.count()});
    }
    REQUIRE(ids.size() == count);
    REQUIRE(queue.live_list_count() == count);
    REQUIRE(queue.size() == count);
    // Asking again finds the same list, in O(1).
    REQUIRE(queue.list_for(duration{1'000'000 + 69'999}) == queue.find_list(duration{1'000'000 + 69'999}));
    REQUIRE(*ids.rbegin() >= 65'536);

    std::sort(expected.begin(), expected.end());
    const auto fired = drain(queue);
    REQUIRE(fired == expected);
    REQUIRE(queue.size() == 0);
    // The lists were acquired and not released: they outlive their timers.
    REQUIRE(queue.live_list_count() == count);
}

TEST_CASE("TimerQueue: timers due at the same instant fire in the order they were set",
          "[R25][timer_queue]") {
    TimerQueue queue;
    queue.resize(6);
    const auto short_list = queue.acquire(duration{10});
    const auto long_list = queue.acquire(duration{30});
    const auto middle_list = queue.acquire(duration{20});
    // All due at 130, set in the order 0..5 from three lists at three instants; the
    // longer a timer, the earlier it was set. The lists were made in another order.
    queue.schedule(0, long_list, at(100));
    queue.schedule(1, long_list, at(100));
    queue.schedule(2, middle_list, at(110));
    queue.schedule(3, middle_list, at(110));
    queue.schedule(4, short_list, at(120));
    queue.schedule(5, short_list, at(120));
    std::vector<TimerQueue::NodeId> order;
    while (auto due = queue.next()) {
        REQUIRE(due->deadline == at(130));
        order.push_back(due->node);
        queue.cancel(due->node);
    }
    REQUIRE(order == std::vector<TimerQueue::NodeId>{0, 1, 2, 3, 4, 5});
}

// A model of the order R25 asks for: each timer remembers when it was set, by a counter.
TEST_CASE("TimerQueue: over random schedules and cancels, timers fire in (deadline, order set) order",
          "[R25][timer_queue]") {
    constexpr std::uint32_t nodes = 64;
    TimerQueue queue;
    queue.resize(nodes);
    queue.resize_second(nodes);
    const TimerQueue::ListId lists[4] = {queue.acquire(duration{3}), queue.acquire(duration{5}),
                                         queue.acquire(duration{8}), queue.acquire(duration{13})};
    std::mt19937 rng{25};
    std::map<TimerQueue::NodeId, std::pair<std::int64_t, std::uint64_t>> model;  // node -> (deadline, set order)
    std::uint64_t set = 0;
    std::int64_t now = 0;
    for (int step = 0; step < 20'000; ++step) {
        now += static_cast<std::int64_t>(rng() % 3);  // often no time passes: ties abound
        // Fire what is due, as the engine does before each command.
        while (queue.next() && queue.next()->deadline <= at(now)) {
            const auto first = std::min_element(model.begin(), model.end(), [](const auto& x, const auto& y) {
                return x.second < y.second;
            });
            REQUIRE(queue.next()->node == first->first);
            queue.cancel(first->first);
            model.erase(first);
        }
        // Either table: the second's nodes are other owners' timers on the same lists.
        const TimerQueue::NodeId id = (rng() % 4 == 0 ? TimerQueue::second : 0) | (rng() % nodes);
        if (queue.scheduled(id)) {
            queue.cancel(id);
            model.erase(id);
        } else {
            const auto list = lists[rng() % 4];
            queue.schedule(id, list, at(now));
            model[id] = {now + queue.list_length(list).count(), set++};
        }
        REQUIRE(queue.size() == model.size());
        // The snapshot's order is the same order.
        std::vector<std::pair<std::pair<std::int64_t, std::uint64_t>, TimerQueue::NodeId>> expected;
        if (step % 100 == 0) {
            for (const auto& [node, key] : model) expected.emplace_back(key, node);
            std::sort(expected.begin(), expected.end());
            const auto timers = queue.in_firing_order();
            REQUIRE(timers.size() == expected.size());
            for (std::size_t i = 0; i < timers.size(); ++i) {
                REQUIRE(timers[i].node == expected[i].second);
                REQUIRE(timers[i].deadline == expected[i].first.first);
            }
        }
    }
}

TEST_CASE("TimerQueue: cancel at the head, middle and tail of a list", "[R25][timer_queue]") {
    TimerQueue queue;
    queue.resize(8);
    const auto list = queue.acquire(duration{100});
    for (TimerQueue::NodeId id = 0; id < 5; ++id) queue.schedule(id, list, at(id * 10));
    REQUIRE(queue.list_timers(list) == 5);

    queue.cancel(0);  // head: the next deadline moves to the second timer
    REQUIRE_FALSE(queue.scheduled(0));
    REQUIRE(queue.next()->node == 1);
    REQUIRE(queue.next()->deadline == at(110));
    queue.cancel(2);  // middle
    queue.cancel(4);  // tail: a later timer still appends after the new tail
    queue.cancel(4);  // cancelling twice is a no-op
    REQUIRE(queue.size() == 2);
    queue.schedule(6, list, at(50));
    std::vector<TimerQueue::NodeId> order;
    while (auto due = queue.next()) {
        order.push_back(due->node);
        queue.cancel(due->node);
    }
    REQUIRE(order == std::vector<TimerQueue::NodeId>{1, 3, 6});
    REQUIRE(queue.list_timers(list) == 0);
    REQUIRE(queue.list_live(list));  // still referenced
}

TEST_CASE("TimerQueue: a node does not name its list, yet every timer's list is found", "[R25][R38][timer_queue]") {
    static_assert(sizeof(TimerQueue::Node) == 16, "16 B timer nodes (issue 13, decision 70)");
    TimerQueue queue;
    queue.resize(12);
    const TimerQueue::ListId lists[3] = {queue.acquire(duration{10}), queue.acquire(duration{20}),
                                         queue.acquire(duration{30})};
    std::mt19937 rng{7};
    std::vector<TimerQueue::ListId> expected(12, TimerQueue::no_list);
    for (int round = 0; round < 200; ++round) {
        const auto id = static_cast<TimerQueue::NodeId>(rng() % 12);
        if (queue.scheduled(id)) {  // head, middle or tail: whichever this node is
            queue.cancel(id);
            expected[id] = TimerQueue::no_list;
        } else {
            const auto list = lists[rng() % 3];
            queue.schedule(id, list, at(round));
            expected[id] = list;
        }
        for (const auto& timer : queue.in_firing_order())
            REQUIRE(queue.list_length(expected[timer.node]) == timer.length);
        std::map<TimerQueue::ListId, std::size_t> on;
        for (TimerQueue::NodeId n = 0; n < 12; ++n) {
            REQUIRE(queue.scheduled(n) == (expected[n] != TimerQueue::no_list));
            if (!queue.scheduled(n)) continue;
            REQUIRE(queue.list_of(n) == expected[n]);
            ++on[expected[n]];
        }
        for (const auto list : lists) REQUIRE(queue.list_timers(list) == on[list]);
    }
}

TEST_CASE("TimerQueue: acquire/release churn of 100,000 distinct durations keeps list memory bounded",
          "[R38][timer_queue]") {
    TimerQueue queue;
    queue.resize(4);
    const auto kept = queue.acquire(duration{7});  // one long-lived list among the churn
    queue.schedule(3, kept, at(0));
    std::size_t bytes_after_warm_up = 0;
    for (std::int64_t i = 0; i < 100'000; ++i) {
        // A configuration with three timings is replaced by one with three new timings.
        const auto a = queue.acquire(duration{1'000 + 3 * i});
        const auto b = queue.acquire(duration{1'001 + 3 * i});
        const auto c = queue.acquire(duration{1'002 + 3 * i});
        queue.schedule(0, b, at(i));  // a timer on one of them, cancelled before release
        queue.cancel(0);
        queue.schedule(1, c, at(i));  // and one that outlives the release
        queue.release(a);
        queue.release(b);
        queue.release(c);
        REQUIRE(queue.list_live(c));
        queue.cancel(1);
        REQUIRE_FALSE(queue.list_live(c));
        REQUIRE_FALSE(queue.find_list(duration{1'000 + 3 * i}).has_value());
        REQUIRE(queue.live_list_count() == 1);
        if (i == 10) bytes_after_warm_up = queue.memory_bytes();
    }
    REQUIRE(queue.list_count() <= 4);  // ids were reused
    REQUIRE(queue.memory_bytes() == bytes_after_warm_up);
    REQUIRE(queue.find_list(duration{7}) == std::optional<TimerQueue::ListId>{kept});
    REQUIRE(queue.next()->node == 3);
}

TEST_CASE("TimerQueue: a list released with timers on it is freed when its last timer leaves",
          "[R38][timer_queue]") {
    TimerQueue queue;
    queue.resize(4);
    const auto list = queue.acquire(duration{50});
    REQUIRE(queue.list_for(duration{50}) == list);  // list_for takes a reference too
    REQUIRE(queue.list_refs(list) == 2);
    queue.release(list);
    REQUIRE(queue.list_refs(list) == 1);
    queue.schedule(0, list, at(0));
    queue.schedule(1, list, at(5));
    queue.release(list);

    // Deferred: still live, still findable, its timers still fire at their deadlines.
    REQUIRE(queue.list_live(list));
    REQUIRE(queue.list_refs(list) == 0);
    REQUIRE(queue.find_list(duration{50}) == std::optional<TimerQueue::ListId>{list});
    REQUIRE(queue.next()->deadline == at(50));
    queue.cancel(0);
    REQUIRE(queue.list_live(list));
    REQUIRE(queue.next()->deadline == at(55));
    queue.cancel(1);
    REQUIRE_FALSE(queue.list_live(list));
    REQUIRE_FALSE(queue.find_list(duration{50}).has_value());
    REQUIRE(queue.live_list_count() == 0);

    // Its id is reused by the next list made, whatever its duration.
    const auto other = queue.acquire(duration{999});
    REQUIRE(other == list);
    REQUIRE(queue.list_length(other) == duration{999});
    REQUIRE(queue.list_refs(other) == 1);
    REQUIRE(queue.list_timers(other) == 0);
}

TEST_CASE("TimerQueue: acquiring a released list that still has timers revives it",
          "[R38][timer_queue]") {
    TimerQueue queue;
    queue.resize(2);
    const auto list = queue.acquire(duration{50});
    queue.schedule(0, list, at(0));
    queue.release(list);
    REQUIRE(queue.acquire(duration{50}) == list);
    queue.cancel(0);
    REQUIRE(queue.list_live(list));  // referenced again: not freed with its last timer
    queue.schedule(1, list, at(10));
    REQUIRE(queue.next()->deadline == at(60));
}

TEST_CASE("TimerQueue: the second table's timers share the lists, in the order set",
          "[R25][R34][timer_queue]") {
    TimerQueue queue;
    queue.resize(3);
    queue.resize_second(3);
    const auto a = queue.acquire(duration{10});
    const auto b = queue.acquire(duration{5});
    // All due at 10 but the last; at one instant, set alternately in the two tables.
    queue.schedule(0, a, at(0));
    queue.schedule(TimerQueue::second | 0, a, at(0));
    queue.schedule(1, a, at(0));
    queue.schedule(TimerQueue::second | 1, b, at(5));
    queue.schedule(2, b, at(5));
    queue.schedule(TimerQueue::second | 2, b, at(6));  // due at 11
    REQUIRE(queue.next_key() == std::optional<DeadlineKey>{DeadlineKey{10, -10}});
    std::vector<TimerQueue::NodeId> order;
    while (auto due = queue.next()) {
        order.push_back(due->node);
        queue.cancel(due->node);
    }
    REQUIRE(order == std::vector<TimerQueue::NodeId>{0, TimerQueue::second | 0, 1, TimerQueue::second | 1, 2,
                                                     TimerQueue::second | 2});
}
