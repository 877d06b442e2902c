// SPEC §11: routing policies — strategies, priority, skills, per-space limits (R28–R31)
// and the queue queries (R37). Black-box: every expectation comes from SPEC's words.

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

using Skills = std::vector<std::string>;

ConversationId open(Desk& desk, SpaceId space, const StartOptions& options = {}) {
    auto c = desk.engine.start_conversation(space, options);
    REQUIRE(c.has_value());
    return *c;
}
StartOptions with_priority(std::int64_t priority) {
    StartOptions options;
    options.priority = priority;
    return options;
}
StartOptions needing(Skills skills) {
    StartOptions options;
    options.skills = std::move(skills);
    return options;
}
SpaceSettings routed_by(Strategy strategy) {
    SpaceSettings settings;
    settings.strategy = strategy;
    return settings;
}
SpaceUpdate switch_to(Strategy strategy) {
    SpaceUpdate update;
    update.strategy = strategy;
    return update;
}
// An agent with these skills, the role in `space` and available there.
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
std::string strategy_name(Strategy strategy) {
    switch (strategy) {
        case Strategy::round_robin: return "round_robin";
        case Strategy::least_active: return "least_active";
        case Strategy::most_available: return "most_available";
        case Strategy::least_recent: return "least_recent";
    }
    return "?";
}
std::string show_space_load(const Result<SpaceLoad>& load) {
    if (!load) return fmt::format("error:{}", to_string(load.error()));
    return load->limit ? fmt::format("count={} limit={}", load->count, *load->limit)
                       : fmt::format("count={} limit=none", load->count);
}
std::string show_position(const Result<std::optional<std::size_t>>& position) {
    if (!position) return fmt::format("error:{}", to_string(position.error()));
    return *position ? fmt::format("{}", **position) : std::string("none");
}
std::string show_queue(const Result<QueueStats>& q) {
    if (!q) return fmt::format("error:{}", to_string(q.error()));
    return fmt::format("waiting={} oldest={} available_agents={}", q->waiting,
                       q->oldest_start ? fmt::format("{}", *q->oldest_start) : std::string("none"),
                       q->available_agents);
}

}  // namespace

// ---- R28: strategies ----

TEST_CASE("each strategy chooses by its measure, ties from the cursor, and moves the cursor past its choice [R28]",
          "[R28]") {
    const Strategy strategy = GENERATE(Strategy::least_active, Strategy::most_available, Strategy::least_recent);
    INFO(strategy_name(strategy));
    Desk desk;
    SpaceId s = desk.space(routed_by(strategy));
    SpaceId t = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    AgentId c = desk.ready_agent(s);
    AgentId d = desk.ready_agent(s);
    make_ready(desk, a, t);
    make_ready(desk, b, t);
    ConversationId t1 = open(desk, t);  // a: busier, fewer free slots, offered already
    ConversationId t2 = open(desk, t);  // b: the same
    REQUIRE(desk.engine.offered_to(t1).value() == a);
    REQUIRE(desk.engine.offered_to(t2).value() == b);
    taken(desk);
    // c and d are equally good and better than a and b: c comes first from the cursor.
    ConversationId k0 = open(desk, s);
    CHECK(taken(desk) == Lines{ev::started(0s, k0, s), ev::offered(0s, k0, c, s, 120s)});
    // Changing the strategy emits nothing, moves no offer, and affects only later choices:
    // round robin now goes on from just past c.
    REQUIRE(desk.engine.update_space(s, switch_to(Strategy::round_robin)));
    CHECK(taken(desk) == Lines{});
    CHECK(desk.engine.offered_to(k0).value() == c);
    ConversationId k1 = open(desk, s);
    ConversationId k2 = open(desk, s);
    CHECK(taken(desk) == Lines{ev::started(0s, k1, s), ev::offered(0s, k1, d, s, 120s), ev::started(0s, k2, s),
                               ev::offered(0s, k2, a, s, 120s)});
    desk.check();
}

