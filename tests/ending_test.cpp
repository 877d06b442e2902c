// SPEC §6: ending and resolving (R20–R23).

#include "rules.hpp"

#include <catch2/catch.hpp>

#include <functional>

using namespace chatroute;
using namespace chatroute::test;

namespace {
// One space, agents a (#0) and b (#1) with the role, conversation #0 accepted by a.
struct Talk {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    Talk() {
        REQUIRE(desk.engine.accept(c, a));
        desk.take();
    }
    World world() const { return {{s}, {a, b}, {c}}; }
};
}  // namespace

// ---- R20 ----

TEST_CASE("the assignee ends an active conversation: the customer is told and the item wraps up [R20]", "[R20]") {
    Talk t;
    at(t.desk, 50s);
    REQUIRE(t.desk.engine.end_by_agent(t.c, t.a));
    CHECK(t.desk.take() == Lines{"conversation_ended{at=50, conversation=#0, reason=agent}",
                                 "status_changed{at=50, conversation=#0, from=active, to=wrapping_up}"});
    CHECK(t.desk.engine.status(t.c).value() == Status::wrapping_up);
    CHECK(t.desk.engine.assignee(t.c).value() == t.a);
    CHECK(t.desk.engine.load(t.a).value() == Load{1, 0, 3});
    t.desk.check();
}

TEST_CASE("the customer leaving an active conversation ends it with reason customer [R20]", "[R20]") {
    Talk t;
    REQUIRE(t.desk.engine.end_by_customer(t.c));
    CHECK(t.desk.take() == Lines{"conversation_ended{at=0, conversation=#0, reason=customer}",
                                 "status_changed{at=0, conversation=#0, from=active, to=wrapping_up}"});
    CHECK(t.desk.engine.status(t.c).value() == Status::wrapping_up);
}

TEST_CASE("the customer leaving before any accept withdraws the offer and closes the item unanswered [R20]",
          "[R20]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s, 1);
    ConversationId c0 = start(desk, s);
    ConversationId c1 = start(desk, s);  // waits: a is full
    desk.take();
    at(desk, 30s);
    REQUIRE(desk.engine.end_by_customer(c0));
    CHECK(desk.take() == Lines{"offer_withdrawn{at=30, conversation=#0, agent=#0, reason=conversation_ended}",
                               "conversation_ended{at=30, conversation=#0, reason=customer}",
                               "resolved{at=30, conversation=#0, resolution=Unanswered}",
                               "status_changed{at=30, conversation=#0, from=waiting_for_agent, to=closed}",
                               "offered{at=30, conversation=#1, agent=#0, space=#0, expires_at=150}"});
    CHECK(desk.engine.status(c0).value() == Status::closed);
    CHECK_FALSE(desk.engine.assignee(c0).value().has_value());
    CHECK(desk.engine.offered_to(c1).value() == a);
    CHECK(desk.engine.available(a, s).value());
    desk.check();
}

TEST_CASE("the customer leaving with no offer pending closes the item unanswered [R20]", "[R20]") {
    Desk desk;
    SpaceId s = desk.space();
    ConversationId c = start(desk, s);
    desk.take();
    REQUIRE(desk.engine.end_by_customer(c));
    CHECK(desk.take() == Lines{"conversation_ended{at=0, conversation=#0, reason=customer}",
                               "resolved{at=0, conversation=#0, resolution=Unanswered}",
                               "status_changed{at=0, conversation=#0, from=waiting_for_agent, to=closed}"});
    CHECK(desk.engine.pending_deadlines() == 0);
    CHECK(desk.engine.live_conversations() == 0);
}

TEST_CASE("ending an ended conversation fails with conversation_ended [R20]", "[R20]") {
    Talk t;
    REQUIRE(t.desk.engine.end_by_agent(t.c, t.a));
    refused(t.desk, t.world(), "conversation_ended", [&] { return t.desk.engine.end_by_agent(t.c, t.a); });
    refused(t.desk, t.world(), "conversation_ended", [&] { return t.desk.engine.end_by_customer(t.c); });
    refused(t.desk, t.world(), "conversation_ended", [&] { return t.desk.engine.end_by_agent(t.c, t.b); });
}

TEST_CASE("only the assignee may end a conversation for the agents' side [R20]", "[R20]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    const World world{{s}, {a, b}, {c}};
    refused(desk, world, "not_assignee", [&] { return desk.engine.end_by_agent(c, a); });  // holds the offer only
    REQUIRE(desk.engine.accept(c, a));
    refused(desk, world, "not_assignee", [&] { return desk.engine.end_by_agent(c, b); });
}

