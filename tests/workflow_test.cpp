// SPEC §7: workflow configuration (R24).

#include "rules.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <vector>

using namespace chatroute;
using namespace chatroute::test;

namespace {
SiteUpdate resolutions_are(std::vector<std::string> names) {
    SiteUpdate update;
    update.resolutions = std::move(names);
    return update;
}
SiteUpdate unanswered_is(std::string name) {
    SiteUpdate update;
    update.unanswered_resolution = std::move(name);
    return update;
}
SiteUpdate statuses_are(std::array<std::string, 4> names) {
    SiteUpdate update;
    update.status_names = std::move(names);
    return update;
}
}  // namespace

TEST_CASE("the workflow defaults [R24]", "[R24]") {
    Desk desk;
    const Workflow& w = desk.engine.workflow();
    CHECK(w.resolutions == std::vector<std::string>{"Done", "Won't do", "Duplicate", "Unanswered"});
    CHECK(w.unanswered_resolution == "Unanswered");
    CHECK(w.status_names == std::array<std::string, 4>{"Waiting for agent", "Active", "Wrapping up", "Closed"});
}

TEST_CASE("a valid change is applied and reported as one workflow_changed event [R24]", "[R24]") {
    Desk desk;
    desk.wait(7s);
    SiteUpdate update;
    update.resolutions = std::vector<std::string>{"Fixed", "Nobody came"};
    update.unanswered_resolution = "Nobody came";
    update.status_names = std::array<std::string, 4>{"Queued", "Talking", "Wrapping", "Done"};
    REQUIRE(desk.engine.update_site(update));
    CHECK(desk.take() == Lines{"workflow_changed{at=7}"});
    const Workflow& w = desk.engine.workflow();
    CHECK(w.resolutions == std::vector<std::string>{"Fixed", "Nobody came"});
    CHECK(w.unanswered_resolution == "Nobody came");
    CHECK(w.status_names == std::array<std::string, 4>{"Queued", "Talking", "Wrapping", "Done"});
}

TEST_CASE("the change is validated as a whole [R24]", "[R24]") {
    Desk desk;
    const World world{};
    // Alone, each half leaves the unanswered resolution out of the list...
    refused(desk, world, "invalid_argument",
            [&] { return desk.engine.update_site(resolutions_are({"Fixed", "Nobody came"})); });
    refused(desk, world, "invalid_argument", [&] { return desk.engine.update_site(unanswered_is("Nobody came")); });
    // ...together they are fine.
    SiteUpdate both = resolutions_are({"Fixed", "Nobody came"});
    both.unanswered_resolution = "Nobody came";
    CHECK(outcome(desk.engine.update_site(both)) == "ok");
    CHECK(desk.names() == Lines{"workflow_changed"});
    // Another name from the list may become the unanswered one.
    CHECK(outcome(desk.engine.update_site(unanswered_is("Fixed"))) == "ok");
    CHECK(desk.engine.workflow().unanswered_resolution == "Fixed");
}

TEST_CASE("empty or duplicate names are invalid_argument and change nothing [R24]", "[R24]") {
    Desk desk;
    SpaceId s = desk.space();
    const World world{{s}, {}, {}};
    refused(desk, world, "invalid_argument",
            [&] { return desk.engine.update_site(resolutions_are({"Done", "", "Unanswered"})); });
    refused(desk, world, "invalid_argument",
            [&] { return desk.engine.update_site(resolutions_are({"Done", "Done", "Unanswered"})); });
    refused(desk, world, "invalid_argument",
            [&] { return desk.engine.update_site(resolutions_are({"Unanswered", "Unanswered"})); });
    refused(desk, world, "invalid_argument", [&] { return desk.engine.update_site(resolutions_are({})); });
    refused(desk, world, "invalid_argument", [&] { return desk.engine.update_site(unanswered_is("")); });
    refused(desk, world, "invalid_argument",
            [&] { return desk.engine.update_site(statuses_are({"Waiting", "", "Wrapping up", "Closed"})); });
    refused(desk, world, "invalid_argument",
            [&] { return desk.engine.update_site(statuses_are({"Open", "Open", "Wrapping up", "Closed"})); });
}

TEST_CASE("a refused workflow change takes the rest of the site update with it [R24] [R27]", "[R24][R27]") {
    Desk desk;
    SpaceId s = desk.space();
    SiteUpdate update = resolutions_are({"Done"});  // no "Unanswered": invalid
    update.plan = Plan::free;
    update.default_limit = 9;
    update.missed_offer_scope = MissedOfferScope::offer_space;
    refused(desk, {{s}, {}, {}}, "invalid_argument", [&] { return desk.engine.update_site(update); });
    CHECK(desk.engine.plan() == Plan::premium);
    CHECK(desk.engine.default_limit() == 3);
    CHECK(desk.engine.missed_offer_scope() == MissedOfferScope::all_spaces);
}

