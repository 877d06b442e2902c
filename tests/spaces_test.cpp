// SPEC §2: spaces, plan, roles (R1–R4).

#include "rules.hpp"

#include <catch2/catch.hpp>

using namespace chatroute;
using namespace chatroute::test;

namespace {
SpaceSettings pre_existing() {
    SpaceSettings settings;
    settings.is_new = false;
    return settings;
}
}  // namespace

// ---- R1 ----

TEST_CASE("chat can be enabled on a premium or enterprise site [R1]", "[R1]") {
    const Plan plan = GENERATE(Plan::premium, Plan::enterprise);
    Desk desk;
    REQUIRE(desk.engine.update_site(plan_is(plan)));
    SpaceId s = desk.space(pre_existing());
    CHECK_FALSE(desk.engine.chat_enabled(s).value());
    CHECK(outcome(desk.engine.enable_chat(s)) == "ok");
    CHECK(desk.engine.chat_enabled(s).value());
    CHECK(desk.take() == Lines{});
}

TEST_CASE("enabling chat on a free or standard site fails with plan_not_eligible [R1]", "[R1]") {
    const Plan plan = GENERATE(Plan::free, Plan::standard);
    Desk desk;
    REQUIRE(desk.engine.update_site(plan_is(plan)));
    SpaceId s = desk.space(pre_existing());
    refused(desk, {{s}, {}, {}}, "plan_not_eligible", [&] { return desk.engine.enable_chat(s); });
    CHECK_FALSE(desk.engine.chat_enabled(s).value());
    refused(desk, {{s}, {}, {}}, "chat_disabled", [&] { return desk.engine.start_conversation(s); });
}

TEST_CASE("the site plan defaults to premium [R1]", "[R1]") {
    Desk desk;
    CHECK(desk.engine.plan() == Plan::premium);
    CHECK(chat_eligible(Plan::premium));
    CHECK(chat_eligible(Plan::enterprise));
    CHECK_FALSE(chat_eligible(Plan::standard));
    CHECK_FALSE(chat_eligible(Plan::free));
}

TEST_CASE("a downgraded plan leaves chat on in existing spaces [R1]", "[R1]") {
    Desk desk;
    SpaceId s = desk.space();
    REQUIRE(desk.engine.chat_enabled(s).value());
    REQUIRE(desk.engine.update_site(plan_is(Plan::free)));
    CHECK(desk.engine.chat_enabled(s).value());
    ConversationId c = start(desk, s);
    CHECK(desk.engine.status(c).value() == Status::waiting_for_agent);
    // Turning it off is still allowed; turning it back on is not.
    CHECK(outcome(desk.engine.disable_chat(s)) == "ok");
    refused(desk, {{s}, {}, {c}}, "plan_not_eligible", [&] { return desk.engine.enable_chat(s); });
}

TEST_CASE("an upgraded plan does not turn chat on in existing spaces [R1] [R2]", "[R1][R2]") {
    Desk desk;
    REQUIRE(desk.engine.update_site(plan_is(Plan::standard)));
    SpaceId made_new = desk.space();
    CHECK_FALSE(desk.engine.chat_enabled(made_new).value());  // R2: on by default only on an eligible plan
    REQUIRE(desk.engine.update_site(plan_is(Plan::enterprise)));
    CHECK_FALSE(desk.engine.chat_enabled(made_new).value());
    CHECK(outcome(desk.engine.enable_chat(made_new)) == "ok");
    CHECK(desk.engine.chat_enabled(made_new).value());
}

// ---- R2 ----

TEST_CASE("a new space has chat on and a pre-existing one has it off [R2]", "[R2]") {
    Desk desk;
    SpaceId made_new = desk.space();
    SpaceId existing = desk.space(pre_existing());
    CHECK(desk.engine.chat_enabled(made_new).value());
    CHECK_FALSE(desk.engine.chat_enabled(existing).value());
    CHECK(outcome(desk.engine.start_conversation(made_new)) == "ok");
    CHECK(outcome(desk.engine.start_conversation(existing)) == "chat_disabled");
}

TEST_CASE("an admin may turn chat on and off at any time [R2]", "[R2]") {
    Desk desk;
    SpaceId s = desk.space(pre_existing());
    ConversationId c{};
    for (int round = 0; round < 2; ++round) {
        CHECK(outcome(desk.engine.enable_chat(s)) == "ok");
        CHECK(desk.engine.chat_enabled(s).value());
        CHECK(outcome(desk.engine.enable_chat(s)) == "ok");  // already on
        c = start(desk, s);
        CHECK(outcome(desk.engine.disable_chat(s)) == "ok");
        CHECK_FALSE(desk.engine.chat_enabled(s).value());
        CHECK(outcome(desk.engine.disable_chat(s)) == "ok");  // already off
        desk.wait(1s);
    }
    CHECK(desk.engine.status(c).value() == Status::waiting_for_agent);
    CHECK(desk.names() == Lines{"conversation_started", "conversation_started"});
}

