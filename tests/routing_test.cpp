// SPEC §4: routing (R8–R10).

#include "rules.hpp"

#include <catch2/catch.hpp>

using namespace chatroute;
using namespace chatroute::test;

// ---- R8 ----

TEST_CASE("a conversation is offered to one agent at a time [R8]", "[R8]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    desk.take();
    ConversationId c = start(desk, s);
    CHECK(desk.take() == Lines{"conversation_started{at=0, conversation=#0, space=#0, handoff=false}",
                               "offered{at=0, conversation=#0, agent=#0, space=#0, expires_at=120}"});
    CHECK(desk.engine.offered_to(c).value() == a);
    CHECK(desk.engine.load(a).value() == Load{0, 1, 3});
    CHECK(desk.engine.load(b).value() == Load{0, 0, 3});
}

TEST_CASE("a pending offer holds a slot, so an agent is never offered more than its limit [R8]", "[R8]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s, 2);
    desk.take();
    ConversationId c0 = start(desk, s);
    ConversationId c1 = start(desk, s);
    ConversationId c2 = start(desk, s);
    CHECK(desk.names() == Lines{"conversation_started", "offered", "conversation_started", "offered",
                                "conversation_started"});
    CHECK(desk.engine.offered_to(c0).value() == a);
    CHECK(desk.engine.offered_to(c1).value() == a);
    CHECK_FALSE(desk.engine.offered_to(c2).value().has_value());
    CHECK(desk.engine.load(a).value() == Load{0, 2, 2});
    // Accepting turns a pending slot into an assigned one: still full.
    REQUIRE(desk.engine.accept(c0, a));
    CHECK(desk.engine.load(a).value() == Load{1, 1, 2});
    CHECK(desk.names() == Lines{"accepted", "status_changed"});
    desk.check();
}

TEST_CASE("the limit counts across all spaces [R8]", "[R8]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId a = desk.ready_agent(s1, 2);
    REQUIRE(desk.engine.grant_role(a, s2));
    REQUIRE(desk.engine.set_availability(a, s2, true));
    ConversationId c0 = start(desk, s1);
    ConversationId c1 = start(desk, s2);
    REQUIRE(desk.engine.accept(c0, a));
    desk.take();
    ConversationId c2 = start(desk, s1);
    ConversationId c3 = start(desk, s2);
    CHECK(desk.names() == Lines{"conversation_started", "conversation_started"});
    CHECK(desk.engine.offered_to(c1).value() == a);
    CHECK_FALSE(desk.engine.offered_to(c2).value().has_value());
    CHECK_FALSE(desk.engine.offered_to(c3).value().has_value());
    CHECK(desk.engine.load(a).value() == Load{1, 1, 2});
    desk.check();
}

TEST_CASE("a wrapping_up conversation still holds its slot until resolved [R8] [R22]", "[R8][R22]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s, 1);
    ConversationId c0 = start(desk, s);
    REQUIRE(desk.engine.accept(c0, a));
    ConversationId c1 = start(desk, s);
    REQUIRE(desk.engine.end_by_agent(c0, a));
    desk.take();
    CHECK(desk.engine.status(c0).value() == Status::wrapping_up);
    CHECK(desk.engine.load(a).value() == Load{1, 0, 1});
    CHECK_FALSE(desk.engine.offered_to(c1).value().has_value());
    desk.wait(30s);
    REQUIRE(desk.engine.resolve(c0, a, "Done"));
    CHECK(desk.take() == Lines{"resolved{at=30, conversation=#0, resolution=Done}",
                               "status_changed{at=30, conversation=#0, from=wrapping_up, to=closed}",
                               "slot_released{at=30, conversation=#0, agent=#0}",
                               "offered{at=30, conversation=#1, agent=#0, space=#0, expires_at=150}"});
    desk.check();
}

TEST_CASE("an agent with limit 0 is never offered a conversation [R8]", "[R8]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s, 0);
    desk.take();
    ConversationId c = start(desk, s);
    CHECK(desk.names() == Lines{"conversation_started"});
    CHECK_FALSE(desk.engine.offered_to(c).value().has_value());
    CHECK(desk.engine.load(a).value() == Load{0, 0, 0});
}

