// SPEC §12: conversation control — transfer (R32), unresponsive assignee (R33), return after
// a missed offer (R34), no-agent fallback (R35), wrap-up timeout (R36), preferred agent (R39).
// Black-box: every expectation comes from SPEC's words.

#include "expected_events.hpp"
#include "rules.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace chatroute;
using namespace chatroute::test;

namespace {

Lines operator+(Lines head, const Lines& tail) {
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
}

using Skills = std::vector<std::string>;

ConversationId open(Desk& desk, SpaceId space, const StartOptions& options = {}) {
    auto c = desk.engine.start_conversation(space, options);
    REQUIRE(c.has_value());
    return *c;
}
StartOptions needing(Skills skills) {
    StartOptions options;
    options.skills = std::move(skills);
    return options;
}
StartOptions preferring(AgentId agent, Skills skills = {}) {
    StartOptions options;
    options.preferred_agent = agent;
    options.skills = std::move(skills);
    return options;
}
SpaceSettings routed_by(Strategy strategy) {
    SpaceSettings settings;
    settings.strategy = strategy;
    return settings;
}
SpaceSettings responding_within(duration timeout) {
    SpaceSettings settings;
    settings.timings.assignee_response_timeout = timeout;
    return settings;
}
SpaceSettings falling_back(std::string text) {
    SpaceSettings settings;
    settings.no_agent_action = NoAgentAction::fallback;
    settings.fallback_message = std::move(text);
    return settings;
}
SpaceSettings wrapping_up_within(duration timeout) {
    SpaceSettings settings;
    settings.timings.wrap_up_timeout = timeout;
    return settings;
}
AgentId skilled(Desk& desk, SpaceId space, Skills skills, std::int64_t limit = 3) {
    auto a = desk.engine.add_agent(AgentSettings{limit, std::move(skills)});
    REQUIRE(a.has_value());
    REQUIRE(desk.engine.grant_role(*a, space));
    REQUIRE(desk.engine.set_availability(*a, space, true));
    return *a;
}
void make_ready(Desk& desk, AgentId agent, SpaceId space) {
    REQUIRE(desk.engine.grant_role(agent, space));
    REQUIRE(desk.engine.set_availability(agent, space, true));
}
void returning_after(Desk& desk, duration after) {
    SiteUpdate update;
    update.missed_offer_return_after = after;
    REQUIRE(desk.engine.update_site(update));
}
// Sets the clock without letting deadlines fire: the next command does that (R25).
void clock_at(Desk& desk, duration since_start) { desk.clock.set(time_point{since_start}); }
std::string strategy_name(Strategy strategy) {
    switch (strategy) {
        case Strategy::round_robin: return "round_robin";
        case Strategy::least_active: return "least_active";
        case Strategy::most_available: return "most_available";
        case Strategy::least_recent: return "least_recent";
    }
    return "?";
}

// a in s1 has accepted `k` (started and accepted at 0); b is ready in s2.
struct Transfer {
    Desk desk;
    SpaceId s1;
    SpaceId s2;
    AgentId a;
    AgentId b;
    ConversationId k;
    explicit Transfer(SpaceSettings first = {}, SpaceSettings second = {}) {
        s1 = desk.space(first);
        s2 = desk.space(second);
        a = desk.ready_agent(s1);
        b = desk.ready_agent(s2);
        k = open(desk, s1);
        REQUIRE(desk.engine.accept(k, a));
        taken(desk);
    }
};

}  // namespace

// ---- R32: transfer ----

TEST_CASE("a transfer emits transferred, status_changed, slot_released, then routing offers it in the target [R32]",
          "[R32]") {
    Transfer x;
    auto& [desk, s1, s2, a, b, k] = x;
    at(desk, 100s);
    REQUIRE(desk.engine.transfer(k, a, s2));
    CHECK(taken(desk) == Lines{ev::transferred(100s, k, a, s2, "agent"),
                               ev::status(100s, k, "active", "waiting_for_agent"), ev::released(100s, k, a),
                               ev::offered(100s, k, b, s2, 220s)});
    CHECK(desk.engine.status(k).value() == Status::waiting_for_agent);
    CHECK_FALSE(desk.engine.assignee(k).value().has_value());
    CHECK(desk.engine.load(a).value() == Load{0, 0, 3});
    CHECK(desk.engine.load(b).value() == Load{0, 1, 3});
    // Whoever accepts next gets the transcript, handoff or not.
    at(desk, 110s);
    REQUIRE(desk.engine.accept(k, b));
    CHECK(taken(desk) == Lines{ev::accepted(110s, k, b), ev::status(110s, k, "waiting_for_agent", "active"),
                               ev::transcript(110s, k, b)});
    CHECK(desk.engine.assignee(k).value() == b);
    desk.check();
}