TEST_CASE("an automatic end of an accepted conversation wraps it up and stops its timers [R20] [R17]",
          "[R20][R17]") {
    Talk t;
    at(t.desk, 1800s);
    CHECK(t.desk.names() == Lines{"inactivity_warning", "conversation_ended", "status_changed"});
    CHECK(t.desk.engine.status(t.c).value() == Status::wrapping_up);
    CHECK_FALSE(t.desk.engine.next_deadline().has_value());
    refused(t.desk, t.world(), "conversation_ended", [&] { return t.desk.engine.end_by_customer(t.c); });
}

// ---- R21 ----

TEST_CASE("in wrapping_up, customer-facing messages and typing fail with conversation_ended [R21]", "[R21]") {
    Talk t;
    REQUIRE(t.desk.engine.end_by_customer(t.c));
    refused(t.desk, t.world(), "conversation_ended", [&] { return t.desk.engine.customer_message(t.c); });
    refused(t.desk, t.world(), "conversation_ended", [&] { return t.desk.engine.customer_typing(t.c); });
    refused(t.desk, t.world(), "conversation_ended", [&] { return t.desk.engine.agent_message(t.c, t.a); });
    refused(t.desk, t.world(), "conversation_ended", [&] { return t.desk.engine.agent_typing(t.c, t.a); });
    refused(t.desk, t.world(), "conversation_ended",
            [&] { return t.desk.engine.customer_message(t.c, MessageRef{3}); });
}

TEST_CASE("in wrapping_up, internal notes and follow-up work still succeed [R21]", "[R21]") {
    Talk t;
    REQUIRE(t.desk.engine.end_by_agent(t.c, t.a));
    t.desk.take();
    at(t.desk, 5s);
    REQUIRE(t.desk.engine.note(t.c, t.a));
    REQUIRE(t.desk.engine.follow_up(t.c, t.a));
    REQUIRE(t.desk.engine.note(t.c, t.b));
    REQUIRE(t.desk.engine.follow_up(t.c, t.b));
    CHECK(t.desk.take() == Lines{"note{at=5, conversation=#0, agent=#0, audience=team}",
                                 "follow_up_created{at=5, conversation=#0, agent=#0}",
                                 "note{at=5, conversation=#0, agent=#1, audience=team}",
                                 "follow_up_created{at=5, conversation=#0, agent=#1}"});
    CHECK(t.desk.engine.status(t.c).value() == Status::wrapping_up);
}

// ---- R22 ----

TEST_CASE("resolving closes the item, releases the slot, and routing runs [R22]", "[R22]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s, 1);
    ConversationId c0 = start(desk, s);
    REQUIRE(desk.engine.accept(c0, a));
    at(desk, 10s);
    ConversationId c1 = start(desk, s);
    REQUIRE(desk.engine.end_by_agent(c0, a));
    at(desk, 20s);
    desk.take();
    REQUIRE(desk.engine.resolve(c0, a, "Won't do"));
    CHECK(desk.take() == Lines{"resolved{at=20, conversation=#0, resolution=Won't do}",
                               "status_changed{at=20, conversation=#0, from=wrapping_up, to=closed}",
                               "slot_released{at=20, conversation=#0, agent=#0}",
                               "offered{at=20, conversation=#1, agent=#0, space=#0, expires_at=140}"});
    CHECK(desk.engine.status(c0).value() == Status::closed);
    CHECK(desk.engine.offered_to(c1).value() == a);
    CHECK(desk.engine.load(a).value() == Load{0, 1, 1});
    desk.check();
}

TEST_CASE("every resolution in the workflow may close an item [R22]", "[R22]") {
    const std::string resolution = GENERATE("Done", "Won't do", "Duplicate", "Unanswered");
    Talk t;
    REQUIRE(t.desk.engine.end_by_agent(t.c, t.a));
    t.desk.take();
    CHECK(outcome(t.desk.engine.resolve(t.c, t.a, resolution)) == "ok");
    CHECK(t.desk.take().front() == "resolved{at=0, conversation=#0, resolution=" + resolution + "}");
}

TEST_CASE("resolving an active item fails with conversation_active [R22]", "[R22]") {
    Talk t;
    refused(t.desk, t.world(), "conversation_active", [&] { return t.desk.engine.resolve(t.c, t.a, "Done"); });
    CHECK(t.desk.engine.status(t.c).value() == Status::active);
}