TEST_CASE("ties go in ring order from the cursor, not from the ring's first agent, under every strategy [R28] [R9]",
          "[R28][R9]") {
    const Strategy strategy = GENERATE(Strategy::round_robin, Strategy::least_active, Strategy::most_available,
                                       Strategy::least_recent);
    INFO(strategy_name(strategy));
    Desk desk;
    SpaceId s = desk.space();
    SpaceId t = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    AgentId c = desk.ready_agent(s);
    AgentId d = desk.ready_agent(s);
    make_ready(desk, c, t);
    make_ready(desk, d, t);
    ConversationId k0 = open(desk, s);  // a, by round robin
    ConversationId k1 = open(desk, s);  // b; the cursor is at c
    ConversationId t1 = open(desk, t);  // c
    ConversationId t2 = open(desk, t);  // d: now everyone has one, all offered at 0
    REQUIRE(desk.engine.offered_to(k0).value() == a);
    REQUIRE(desk.engine.offered_to(k1).value() == b);
    REQUIRE(desk.engine.offered_to(t1).value() == c);
    REQUIRE(desk.engine.offered_to(t2).value() == d);
    REQUIRE(desk.engine.update_space(s, switch_to(strategy)));
    taken(desk);
    ConversationId k2 = open(desk, s);  // all tie: c, at the cursor
    ConversationId k3 = open(desk, s);  // a, b, d tie: d, just past c
    ConversationId k4 = open(desk, s);  // a, b tie: a, wrapping around
    CHECK(taken(desk) == Lines{ev::started(0s, k2, s), ev::offered(0s, k2, c, s, 120s), ev::started(0s, k3, s),
                               ev::offered(0s, k3, d, s, 120s), ev::started(0s, k4, s),
                               ev::offered(0s, k4, a, s, 120s)});
    desk.check();
}

TEST_CASE("least_active picks the fewest assigned + pending conversations over all spaces [R28]", "[R28]") {
    Desk desk;
    SpaceId s = desk.space(routed_by(Strategy::least_active));
    SpaceId t = desk.space();
    AgentId a = desk.ready_agent(s, 5);
    AgentId b = desk.ready_agent(s, 5);
    AgentId c = desk.ready_agent(s, 5);
    make_ready(desk, a, t);
    make_ready(desk, b, t);
    ConversationId t1 = open(desk, t);  // a
    REQUIRE(desk.engine.accept(t1, a));
    ConversationId t2 = open(desk, t);  // b
    ConversationId t3 = open(desk, t);  // a: one assigned + one pending
    REQUIRE(desk.engine.offered_to(t2).value() == b);
    REQUIRE(desk.engine.offered_to(t3).value() == a);
    taken(desk);
    ConversationId k0 = open(desk, s);  // a=2 b=1 c=0: c
    ConversationId k1 = open(desk, s);  // a=2 b=1 c=1: b (first of the tie from the cursor, past c)
    ConversationId k2 = open(desk, s);  // a=2 b=2 c=1: c
    ConversationId k3 = open(desk, s);  // all 2: a, just past c
    CHECK(taken(desk) == Lines{ev::started(0s, k0, s), ev::offered(0s, k0, c, s, 120s), ev::started(0s, k1, s),
                               ev::offered(0s, k1, b, s, 120s), ev::started(0s, k2, s),
                               ev::offered(0s, k2, c, s, 120s), ev::started(0s, k3, s),
                               ev::offered(0s, k3, a, s, 120s)});
    CHECK(desk.engine.load(a).value() == Load{1, 2, 5});
    desk.check();
}

TEST_CASE("most_available picks the most free slots (limit - assigned - pending) [R28]", "[R28]") {
    Desk desk;
    SpaceId s = desk.space(routed_by(Strategy::most_available));
    SpaceId t = desk.space();
    AgentId a = desk.ready_agent(s, 2);
    AgentId b = desk.ready_agent(s, 5);
    AgentId c = desk.ready_agent(s, 5);
    make_ready(desk, c, t);
    ConversationId t1 = open(desk, t);  // c: 4 free
    REQUIRE(desk.engine.offered_to(t1).value() == c);
    taken(desk);
    ConversationId k0 = open(desk, s);  // a=2 b=5 c=4: b (least_active would pick a)
    ConversationId k1 = open(desk, s);  // a=2 b=4 c=4: c, first of the tie from the cursor
    ConversationId k2 = open(desk, s);  // a=2 b=4 c=3: b
    ConversationId k3 = open(desk, s);  // a=2 b=3 c=3: c, just past b
    CHECK(taken(desk) == Lines{ev::started(0s, k0, s), ev::offered(0s, k0, b, s, 120s), ev::started(0s, k1, s),
                               ev::offered(0s, k1, c, s, 120s), ev::started(0s, k2, s),
                               ev::offered(0s, k2, b, s, 120s), ev::started(0s, k3, s),
                               ev::offered(0s, k3, c, s, 120s)});
    CHECK(desk.engine.load(a).value() == Load{0, 0, 2});
    desk.check();
}

