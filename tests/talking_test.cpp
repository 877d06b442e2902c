// SPEC §5: talking (R16–R19).

#include "rules.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <variant>

using namespace chatroute;
using namespace chatroute::test;

namespace {
// A desk with one space, agent #0 holding the role there, and conversation #0 offered to it.
struct Chat {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    Chat() { desk.take(); }
};
}  // namespace

// ---- R16 ----

TEST_CASE("while active, messages go to the conversation and typing to the other side [R16]", "[R16]") {
    Chat chat;
    Desk& desk = chat.desk;
    REQUIRE(desk.engine.accept(chat.c, chat.a));
    desk.take();
    REQUIRE(desk.engine.customer_message(chat.c));
    REQUIRE(desk.engine.customer_typing(chat.c));
    REQUIRE(desk.engine.agent_message(chat.c, chat.a));
    REQUIRE(desk.engine.agent_typing(chat.c, chat.a));
    CHECK(desk.take() == Lines{"message{at=0, conversation=#0, from=customer, audience=conversation}",
                               "typing{at=0, conversation=#0, from=customer, audience=agent}",
                               "message{at=0, conversation=#0, from=agent, audience=conversation, agent=#0}",
                               "typing{at=0, conversation=#0, from=agent, audience=customer, agent=#0}"});
}

TEST_CASE("while waiting, the customer may post messages and typing; an agent may not [R16]", "[R16]") {
    Chat chat;
    Desk& desk = chat.desk;
    AgentId other = desk.ready_agent(chat.s);
    desk.take();
    REQUIRE(desk.engine.customer_message(chat.c));
    REQUIRE(desk.engine.customer_typing(chat.c));
    CHECK(desk.take() == Lines{"message{at=0, conversation=#0, from=customer, audience=conversation}",
                               "typing{at=0, conversation=#0, from=customer, audience=agent}"});
    const World world{{chat.s}, {chat.a, other}, {chat.c}};
    // Not even the agent holding the offer.
    refused(desk, world, "not_assignee", [&] { return desk.engine.agent_message(chat.c, chat.a); });
    refused(desk, world, "not_assignee", [&] { return desk.engine.agent_typing(chat.c, chat.a); });
    refused(desk, world, "not_assignee", [&] { return desk.engine.agent_message(chat.c, other); });
    refused(desk, world, "not_assignee", [&] { return desk.engine.agent_typing(chat.c, other); });
}

TEST_CASE("only the assignee posts messages and typing in an active conversation [R16]", "[R16]") {
    Chat chat;
    Desk& desk = chat.desk;
    AgentId other = desk.ready_agent(chat.s);
    REQUIRE(desk.engine.accept(chat.c, chat.a));
    const World world{{chat.s}, {chat.a, other}, {chat.c}};
    refused(desk, world, "not_assignee", [&] { return desk.engine.agent_message(chat.c, other); });
    refused(desk, world, "not_assignee", [&] { return desk.engine.agent_typing(chat.c, other); });
}

TEST_CASE("agents with the role post internal notes for the team in every status but closed [R16]", "[R16]") {
    Chat chat;
    Desk& desk = chat.desk;
    AgentId other = desk.ready_agent(chat.s);
    desk.take();
    // waiting_for_agent
    REQUIRE(desk.engine.note(chat.c, other));
    REQUIRE(desk.engine.follow_up(chat.c, chat.a));
    CHECK(desk.take() == Lines{"note{at=0, conversation=#0, agent=#1, audience=team}",
                               "follow_up_created{at=0, conversation=#0, agent=#0}"});
    // active
    REQUIRE(desk.engine.accept(chat.c, chat.a));
    desk.take();
    REQUIRE(desk.engine.note(chat.c, chat.a));
    REQUIRE(desk.engine.note(chat.c, other));
    REQUIRE(desk.engine.follow_up(chat.c, other));
    CHECK(desk.take() == Lines{"note{at=0, conversation=#0, agent=#0, audience=team}",
                               "note{at=0, conversation=#0, agent=#1, audience=team}",
                               "follow_up_created{at=0, conversation=#0, agent=#1}"});
    // wrapping_up
    REQUIRE(desk.engine.end_by_customer(chat.c));
    desk.take();
    REQUIRE(desk.engine.note(chat.c, other));
    REQUIRE(desk.engine.follow_up(chat.c, chat.a));
    CHECK(desk.take() == Lines{"note{at=0, conversation=#0, agent=#1, audience=team}",
                               "follow_up_created{at=0, conversation=#0, agent=#0}"});
    // closed
    REQUIRE(desk.engine.resolve(chat.c, chat.a, "Done"));
    const World world{{chat.s}, {chat.a, other}, {chat.c}};
    refused(desk, world, "work_item_closed", [&] { return desk.engine.note(chat.c, other); });
    refused(desk, world, "work_item_closed", [&] { return desk.engine.follow_up(chat.c, chat.a); });
}

