// SPEC §3: availability (R5–R7).

#include "rules.hpp"

#include <catch2/catch.hpp>

using namespace chatroute;
using namespace chatroute::test;

// ---- R5 ----

TEST_CASE("availability is per agent and space [R5]", "[R5]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId a = desk.agent();
    AgentId b = desk.agent();
    for (AgentId x : {a, b})
        for (SpaceId s : {s1, s2}) REQUIRE(desk.engine.grant_role(x, s));
    REQUIRE(desk.engine.set_availability(a, s2, true));
    CHECK(desk.take() == Lines{"availability_changed{at=0, agent=#0, space=#1, available=true, reason=agent}"});
    CHECK_FALSE(desk.engine.available(a, s1).value());
    CHECK(desk.engine.available(a, s2).value());
    CHECK_FALSE(desk.engine.available(b, s1).value());
    CHECK_FALSE(desk.engine.available(b, s2).value());
}

TEST_CASE("\"*\" sets availability in every space where the agent has the role, in the order spaces were added [R5]",
          "[R5]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    SpaceId s3 = desk.space();
    SpaceId s4 = desk.space();
    AgentId a = desk.agent();
    // Roles gained in another order than the spaces were added; none in s3.
    REQUIRE(desk.engine.grant_role(a, s4));
    REQUIRE(desk.engine.grant_role(a, s2));
    REQUIRE(desk.engine.grant_role(a, s1));
    REQUIRE(desk.engine.set_availability(a, all_spaces, true));
    CHECK(desk.take() == Lines{"availability_changed{at=0, agent=#0, space=#0, available=true, reason=agent}",
                               "availability_changed{at=0, agent=#0, space=#1, available=true, reason=agent}",
                               "availability_changed{at=0, agent=#0, space=#3, available=true, reason=agent}"});
    CHECK(desk.engine.available(a, s1).value());
    CHECK(desk.engine.available(a, s2).value());
    CHECK_FALSE(desk.engine.available(a, s3).value());
    CHECK(desk.engine.available(a, s4).value());
    REQUIRE(desk.engine.set_availability(a, all_spaces, false));
    CHECK(desk.take() == Lines{"availability_changed{at=0, agent=#0, space=#0, available=false, reason=agent}",
                               "availability_changed{at=0, agent=#0, space=#1, available=false, reason=agent}",
                               "availability_changed{at=0, agent=#0, space=#3, available=false, reason=agent}"});
}

TEST_CASE("\"*\" for an agent with no roles succeeds and does nothing [R5]", "[R5]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.agent();
    const World world{{s}, {a}, {}};
    const std::string before = describe(desk, world);
    CHECK(outcome(desk.engine.set_availability(a, all_spaces, true)) == "ok");
    CHECK(outcome(desk.engine.set_availability(a, all_spaces, false)) == "ok");
    CHECK(desk.take() == Lines{});
    CHECK(describe(desk, world) == before);
    // A role held once and revoked no longer counts.
    REQUIRE(desk.engine.grant_role(a, s));
    REQUIRE(desk.engine.revoke_role(a, s));
    CHECK(outcome(desk.engine.set_availability(a, all_spaces, true)) == "ok");
    CHECK(desk.take() == Lines{});
    CHECK_FALSE(desk.engine.available(a, s).value());
}

TEST_CASE("a space where an agent gains the role starts unavailable [R5]", "[R5]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId a = desk.ready_agent(s1);
    REQUIRE(desk.engine.grant_role(a, s2));
    CHECK(desk.engine.has_role(a, s2).value());
    CHECK_FALSE(desk.engine.available(a, s2).value());
    CHECK(desk.engine.available(a, s1).value());  // available elsewhere does not carry over
    // A re-granted role starts unavailable again.
    REQUIRE(desk.engine.revoke_role(a, s1));
    REQUIRE(desk.engine.grant_role(a, s1));
    CHECK_FALSE(desk.engine.available(a, s1).value());
    desk.take();
    start(desk, s1);
    CHECK(desk.names() == Lines{"conversation_started"});
}

// ---- R6 ----

TEST_CASE("new offers skip an unavailable agent [R6]", "[R6]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    REQUIRE(desk.engine.set_availability(a, s, false));
    desk.take();
    for (int i = 0; i < 3; ++i) start(desk, s);
    CHECK(desk.take() == Lines{"conversation_started{at=0, conversation=#0, space=#0, handoff=false}",
                               "offered{at=0, conversation=#0, agent=#1, space=#0, expires_at=120}",
                               "conversation_started{at=0, conversation=#1, space=#0, handoff=false}",
                               "offered{at=0, conversation=#1, agent=#1, space=#0, expires_at=120}",
                               "conversation_started{at=0, conversation=#2, space=#0, handoff=false}",
                               "offered{at=0, conversation=#2, agent=#1, space=#0, expires_at=120}"});
    CHECK(desk.engine.load(a).value() == Load{0, 0, 3});
    CHECK(desk.engine.load(b).value() == Load{0, 3, 3});
    desk.check();
}