TEST_CASE("least_recent picks the agent offered least recently in any space, never-offered first [R28]", "[R28]") {
    Desk desk;
    SpaceId s = desk.space(routed_by(Strategy::least_recent));
    SpaceId t = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    AgentId c = desk.ready_agent(s);
    make_ready(desk, a, t);
    make_ready(desk, b, t);
    ConversationId t1 = open(desk, t);  // a at 0
    at(desk, 10s);
    ConversationId t2 = open(desk, t);  // b at 10
    REQUIRE(desk.engine.offered_to(t1).value() == a);
    REQUIRE(desk.engine.offered_to(t2).value() == b);
    taken(desk);
    at(desk, 20s);
    ConversationId k0 = open(desk, s);  // c was never offered
    at(desk, 30s);
    ConversationId k1 = open(desk, s);  // a (0) before b (10) and c (20)
    at(desk, 40s);
    ConversationId k2 = open(desk, s);  // b (10)
    at(desk, 50s);
    ConversationId k3 = open(desk, s);  // c (20)
    CHECK(taken(desk) == Lines{ev::started(20s, k0, s), ev::offered(20s, k0, c, s, 140s), ev::started(30s, k1, s),
                               ev::offered(30s, k1, a, s, 150s), ev::started(40s, k2, s),
                               ev::offered(40s, k2, b, s, 160s), ev::started(50s, k3, s),
                               ev::offered(50s, k3, c, s, 170s)});
    desk.check();
}

TEST_CASE("least_recent: offers made at the same instant tie, and ties go from the cursor [R28]", "[R28]") {
    Desk desk;
    SpaceId s = desk.space(routed_by(Strategy::least_recent));
    SpaceId t = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    AgentId c = desk.ready_agent(s);
    make_ready(desk, c, t);
    taken(desk);
    ConversationId k0 = open(desk, s);  // a: nobody offered yet, first from the cursor
    ConversationId t1 = open(desk, t);  // c, at the same instant but after a
    ConversationId k1 = open(desk, s);  // b: never offered
    ConversationId k2 = open(desk, s);  // a, b, c all offered at 0: c, at the cursor (not a, offered first)
    ConversationId k3 = open(desk, s);  // a, just past c
    CHECK(taken(desk) == Lines{ev::started(0s, k0, s), ev::offered(0s, k0, a, s, 120s), ev::started(0s, t1, t),
                               ev::offered(0s, t1, c, t, 120s), ev::started(0s, k1, s),
                               ev::offered(0s, k1, b, s, 120s), ev::started(0s, k2, s),
                               ev::offered(0s, k2, c, s, 120s), ev::started(0s, k3, s),
                               ev::offered(0s, k3, a, s, 120s)});
    desk.check();
}

TEST_CASE("a decline is re-offered by the space's strategy, the decliner excluded [R28] [R12]", "[R28][R12]") {
    const Strategy strategy = GENERATE(Strategy::round_robin, Strategy::least_active, Strategy::most_available,
                                       Strategy::least_recent);
    INFO(strategy_name(strategy));
    Desk desk;
    SpaceId s = desk.space(routed_by(strategy));
    SpaceId t = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    AgentId c = desk.ready_agent(s);
    make_ready(desk, b, t);
    make_ready(desk, c, t);
    ConversationId t1 = open(desk, t);  // b
    ConversationId t2 = open(desk, t);  // c
    REQUIRE(desk.engine.offered_to(t1).value() == b);
    REQUIRE(desk.engine.offered_to(t2).value() == c);
    ConversationId k = open(desk, s);
    REQUIRE(desk.engine.offered_to(k).value() == a);  // every strategy: a is first, least loaded, never offered
    taken(desk);
    // After a declines, a is again the least loaded, but excluded: b and c tie, b first from the cursor.
    at(desk, 5s);
    REQUIRE(desk.engine.decline(k, a));
    CHECK(taken(desk) == Lines{ev::declined(5s, k, a), ev::offered(5s, k, b, s, 125s)});
    // b declines: a (no load, offered at 0) against c (one pending, offered at 0); the cursor is past b.
    const AgentId next = (strategy == Strategy::least_active || strategy == Strategy::most_available) ? a : c;
    at(desk, 6s);
    REQUIRE(desk.engine.decline(k, b));
    CHECK(taken(desk) == Lines{ev::declined(6s, k, b), ev::offered(6s, k, next, s, 126s)});
    desk.check();
}