TEST_CASE("resolving with a resolution not in the workflow fails with unknown_resolution [R22]", "[R22]") {
    const std::string resolution = GENERATE("done", "Fixed", "Done ", "Unanswered\n");
    Talk t;
    REQUIRE(t.desk.engine.end_by_agent(t.c, t.a));
    refused(t.desk, t.world(), "unknown_resolution", [&] { return t.desk.engine.resolve(t.c, t.a, resolution); });
}

TEST_CASE("only the assignee may resolve [R22]", "[R22]") {
    Talk t;
    REQUIRE(t.desk.engine.end_by_agent(t.c, t.a));
    refused(t.desk, t.world(), "not_assignee", [&] { return t.desk.engine.resolve(t.c, t.b, "Done"); });
    CHECK(outcome(t.desk.engine.resolve(t.c, t.a, "Done")) == "ok");
}

TEST_CASE("a waiting item cannot be resolved, not even by the agent holding its offer [R22]", "[R22]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    refused(desk, {{s}, {a}, {c}}, "not_assignee", [&] { return desk.engine.resolve(c, a, "Done"); });
}

// ---- R23 ----

namespace {
// Every command that names a conversation, each run against `c` by agent `a`.
std::vector<std::pair<std::string, std::function<Result<>(Desk&, ConversationId, AgentId)>>> every_command() {
    return {
        {"accept", [](Desk& d, ConversationId c, AgentId a) { return d.engine.accept(c, a); }},
        {"decline", [](Desk& d, ConversationId c, AgentId a) { return d.engine.decline(c, a); }},
        {"customer_message", [](Desk& d, ConversationId c, AgentId) { return d.engine.customer_message(c); }},
        {"customer_typing", [](Desk& d, ConversationId c, AgentId) { return d.engine.customer_typing(c); }},
        {"agent_message", [](Desk& d, ConversationId c, AgentId a) { return d.engine.agent_message(c, a); }},
        {"agent_typing", [](Desk& d, ConversationId c, AgentId a) { return d.engine.agent_typing(c, a); }},
        {"note", [](Desk& d, ConversationId c, AgentId a) { return d.engine.note(c, a); }},
        {"follow_up", [](Desk& d, ConversationId c, AgentId a) { return d.engine.follow_up(c, a); }},
        {"end_by_customer", [](Desk& d, ConversationId c, AgentId) { return d.engine.end_by_customer(c); }},
        {"end_by_agent", [](Desk& d, ConversationId c, AgentId a) { return d.engine.end_by_agent(c, a); }},
        {"resolve", [](Desk& d, ConversationId c, AgentId a) { return d.engine.resolve(c, a, "Done"); }},
    };
}
}  // namespace

TEST_CASE("a resolved item is closed for good: every command on it fails with work_item_closed [R23]", "[R23]") {
    Talk t;
    REQUIRE(t.desk.engine.end_by_agent(t.c, t.a));
    REQUIRE(t.desk.engine.resolve(t.c, t.a, "Done"));
    for (const auto& entry : every_command()) {
        INFO(entry.first);
        const auto& command = entry.second;
        for (AgentId who : {t.a, t.b})
            refused(t.desk, t.world(), "work_item_closed", [&] { return command(t.desk, t.c, who); });
    }
    CHECK(t.desk.engine.status(t.c).value() == Status::closed);
}

TEST_CASE("an item closed unanswered is closed for good too [R23] [R15]", "[R23][R15]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    REQUIRE(desk.engine.end_by_customer(c));
    REQUIRE(desk.engine.status(c).value() == Status::closed);
    for (const auto& entry : every_command()) {
        INFO(entry.first);
        const auto& command = entry.second;
        refused(desk, {{s}, {a}, {c}}, "work_item_closed", [&] { return command(desk, c, a); });
    }
}

TEST_CASE("a closed item's id keeps reading as closed after new conversations start [R23]", "[R23]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    ConversationId old = start(desk, s);
    REQUIRE(desk.engine.end_by_customer(old));
    ConversationId fresh = start(desk, s);  // may reuse the engine's storage
    CHECK(fresh != old);
    CHECK(desk.engine.status(old).value() == Status::closed);
    CHECK(desk.engine.status(fresh).value() == Status::waiting_for_agent);
    CHECK_FALSE(desk.engine.offered_to(old).value().has_value());
    CHECK(desk.engine.offered_to(fresh).value() == a);
    const World world{{s}, {a}, {old, fresh}};
    refused(desk, world, "work_item_closed", [&] { return desk.engine.accept(old, a); });
    refused(desk, world, "work_item_closed", [&] { return desk.engine.customer_message(old); });
    refused(desk, world, "work_item_closed", [&] { return desk.engine.end_by_customer(old); });
    CHECK(outcome(desk.engine.accept(fresh, a)) == "ok");
}