TEST_CASE("an agent added without a limit gets the site default [R8]", "[R8]") {
    Desk desk;
    CHECK(desk.engine.default_limit() == 3);
    AgentId a = desk.engine.add_agent({}).value();
    CHECK(desk.engine.load(a).value().limit == 3);
    SiteUpdate update;
    update.default_limit = 5;
    REQUIRE(desk.engine.update_site(update));
    AgentId b = desk.engine.add_agent({}).value();
    CHECK(desk.engine.load(b).value().limit == 5);
    CHECK(desk.engine.load(a).value().limit == 3);  // agents already added keep theirs
    AgentId c = desk.engine.add_agent({1}).value();
    CHECK(desk.engine.load(c).value().limit == 1);
}

TEST_CASE("lowering a limit below the current load takes nothing away [R8]", "[R8]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s, 3);
    ConversationId c0 = start(desk, s);
    ConversationId c1 = start(desk, s);
    ConversationId c2 = start(desk, s);
    REQUIRE(desk.engine.accept(c0, a));
    desk.take();
    REQUIRE(desk.engine.set_limit(a, 1));
    CHECK(desk.take() == Lines{});
    CHECK(desk.engine.load(a).value() == Load{1, 2, 1});
    CHECK(desk.engine.offered_to(c1).value() == a);
    CHECK(desk.engine.offered_to(c2).value() == a);
    CHECK(outcome(desk.engine.accept(c1, a)) == "ok");  // an offer held may still be taken
    CHECK(desk.engine.load(a).value() == Load{2, 1, 1});
    REQUIRE(desk.engine.decline(c2, a));  // over the limit: not offered back
    CHECK(desk.take() == Lines{"accepted{at=0, conversation=#1, agent=#0}",
                               "status_changed{at=0, conversation=#1, from=waiting_for_agent, to=active}",
                               "offer_declined{at=0, conversation=#2, agent=#0}"});
    CHECK_FALSE(desk.engine.offered_to(c2).value().has_value());
    desk.check();
}

// ---- R9 ----

TEST_CASE("round robin follows the order agents gained the role [R9]", "[R9]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId x0 = desk.agent();
    AgentId x1 = desk.agent();
    AgentId x2 = desk.agent();
    for (AgentId x : {x2, x0, x1}) REQUIRE(desk.engine.grant_role(x, s));
    for (AgentId x : {x0, x1, x2}) REQUIRE(desk.engine.set_availability(x, s, true));
    desk.take();
    for (int i = 0; i < 4; ++i) start(desk, s);
    CHECK(desk.take() == Lines{"conversation_started{at=0, conversation=#0, space=#0, handoff=false}",
                               "offered{at=0, conversation=#0, agent=#2, space=#0, expires_at=120}",
                               "conversation_started{at=0, conversation=#1, space=#0, handoff=false}",
                               "offered{at=0, conversation=#1, agent=#0, space=#0, expires_at=120}",
                               "conversation_started{at=0, conversation=#2, space=#0, handoff=false}",
                               "offered{at=0, conversation=#2, agent=#1, space=#0, expires_at=120}",
                               "conversation_started{at=0, conversation=#3, space=#0, handoff=false}",
                               "offered{at=0, conversation=#3, agent=#2, space=#0, expires_at=120}"});
}

TEST_CASE("a new ring starts at its first agent [R9]", "[R9]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId a = desk.ready_agent(s1);
    AgentId b = desk.ready_agent(s1);
    start(desk, s1);  // s1's cursor moves past a
    // s2's ring: b first, then a. Its cursor is its own.
    REQUIRE(desk.engine.grant_role(b, s2));
    REQUIRE(desk.engine.grant_role(a, s2));
    REQUIRE(desk.engine.set_availability(a, s2, true));
    REQUIRE(desk.engine.set_availability(b, s2, true));
    desk.take();
    ConversationId c = start(desk, s2);
    CHECK(desk.engine.offered_to(c).value() == b);
}