TEST_CASE("the only eligible agent who declines gets the offer back, under every strategy [R28] [R12]", "[R28][R12]") {
    const Strategy strategy = GENERATE(Strategy::round_robin, Strategy::least_active, Strategy::most_available,
                                       Strategy::least_recent);
    INFO(strategy_name(strategy));
    Desk desk;
    SpaceId s = desk.space(routed_by(strategy));
    AgentId a = desk.ready_agent(s);
    AgentId away = desk.agent();
    REQUIRE(desk.engine.grant_role(away, s));
    AgentId full = desk.ready_agent(s, 0);
    ConversationId k = open(desk, s);
    REQUIRE(desk.engine.offered_to(k).value() == a);
    taken(desk);
    at(desk, 7s);
    REQUIRE(desk.engine.decline(k, a));
    CHECK(taken(desk) == Lines{ev::declined(7s, k, a), ev::offered(7s, k, a, s, 127s)});
    CHECK(desk.engine.load(full).value() == Load{0, 0, 0});
    desk.check();
}

// ---- R29: priority ----

TEST_CASE("routing serves waiting conversations by priority, then age, across spaces [R29] [R10]", "[R29][R10]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId a = desk.agent(4);
    REQUIRE(desk.engine.grant_role(a, s1));
    REQUIRE(desk.engine.grant_role(a, s2));
    ConversationId x = open(desk, s1);  // priority 0, at 0
    at(desk, 10s);
    ConversationId y = open(desk, s2, with_priority(5));
    at(desk, 20s);
    ConversationId z = open(desk, s1, with_priority(5));
    at(desk, 30s);
    ConversationId w = open(desk, s2);  // priority 0, at 30
    at(desk, 40s);
    taken(desk);
    REQUIRE(desk.engine.set_availability(a, all_spaces, true));
    CHECK(taken(desk) == Lines{ev::availability(40s, a, s1, true, "agent"), ev::availability(40s, a, s2, true, "agent"),
                               ev::offered(40s, y, a, s2, 160s), ev::offered(40s, z, a, s1, 160s),
                               ev::offered(40s, x, a, s1, 160s), ev::offered(40s, w, a, s2, 160s)});
    desk.check();
}

TEST_CASE("set_priority reorders the waiting, emits priority_changed once, and never moves a pending offer [R29]",
          "[R29]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s, 1);
    ConversationId k0 = open(desk, s);  // a
    ConversationId k1 = open(desk, s);
    ConversationId k2 = open(desk, s);
    taken(desk);
    // A higher priority does not take the pending offer away from k0.
    ConversationId k3 = open(desk, s, with_priority(1000));
    CHECK(taken(desk) == Lines{ev::started(0s, k3, s)});
    CHECK(desk.engine.offered_to(k0).value() == a);
    CHECK(desk.engine.priority(k3).value() == 1000);
    CHECK(desk.engine.priority(k1).value() == 0);
    at(desk, 5s);
    REQUIRE(desk.engine.set_priority(k2, 7));
    CHECK(taken(desk) == Lines{ev::priority(5s, k2, 7)});
    REQUIRE(desk.engine.set_priority(k2, 7));  // the same value again: nothing
    CHECK(taken(desk) == Lines{});
    REQUIRE(desk.engine.set_priority(k0, 1000));
    CHECK(taken(desk) == Lines{ev::priority(5s, k0, 1000)});
    CHECK(desk.engine.offered_to(k0).value() == a);
    CHECK(desk.engine.priority(k0).value() == 1000);
    // Any status but closed: active, then wrapping up.
    REQUIRE(desk.engine.accept(k0, a));
    REQUIRE(desk.engine.set_priority(k0, 3));
    REQUIRE(desk.engine.end_by_agent(k0, a));
    REQUIRE(desk.engine.set_priority(k0, 0));
    CHECK(taken(desk) == Lines{ev::accepted(5s, k0, a), ev::status(5s, k0, "waiting_for_agent", "active"),
                               ev::priority(5s, k0, 3), ev::ended(5s, k0, "agent"),
                               ev::status(5s, k0, "active", "wrapping_up"), ev::priority(5s, k0, 0)});
    // The slot comes back: k3 (1000), then k2 (7), then k1 (0).
    REQUIRE(desk.engine.resolve(k0, a, "Done"));
    CHECK(taken(desk) == Lines{ev::resolved(5s, k0, "Done"), ev::status(5s, k0, "wrapping_up", "closed"),
                               ev::released(5s, k0, a), ev::offered(5s, k3, a, s, 125s)});
    REQUIRE(desk.engine.set_limit(a, 3));
    CHECK(taken(desk) == Lines{ev::offered(5s, k2, a, s, 125s), ev::offered(5s, k1, a, s, 125s)});
    const World world{{s}, {a}, {k0, k1, k2, k3}};
    refused(desk, world, "work_item_closed", [&] { return desk.engine.set_priority(k0, 5); });
    desk.check();
}