TEST_CASE("with every agent unavailable a conversation waits without an offer [R6]", "[R6]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.agent();
    REQUIRE(desk.engine.grant_role(a, s));
    desk.take();
    ConversationId c = start(desk, s);
    CHECK(desk.names() == Lines{"conversation_started"});
    CHECK(desk.engine.status(c).value() == Status::waiting_for_agent);
    CHECK_FALSE(desk.engine.offered_to(c).value().has_value());
}

TEST_CASE("conversations an agent is already in stay active when it turns unavailable [R6]", "[R6]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    REQUIRE(desk.engine.accept(c, a));
    desk.take();
    REQUIRE(desk.engine.set_availability(a, s, false));
    CHECK(desk.take() == Lines{"availability_changed{at=0, agent=#0, space=#0, available=false, reason=agent}"});
    CHECK(desk.engine.status(c).value() == Status::active);
    CHECK(desk.engine.assignee(c).value() == a);
    CHECK(desk.engine.load(a).value() == Load{1, 0, 3});
    CHECK(outcome(desk.engine.agent_message(c, a)) == "ok");
    CHECK(outcome(desk.engine.customer_message(c)) == "ok");
    CHECK(desk.names() == Lines{"message", "message"});
}

// ---- R7 ----

TEST_CASE("availability_changed carries the reason agent [R7]", "[R7]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.agent();
    REQUIRE(desk.engine.grant_role(a, s));
    desk.wait(3s);
    REQUIRE(desk.engine.set_availability(a, s, true));
    desk.wait(4s);
    REQUIRE(desk.engine.set_availability(a, s, false));
    CHECK(desk.take() == Lines{"availability_changed{at=3, agent=#0, space=#0, available=true, reason=agent}",
                               "availability_changed{at=7, agent=#0, space=#0, available=false, reason=agent}"});
}

TEST_CASE("availability_changed carries the reason offer_timeout, one event per space [R7] [R13]", "[R7][R13]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    SpaceId s3 = desk.space();
    AgentId a = desk.ready_agent(s1);
    REQUIRE(desk.engine.grant_role(a, s2));  // role, but unavailable: no change there
    REQUIRE(desk.engine.grant_role(a, s3));
    REQUIRE(desk.engine.set_availability(a, s3, true));
    start(desk, s1);
    desk.take();
    at(desk, 120s);
    CHECK(desk.take() ==
          Lines{"offer_timed_out{at=120, conversation=#0, agent=#0}",
                "availability_changed{at=120, agent=#0, space=#0, available=false, reason=offer_timeout}",
                "availability_changed{at=120, agent=#0, space=#2, available=false, reason=offer_timeout}"});
}

TEST_CASE("availability_changed carries the reason role_revoked [R7]", "[R7]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId a = desk.agent();
    REQUIRE(desk.engine.grant_role(a, s1));
    REQUIRE(desk.engine.grant_role(a, s2));
    REQUIRE(desk.engine.set_availability(a, all_spaces, true));
    desk.take();
    REQUIRE(desk.engine.revoke_role(a, s2));
    CHECK(desk.take() ==
          Lines{"availability_changed{at=0, agent=#0, space=#1, available=false, reason=role_revoked}"});
    CHECK(desk.engine.available(a, s1).value());
    CHECK_FALSE(desk.engine.available(a, s2).value());
}

TEST_CASE("\"*\" emits one event per space that changed, none for spaces already there [R7] [R5]", "[R7][R5]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    SpaceId s3 = desk.space();
    AgentId a = desk.agent();
    for (SpaceId s : {s1, s2, s3}) REQUIRE(desk.engine.grant_role(a, s));
    REQUIRE(desk.engine.set_availability(a, s2, true));
    desk.take();
    REQUIRE(desk.engine.set_availability(a, all_spaces, true));
    CHECK(desk.take() == Lines{"availability_changed{at=0, agent=#0, space=#0, available=true, reason=agent}",
                               "availability_changed{at=0, agent=#0, space=#2, available=true, reason=agent}"});
    REQUIRE(desk.engine.set_availability(a, s1, false));
    desk.take();
    REQUIRE(desk.engine.set_availability(a, all_spaces, false));
    CHECK(desk.take() == Lines{"availability_changed{at=0, agent=#0, space=#1, available=false, reason=agent}",
                               "availability_changed{at=0, agent=#0, space=#2, available=false, reason=agent}"});
}
