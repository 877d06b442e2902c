// SPEC §8: time (R25, R26).

#include "rules.hpp"

#include <catch2/catch.hpp>

#include <chrono>

using namespace chatroute;
using namespace chatroute::test;

// ---- R25 ----

TEST_CASE("an accept exactly 120 s after the offer is too late: no_offer, after offer_timed_out [R25]", "[R25]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    desk.take();
    desk.clock.set(time_point{120s});
    CHECK(outcome(desk.engine.accept(c, a)) == "no_offer");
    CHECK(desk.take() ==
          Lines{"offer_timed_out{at=120, conversation=#0, agent=#0}",
                "availability_changed{at=120, agent=#0, space=#0, available=false, reason=offer_timeout}"});
    CHECK(desk.engine.status(c).value() == Status::waiting_for_agent);
    CHECK_FALSE(desk.engine.available(a, s).value());
    CHECK(desk.engine.load(a).value() == Load{0, 0, 3});
}

TEST_CASE("an accept one microsecond before the offer expires is in time [R25]", "[R25]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    desk.take();
    desk.clock.set(time_point{120s - duration{1}});
    CHECK(outcome(desk.engine.accept(c, a)) == "ok");
    CHECK(desk.take() == Lines{"accepted{at=119.999999, conversation=#0, agent=#0}",
                               "status_changed{at=119.999999, conversation=#0, from=waiting_for_agent, to=active}"});
}

TEST_CASE("a deadline fires when now reaches it, not before [R25]", "[R25]") {
    Desk desk;
    SpaceId s = desk.space();
    desk.ready_agent(s);
    start(desk, s);
    desk.clock.set(time_point{120s - duration{1}});
    CHECK(desk.engine.advance().value() == 0);
    desk.clock.set(time_point{120s});
    CHECK(desk.engine.advance().value() == 1);
    CHECK(desk.engine.advance().value() == 0);
}

TEST_CASE("due deadlines fire before a command, even one that then fails [R25] [R27]", "[R25][R27]") {
    Desk desk;
    SpaceId s = desk.space();
    ConversationId c = start(desk, s);
    desk.take();
    desk.clock.set(time_point{1200s});
    // The customer's message at exactly 20 minutes finds the item already closed.
    CHECK(outcome(desk.engine.customer_message(c)) == "work_item_closed");
    CHECK(desk.take() == Lines{"fallback_message{at=1200, conversation=#0, text=}",
                               "conversation_ended{at=1200, conversation=#0, reason=no_agent}",
                               "resolved{at=1200, conversation=#0, resolution=Unanswered}",
                               "status_changed{at=1200, conversation=#0, from=waiting_for_agent, to=closed}"});
}

TEST_CASE("due deadlines fire before a command that succeeds, and its events follow theirs [R25]", "[R25]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    start(desk, s);  // a, expires 120
    desk.take();
    desk.clock.set(time_point{130s});
    ConversationId c1 = desk.engine.start_conversation(s).value();
    CHECK(desk.take() ==
          Lines{"offer_timed_out{at=120, conversation=#0, agent=#0}",
                "availability_changed{at=120, agent=#0, space=#0, available=false, reason=offer_timeout}",
                "offered{at=120, conversation=#0, agent=#1, space=#0, expires_at=240}",
                "conversation_started{at=130, conversation=#1, space=#0, handoff=false}",
                "offered{at=130, conversation=#1, agent=#1, space=#0, expires_at=250}"});
    CHECK(desk.engine.offered_to(c1).value() == b);
    (void)a;
}