TEST_CASE("priority outside 0..1000 is refused and changes nothing [R29] [R27]", "[R29][R27]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s, 1);
    ConversationId k0 = open(desk, s);
    ConversationId k1 = open(desk, s, with_priority(4));
    const World world{{s}, {a}, {k0, k1}};
    for (std::int64_t bad : {std::int64_t{-1}, std::int64_t{1001}, std::int64_t{-1'000'000'000'000}}) {
        refused(desk, world, "invalid_argument", [&] { return desk.engine.set_priority(k1, bad); });
        refused(desk, world, "invalid_argument", [&] { return desk.engine.start_conversation(s, with_priority(bad)); });
    }
    refused(desk, world, "unknown_conversation", [&] { return desk.engine.set_priority(ConversationId{}, 1); });
    refused(desk, world, "unknown_conversation", [&] { return desk.engine.priority(ConversationId{}); });
    // The edges are fine.
    CHECK(outcome(desk.engine.set_priority(k1, 0)) == "ok");
    CHECK(outcome(desk.engine.set_priority(k1, 1000)) == "ok");
    CHECK(outcome(desk.engine.start_conversation(s, with_priority(1000))) == "ok");
    CHECK(outcome(desk.engine.start_conversation(s, with_priority(0))) == "ok");
}

// ---- R30: skills ----

TEST_CASE("an agent is eligible only with every required skill [R30]", "[R30]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = skilled(desk, s, {"en"});
    AgentId b = skilled(desk, s, {"en", "fr"});
    AgentId c = skilled(desk, s, {});
    taken(desk);
    ConversationId k0 = open(desk, s, needing({"fr"}));        // b, though a comes first
    ConversationId k1 = open(desk, s, needing({"fr", "en"}));  // b
    ConversationId k2 = open(desk, s, needing({"en"}));        // c lacks it: a
    ConversationId k3 = open(desk, s);                         // anyone: b, just past a
    ConversationId k4 = open(desk, s, needing({"de"}));        // nobody
    CHECK(taken(desk) == Lines{ev::started(0s, k0, s), ev::offered(0s, k0, b, s, 120s), ev::started(0s, k1, s),
                               ev::offered(0s, k1, b, s, 120s), ev::started(0s, k2, s),
                               ev::offered(0s, k2, a, s, 120s), ev::started(0s, k3, s),
                               ev::offered(0s, k3, b, s, 120s), ev::started(0s, k4, s)});
    CHECK(desk.engine.load(c).value() == Load{0, 0, 3});
    CHECK_FALSE(desk.engine.offered_to(k4).value().has_value());
    desk.check();
}

TEST_CASE("set_skills replaces the set, then routing runs; pending offers stay [R30]", "[R30]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = skilled(desk, s, {"en"});
    ConversationId k0 = open(desk, s, needing({"en"}));
    ConversationId k1 = open(desk, s, needing({"fr"}));
    REQUIRE(desk.engine.offered_to(k0).value() == a);
    taken(desk);
    at(desk, 3s);
    const Skills french{"fr"};
    REQUIRE(desk.engine.set_skills(a, french));
    CHECK(taken(desk) == Lines{ev::offered(3s, k1, a, s, 123s)});
    CHECK(desk.engine.offered_to(k0).value() == a);
    REQUIRE(desk.engine.set_skills(a, Skills{}));
    CHECK(taken(desk) == Lines{});
    CHECK(desk.engine.load(a).value() == Load{0, 2, 3});
    // The kept offer can still be accepted.
    REQUIRE(desk.engine.accept(k0, a));
    desk.check();
}

TEST_CASE("requirements drop exactly skills_relax_after the start, then routing runs [R30] [R25]", "[R30][R25]") {
    Desk desk;
    SpaceSettings settings;
    settings.timings.skills_relax_after = 60s;
    SpaceId s = desk.space(settings);
    AgentId a = desk.ready_agent(s);
    AgentId b = skilled(desk, s, {"en"});
    taken(desk);
    ConversationId k = open(desk, s, needing({"de"}));        // nobody has it
    ConversationId held = open(desk, s, needing({"en"}));     // b: still waiting, with an offer
    CHECK(taken(desk) == Lines{ev::started(0s, k, s), ev::started(0s, held, s), ev::offered(0s, held, b, s, 120s)});
    desk.clock.set(time_point{60s - 1us});
    REQUIRE(desk.engine.advance());
    CHECK(taken(desk) == Lines{});
    at(desk, 60s);
    CHECK(taken(desk) == Lines{ev::relaxed(60s, k), ev::offered(60s, k, a, s, 180s), ev::relaxed(60s, held)});
    CHECK(desk.engine.offered_to(held).value() == b);
    desk.check();
}