TEST_CASE("a transferred conversation keeps its age and priority in the target's line [R32] [R29]", "[R32][R29]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId a = desk.ready_agent(s1);
    AgentId b = desk.agent(1);
    REQUIRE(desk.engine.grant_role(b, s2));  // not available yet
    StartOptions urgent;
    urgent.priority = 3;
    ConversationId k = open(desk, s1, urgent);
    REQUIRE(desk.engine.accept(k, a));
    at(desk, 10s);
    ConversationId w1 = open(desk, s2);
    at(desk, 20s);
    ConversationId w2 = open(desk, s2, urgent);
    at(desk, 30s);
    taken(desk);
    REQUIRE(desk.engine.transfer(k, a, s2));
    CHECK(taken(desk) == Lines{ev::transferred(30s, k, a, s2, "agent"),
                               ev::status(30s, k, "active", "waiting_for_agent"), ev::released(30s, k, a)});
    CHECK(desk.engine.priority(k).value() == 3);
    CHECK(desk.engine.queue_position(k).value() == std::optional<std::size_t>{1});  // priority 3, started at 0
    CHECK(desk.engine.queue_position(w2).value() == std::optional<std::size_t>{2});
    CHECK(desk.engine.queue_position(w1).value() == std::optional<std::size_t>{3});
    at(desk, 40s);
    REQUIRE(desk.engine.set_availability(b, s2, true));
    CHECK(taken(desk) == Lines{ev::availability(40s, b, s2, true, "agent"), ev::offered(40s, k, b, s2, 160s)});
    desk.check();
}

TEST_CASE("an eligible to_agent is offered the transfer once, and the cursor does not move [R32]", "[R32]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId a = desk.ready_agent(s1);
    AgentId b = desk.ready_agent(s2);
    AgentId c = desk.ready_agent(s2);
    AgentId d = desk.ready_agent(s2);
    ConversationId k = open(desk, s1);
    REQUIRE(desk.engine.accept(k, a));
    at(desk, 10s);
    taken(desk);
    REQUIRE(desk.engine.transfer(k, a, s2, c));
    CHECK(taken(desk) == Lines{ev::transferred(10s, k, a, s2, "agent"),
                               ev::status(10s, k, "active", "waiting_for_agent"), ev::released(10s, k, a),
                               ev::offered(10s, k, c, s2, 130s)});
    // Once: after c declines, s2's round robin decides, from its unmoved cursor (b first, not d).
    at(desk, 20s);
    REQUIRE(desk.engine.decline(k, c));
    CHECK(taken(desk) == Lines{ev::declined(20s, k, c), ev::offered(20s, k, b, s2, 140s)});
    ConversationId n = open(desk, s2);
    CHECK(taken(desk) == Lines{ev::started(20s, n, s2), ev::offered(20s, n, c, s2, 140s)});
    (void)d;
    desk.check();
}

TEST_CASE("a to_agent who is not eligible in the target leaves the choice to its strategy [R32]", "[R32]") {
    const int why = GENERATE(0, 1, 2);  // unavailable, full, lacking a required skill
    INFO((why == 0 ? "unavailable" : why == 1 ? "full" : "lacks the skill"));
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId a = skilled(desk, s1, {"de"});
    AgentId b = skilled(desk, s2, {"de"});
    AgentId c = desk.engine.add_agent(AgentSettings{why == 1 ? 0 : 3, why == 2 ? Skills{} : Skills{"de"}}).value();
    REQUIRE(desk.engine.grant_role(c, s2));
    if (why != 0) REQUIRE(desk.engine.set_availability(c, s2, true));
    ConversationId k = open(desk, s1, needing({"de"}));
    REQUIRE(desk.engine.accept(k, a));
    at(desk, 10s);
    taken(desk);
    REQUIRE(desk.engine.transfer(k, a, s2, c));
    CHECK(taken(desk) == Lines{ev::transferred(10s, k, a, s2, "agent"),
                               ev::status(10s, k, "active", "waiting_for_agent"), ev::released(10s, k, a),
                               ev::offered(10s, k, b, s2, 130s)});
    desk.check();
}

TEST_CASE("transferring to its own space requeues it there [R32]", "[R32]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    ConversationId k = open(desk, s);  // a; the cursor moves past a
    REQUIRE(desk.engine.accept(k, a));
    at(desk, 50s);
    taken(desk);
    REQUIRE(desk.engine.transfer(k, a, s));
    CHECK(taken(desk) == Lines{ev::transferred(50s, k, a, s, "agent"),
                               ev::status(50s, k, "active", "waiting_for_agent"), ev::released(50s, k, a),
                               ev::offered(50s, k, b, s, 170s)});
    desk.check();
}