namespace {
// Two agents, two conversations, nobody answering: a run of deadlines over 21 minutes.
void unanswered_morning(Desk& desk) {
    SpaceId s = desk.space();
    desk.ready_agent(s);
    desk.ready_agent(s);
    start(desk, s);
    desk.clock.set(time_point{60s});
    REQUIRE(desk.engine.start_conversation(s));
}

const Lines morning_events{
    "availability_changed{at=0, agent=#0, space=#0, available=true, reason=agent}",
    "availability_changed{at=0, agent=#1, space=#0, available=true, reason=agent}",
    "conversation_started{at=0, conversation=#0, space=#0, handoff=false}",
    "offered{at=0, conversation=#0, agent=#0, space=#0, expires_at=120}",
    "conversation_started{at=60, conversation=#1, space=#0, handoff=false}",
    "offered{at=60, conversation=#1, agent=#1, space=#0, expires_at=180}",
    // a misses #0; it goes to b, whose offer of it runs from 120.
    "offer_timed_out{at=120, conversation=#0, agent=#0}",
    "availability_changed{at=120, agent=#0, space=#0, available=false, reason=offer_timeout}",
    "offered{at=120, conversation=#0, agent=#1, space=#0, expires_at=240}",
    // b misses #1: away, and its offer of #0 is withdrawn.
    "offer_timed_out{at=180, conversation=#1, agent=#1}",
    "availability_changed{at=180, agent=#1, space=#0, available=false, reason=offer_timeout}",
    "offer_withdrawn{at=180, conversation=#0, agent=#1, reason=agent_unavailable}",
    // Each accept window at its own instant.
    "fallback_message{at=1200, conversation=#0, text=}",
    "conversation_ended{at=1200, conversation=#0, reason=no_agent}",
    "resolved{at=1200, conversation=#0, resolution=Unanswered}",
    "status_changed{at=1200, conversation=#0, from=waiting_for_agent, to=closed}",
    "fallback_message{at=1260, conversation=#1, text=}",
    "conversation_ended{at=1260, conversation=#1, reason=no_agent}",
    "resolved{at=1260, conversation=#1, resolution=Unanswered}",
    "status_changed{at=1260, conversation=#1, from=waiting_for_agent, to=closed}",
};
}  // namespace

TEST_CASE("one late advance fires every deadline in order, each at its own instant [R25]", "[R25]") {
    Desk desk;
    unanswered_morning(desk);
    desk.clock.set(time_point{std::chrono::hours{1}});
    CHECK(desk.engine.advance().value() == 4);  // 120, 180, 1200, 1260 (b's offer until 240 was withdrawn)
    CHECK(desk.take() == morning_events);
    CHECK(desk.engine.now() == time_point{std::chrono::hours{1}});
    CHECK(desk.engine.live_conversations() == 0);
    desk.check();
}

TEST_CASE("the outcome does not depend on how often the host ticks [R25]", "[R25]") {
    const int step_seconds = GENERATE(1, 7, 60, 119, 121, 1000);
    Desk desk;
    unanswered_morning(desk);
    for (int t = 60 + step_seconds; t < 3600 + step_seconds; t += step_seconds) {
        desk.clock.set(time_point{std::chrono::seconds{t}});
        REQUIRE(desk.engine.advance());
    }
    CHECK(desk.take() == morning_events);
}

TEST_CASE("an offer started by a deadline expires 120 s after that deadline, however late the host [R25]",
          "[R25]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    desk.take();
    desk.clock.set(time_point{200s});  // 120: a misses it, b is offered it until 240
    REQUIRE(desk.engine.advance());
    CHECK(desk.engine.offered_to(c).value() == b);
    CHECK(desk.engine.next_deadline() == time_point{240s});
    CHECK(desk.take().back() == "offered{at=120, conversation=#0, agent=#1, space=#0, expires_at=240}");
    desk.clock.set(time_point{240s});
    CHECK(outcome(desk.engine.accept(c, b)) == "no_offer");
    (void)a;
}