TEST_CASE("an accept cancels relaxing; the accept window wins a tie with it [R30] [R25] [R15]", "[R30][R25][R15]") {
    SECTION("accepted before the relax deadline") {
        Desk desk;
        SpaceSettings settings;
        settings.timings.skills_relax_after = 60s;
        SpaceId s = desk.space(settings);
        AgentId a = skilled(desk, s, {"en"});
        ConversationId k = open(desk, s, needing({"en"}));
        at(desk, 10s);
        REQUIRE(desk.engine.accept(k, a));
        taken(desk);
        at(desk, 60s);
        CHECK(taken(desk) == Lines{});
        at(desk, 61s);
        CHECK(taken(desk) == Lines{});
        desk.check();
    }
    SECTION("relax deadline at the accept window's instant: the window is set first and fires first") {
        Desk desk;
        SpaceSettings settings;
        settings.timings.skills_relax_after = 20min;  // the accept window's default
        SpaceId s = desk.space(settings);
        AgentId a = desk.agent();
        REQUIRE(desk.engine.grant_role(a, s));  // not available: nobody to offer to
        ConversationId k = open(desk, s, needing({"de"}));
        taken(desk);
        at(desk, 20min);
        CHECK(taken(desk) == Lines{ev::fallback(1200s, k, ""), ev::ended(1200s, k, "no_agent"),
                                   ev::resolved(1200s, k, "Unanswered"),
                                   ev::status(1200s, k, "waiting_for_agent", "closed")});
        desk.check();
    }
}

TEST_CASE("bad skill lists are refused and change nothing [R30] [R27]", "[R30][R27]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = skilled(desk, s, {"en"});
    ConversationId k = open(desk, s, needing({"en"}));
    const World world{{s}, {a}, {k}};
    Skills too_many;
    for (int i = 0; i < 33; ++i) too_many.push_back(fmt::format("skill{}", i));
    const std::vector<Skills> bad{
        {"en", "en"}, {""}, {std::string(65, 'x')}, too_many, {"fr", "de", "fr"},
    };
    for (const Skills& skills : bad) {
        INFO(fmt::format("{}", fmt::join(skills, ",")));
        refused(desk, world, "invalid_argument", [&] { return desk.engine.set_skills(a, skills); });
        refused(desk, world, "invalid_argument", [&] { return desk.engine.add_agent(AgentSettings{3, skills}); });
        refused(desk, world, "invalid_argument", [&] { return desk.engine.start_conversation(s, needing(skills)); });
    }
    refused(desk, world, "unknown_agent", [&] { return desk.engine.set_skills(AgentId{}, Skills{"en"}); });
    // The edges are fine: 64 bytes, 32 names.
    Skills thirty_two(too_many.begin(), too_many.begin() + 32);
    CHECK(outcome(desk.engine.set_skills(a, Skills{std::string(64, 'x')})) == "ok");
    CHECK(outcome(desk.engine.set_skills(a, thirty_two)) == "ok");
    CHECK(outcome(desk.engine.start_conversation(s, needing(thirty_two))) == "ok");
    CHECK(outcome(desk.engine.add_agent(AgentSettings{3, thirty_two})) == "ok");
}

// ---- R31: per-space limits ----

