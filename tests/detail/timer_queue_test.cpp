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
        REQUIRE(queue.next_key() == std::optional<DeadlineKey>{DeadlineKey{node.deadline, node.sequence}});
        REQUIRE(due->deadline == at(node.deadline));
        fired.push_back({node.deadline, node.sequence});
        queue.cancel(due->node);
    }
    REQUIRE_FALSE(queue.next_key().has_value());
    return fired;
}

}  // namespace

TEST_CASE("TimerQueue: 70,000 distinct durations, one timer each, fire in exact (deadline, sequence) order",
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
        expected.push_back({now + length.count(), queue.node(i).sequence});
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
    // All due at 130, set in the order 0..5 from three lists and two instants.
    queue.schedule(0, long_list, at(100));
    queue.schedule(1, short_list, at(120));
    queue.schedule(2, long_list, at(100));
    const auto middle_list = queue.acquire(duration{20});
    queue.schedule(3, middle_list, at(110));
    queue.schedule(4, short_list, at(120));
    queue.schedule(5, middle_list, at(110));
    std::vector<TimerQueue::NodeId> order;
    while (auto due = queue.next()) {
        REQUIRE(due->deadline == at(130));
        order.push_back(due->node);
        queue.cancel(due->node);
    }
    REQUIRE(order == std::vector<TimerQueue::NodeId>{0, 1, 2, 3, 4, 5});
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
    static_assert(sizeof(TimerQueue::Node) == 24, "24 B timer nodes (issue 13)");
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
        REQUIRE(queue.lists_of() == expected);
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

TEST_CASE("TimerQueue: two queues sharing one sequence counter merge by (deadline, sequence)",
          "[R25][timer_queue]") {
    TimerQueue first;
    TimerQueue second;
    first.resize(3);
    second.resize(3);
    const auto a = first.acquire(duration{10});
    const auto b = second.acquire(duration{5});
    std::uint64_t sequence = 100;
    // All due at 10; set alternately in the two queues.
    first.schedule(0, a, at(0), sequence++);
    second.schedule(0, b, at(5), sequence++);
    first.schedule(1, a, at(0), sequence++);
    second.schedule(1, b, at(5), sequence++);
    second.schedule(2, b, at(6), sequence++);  // due at 11
    REQUIRE(first.next_key() == std::optional<DeadlineKey>{DeadlineKey{10, 100}});
    REQUIRE(second.next_key() == std::optional<DeadlineKey>{DeadlineKey{10, 101}});

    std::vector<DeadlineKey> merged;
    for (;;) {
        const auto x = first.next_key();
        const auto y = second.next_key();
        if (!x && !y) break;
        TimerQueue& from = !y || (x && *x < *y) ? first : second;
        merged.push_back(*from.next_key());
        from.cancel(from.next()->node);
    }
    REQUIRE(merged == std::vector<DeadlineKey>{{10, 100}, {10, 101}, {10, 102}, {10, 103}, {11, 104}});
    // A queue's own counter stays ahead of the sequences it was given.
    REQUIRE(second.next_sequence() == 105);
}