TEST_CASE("transfer refusals change nothing [R32] [R27]", "[R32][R27]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    SpaceId off = desk.space();
    AgentId a = desk.ready_agent(s1);
    AgentId b = desk.ready_agent(s1);
    AgentId c = desk.ready_agent(s2);
    AgentId outsider = desk.agent();
    ConversationId active = open(desk, s1);  // a
    REQUIRE(desk.engine.accept(active, a));
    ConversationId waiting = open(desk, s1);  // b
    REQUIRE(desk.engine.offered_to(waiting).value() == b);
    ConversationId wrapping = open(desk, s1);  // a
    REQUIRE(desk.engine.accept(wrapping, a));
    REQUIRE(desk.engine.end_by_agent(wrapping, a));
    ConversationId closed = open(desk, s2);  // c
    REQUIRE(desk.engine.accept(closed, c));
    REQUIRE(desk.engine.end_by_agent(closed, c));
    REQUIRE(desk.engine.resolve(closed, c, "Done"));
    REQUIRE(desk.engine.disable_chat(off));
    const World world{{s1, s2, off}, {a, b, c, outsider}, {active, waiting, wrapping, closed}};
    auto& e = desk.engine;
    refused(desk, world, "not_assignee", [&] { return e.transfer(waiting, b, s2); });  // b holds its offer
    refused(desk, world, "not_assignee", [&] { return e.transfer(active, b, s2); });   // b has the role
    refused(desk, world, "conversation_ended", [&] { return e.transfer(wrapping, a, s2); });
    refused(desk, world, "work_item_closed", [&] { return e.transfer(closed, c, s1); });
    refused(desk, world, "chat_disabled", [&] { return e.transfer(active, a, off); });
    refused(desk, world, "not_an_agent_in_space", [&] { return e.transfer(active, a, s2, outsider); });
    refused(desk, world, "not_an_agent_in_space", [&] { return e.transfer(active, a, s2, b); });
    refused(desk, world, "unknown_space", [&] { return e.transfer(active, a, SpaceId{}); });
    refused(desk, world, "unknown_agent", [&] { return e.transfer(active, a, s2, AgentId{}); });
    refused(desk, world, "unknown_agent", [&] { return e.transfer(active, AgentId{}, s2); });
    refused(desk, world, "unknown_conversation", [&] { return e.transfer(ConversationId{}, a, s2); });
    // Its own space with chat off is refused too.
    REQUIRE(e.disable_chat(s1));
    refused(desk, world, "chat_disabled", [&] { return e.transfer(active, a, s1); });
}

TEST_CASE("a transfer at the instant the old inactivity warning is due: the warning fires first [R32] [R25] [R17]",
          "[R32][R25][R17]") {
    Transfer x;
    auto& [desk, s1, s2, a, b, k] = x;
    clock_at(desk, 20min);  // a accepted at 0: the warning is due now
    REQUIRE(desk.engine.transfer(k, a, s2));
    CHECK(taken(desk) == Lines{ev::warning(1200s, k), ev::transferred(1200s, k, a, s2, "agent"),
                               ev::status(1200s, k, "active", "waiting_for_agent"), ev::released(1200s, k, a),
                               ev::offered(1200s, k, b, s2, 1320s)});
    at(desk, 1210s);
    REQUIRE(desk.engine.accept(k, b));
    taken(desk);
    // The old grace (due at 1800) stopped with the transfer; b's own inactivity runs from 1210.
    at(desk, 1800s);
    CHECK(taken(desk) == Lines{});
    at(desk, 2410s);
    CHECK(taken(desk) == Lines{ev::warning(2410s, k)});
    desk.check();
}

TEST_CASE("the target's new accept window expiring closes the transfer unanswered, with no slot_released [R32] [R15]",
          "[R32][R15]") {
    Desk desk;
    SpaceSettings first;
    first.fallback_message = "from s1";
    SpaceSettings second;
    second.fallback_message = "from s2";
    second.timings.accept_window = 2000s;
    SpaceId s1 = desk.space(first);
    SpaceId s2 = desk.space(second);
    AgentId a = desk.ready_agent(s1);
    AgentId b = desk.agent();
    REQUIRE(desk.engine.grant_role(b, s2));  // nobody available in s2
    ConversationId k = open(desk, s1);
    at(desk, 10s);
    REQUIRE(desk.engine.accept(k, a));
    at(desk, 100s);
    REQUIRE(desk.engine.transfer(k, a, s2));
    taken(desk);
    at(desk, 1200s);  // the first window (from the start) is gone
    CHECK(taken(desk) == Lines{});
    desk.clock.set(time_point{2100s - 1us});
    REQUIRE(desk.engine.advance());
    CHECK(taken(desk) == Lines{});
    at(desk, 2100s);
    CHECK(taken(desk) == Lines{ev::fallback(2100s, k, "from s2")} + ev::closed_unanswered(2100s, k, "no_agent"));
    CHECK(desk.engine.status(k).value() == Status::closed);
    CHECK(desk.engine.load(a).value() == Load{0, 0, 3});
    desk.check();
}

TEST_CASE("a transferred conversation that ends before anyone accepts closes unanswered [R32] [R20]", "[R32][R20]") {
    Transfer x;
    auto& [desk, s1, s2, a, b, k] = x;
    at(desk, 100s);
    REQUIRE(desk.engine.transfer(k, a, s2));
    taken(desk);
    at(desk, 105s);
    REQUIRE(desk.engine.end_by_customer(k));
    CHECK(taken(desk) == Lines{ev::withdrawn(105s, k, b, "conversation_ended")} +
                             ev::closed_unanswered(105s, k, "customer"));
    CHECK(desk.engine.load(b).value() == Load{0, 0, 3});
    desk.check();
}