TEST_CASE("deadlines on the same instant fire in the order they were set [R25]", "[R25]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    start(desk, s2);
    start(desk, s1);
    desk.take();
    at(desk, 1200s);
    CHECK(desk.take() == Lines{"fallback_message{at=1200, conversation=#0, text=}",
                               "conversation_ended{at=1200, conversation=#0, reason=no_agent}",
                               "resolved{at=1200, conversation=#0, resolution=Unanswered}",
                               "status_changed{at=1200, conversation=#0, from=waiting_for_agent, to=closed}",
                               "fallback_message{at=1200, conversation=#1, text=}",
                               "conversation_ended{at=1200, conversation=#1, reason=no_agent}",
                               "resolved{at=1200, conversation=#1, resolution=Unanswered}",
                               "status_changed{at=1200, conversation=#1, from=waiting_for_agent, to=closed}"});
}

TEST_CASE("deadlines of different lengths on the same instant fire in the order they were set [R25]", "[R25]") {
    Desk desk;
    SpaceSettings slow;
    slow.timings.offer_timeout = 180s;
    SpaceSettings quick;
    quick.timings.offer_timeout = 60s;
    SpaceId s_slow = desk.space(slow);
    SpaceId s_quick = desk.space(quick);
    desk.ready_agent(s_slow);   // #0
    desk.ready_agent(s_quick);  // #1
    start(desk, s_slow);        // expires 180, set at 0
    at(desk, 120s);
    start(desk, s_quick);  // expires 180, set at 120
    desk.take();
    at(desk, 180s);
    CHECK(desk.take() ==
          Lines{"offer_timed_out{at=180, conversation=#0, agent=#0}",
                "availability_changed{at=180, agent=#0, space=#0, available=false, reason=offer_timeout}",
                "offer_timed_out{at=180, conversation=#1, agent=#1}",
                "availability_changed{at=180, agent=#1, space=#1, available=false, reason=offer_timeout}"});
}