TEST_CASE("the next offer goes to the first eligible agent from the cursor on, wrapping around [R9]", "[R9]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    AgentId c = desk.ready_agent(s, 1);
    AgentId d = desk.ready_agent(s);
    ConversationId k0 = start(desk, s);  // a
    REQUIRE(desk.engine.set_availability(b, s, false));
    ConversationId k1 = start(desk, s);  // b skipped: c
    ConversationId k2 = start(desk, s);  // c is full now: d
    ConversationId k3 = start(desk, s);  // wraps to a
    ConversationId k4 = start(desk, s);  // b unavailable, c full: d
    CHECK(desk.engine.offered_to(k0).value() == a);
    CHECK(desk.engine.offered_to(k1).value() == c);
    CHECK(desk.engine.offered_to(k2).value() == d);
    CHECK(desk.engine.offered_to(k3).value() == a);
    CHECK(desk.engine.offered_to(k4).value() == d);
    desk.check();
}

TEST_CASE("the cursor sits just past the agent offered last, whoever has the most free slots [R9]", "[R9]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s, 5);
    AgentId b = desk.ready_agent(s, 1);
    AgentId c = desk.ready_agent(s, 5);
    ConversationId k0 = start(desk, s);
    ConversationId k1 = start(desk, s);
    REQUIRE(desk.engine.accept(k0, a));
    REQUIRE(desk.engine.accept(k1, b));
    ConversationId k2 = start(desk, s);
    CHECK(desk.engine.offered_to(k2).value() == c);
    REQUIRE(desk.engine.end_by_agent(k1, b));
    REQUIRE(desk.engine.resolve(k1, b, "Done"));  // b has a slot again; the cursor is past c
    ConversationId k3 = start(desk, s);
    CHECK(desk.engine.offered_to(k3).value() == a);
    ConversationId k4 = start(desk, s);
    CHECK(desk.engine.offered_to(k4).value() == b);
}

TEST_CASE("a re-granted role goes to the end of the ring [R9]", "[R9]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    AgentId c = desk.ready_agent(s);
    REQUIRE(desk.engine.revoke_role(a, s));
    REQUIRE(desk.engine.grant_role(a, s));
    REQUIRE(desk.engine.set_availability(a, s, true));
    desk.take();
    for (int i = 0; i < 4; ++i) start(desk, s);
    CHECK(desk.take() == Lines{"conversation_started{at=0, conversation=#0, space=#0, handoff=false}",
                               "offered{at=0, conversation=#0, agent=#1, space=#0, expires_at=120}",
                               "conversation_started{at=0, conversation=#1, space=#0, handoff=false}",
                               "offered{at=0, conversation=#1, agent=#2, space=#0, expires_at=120}",
                               "conversation_started{at=0, conversation=#2, space=#0, handoff=false}",
                               "offered{at=0, conversation=#2, agent=#0, space=#0, expires_at=120}",
                               "conversation_started{at=0, conversation=#3, space=#0, handoff=false}",
                               "offered{at=0, conversation=#3, agent=#1, space=#0, expires_at=120}"});
    (void)b, (void)c;
}

TEST_CASE("when the agent offered last leaves the ring, the cursor moves to its successor [R9]", "[R9]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    AgentId c = desk.ready_agent(s);
    start(desk, s);  // a
    ConversationId k1 = start(desk, s);  // b
    REQUIRE(desk.engine.accept(k1, b));
    REQUIRE(desk.engine.revoke_role(b, s));
    ConversationId k2 = start(desk, s);
    CHECK(desk.engine.offered_to(k2).value() == c);
    ConversationId k3 = start(desk, s);
    CHECK(desk.engine.offered_to(k3).value() == a);
}

TEST_CASE("when the agent at the cursor leaves the ring, its successor is next [R9]", "[R9]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    AgentId c = desk.ready_agent(s);
    start(desk, s);  // a; the cursor is at b
    REQUIRE(desk.engine.revoke_role(b, s));
    ConversationId k1 = start(desk, s);
    CHECK(desk.engine.offered_to(k1).value() == c);
    ConversationId k2 = start(desk, s);
    CHECK(desk.engine.offered_to(k2).value() == a);
}

TEST_CASE("an agent who gains the role after the cursor passed the last agent is offered next [R9]", "[R9]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    start(desk, s);  // a
    start(desk, s);  // b: the cursor is past the end
    AgentId d = desk.ready_agent(s);
    ConversationId k2 = start(desk, s);
    CHECK(desk.engine.offered_to(k2).value() == d);
    ConversationId k3 = start(desk, s);
    CHECK(desk.engine.offered_to(k3).value() == a);
    (void)b;
}