TEST_CASE("the maximum duration counts from the start, with the starting space's setting [R32] [R18]", "[R32][R18]") {
    SECTION("the starting space's is shorter") {
        SpaceSettings first;
        first.timings.max_duration = 1000s;
        Transfer x(first);
        auto& [desk, s1, s2, a, b, k] = x;
        at(desk, 100s);
        REQUIRE(desk.engine.transfer(k, a, s2));
        at(desk, 110s);
        REQUIRE(desk.engine.accept(k, b));
        taken(desk);
        desk.clock.set(time_point{1000s - 1us});
        REQUIRE(desk.engine.advance());
        CHECK(taken(desk) == Lines{});
        at(desk, 1000s);
        CHECK(taken(desk) == Lines{ev::ended(1000s, k, "max_duration"), ev::status(1000s, k, "active", "wrapping_up")});
        desk.check();
    }
    SECTION("the target's is shorter") {
        SpaceSettings second;
        second.timings.max_duration = 500s;
        Transfer x({}, second);
        auto& [desk, s1, s2, a, b, k] = x;
        at(desk, 100s);
        REQUIRE(desk.engine.transfer(k, a, s2));
        at(desk, 110s);
        REQUIRE(desk.engine.accept(k, b));
        taken(desk);
        at(desk, 1300s);  // before b's inactivity warning at 1310
        CHECK(taken(desk) == Lines{});
        CHECK(desk.engine.status(k).value() == Status::active);
        desk.check();
    }
}

TEST_CASE("an offer to a to_agent counts for least_recent [R32] [R28]", "[R32][R28]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space(routed_by(Strategy::least_recent));
    AgentId a = desk.ready_agent(s1);
    AgentId b = desk.ready_agent(s2);
    AgentId c = desk.ready_agent(s2);
    ConversationId k = open(desk, s1);
    REQUIRE(desk.engine.accept(k, a));
    REQUIRE(desk.engine.transfer(k, a, s2, c));  // c offered at 0
    at(desk, 10s);
    ConversationId n1 = open(desk, s2);  // b: never offered
    at(desk, 20s);
    ConversationId n2 = open(desk, s2);  // c (0) before b (10)
    CHECK(desk.engine.offered_to(n1).value() == b);
    CHECK(desk.engine.offered_to(n2).value() == c);
    desk.check();
}

// ---- R33: unresponsive assignee ----

TEST_CASE("an unanswered customer message transfers after exactly the response timeout [R33]", "[R33]") {
    Desk desk;
    SpaceId s = desk.space(responding_within(60s));
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    ConversationId k = open(desk, s);  // a
    REQUIRE(desk.engine.accept(k, a));
    at(desk, 10s);
    REQUIRE(desk.engine.customer_message(k));
    at(desk, 40s);
    REQUIRE(desk.engine.customer_message(k));  // still unanswered: the timer runs from 10
    taken(desk);
    desk.clock.set(time_point{70s - 1us});
    REQUIRE(desk.engine.advance());
    CHECK(taken(desk) == Lines{});
    at(desk, 70s);
    CHECK(taken(desk) == Lines{ev::transferred(70s, k, a, s, "assignee_unresponsive"),
                               ev::status(70s, k, "active", "waiting_for_agent"), ev::released(70s, k, a),
                               ev::availability(70s, a, s, false, "assignee_unresponsive"),
                               ev::offered(70s, k, b, s, 190s)});
    desk.check();
}

TEST_CASE("the assignee's message stops the response timer; only messages while active count [R33]", "[R33]") {
    Desk desk;
    SpaceId s = desk.space(responding_within(60s));
    AgentId a = desk.ready_agent(s);
    ConversationId k = open(desk, s);
    REQUIRE(desk.engine.customer_message(k));  // while waiting: does not count
    at(desk, 5s);
    REQUIRE(desk.engine.accept(k, a));
    at(desk, 70s);
    REQUIRE(desk.engine.customer_message(k));
    at(desk, 100s);
    REQUIRE(desk.engine.agent_message(k, a));
    at(desk, 130s);  // 60 s after the customer's message: answered
    taken(desk);
    CHECK(desk.engine.status(k).value() == Status::active);
    at(desk, 150s);
    REQUIRE(desk.engine.customer_message(k));
    taken(desk);
    desk.clock.set(time_point{210s - 1us});
    REQUIRE(desk.engine.advance());
    CHECK(taken(desk) == Lines{});
    at(desk, 210s);
    CHECK(taken(desk) == Lines{ev::transferred(210s, k, a, s, "assignee_unresponsive"),
                               ev::status(210s, k, "active", "waiting_for_agent"), ev::released(210s, k, a),
                               ev::availability(210s, a, s, false, "assignee_unresponsive")});
    desk.check();
}