TEST_CASE("a note's audience is always the team, never the customer [R16]", "[R16]") {
    STATIC_REQUIRE(events::Note::audience == Audience::team);
    Chat chat;
    Desk& desk = chat.desk;
    REQUIRE(desk.engine.accept(chat.c, chat.a));
    desk.sink.events.clear();
    REQUIRE(desk.engine.note(chat.c, chat.a, MessageRef{5}));
    REQUIRE(desk.sink.events.size() == 1);
    const auto* note = std::get_if<events::Note>(&desk.sink.events[0]);
    REQUIRE(note != nullptr);
    CHECK(note->audience == Audience::team);
    CHECK(note->agent == chat.a);
}

TEST_CASE("an agent with neither the role nor the assignment may not post notes [R16] [R4]", "[R16][R4]") {
    Chat chat;
    Desk& desk = chat.desk;
    SpaceId elsewhere = desk.space();
    AgentId outsider = desk.ready_agent(elsewhere);
    const World world{{chat.s, elsewhere}, {chat.a, outsider}, {chat.c}};
    refused(desk, world, "not_an_agent_in_space", [&] { return desk.engine.note(chat.c, outsider); });
    refused(desk, world, "not_an_agent_in_space", [&] { return desk.engine.follow_up(chat.c, outsider); });
}

// ---- R17 ----

TEST_CASE("20 minutes without a message after acceptance warns, 10 more end the conversation [R17]", "[R17]") {
    Chat chat;
    Desk& desk = chat.desk;
    at(desk, 10s);
    REQUIRE(desk.engine.accept(chat.c, chat.a));
    desk.take();
    at(desk, 1209s);
    CHECK(desk.take() == Lines{});
    at(desk, 1210s);
    CHECK(desk.take() == Lines{"inactivity_warning{at=1210, conversation=#0}"});
    CHECK(desk.engine.status(chat.c).value() == Status::active);
    at(desk, 1809s);
    CHECK(desk.take() == Lines{});
    at(desk, 1810s);
    CHECK(desk.take() == Lines{"conversation_ended{at=1810, conversation=#0, reason=inactivity}",
                               "status_changed{at=1810, conversation=#0, from=active, to=wrapping_up}"});
    CHECK(desk.engine.status(chat.c).value() == Status::wrapping_up);
    CHECK(desk.engine.load(chat.a).value() == Load{1, 0, 3});
    // Nothing more fires for it: no second warning, no maximum duration.
    at(desk, 100000s);
    CHECK(desk.take() == Lines{});
    CHECK(desk.engine.pending_deadlines() == 0);
    desk.check();
}

TEST_CASE("a message in the grace cancels it and starts the 20 minutes again [R17]", "[R17]") {
    const bool from_customer = GENERATE(true, false);
    Chat chat;
    Desk& desk = chat.desk;
    REQUIRE(desk.engine.accept(chat.c, chat.a));
    at(desk, 1200s);
    CHECK(desk.names() == Lines{"accepted", "status_changed", "inactivity_warning"});
    at(desk, 1500s);
    REQUIRE((from_customer ? desk.engine.customer_message(chat.c) : desk.engine.agent_message(chat.c, chat.a)));
    desk.take();
    at(desk, 1800s);  // the old grace would have ended it here
    at(desk, 2699s);
    CHECK(desk.take() == Lines{});
    at(desk, 2700s);
    CHECK(desk.take() == Lines{"inactivity_warning{at=2700, conversation=#0}"});
    at(desk, 3300s);
    CHECK(desk.take() == Lines{"conversation_ended{at=3300, conversation=#0, reason=inactivity}",
                               "status_changed{at=3300, conversation=#0, from=active, to=wrapping_up}"});
}

