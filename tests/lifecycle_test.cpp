// The lifecycle tables (include/chatroute/lifecycle.hpp) as data, and walked through the
// engine: every row of `lifecycle` is driven by a command or a deadline and lands where
// the table says; every row of `timer_rules` fires in its status with its trigger.

#include "rules.hpp"

#include <chatroute/chatroute.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <utility>

namespace chatroute::test {
namespace {

using namespace std::chrono_literals;

TEST_CASE("the lifecycle table lists each (status, trigger) once, and nothing leaves closed [R23]", "[R23]") {
    std::set<std::pair<Status, Trigger>> seen;
    for (const Transition& row : lifecycle) {
        CHECK(seen.insert({row.from, row.trigger}).second);
        CHECK(row.from != Status::closed);
        CHECK(next_status(row.from, row.trigger) == row.to);
        CHECK(!row.rules.empty());
    }
    for (std::size_t t = 0; t < trigger_count; ++t)
        CHECK_FALSE(next_status(Status::closed, static_cast<Trigger>(t)).has_value());
    // Refused pairs: an accept while active, a resolve while waiting, a transfer while wrapping up.
    CHECK_FALSE(next_status(Status::active, Trigger::accept).has_value());
    CHECK_FALSE(next_status(Status::waiting_for_agent, Trigger::resolve).has_value());
    CHECK_FALSE(next_status(Status::wrapping_up, Trigger::transfer).has_value());
}

TEST_CASE("every timer rule names a trigger its status accepts [R13] [R15] [R17] [R18] [R30] [R33] [R36]",
          "[R13][R15][R17][R18][R30][R33][R36]") {
    std::set<TimerKind> kinds;
    for (const TimerRule& rule : timer_rules) {
        kinds.insert(rule.kind);
        CHECK(next_status(rule.runs_in, rule.trigger).has_value());
        CHECK(timer_rule(rule.kind, rule.runs_in).has_value());
    }
    CHECK(kinds.size() == timer_kind_count);
    CHECK_FALSE(timer_rule(TimerKind::wrap_up_timeout, Status::active).has_value());
    CHECK_FALSE(timer_rule(TimerKind::offer_timeout, Status::closed).has_value());
}

// One desk that walks every row: waiting (offer, decline, timeout, withdraw, relax) →
// active (accept, warn) → waiting (transfer) → active → wrapping_up (end) → closed
// (resolve by the wrap-up timeout), and waiting → closed (end).
TEST_CASE("the engine walks every row of both tables [R11] [R12] [R13] [R14] [R17] [R20] [R30] [R32] [R36]",
          "[R11][R12][R13][R14][R17][R20][R30][R32][R36]") {
    Desk desk;
    SpaceSettings settings;
    settings.timings.offer_timeout = 10s;
    settings.timings.inactivity_warning = 30s;
    settings.timings.skills_relax_after = 5s;
    settings.timings.wrap_up_timeout = 40s;
    const SpaceId s = desk.space(settings);
    const AgentId a = desk.ready_agent(s);
    const AgentId b = desk.ready_agent(s);
    REQUIRE(desk.engine.set_skills(b, std::vector<std::string>{"fr"}));
    desk.take();
    auto status = [&](ConversationId c) { return desk.engine.status(c).value(); };

    // offer (R8) and decline (R12): a declines, the skilled b gets it.
    const ConversationId c = desk.engine.start_conversation(s, {.skills = {"fr"}}).value();
    CHECK(desk.engine.offered_to(c).value() == b);
    REQUIRE(desk.engine.decline(c, b));  // b is the only one with "fr": back to b
    CHECK(desk.engine.offered_to(c).value() == b);
    // relax (R30) at 5 s, offer_timeout (R13) at 10 s: b misses it, a gets it.
    at(desk, 10s);
    CHECK(desk.engine.offered_to(c).value() == a);
    CHECK(status(c) == Status::waiting_for_agent);
    // withdraw (R14): a turns unavailable; nobody left, it waits.
    REQUIRE(desk.engine.set_availability(a, s, false));
    CHECK_FALSE(desk.engine.offered_to(c).value().has_value());
    REQUIRE(desk.engine.set_availability(a, s, true));
    // accept (R11), warn (R17), transfer (R32), accept again.
    REQUIRE(desk.engine.accept(c, a));
    CHECK(status(c) == Status::active);
    at(desk, 41s);
    REQUIRE(desk.engine.transfer(c, a, s, a));
    CHECK(desk.engine.offered_to(c).value() == a);
    REQUIRE(desk.engine.accept(c, a));
    // end (R20) → wrapping_up; the wrap-up timeout resolves it (R36) → closed.
    REQUIRE(desk.engine.end_by_customer(c));
    CHECK(status(c) == Status::wrapping_up);
    at(desk, 41s + 40s);
    CHECK(status(c) == Status::closed);
    // waiting → closed by end (R20).
    const ConversationId d = start(desk, s);
    REQUIRE(desk.engine.end_by_customer(d));
    CHECK(status(d) == Status::closed);

    const Lines names = desk.names();
    for (const char* name : {"offer_declined", "skills_relaxed", "offer_timed_out", "offer_withdrawn", "accepted",
                             "inactivity_warning", "transferred", "conversation_ended", "resolved"})
        CHECK(std::count(names.begin(), names.end(), name) >= 1);
}

}  // namespace
}  // namespace chatroute::test