TEST_CASE("an unresponsive only agent: the conversation waits, and R34 brings the agent back to it [R33] [R34]",
          "[R33][R34]") {
    Desk desk;
    returning_after(desk, 300s);
    SpaceId s = desk.space(responding_within(60s));
    AgentId a = desk.ready_agent(s);
    ConversationId k = open(desk, s);
    REQUIRE(desk.engine.accept(k, a));
    at(desk, 10s);
    REQUIRE(desk.engine.customer_message(k));
    taken(desk);
    at(desk, 70s);
    CHECK(taken(desk) == Lines{ev::transferred(70s, k, a, s, "assignee_unresponsive"),
                               ev::status(70s, k, "active", "waiting_for_agent"), ev::released(70s, k, a),
                               ev::availability(70s, a, s, false, "assignee_unresponsive")});
    CHECK(desk.engine.status(k).value() == Status::waiting_for_agent);
    desk.clock.set(time_point{370s - 1us});
    REQUIRE(desk.engine.advance());
    CHECK(taken(desk) == Lines{});
    at(desk, 370s);
    CHECK(taken(desk) == Lines{ev::availability(370s, a, s, true, "auto_return"), ev::offered(370s, k, a, s, 490s)});
    desk.check();
}

TEST_CASE("an unresponsive assignee is set unavailable in the missed-offer scope, in space order [R33] [R13] [R14]",
          "[R33][R13][R14]") {
    const MissedOfferScope scope = GENERATE(MissedOfferScope::all_spaces, MissedOfferScope::offer_space);
    Desk desk;
    REQUIRE(desk.engine.update_site(scope_is(scope)));
    SpaceId s1 = desk.space(responding_within(60s));
    SpaceId s2 = desk.space();
    AgentId a = desk.agent();
    make_ready(desk, a, s2);  // role order differs from space order
    make_ready(desk, a, s1);
    AgentId b = desk.ready_agent(s1);
    ConversationId k = open(desk, s1);  // a, first in s1's ring
    REQUIRE(desk.engine.offered_to(k).value() == a);
    REQUIRE(desk.engine.accept(k, a));
    at(desk, 5s);
    ConversationId m = open(desk, s2);  // a, the only one in s2
    REQUIRE(desk.engine.offered_to(m).value() == a);
    at(desk, 10s);
    REQUIRE(desk.engine.customer_message(k));
    taken(desk);
    at(desk, 70s);
    const Lines head{ev::transferred(70s, k, a, s1, "assignee_unresponsive"),
                     ev::status(70s, k, "active", "waiting_for_agent"), ev::released(70s, k, a),
                     ev::availability(70s, a, s1, false, "assignee_unresponsive")};
    if (scope == MissedOfferScope::all_spaces) {
        CHECK(taken(desk) == head + Lines{ev::availability(70s, a, s2, false, "assignee_unresponsive"),
                                          ev::withdrawn(70s, m, a, "agent_unavailable"),
                                          ev::offered(70s, k, b, s1, 190s)});
        CHECK_FALSE(desk.engine.available(a, s2).value());
    } else {
        CHECK(taken(desk) == head + Lines{ev::offered(70s, k, b, s1, 190s)});
        CHECK(desk.engine.available(a, s2).value());
        CHECK(desk.engine.offered_to(m).value() == a);
    }
    desk.check();
}

TEST_CASE("the response timeout transfers even when chat is now off in the space [R33]", "[R33]") {
    Desk desk;
    SpaceId s = desk.space(responding_within(60s));
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    ConversationId k = open(desk, s);
    REQUIRE(desk.engine.accept(k, a));
    at(desk, 10s);
    REQUIRE(desk.engine.customer_message(k));
    at(desk, 20s);
    REQUIRE(desk.engine.disable_chat(s));
    taken(desk);
    at(desk, 70s);
    CHECK(taken(desk) == Lines{ev::transferred(70s, k, a, s, "assignee_unresponsive"),
                               ev::status(70s, k, "active", "waiting_for_agent"), ev::released(70s, k, a),
                               ev::availability(70s, a, s, false, "assignee_unresponsive"),
                               ev::offered(70s, k, b, s, 190s)});
    desk.check();
}

// ---- R34: return after a missed offer ----

TEST_CASE("an agent who missed an offer returns exactly return_after later, then routing runs [R34] [R13]",
          "[R34][R13]") {
    Desk desk;
    returning_after(desk, 300s);
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    ConversationId k = open(desk, s);
    taken(desk);
    at(desk, 120s);
    CHECK(taken(desk) ==
          Lines{ev::timed_out(120s, k, a), ev::availability(120s, a, s, false, "offer_timeout")});
    desk.clock.set(time_point{420s - 1us});
    REQUIRE(desk.engine.advance());
    CHECK(taken(desk) == Lines{});
    at(desk, 420s);
    CHECK(taken(desk) == Lines{ev::availability(420s, a, s, true, "auto_return"), ev::offered(420s, k, a, s, 540s)});
    desk.check();
}