// ---- R3 ----

TEST_CASE("start_conversation in a space with chat off fails with chat_disabled [R3]", "[R3]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    REQUIRE(desk.engine.disable_chat(s));
    refused(desk, {{s}, {a}, {}}, "chat_disabled", [&] { return desk.engine.start_conversation(s); });
    refused(desk, {{s}, {a}, {}}, "chat_disabled", [&] { return desk.engine.start_conversation(s, {.handoff = true}); });
    CHECK(desk.engine.live_conversations() == 0);
    CHECK(desk.engine.load(a).value() == Load{0, 0, 3});
}

TEST_CASE("turning chat off does not touch conversations already started [R3]", "[R3]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s, 1);
    ConversationId talking = start(desk, s);
    ConversationId queued = start(desk, s);  // waits: a's one slot holds the offer
    REQUIRE(desk.engine.accept(talking, a));
    desk.take();
    REQUIRE(desk.engine.disable_chat(s));
    CHECK(desk.take() == Lines{});
    CHECK(desk.engine.status(talking).value() == Status::active);
    CHECK(desk.engine.status(queued).value() == Status::waiting_for_agent);
    // The active one goes on...
    CHECK(outcome(desk.engine.customer_message(talking)) == "ok");
    CHECK(outcome(desk.engine.agent_message(talking, a)) == "ok");
    CHECK(outcome(desk.engine.end_by_agent(talking, a)) == "ok");
    desk.take();
    // ...and the waiting one is still routed when a slot frees.
    REQUIRE(desk.engine.resolve(talking, a, "Done"));
    CHECK(desk.take() == Lines{"resolved{at=0, conversation=#0, resolution=Done}",
                               "status_changed{at=0, conversation=#0, from=wrapping_up, to=closed}",
                               "slot_released{at=0, conversation=#0, agent=#0}",
                               "offered{at=0, conversation=#1, agent=#0, space=#0, expires_at=120}"});
    CHECK(outcome(desk.engine.accept(queued, a)) == "ok");
    desk.check();
}

// ---- R4 ----

TEST_CASE("setting availability needs the role in that space [R4]", "[R4]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId a = desk.agent();
    const World world{{s1, s2}, {a}, {}};
    refused(desk, world, "not_an_agent_in_space", [&] { return desk.engine.set_availability(a, s1, true); });
    REQUIRE(desk.engine.grant_role(a, s1));
    refused(desk, world, "not_an_agent_in_space", [&] { return desk.engine.set_availability(a, s2, true); });
    refused(desk, world, "not_an_agent_in_space", [&] { return desk.engine.set_availability(a, s2, false); });
    CHECK(outcome(desk.engine.set_availability(a, s1, true)) == "ok");
}

TEST_CASE("only agents with the role in a space receive its offers [R4]", "[R4]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId a = desk.ready_agent(s1);
    desk.take();
    ConversationId c = start(desk, s2);
    CHECK(desk.names() == Lines{"conversation_started"});
    CHECK_FALSE(desk.engine.offered_to(c).value().has_value());
    REQUIRE(desk.engine.grant_role(a, s2));
    CHECK(desk.take() == Lines{});  // a role alone: unavailable there (R5)
    REQUIRE(desk.engine.set_availability(a, s2, true));
    CHECK(desk.take() == Lines{"availability_changed{at=0, agent=#0, space=#1, available=true, reason=agent}",
                               "offered{at=0, conversation=#0, agent=#0, space=#1, expires_at=120}"});
}

TEST_CASE("an agent without the role cannot act on a space's conversations [R4]", "[R4]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId holder = desk.ready_agent(s1);
    AgentId outsider = desk.ready_agent(s2);
    ConversationId c = start(desk, s1);
    const World world{{s1, s2}, {holder, outsider}, {c}};
    refused(desk, world, "not_an_agent_in_space", [&] { return desk.engine.accept(c, outsider); });
    refused(desk, world, "not_an_agent_in_space", [&] { return desk.engine.decline(c, outsider); });
    refused(desk, world, "not_an_agent_in_space", [&] { return desk.engine.note(c, outsider); });
    refused(desk, world, "not_an_agent_in_space", [&] { return desk.engine.follow_up(c, outsider); });
    refused(desk, world, "not_an_agent_in_space", [&] { return desk.engine.agent_message(c, outsider); });
    refused(desk, world, "not_an_agent_in_space", [&] { return desk.engine.agent_typing(c, outsider); });
    refused(desk, world, "not_an_agent_in_space", [&] { return desk.engine.end_by_agent(c, outsider); });
    REQUIRE(desk.engine.accept(c, holder));
    REQUIRE(desk.engine.end_by_agent(c, holder));
    refused(desk, world, "not_an_agent_in_space", [&] { return desk.engine.resolve(c, outsider, "Done"); });
}