TEST_CASE("each space keeps its own cursor [R9]", "[R9]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId a = desk.agent();
    AgentId b = desk.agent();
    for (SpaceId s : {s1, s2})
        for (AgentId x : {a, b}) {
            REQUIRE(desk.engine.grant_role(x, s));
            REQUIRE(desk.engine.set_availability(x, s, true));
        }
    ConversationId k0 = start(desk, s1);
    ConversationId k1 = start(desk, s2);
    ConversationId k2 = start(desk, s1);
    CHECK(desk.engine.offered_to(k0).value() == a);
    CHECK(desk.engine.offered_to(k1).value() == a);
    CHECK(desk.engine.offered_to(k2).value() == b);
}

// ---- R10 ----

TEST_CASE("an agent in two spaces who gets a slot back is offered the oldest waiting conversation of either [R10]",
          "[R10]") {
    const bool older_in_second_space = GENERATE(true, false);
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId a = desk.ready_agent(s1, 1);
    REQUIRE(desk.engine.grant_role(a, s2));
    REQUIRE(desk.engine.set_availability(a, s2, true));
    ConversationId busy = start(desk, s1);
    REQUIRE(desk.engine.accept(busy, a));
    desk.wait(10s);
    ConversationId older = start(desk, older_in_second_space ? s2 : s1);
    desk.wait(10s);
    ConversationId newer = start(desk, older_in_second_space ? s1 : s2);
    REQUIRE(desk.engine.end_by_agent(busy, a));
    desk.wait(10s);
    desk.take();
    REQUIRE(desk.engine.resolve(busy, a, "Done"));
    const std::string space = older_in_second_space ? "#1" : "#0";
    CHECK(desk.take() == Lines{"resolved{at=30, conversation=#0, resolution=Done}",
                               "status_changed{at=30, conversation=#0, from=wrapping_up, to=closed}",
                               "slot_released{at=30, conversation=#0, agent=#0}",
                               "offered{at=30, conversation=#1, agent=#0, space=" + space + ", expires_at=150}"});
    CHECK(desk.engine.offered_to(older).value() == a);
    CHECK_FALSE(desk.engine.offered_to(newer).value().has_value());
    desk.check();
}

TEST_CASE("conversations started at the same instant are routed in start order [R10]", "[R10]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId a = desk.ready_agent(s1, 0);
    REQUIRE(desk.engine.grant_role(a, s2));
    REQUIRE(desk.engine.set_availability(a, s2, true));
    ConversationId k0 = start(desk, s2);
    ConversationId k1 = start(desk, s1);
    ConversationId k2 = start(desk, s2);
    ConversationId k3 = start(desk, s1);
    desk.take();
    desk.wait(1s);
    REQUIRE(desk.engine.set_limit(a, 3));
    CHECK(desk.take() == Lines{"offered{at=1, conversation=#0, agent=#0, space=#1, expires_at=121}",
                               "offered{at=1, conversation=#1, agent=#0, space=#0, expires_at=121}",
                               "offered{at=1, conversation=#2, agent=#0, space=#1, expires_at=121}"});
    CHECK_FALSE(desk.engine.offered_to(k3).value().has_value());
    (void)k0, (void)k1, (void)k2;
    desk.check();
}

TEST_CASE("an agent turning available is offered the oldest waiting conversations at once, up to its free slots [R10]",
          "[R10]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.agent(2);
    REQUIRE(desk.engine.grant_role(a, s));
    for (int i = 0; i < 3; ++i) {
        start(desk, s);
        desk.wait(1s);
    }
    desk.take();
    REQUIRE(desk.engine.set_availability(a, s, true));
    CHECK(desk.take() == Lines{"availability_changed{at=3, agent=#0, space=#0, available=true, reason=agent}",
                               "offered{at=3, conversation=#0, agent=#0, space=#0, expires_at=123}",
                               "offered{at=3, conversation=#1, agent=#0, space=#0, expires_at=123}"});
    desk.check();
}