TEST_CASE("the return is cancelled by the agent's own change or a role revoke, even if regranted [R34]", "[R34]") {
    Desk desk;
    returning_after(desk, 300s);
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    ConversationId k = open(desk, s);
    at(desk, 120s);  // a misses the offer
    REQUIRE_FALSE(desk.engine.available(a, s).value());
    SECTION("available, then unavailable again, by the agent") {
        at(desk, 200s);
        REQUIRE(desk.engine.set_availability(a, s, true));
        at(desk, 250s);
        REQUIRE(desk.engine.set_availability(a, s, false));
        taken(desk);
    }
    SECTION("role revoked, then granted again") {
        at(desk, 200s);
        REQUIRE(desk.engine.revoke_role(a, s));
        at(desk, 250s);
        REQUIRE(desk.engine.grant_role(a, s));
        taken(desk);
        CHECK(desk.engine.has_role(a, s).value());
    }
    at(desk, 420s);
    CHECK(taken(desk) == Lines{});
    CHECK_FALSE(desk.engine.available(a, s).value());
    CHECK_FALSE(desk.engine.offered_to(k).value().has_value());
    desk.check();
}

TEST_CASE("returns go in the order spaces were added, then routing runs once [R34]", "[R34]") {
    Desk desk;
    returning_after(desk, 300s);
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId a = desk.agent(2);
    make_ready(desk, a, s2);
    make_ready(desk, a, s1);
    ConversationId k1 = open(desk, s2);  // a
    taken(desk);
    at(desk, 120s);
    CHECK(taken(desk) == Lines{ev::timed_out(120s, k1, a), ev::availability(120s, a, s1, false, "offer_timeout"),
                               ev::availability(120s, a, s2, false, "offer_timeout")});
    at(desk, 200s);
    ConversationId k2 = open(desk, s1);  // waits
    taken(desk);
    at(desk, 420s);
    CHECK(taken(desk) == Lines{ev::availability(420s, a, s1, true, "auto_return"),
                               ev::availability(420s, a, s2, true, "auto_return"), ev::offered(420s, k1, a, s2, 540s),
                               ev::offered(420s, k2, a, s1, 540s)});
    desk.check();
}

// ---- R35: no agent at all ----

TEST_CASE("with fallback, a start while no agent with the role is available ends at once [R35]", "[R35]") {
    Desk desk;
    SpaceId s = desk.space(falling_back("Nobody here, sorry"));
    SpaceId t = desk.space();
    AgentId away = desk.agent();
    REQUIRE(desk.engine.grant_role(away, s));  // present, not available
    AgentId elsewhere = desk.ready_agent(t);   // available, but not in s
    at(desk, 5s);
    taken(desk);
    ConversationId k = open(desk, s);
    CHECK(taken(desk) == Lines{ev::started(5s, k, s), ev::fallback(5s, k, "Nobody here, sorry"),
                               ev::ended(5s, k, "no_agent"), ev::resolved(5s, k, "Unanswered"),
                               ev::status(5s, k, "waiting_for_agent", "closed")});
    CHECK(desk.engine.status(k).value() == Status::closed);
    CHECK(desk.engine.live_conversations() == 0);
    CHECK(desk.engine.load(elsewhere).value() == Load{0, 0, 3});
    desk.check();
}

TEST_CASE("with fallback, an available agent means waiting, whatever their load [R35]", "[R35]") {
    Desk desk;
    SpaceId s = desk.space(falling_back("Nobody here"));
    AgentId a = desk.ready_agent(s, 1);
    AgentId none = desk.ready_agent(s, 0);
    ConversationId k0 = open(desk, s);  // a: now full
    taken(desk);
    ConversationId k1 = open(desk, s);
    CHECK(taken(desk) == Lines{ev::started(0s, k1, s)});
    CHECK(desk.engine.status(k1).value() == Status::waiting_for_agent);
    CHECK(desk.engine.offered_to(k0).value() == a);
    CHECK(desk.engine.load(none).value() == Load{0, 0, 0});
    desk.check();
}

TEST_CASE("no_agent_action is wait by default and update_space changes it for later starts [R35]", "[R35]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId away = desk.agent();
    REQUIRE(desk.engine.grant_role(away, s));
    ConversationId k0 = open(desk, s);
    taken(desk);
    SpaceUpdate update;
    update.no_agent_action = NoAgentAction::fallback;
    update.fallback_message = "Closed for today";
    REQUIRE(desk.engine.update_space(s, update));
    CHECK(taken(desk) == Lines{});
    CHECK(desk.engine.status(k0).value() == Status::waiting_for_agent);
    ConversationId k1 = open(desk, s);
    CHECK(taken(desk) == Lines{ev::started(0s, k1, s), ev::fallback(0s, k1, "Closed for today"),
                               ev::ended(0s, k1, "no_agent"), ev::resolved(0s, k1, "Unanswered"),
                               ev::status(0s, k1, "waiting_for_agent", "closed")});
    SpaceUpdate back;
    back.no_agent_action = NoAgentAction::wait;
    REQUIRE(desk.engine.update_space(s, back));
    ConversationId k2 = open(desk, s);
    CHECK(taken(desk) == Lines{ev::started(0s, k2, s)});
    desk.check();
}