TEST_CASE("a message before the warning pushes it back to 20 minutes after that message [R17]", "[R17]") {
    const bool from_customer = GENERATE(true, false);
    Chat chat;
    Desk& desk = chat.desk;
    REQUIRE(desk.engine.accept(chat.c, chat.a));
    at(desk, 600s);
    REQUIRE((from_customer ? desk.engine.customer_message(chat.c) : desk.engine.agent_message(chat.c, chat.a)));
    desk.take();
    at(desk, 1799s);
    CHECK(desk.take() == Lines{});
    at(desk, 1800s);
    CHECK(desk.take() == Lines{"inactivity_warning{at=1800, conversation=#0}"});
}

TEST_CASE("typing, notes and follow-ups are not activity [R17]", "[R17]") {
    Chat chat;
    Desk& desk = chat.desk;
    REQUIRE(desk.engine.accept(chat.c, chat.a));
    at(desk, 1000s);
    REQUIRE(desk.engine.customer_typing(chat.c));
    REQUIRE(desk.engine.agent_typing(chat.c, chat.a));
    REQUIRE(desk.engine.note(chat.c, chat.a));
    REQUIRE(desk.engine.follow_up(chat.c, chat.a));
    desk.take();
    at(desk, 1200s);
    CHECK(desk.take() == Lines{"inactivity_warning{at=1200, conversation=#0}"});
    at(desk, 1500s);
    REQUIRE(desk.engine.customer_typing(chat.c));
    REQUIRE(desk.engine.note(chat.c, chat.a));
    desk.take();
    at(desk, 1800s);
    CHECK(desk.names() == Lines{"conversation_ended", "status_changed"});
}

TEST_CASE("messages while waiting are not activity: the 20 minutes count from acceptance [R17]", "[R17]") {
    Chat chat;
    Desk& desk = chat.desk;
    REQUIRE(desk.engine.customer_message(chat.c));
    at(desk, 100s);
    REQUIRE(desk.engine.accept(chat.c, chat.a));
    desk.take();
    at(desk, 1299s);
    CHECK(desk.take() == Lines{});
    at(desk, 1300s);
    CHECK(desk.take() == Lines{"inactivity_warning{at=1300, conversation=#0}"});
}

TEST_CASE("the inactivity timings are the space's own [R17]", "[R17]") {
    Desk desk;
    SpaceSettings settings;
    settings.timings.inactivity_warning = std::chrono::minutes{5};
    settings.timings.inactivity_grace = std::chrono::minutes{1};
    SpaceId s = desk.space(settings);
    AgentId a = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    REQUIRE(desk.engine.accept(c, a));
    desk.take();
    at(desk, 300s);
    at(desk, 360s);
    CHECK(desk.take() == Lines{"inactivity_warning{at=300, conversation=#0}",
                               "conversation_ended{at=360, conversation=#0, reason=inactivity}",
                               "status_changed{at=360, conversation=#0, from=active, to=wrapping_up}"});
}

// ---- R18 ----

TEST_CASE("24 hours after it started, an active conversation ends with max_duration [R18]", "[R18]") {
    Chat chat;
    Desk& desk = chat.desk;
    REQUIRE(desk.engine.accept(chat.c, chat.a));
    for (int k = 1; k < 96; ++k) {  // a message every 15 minutes keeps inactivity away
        at(desk, std::chrono::seconds{900 * k});
        REQUIRE(desk.engine.customer_message(chat.c));
    }
    desk.take();
    at(desk, 86399s);
    CHECK(desk.take() == Lines{});
    at(desk, 86400s);
    CHECK(desk.take() == Lines{"conversation_ended{at=86400, conversation=#0, reason=max_duration}",
                               "status_changed{at=86400, conversation=#0, from=active, to=wrapping_up}"});
    CHECK(desk.engine.status(chat.c).value() == Status::wrapping_up);
    CHECK(desk.engine.assignee(chat.c).value() == chat.a);
    CHECK(desk.engine.pending_deadlines() == 0);
    desk.check();
}

TEST_CASE("a waiting conversation still waiting at its maximum duration closes unanswered [R18]", "[R18]") {
    Desk desk;
    SpaceSettings settings;
    settings.timings.accept_window = std::chrono::hours{2};
    settings.timings.offer_timeout = std::chrono::hours{2};
    settings.timings.max_duration = std::chrono::hours{1};
    SpaceId s = desk.space(settings);
    AgentId a = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    CHECK(desk.take().back() == "offered{at=0, conversation=#0, agent=#0, space=#0, expires_at=7200}");
    at(desk, 3600s);
    CHECK(desk.take() == Lines{"offer_withdrawn{at=3600, conversation=#0, agent=#0, reason=conversation_ended}",
                               "conversation_ended{at=3600, conversation=#0, reason=max_duration}",
                               "resolved{at=3600, conversation=#0, resolution=Unanswered}",
                               "status_changed{at=3600, conversation=#0, from=waiting_for_agent, to=closed}"});
    CHECK(desk.engine.status(c).value() == Status::closed);
    CHECK(desk.engine.load(a).value() == Load{0, 0, 3});
    CHECK(desk.engine.available(a, s).value());
    CHECK(desk.engine.pending_deadlines() == 0);
    desk.check();
}