TEST_CASE("revoking the role withdraws the agent's pending offers in that space [R4] [R14]", "[R4][R14]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId a = desk.ready_agent(s1);
    REQUIRE(desk.engine.grant_role(a, s2));
    REQUIRE(desk.engine.set_availability(a, s2, true));
    ConversationId c1 = start(desk, s1);
    ConversationId c2 = start(desk, s2);
    desk.take();
    desk.wait(5s);
    REQUIRE(desk.engine.revoke_role(a, s1));
    CHECK(desk.take() ==
          Lines{"availability_changed{at=5, agent=#0, space=#0, available=false, reason=role_revoked}",
                "offer_withdrawn{at=5, conversation=#0, agent=#0, reason=role_revoked}"});
    CHECK_FALSE(desk.engine.has_role(a, s1).value());
    CHECK_FALSE(desk.engine.offered_to(c1).value().has_value());
    CHECK(desk.engine.offered_to(c2).value() == a);  // the other space's offer stays
    CHECK(desk.engine.load(a).value() == Load{0, 1, 3});
    desk.check();
}

TEST_CASE("revoking the role re-routes its withdrawn offers to the space's other agents [R4] [R14]", "[R4][R14]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    REQUIRE(desk.engine.offered_to(c).value() == a);
    desk.take();
    REQUIRE(desk.engine.revoke_role(a, s));
    CHECK(desk.take() ==
          Lines{"availability_changed{at=0, agent=#0, space=#0, available=false, reason=role_revoked}",
                "offer_withdrawn{at=0, conversation=#0, agent=#0, reason=role_revoked}",
                "offered{at=0, conversation=#0, agent=#1, space=#0, expires_at=120}"});
    CHECK(desk.engine.offered_to(c).value() == b);
    desk.check();
}

TEST_CASE("after revoking, assigned conversations stay with the agent, who goes on acting on them [R4]", "[R4]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    REQUIRE(desk.engine.accept(c, a));
    desk.take();
    REQUIRE(desk.engine.revoke_role(a, s));
    CHECK(desk.take() ==
          Lines{"availability_changed{at=0, agent=#0, space=#0, available=false, reason=role_revoked}"});
    CHECK(desk.engine.assignee(c).value() == a);
    CHECK(desk.engine.status(c).value() == Status::active);
    CHECK(outcome(desk.engine.agent_message(c, a)) == "ok");
    CHECK(outcome(desk.engine.agent_typing(c, a)) == "ok");
    CHECK(outcome(desk.engine.note(c, a)) == "ok");
    CHECK(outcome(desk.engine.follow_up(c, a)) == "ok");
    CHECK(outcome(desk.engine.end_by_agent(c, a)) == "ok");
    CHECK(outcome(desk.engine.note(c, a)) == "ok");
    CHECK(outcome(desk.engine.resolve(c, a, "Done")) == "ok");
    CHECK(desk.names() == Lines{"message", "typing", "note", "follow_up_created", "conversation_ended",
                                "status_changed", "note", "resolved", "status_changed", "slot_released"});
    CHECK(desk.engine.load(a).value() == Load{0, 0, 3});
    desk.check();
}

TEST_CASE("granting a role the agent holds succeeds and emits nothing [R4]", "[R4]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    desk.take();
    CHECK(outcome(desk.engine.grant_role(a, s)) == "ok");
    CHECK(desk.take() == Lines{});
    // Still available, still first in the ring (not moved to the end).
    CHECK(desk.engine.available(a, s).value());
    start(desk, s);
    CHECK(desk.take().back() == "offered{at=0, conversation=#0, agent=#0, space=#0, expires_at=120}");
    (void)b;
}

TEST_CASE("setting an availability the agent already has succeeds and emits nothing [R4]", "[R4]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.agent();
    REQUIRE(desk.engine.grant_role(a, s));
    CHECK(outcome(desk.engine.set_availability(a, s, false)) == "ok");
    CHECK(outcome(desk.engine.set_availability(a, all_spaces, false)) == "ok");
    CHECK(desk.take() == Lines{});
    REQUIRE(desk.engine.set_availability(a, s, true));
    desk.take();
    CHECK(outcome(desk.engine.set_availability(a, s, true)) == "ok");
    CHECK(outcome(desk.engine.set_availability(a, all_spaces, true)) == "ok");
    CHECK(desk.take() == Lines{});
}

TEST_CASE("revoking a role the agent does not hold succeeds and emits nothing [R4]", "[R4]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.agent();
    CHECK(outcome(desk.engine.revoke_role(a, s)) == "ok");
    REQUIRE(desk.engine.grant_role(a, s));
    CHECK(outcome(desk.engine.revoke_role(a, s)) == "ok");  // held, but unavailable: nothing to say
    CHECK(outcome(desk.engine.revoke_role(a, s)) == "ok");
    CHECK(desk.take() == Lines{});
    CHECK_FALSE(desk.engine.has_role(a, s).value());
}