TEST_CASE("a per-space limit caps the agent in that space only, while both limits need room [R31]", "[R31]") {
    Desk desk;
    SpaceId s = desk.space();
    SpaceId t = desk.space();
    AgentId a = desk.ready_agent(s, 3);
    make_ready(desk, a, t);
    taken(desk);
    REQUIRE(desk.engine.set_space_limit(a, s, 1));
    CHECK(taken(desk) == Lines{});
    CHECK(show_space_load(desk.engine.space_load(a, s)) == "count=0 limit=1");
    CHECK(show_space_load(desk.engine.space_load(a, t)) == "count=0 limit=none");
    ConversationId k0 = open(desk, s);  // a: its one slot in s
    ConversationId k1 = open(desk, s);  // waits
    ConversationId t1 = open(desk, t);  // a: the overall limit has room
    CHECK(taken(desk) == Lines{ev::started(0s, k0, s), ev::offered(0s, k0, a, s, 120s), ev::started(0s, k1, s),
                               ev::started(0s, t1, t), ev::offered(0s, t1, a, t, 120s)});
    CHECK(show_space_load(desk.engine.space_load(a, s)) == "count=1 limit=1");
    // Raising it routes at once.
    at(desk, 2s);
    REQUIRE(desk.engine.set_space_limit(a, s, 2));
    CHECK(taken(desk) == Lines{ev::offered(2s, k1, a, s, 122s)});
    CHECK(desk.engine.load(a).value() == Load{0, 3, 3});
    // Overall full: room in s is not enough.
    ConversationId k2 = open(desk, s);
    REQUIRE(desk.engine.set_space_limit(a, s, 10));
    CHECK(taken(desk) == Lines{ev::started(2s, k2, s)});
    // Lowering takes nothing away.
    REQUIRE(desk.engine.set_space_limit(a, s, 1));
    CHECK(taken(desk) == Lines{});
    CHECK(desk.engine.offered_to(k0).value() == a);
    CHECK(desk.engine.offered_to(k1).value() == a);
    CHECK(show_space_load(desk.engine.space_load(a, s)) == "count=2 limit=1");
    // Overall room again, but s is over its own limit.
    REQUIRE(desk.engine.set_limit(a, 10));
    CHECK(taken(desk) == Lines{});
    // Removing the per-space limit routes at once.
    REQUIRE(desk.engine.set_space_limit(a, s, std::nullopt));
    CHECK(taken(desk) == Lines{ev::offered(2s, k2, a, s, 122s)});
    CHECK(show_space_load(desk.engine.space_load(a, s)) == "count=3 limit=none");
    desk.check();
}

TEST_CASE("assigned conversations in the space count against its limit until resolved [R31] [R22]", "[R31][R22]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s, 3);
    REQUIRE(desk.engine.set_space_limit(a, s, 1));
    ConversationId k0 = open(desk, s);
    REQUIRE(desk.engine.accept(k0, a));
    ConversationId k1 = open(desk, s);
    REQUIRE(desk.engine.end_by_agent(k0, a));  // wrapping up still counts
    taken(desk);
    CHECK_FALSE(desk.engine.offered_to(k1).value().has_value());
    CHECK(show_space_load(desk.engine.space_load(a, s)) == "count=1 limit=1");
    at(desk, 9s);
    REQUIRE(desk.engine.resolve(k0, a, "Done"));
    CHECK(taken(desk) == Lines{ev::resolved(9s, k0, "Done"), ev::status(9s, k0, "wrapping_up", "closed"),
                               ev::released(9s, k0, a), ev::offered(9s, k1, a, s, 129s)});
    desk.check();
}

TEST_CASE("a per-space limit can be set without the role there, and counts once granted [R31]", "[R31]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.agent(3);
    taken(desk);
    REQUIRE(desk.engine.set_space_limit(a, s, 1));
    CHECK(taken(desk) == Lines{});
    CHECK(show_space_load(desk.engine.space_load(a, s)) == "count=0 limit=1");
    ConversationId k0 = open(desk, s);
    ConversationId k1 = open(desk, s);
    REQUIRE(desk.engine.grant_role(a, s));
    taken(desk);
    at(desk, 4s);
    REQUIRE(desk.engine.set_availability(a, s, true));
    CHECK(taken(desk) == Lines{ev::availability(4s, a, s, true, "agent"), ev::offered(4s, k0, a, s, 124s)});
    CHECK_FALSE(desk.engine.offered_to(k1).value().has_value());
    desk.check();
}

TEST_CASE("most_available counts free slots against the overall limit, not the per-space one [R31] [R28]",
          "[R31][R28]") {
    Desk desk;
    SpaceId s = desk.space(routed_by(Strategy::most_available));
    AgentId b = desk.ready_agent(s, 3);
    AgentId a = desk.ready_agent(s, 5);
    REQUIRE(desk.engine.set_space_limit(a, s, 2));
    taken(desk);
    ConversationId k0 = open(desk, s);  // a has 5 free, b 3
    ConversationId k1 = open(desk, s);  // a has 4 free, b 3
    ConversationId k2 = open(desk, s);  // a is at its limit in s: b
    CHECK(taken(desk) == Lines{ev::started(0s, k0, s), ev::offered(0s, k0, a, s, 120s), ev::started(0s, k1, s),
                               ev::offered(0s, k1, a, s, 120s), ev::started(0s, k2, s),
                               ev::offered(0s, k2, b, s, 120s)});
    desk.check();
}