TEST_CASE("an agent gaining the role is offered waiting conversations once it turns available [R10]", "[R10]") {
    Desk desk;
    SpaceId s = desk.space();
    ConversationId c = start(desk, s);
    AgentId a = desk.agent();
    desk.take();
    REQUIRE(desk.engine.grant_role(a, s));
    CHECK(desk.take() == Lines{});
    REQUIRE(desk.engine.set_availability(a, all_spaces, true));
    CHECK(desk.take() == Lines{"availability_changed{at=0, agent=#0, space=#0, available=true, reason=agent}",
                               "offered{at=0, conversation=#0, agent=#0, space=#0, expires_at=120}"});
    CHECK(desk.engine.offered_to(c).value() == a);
}

TEST_CASE("raising an agent's limit offers it the oldest waiting conversations at once [R10]", "[R10]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s, 1);
    AgentId b = desk.ready_agent(s, 0);
    for (int i = 0; i < 4; ++i) start(desk, s);
    desk.take();
    REQUIRE(desk.engine.set_limit(b, 2));
    CHECK(desk.take() == Lines{"offered{at=0, conversation=#1, agent=#1, space=#0, expires_at=120}",
                               "offered{at=0, conversation=#2, agent=#1, space=#0, expires_at=120}"});
    REQUIRE(desk.engine.set_limit(a, 2));
    CHECK(desk.take() == Lines{"offered{at=0, conversation=#3, agent=#0, space=#0, expires_at=120}"});
    desk.check();
}

TEST_CASE("a conversation that loses its offer keeps its age [R10]", "[R10]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s, 1);
    ConversationId first = start(desk, s);
    desk.wait(10s);
    ConversationId second = start(desk, s);
    at(desk, 120s);  // a misses the offer of `first`: unavailable, `first` waits again
    CHECK_FALSE(desk.engine.offered_to(first).value().has_value());
    at(desk, 200s);
    desk.take();
    REQUIRE(desk.engine.set_availability(a, s, true));
    CHECK(desk.take() == Lines{"availability_changed{at=200, agent=#0, space=#0, available=true, reason=agent}",
                               "offered{at=200, conversation=#0, agent=#0, space=#0, expires_at=320}"});
    // And withdrawn, the same.
    REQUIRE(desk.engine.set_availability(a, s, false));
    REQUIRE(desk.engine.set_availability(a, s, true));
    CHECK(desk.take() == Lines{"availability_changed{at=200, agent=#0, space=#0, available=false, reason=agent}",
                               "offer_withdrawn{at=200, conversation=#0, agent=#0, reason=agent_unavailable}",
                               "availability_changed{at=200, agent=#0, space=#0, available=true, reason=agent}",
                               "offered{at=200, conversation=#0, agent=#0, space=#0, expires_at=320}"});
    CHECK_FALSE(desk.engine.offered_to(second).value().has_value());
    desk.check();
}

TEST_CASE("routing offers every waiting conversation it can, across agents and spaces [R10]", "[R10]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId a = desk.agent(1);
    AgentId b = desk.agent(2);
    REQUIRE(desk.engine.grant_role(a, s1));
    REQUIRE(desk.engine.grant_role(b, s1));
    REQUIRE(desk.engine.grant_role(b, s2));
    ConversationId k0 = start(desk, s2);
    ConversationId k1 = start(desk, s1);
    ConversationId k2 = start(desk, s1);
    ConversationId k3 = start(desk, s2);
    desk.take();
    REQUIRE(desk.engine.set_availability(a, s1, true));  // a takes the oldest of s1
    REQUIRE(desk.engine.set_availability(b, all_spaces, true));
    CHECK(desk.take() == Lines{"availability_changed{at=0, agent=#0, space=#0, available=true, reason=agent}",
                               "offered{at=0, conversation=#1, agent=#0, space=#0, expires_at=120}",
                               "availability_changed{at=0, agent=#1, space=#0, available=true, reason=agent}",
                               "availability_changed{at=0, agent=#1, space=#1, available=true, reason=agent}",
                               "offered{at=0, conversation=#0, agent=#1, space=#1, expires_at=120}",
                               "offered{at=0, conversation=#2, agent=#1, space=#0, expires_at=120}"});
    CHECK_FALSE(desk.engine.offered_to(k3).value().has_value());
    (void)k0, (void)k1, (void)k2;
    desk.check();
}