// ---- R36: wrap-up timeout ----

TEST_CASE("a work item still wrapping up is resolved at exactly wrap_up_timeout, as R22 [R36] [R22]",
          "[R36][R22]") {
    Desk desk;
    SpaceId s = desk.space(wrapping_up_within(300s));
    AgentId a = desk.ready_agent(s, 1);
    ConversationId k = open(desk, s);
    REQUIRE(desk.engine.accept(k, a));
    at(desk, 100s);
    REQUIRE(desk.engine.end_by_agent(k, a));
    ConversationId next = open(desk, s);  // waits: a's slot is held
    taken(desk);
    at(desk, 200s);
    SiteUpdate naming;
    naming.wrap_up_resolution = "Duplicate";
    REQUIRE(desk.engine.update_site(naming));  // read when the deadline fires, not when it was set
    CHECK(taken(desk) == Lines{ev::workflow_changed(200s)});
    desk.clock.set(time_point{400s - 1us});
    REQUIRE(desk.engine.advance());
    CHECK(taken(desk) == Lines{});
    at(desk, 400s);
    CHECK(taken(desk) == Lines{ev::resolved(400s, k, "Duplicate"), ev::status(400s, k, "wrapping_up", "closed"),
                               ev::released(400s, k, a), ev::offered(400s, next, a, s, 520s)});
    desk.check();
}

TEST_CASE("an unset wrap_up_resolution is the list's first resolution [R36] [R24]", "[R36][R24]") {
    const bool custom = GENERATE(false, true);
    Desk desk;
    if (custom) {
        SiteUpdate update;
        update.resolutions = std::vector<std::string>{"Fixed", "Done", "Unanswered"};
        REQUIRE(desk.engine.update_site(update));
    }
    SpaceId s = desk.space(wrapping_up_within(300s));
    AgentId a = desk.ready_agent(s);
    ConversationId k = open(desk, s);
    REQUIRE(desk.engine.accept(k, a));
    REQUIRE(desk.engine.end_by_customer(k));
    taken(desk);
    at(desk, 300s);
    CHECK(taken(desk) == Lines{ev::resolved(300s, k, custom ? "Fixed" : "Done"),
                               ev::status(300s, k, "wrapping_up", "closed"), ev::released(300s, k, a)});
    desk.check();
}

TEST_CASE("a resolve at the wrap-up deadline's instant comes after it and fails [R36] [R25] [R23]",
          "[R36][R25][R23]") {
    Desk desk;
    SpaceId s = desk.space(wrapping_up_within(300s));
    AgentId a = desk.ready_agent(s);
    ConversationId k = open(desk, s);
    REQUIRE(desk.engine.accept(k, a));
    at(desk, 100s);
    REQUIRE(desk.engine.end_by_agent(k, a));
    taken(desk);
    clock_at(desk, 400s);
    CHECK(outcome(desk.engine.resolve(k, a, "Won't do")) == "work_item_closed");
    CHECK(taken(desk) == Lines{ev::resolved(400s, k, "Done"), ev::status(400s, k, "wrapping_up", "closed"),
                               ev::released(400s, k, a)});
    desk.check();
}

TEST_CASE("a resolve before the wrap-up deadline cancels it [R36] [R22]", "[R36][R22]") {
    Desk desk;
    SpaceId s = desk.space(wrapping_up_within(300s));
    AgentId a = desk.ready_agent(s);
    ConversationId k = open(desk, s);
    REQUIRE(desk.engine.accept(k, a));
    REQUIRE(desk.engine.end_by_agent(k, a));
    at(desk, 299s);
    REQUIRE(desk.engine.resolve(k, a, "Won't do"));
    taken(desk);
    at(desk, 300s);
    CHECK(taken(desk) == Lines{});
    desk.check();
}

TEST_CASE("a wrap_up_resolution outside the list is refused as a workflow change [R36] [R24] [R27]",
          "[R36][R24][R27]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    ConversationId k = open(desk, s);
    const World world{{s}, {a}, {k}};
    SiteUpdate stray;
    stray.wrap_up_resolution = "Nope";
    refused(desk, world, "invalid_argument", [&] { return desk.engine.update_site(stray); });
    SiteUpdate named;
    named.wrap_up_resolution = "Duplicate";
    REQUIRE(desk.engine.update_site(named));
    // Validated as a whole: a new list must still hold the named wrap-up resolution.
    SiteUpdate dropping;
    dropping.resolutions = std::vector<std::string>{"Done", "Unanswered"};
    refused(desk, world, "invalid_argument", [&] { return desk.engine.update_site(dropping); });
}