TEST_CASE("events carry the injected clock's instants [R25]", "[R25]") {
    ManualClock clock{time_point{std::chrono::seconds{1'700'000'000}}};
    RecordingSink sink;
    Engine engine{clock, sink};
    SpaceId s = engine.add_space().value();
    clock.advance(std::chrono::milliseconds{1500});
    REQUIRE(engine.start_conversation(s));
    CHECK(engine.now() == time_point{std::chrono::seconds{1'700'000'000} + std::chrono::milliseconds{1500}});
    REQUIRE(sink.events.size() == 1);
    CHECK(fmt::format("{}", sink.events[0]) ==
          "conversation_started{at=1700000001.5, conversation=#0/1, space=#0, handoff=false}");
    CHECK(engine.next_deadline() == time_point{std::chrono::seconds{1'700'001'201} + std::chrono::milliseconds{500}});
}

// ---- R26 ----

TEST_CASE("next_deadline tells the host when to call advance next [R26]", "[R26]") {
    Desk desk;
    CHECK_FALSE(desk.engine.next_deadline().has_value());
    SpaceId s = desk.space();
    AgentId a = desk.agent();
    REQUIRE(desk.engine.grant_role(a, s));
    ConversationId c = start(desk, s);
    CHECK(desk.engine.next_deadline() == time_point{1200s});  // the accept window
    REQUIRE(desk.engine.set_availability(a, s, true));
    CHECK(desk.engine.next_deadline() == time_point{120s});  // the offer
    at(desk, 10s);
    REQUIRE(desk.engine.accept(c, a));
    CHECK(desk.engine.next_deadline() == time_point{1210s});  // the inactivity warning
    at(desk, 1210s);
    CHECK(desk.engine.next_deadline() == time_point{1810s});  // the grace
    at(desk, 1500s);
    REQUIRE(desk.engine.customer_message(c));
    CHECK(desk.engine.next_deadline() == time_point{2700s});
    REQUIRE(desk.engine.end_by_customer(c));
    CHECK_FALSE(desk.engine.next_deadline().has_value());
}

TEST_CASE("advancing to next_deadline fires it, and a microsecond before fires nothing [R26]", "[R26]") {
    Desk desk;
    SpaceId s = desk.space();
    start(desk, s);
    const time_point due = desk.engine.next_deadline().value();
    desk.clock.set(due - duration{1});
    CHECK(desk.engine.advance().value() == 0);
    desk.clock.set(due);
    CHECK(desk.engine.advance().value() == 1);
    CHECK_FALSE(desk.engine.next_deadline().has_value());
}

TEST_CASE("a clock past the latest instant is taken as it: deadlines never wrap [R26][R25]", "[R26][R25]") {
    // Review finding (2026-12-07): a clock 60 s before time_point::max() made every
    // deadline overflow to the distant past, and a new conversation closed 1 us later.
    Desk desk;
    desk.clock.set(time_point::max() - 60s);
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    const auto events = desk.take();
    REQUIRE_FALSE(events.empty());
    // The latest instant is 9,220,218,436,854.775807 s: the offer expires 120 s after it.
    CHECK(events.back() ==
          "offered{at=9220218436854.775807, conversation=#0, agent=#0, space=#0, expires_at=9220218436974.775807}");
    desk.wait(1us);
    CHECK(desk.take().empty());  // nothing fired: no deadline is in the past
    CHECK(desk.engine.status(c).value() == Status::waiting_for_agent);
    REQUIRE(desk.engine.next_deadline().has_value());
    CHECK(*desk.engine.next_deadline() == latest_instant + 120s);  // the offer's timeout, from the latest instant
    CHECK(desk.engine.now() == latest_instant);
    CHECK(desk.engine.accept(c, a));
    CHECK(desk.engine.status(c).value() == Status::active);
}

TEST_CASE("a clock that goes backwards is clamped to the last instant seen [R26]", "[R26]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    at(desk, 100s);
    ConversationId c0 = start(desk, s);  // offered until 220
    desk.take();
    desk.clock.set(time_point{50s});
    REQUIRE(desk.engine.advance());
    CHECK(desk.engine.now() == time_point{100s});
    ConversationId c1 = start(desk, s);
    CHECK(desk.take() == Lines{"conversation_started{at=100, conversation=#1, space=#0, handoff=false}",
                               "offered{at=100, conversation=#1, agent=#0, space=#0, expires_at=220}"});
    REQUIRE(desk.engine.accept(c0, a));
    CHECK(desk.take() == Lines{"accepted{at=100, conversation=#0, agent=#0}",
                               "status_changed{at=100, conversation=#0, from=waiting_for_agent, to=active}"});
    (void)c1;
}

TEST_CASE("no timer fires early or twice when the clock goes back and forth [R26]", "[R26]") {
    Desk desk;
    SpaceId s = desk.space();
    desk.ready_agent(s);
    start(desk, s);  // offered until 120
    desk.take();
    desk.clock.set(time_point{119s});
    CHECK(desk.engine.advance().value() == 0);
    desk.clock.set(time_point{10s});
    CHECK(desk.engine.advance().value() == 0);
    desk.clock.set(time_point{119s});
    CHECK(desk.engine.advance().value() == 0);
    CHECK(desk.take() == Lines{});
    desk.clock.set(time_point{120s});
    CHECK(desk.engine.advance().value() == 1);
    CHECK(desk.names() == Lines{"offer_timed_out", "availability_changed"});
    desk.clock.set(time_point{0s});
    CHECK(desk.engine.advance().value() == 0);
    desk.clock.set(time_point{120s});
    CHECK(desk.engine.advance().value() == 0);
    CHECK(desk.take() == Lines{});
    CHECK(desk.engine.next_deadline() == time_point{1200s});
}

TEST_CASE("a clock that went back does not hold deadlines back once it passes them again [R26]", "[R26]") {
    Desk desk;
    SpaceId s = desk.space();
    at(desk, 500s);
    start(desk, s);  // window until 1700
    desk.take();
    desk.clock.set(time_point{100s});
    REQUIRE(desk.engine.advance());
    desk.clock.set(time_point{1700s});
    CHECK(desk.engine.advance().value() == 1);
    CHECK(desk.names() == Lines{"fallback_message", "conversation_ended", "resolved", "status_changed"});
}