TEST_CASE("bad per-space limits are refused and change nothing [R31] [R27]", "[R31][R27]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s, 3);
    REQUIRE(desk.engine.set_space_limit(a, s, 2));
    ConversationId k = open(desk, s);
    const World world{{s}, {a}, {k}};
    refused(desk, world, "invalid_argument", [&] { return desk.engine.set_space_limit(a, s, -1); });
    refused(desk, world, "invalid_argument", [&] { return desk.engine.set_space_limit(a, s, 1'000'001); });
    // invalid_argument comes before unknown ids.
    refused(desk, world, "invalid_argument", [&] { return desk.engine.set_space_limit(AgentId{}, SpaceId{}, -1); });
    refused(desk, world, "unknown_agent", [&] { return desk.engine.set_space_limit(AgentId{}, s, 1); });
    // No space (the API's form of a `null` limit without `space`): refused.
    refused(desk, world, "unknown_space", [&] { return desk.engine.set_space_limit(a, SpaceId{}, std::nullopt); });
    refused(desk, world, "unknown_space", [&] { return desk.engine.set_space_limit(a, SpaceId{}, 1); });
    CHECK(outcome(desk.engine.space_load(a, SpaceId{})) == "unknown_space");
    // The edges are fine.
    CHECK(outcome(desk.engine.set_space_limit(a, s, 0)) == "ok");
    CHECK(outcome(desk.engine.set_space_limit(a, s, 1'000'000)) == "ok");
}

// ---- R37: queue queries ----

TEST_CASE("queue_position and queue answer by R29's order in the conversation's space [R37]", "[R37]") {
    Desk desk;
    SpaceId s = desk.space();
    SpaceId t = desk.space();
    AgentId a = desk.ready_agent(s, 1);
    ConversationId k0 = open(desk, s);  // a
    at(desk, 10s);
    ConversationId k1 = open(desk, s);
    at(desk, 20s);
    ConversationId k2 = open(desk, s, with_priority(5));
    at(desk, 30s);
    ConversationId k3 = open(desk, t, with_priority(9));
    auto& e = desk.engine;
    CHECK(show_position(e.queue_position(k0)) == "none");  // it has an offer
    CHECK(show_position(e.queue_position(k2)) == "1");
    CHECK(show_position(e.queue_position(k1)) == "2");
    CHECK(show_position(e.queue_position(k3)) == "1");
    CHECK(show_queue(e.queue(s)) == "waiting=2 oldest=10 available_agents=0");  // a is full
    CHECK(show_queue(e.queue(t)) == "waiting=1 oldest=30 available_agents=0");
    REQUIRE(e.set_priority(k1, 6));
    CHECK(show_position(e.queue_position(k1)) == "1");
    CHECK(show_position(e.queue_position(k2)) == "2");
    REQUIRE(e.accept(k0, a));
    CHECK(show_position(e.queue_position(k0)) == "none");
    // A second agent takes the first in line.
    AgentId b = desk.ready_agent(s, 1);
    CHECK(e.offered_to(k1).value() == b);
    CHECK(show_position(e.queue_position(k1)) == "none");
    CHECK(show_position(e.queue_position(k2)) == "1");
    CHECK(show_queue(e.queue(s)) == "waiting=1 oldest=20 available_agents=0");
    // a gets room for two more: one goes to k2, one stays free.
    REQUIRE(e.set_limit(a, 3));
    CHECK(e.offered_to(k2).value() == a);
    CHECK(show_queue(e.queue(s)) == "waiting=0 oldest=none available_agents=1");
    CHECK(show_queue(e.queue(t)) == "waiting=1 oldest=30 available_agents=0");  // a has no role in t
    // Unavailable agents do not count; the withdrawn offer puts k2 back in line.
    REQUIRE(e.set_availability(a, s, false));
    CHECK(show_queue(e.queue(s)) == "waiting=1 oldest=20 available_agents=0");
    CHECK(show_position(e.queue_position(k2)) == "1");
    REQUIRE(e.end_by_customer(k2));
    CHECK(show_queue(e.queue(s)) == "waiting=0 oldest=none available_agents=0");
    CHECK(show_position(e.queue_position(k2)) == "none");
    CHECK(show_position(e.queue_position(ConversationId{})) == "error:unknown_conversation");
    CHECK(show_queue(e.queue(SpaceId{})) == "error:unknown_space");
    desk.check();
}

TEST_CASE("update_space on an unknown space is refused and changes nothing [R28] [R27]", "[R28][R27]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    ConversationId k = open(desk, s);
    const World world{{s}, {a}, {k}};
    refused(desk, world, "unknown_space",
            [&] { return desk.engine.update_space(SpaceId{}, switch_to(Strategy::least_recent)); });
    refused(desk, world, "unknown_space", [&] {
        return desk.engine.update_space(SpaceId{s.index + 1, s.site, s.serial}, switch_to(Strategy::least_recent));
    });
}