// ---- R39: preferred agent ----

TEST_CASE("an eligible preferred agent gets the first offer whatever the strategy; the cursor stays [R39]",
          "[R39][R28]") {
    const Strategy strategy = GENERATE(Strategy::round_robin, Strategy::least_active, Strategy::most_available,
                                       Strategy::least_recent);
    INFO(strategy_name(strategy));
    Desk desk;
    SpaceId s = desk.space(routed_by(strategy));
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    AgentId c = desk.ready_agent(s);
    taken(desk);
    ConversationId k = open(desk, s, preferring(b));
    ConversationId n = open(desk, s);  // a: from the unmoved cursor (c if it had moved past b)
    CHECK(taken(desk) == Lines{ev::started(0s, k, s), ev::offered(0s, k, b, s, 120s), ev::started(0s, n, s),
                               ev::offered(0s, n, a, s, 120s)});
    (void)c;
    desk.check();
}

TEST_CASE("a preferred agent who is not eligible gets nothing special [R39]", "[R39]") {
    const int why = GENERATE(0, 1, 2, 3);  // full, unavailable, lacking a skill, without the role
    INFO((why == 0 ? "full" : why == 1 ? "unavailable" : why == 2 ? "lacks the skill" : "without the role"));
    Desk desk;
    SpaceId s = desk.space();
    SpaceId t = desk.space();
    AgentId a = skilled(desk, s, {"en"});
    AgentId p = desk.engine.add_agent(AgentSettings{1, why == 2 ? Skills{} : Skills{"en"}}).value();
    if (why != 3) REQUIRE(desk.engine.grant_role(p, s));
    if (why == 0 || why == 2) REQUIRE(desk.engine.set_availability(p, s, true));
    if (why == 0) {
        make_ready(desk, p, t);
        ConversationId elsewhere = open(desk, t);
        REQUIRE(desk.engine.offered_to(elsewhere).value() == p);
    }
    taken(desk);
    ConversationId k = open(desk, s, preferring(p, {"en"}));
    CHECK(taken(desk) == Lines{ev::started(0s, k, s), ev::offered(0s, k, a, s, 120s)});
    desk.check();
}

TEST_CASE("after the first offer the strategy decides: a declining preferred agent is not preferred again [R39] [R12]",
          "[R39][R12]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId p = desk.ready_agent(s);
    AgentId c = desk.ready_agent(s);
    ConversationId k = open(desk, s, preferring(p));
    REQUIRE(desk.engine.offered_to(k).value() == p);
    taken(desk);
    at(desk, 3s);
    REQUIRE(desk.engine.decline(k, p));
    CHECK(taken(desk) == Lines{ev::declined(3s, k, p), ev::offered(3s, k, a, s, 123s)});
    at(desk, 4s);
    REQUIRE(desk.engine.decline(k, a));  // round robin from past a: p
    CHECK(taken(desk) == Lines{ev::declined(4s, k, a), ev::offered(4s, k, p, s, 124s)});
    (void)c;
    desk.check();
}

TEST_CASE("an offer to a preferred agent counts for least_recent [R39] [R28]", "[R39][R28]") {
    Desk desk;
    SpaceId s = desk.space(routed_by(Strategy::least_recent));
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    ConversationId k0 = open(desk, s, preferring(b));  // b at 0
    at(desk, 10s);
    ConversationId k1 = open(desk, s);  // a: never offered
    at(desk, 20s);
    ConversationId k2 = open(desk, s);  // b (0) before a (10)
    CHECK(desk.engine.offered_to(k0).value() == b);
    CHECK(desk.engine.offered_to(k1).value() == a);
    CHECK(desk.engine.offered_to(k2).value() == b);
    desk.check();
}

TEST_CASE("an unknown preferred agent is unknown_agent and changes nothing [R39] [R27]", "[R39][R27]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    ConversationId k = open(desk, s);
    const World world{{s}, {a}, {k}};
    refused(desk, world, "unknown_agent", [&] { return desk.engine.start_conversation(s, preferring(AgentId{})); });
    refused(desk, world, "unknown_agent",
            [&] { return desk.engine.start_conversation(s, preferring(AgentId{a.index + 5, a.site, a.serial})); });
    // unknown_space comes before unknown_agent (§10 field order: conversation, space, ..., preferred_agent).
    refused(desk, world, "unknown_space",
            [&] { return desk.engine.start_conversation(SpaceId{}, preferring(AgentId{})); });
    // A closed work item stays closed; the returning customer starts anew, preferring a.
    REQUIRE(desk.engine.accept(k, a));
    REQUIRE(desk.engine.end_by_customer(k));
    REQUIRE(desk.engine.resolve(k, a, "Done"));
    refused(desk, world, "work_item_closed", [&] { return desk.engine.accept(k, a); });
    ConversationId again = open(desk, s, preferring(a));
    CHECK(desk.engine.offered_to(again).value() == a);
}