TEST_CASE("max_duration ends a conversation during the inactivity grace [R18] [R17]", "[R18][R17]") {
    Desk desk;
    SpaceSettings settings;
    settings.timings.max_duration = std::chrono::minutes{25};
    SpaceId s = desk.space(settings);
    AgentId a = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    REQUIRE(desk.engine.accept(c, a));
    desk.take();
    at(desk, 2000s);
    CHECK(desk.take() == Lines{"inactivity_warning{at=1200, conversation=#0}",
                               "conversation_ended{at=1500, conversation=#0, reason=max_duration}",
                               "status_changed{at=1500, conversation=#0, from=active, to=wrapping_up}"});
}

TEST_CASE("an accept window and a maximum duration on the same instant end the conversation no_agent [R18] [R15]",
          "[R18][R15]") {
    Desk desk;
    SpaceSettings settings;
    settings.timings.accept_window = std::chrono::hours{1};
    settings.timings.max_duration = std::chrono::hours{1};
    settings.fallback_message = "sorry";
    SpaceId s = desk.space(settings);
    start(desk, s);
    desk.take();
    at(desk, 3600s);
    CHECK(desk.take() == Lines{"fallback_message{at=3600, conversation=#0, text=sorry}",
                               "conversation_ended{at=3600, conversation=#0, reason=no_agent}",
                               "resolved{at=3600, conversation=#0, resolution=Unanswered}",
                               "status_changed{at=3600, conversation=#0, from=waiting_for_agent, to=closed}"});
    CHECK(desk.engine.pending_deadlines() == 0);
}

TEST_CASE("a conversation that has ended is not ended again at its maximum duration [R18]", "[R18]") {
    Chat chat;
    Desk& desk = chat.desk;
    REQUIRE(desk.engine.accept(chat.c, chat.a));
    at(desk, 60s);
    REQUIRE(desk.engine.end_by_customer(chat.c));
    desk.take();
    at(desk, 90000s);
    CHECK(desk.take() == Lines{});
    CHECK(desk.engine.status(chat.c).value() == Status::wrapping_up);
    CHECK(outcome(desk.engine.resolve(chat.c, chat.a, "Done")) == "ok");
}

// ---- R19 ----

TEST_CASE("events carry back the host's opaque message references [R19]", "[R19]") {
    Chat chat;
    Desk& desk = chat.desk;
    REQUIRE(desk.engine.accept(chat.c, chat.a));
    desk.sink.events.clear();
    const std::uint64_t big = std::numeric_limits<std::uint64_t>::max();
    REQUIRE(desk.engine.customer_message(chat.c, MessageRef{big}));
    REQUIRE(desk.engine.agent_message(chat.c, chat.a, MessageRef{42}));
    REQUIRE(desk.engine.note(chat.c, chat.a, MessageRef{7}));
    REQUIRE(desk.engine.customer_message(chat.c));
    REQUIRE(desk.sink.events.size() == 4);
    CHECK(std::get<events::Message>(desk.sink.events[0]).ref == MessageRef{big});
    CHECK(std::get<events::Message>(desk.sink.events[1]).ref == MessageRef{42});
    CHECK(std::get<events::Note>(desk.sink.events[2]).ref == MessageRef{7});
    CHECK(std::get<events::Message>(desk.sink.events[3]).ref == MessageRef{0});
}

TEST_CASE("a message reference is carried back while waiting too [R19]", "[R19]") {
    Chat chat;
    Desk& desk = chat.desk;
    desk.sink.events.clear();
    REQUIRE(desk.engine.customer_message(chat.c, MessageRef{99}));
    REQUIRE(desk.sink.events.size() == 1);
    const auto& message = std::get<events::Message>(desk.sink.events[0]);
    CHECK(message.ref == MessageRef{99});
    CHECK(message.from == Party::customer);
    CHECK(message.audience == Audience::conversation);
    CHECK_FALSE(message.agent.valid());
}