TEST_CASE("a change never rewrites history [R24]", "[R24]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    ConversationId answered = start(desk, s);
    REQUIRE(desk.engine.accept(answered, a));
    REQUIRE(desk.engine.end_by_agent(answered, a));
    REQUIRE(desk.engine.resolve(answered, a, "Done"));
    ConversationId unanswered = start(desk, s);
    REQUIRE(desk.engine.end_by_customer(unanswered));
    ConversationId wrapping = start(desk, s);
    REQUIRE(desk.engine.accept(wrapping, a));
    REQUIRE(desk.engine.end_by_agent(wrapping, a));
    REQUIRE(desk.engine.resolve(wrapping, a, "Duplicate"));
    // Keep the events emitted so far, to format them again after the changes.
    const std::vector<Event> kept = desk.sink.events;
    const Lines before = desk.take();

    SiteUpdate update = resolutions_are({"Fixed", "No reply"});
    update.unanswered_resolution = "No reply";
    REQUIRE(desk.engine.update_site(update));
    SiteUpdate again = resolutions_are({"A", "B", "C", "D", "E", "F", "G", "H"});
    again.unanswered_resolution = "H";
    REQUIRE(desk.engine.update_site(again));
    CHECK(desk.take() == Lines{"workflow_changed{at=0}", "workflow_changed{at=0}"});

    Lines reformatted;
    for (const Event& event : kept) reformatted.push_back(slot_only(fmt::format("{}", event)));
    CHECK(reformatted == before);
    CHECK_THAT(before, Catch::Matchers::VectorContains(std::string("resolved{at=0, conversation=#0, resolution=Done}")));
    CHECK_THAT(before,
               Catch::Matchers::VectorContains(std::string("resolved{at=0, conversation=#0, resolution=Unanswered}")));
    CHECK_THAT(before,
               Catch::Matchers::VectorContains(std::string("resolved{at=0, conversation=#0, resolution=Duplicate}")));
    // Closed items stay closed; no event rewrites them.
    CHECK(desk.engine.status(answered).value() == Status::closed);
    CHECK(desk.engine.status(unanswered).value() == Status::closed);
    CHECK(desk.engine.status(wrapping).value() == Status::closed);
}

TEST_CASE("new resolutions apply from the change on [R24] [R22]", "[R24][R22]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    REQUIRE(desk.engine.accept(c, a));
    REQUIRE(desk.engine.end_by_agent(c, a));  // wrapping up before the change
    SiteUpdate update = resolutions_are({"Fixed", "No reply"});
    update.unanswered_resolution = "No reply";
    REQUIRE(desk.engine.update_site(update));
    desk.take();
    const World world{{s}, {a}, {c}};
    refused(desk, world, "unknown_resolution", [&] { return desk.engine.resolve(c, a, "Done"); });
    CHECK(outcome(desk.engine.resolve(c, a, "Fixed")) == "ok");
    CHECK(desk.take().front() == "resolved{at=0, conversation=#0, resolution=Fixed}");
    // An item closed unanswered now takes the new unanswered resolution. (The closed
    // conversation's storage is reused, so the new one formats as #0 as well.)
    ConversationId gone = start(desk, s);
    desk.take();
    REQUIRE(desk.engine.end_by_customer(gone));
    CHECK(desk.take() == Lines{"offer_withdrawn{at=0, conversation=#0, agent=#0, reason=conversation_ended}",
                               "conversation_ended{at=0, conversation=#0, reason=customer}",
                               "resolved{at=0, conversation=#0, resolution=No reply}",
                               "status_changed{at=0, conversation=#0, from=waiting_for_agent, to=closed}"});
}

TEST_CASE("a workflow update with the same values is still reported [R24]", "[R24]") {
    Desk desk;
    SiteUpdate same;
    same.resolutions = desk.engine.workflow().resolutions;
    same.unanswered_resolution = desk.engine.workflow().unanswered_resolution;
    REQUIRE(desk.engine.update_site(same));
    REQUIRE(desk.engine.update_site(statuses_are(desk.engine.workflow().status_names)));
    CHECK(desk.take() == Lines{"workflow_changed{at=0}", "workflow_changed{at=0}"});
}

TEST_CASE("a site update that names no workflow field emits nothing [R24]", "[R24]") {
    Desk desk;
    REQUIRE(desk.engine.update_site(plan_is(Plan::enterprise)));
    REQUIRE(desk.engine.update_site(scope_is(MissedOfferScope::offer_space)));
    SiteUpdate limit;
    limit.default_limit = 4;
    REQUIRE(desk.engine.update_site(limit));
    REQUIRE(desk.engine.update_site(SiteUpdate{}));
    CHECK(desk.take() == Lines{});
    CHECK(desk.engine.plan() == Plan::enterprise);
    CHECK(desk.engine.missed_offer_scope() == MissedOfferScope::offer_space);
    CHECK(desk.engine.default_limit() == 4);
}

TEST_CASE("the workflow is shared by every space of the site [R24]", "[R24]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId a = desk.ready_agent(s1);
    REQUIRE(desk.engine.grant_role(a, s2));
    REQUIRE(desk.engine.set_availability(a, s2, true));
    ConversationId c1 = start(desk, s1);
    ConversationId c2 = start(desk, s2);
    for (ConversationId c : {c1, c2}) {
        REQUIRE(desk.engine.accept(c, a));
        REQUIRE(desk.engine.end_by_agent(c, a));
    }
    SiteUpdate update = resolutions_are({"Solved", "Unanswered"});
    REQUIRE(desk.engine.update_site(update));
    CHECK(outcome(desk.engine.resolve(c1, a, "Solved")) == "ok");
    CHECK(outcome(desk.engine.resolve(c2, a, "Solved")) == "ok");
}
