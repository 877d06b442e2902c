// SPEC §9: errors and bad input (R27). Every error code the engine's commands can
// return, which one wins where several apply, and that a failed command emits nothing
// and changes nothing (`refused` compares every query before and after).

#include "rules.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string_view>
#include <type_traits>

using namespace chatroute;
using namespace chatroute::test;

namespace {
// A site with something in every state: a is assignee of `active` and `wrapping`, holds
// the offer of `waiting`; b has the role; outsider has a role only in the other space.
struct Site {
    Desk desk;
    SpaceId s = desk.space();
    SpaceId elsewhere = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.agent();
    AgentId outsider = desk.ready_agent(elsewhere);
    ConversationId active = start(desk, s);
    ConversationId wrapping = start(desk, s);
    ConversationId closed = start(desk, s);
    ConversationId waiting{};

    Site() {
        REQUIRE(desk.engine.grant_role(b, s));
        REQUIRE(desk.engine.accept(active, a));
        REQUIRE(desk.engine.accept(wrapping, a));
        REQUIRE(desk.engine.end_by_agent(wrapping, a));
        REQUIRE(desk.engine.accept(closed, a));
        REQUIRE(desk.engine.end_by_agent(closed, a));
        REQUIRE(desk.engine.resolve(closed, a, "Done"));
        waiting = start(desk, s);
        REQUIRE(desk.engine.offered_to(waiting).value() == a);
        desk.take();
    }
    World world() const { return {{s, elsewhere}, {a, b, outsider}, {active, wrapping, closed, waiting}}; }
};

// Handles no engine issued, and handles another site's engine issued (its index exists here too).
struct Strangers {
    Desk other{7};
    SpaceId space_from_other = other.space();
    AgentId agent_from_other = other.agent();
    ConversationId conversation_from_other = start(other, space_from_other);
};
}  // namespace

TEST_CASE("every command returns tl::expected with an Error [R27]", "[R27]") {
    using E = Engine<ManualClock&, RecordingSink&>;
    STATIC_REQUIRE(std::is_same_v<decltype(std::declval<E&>().add_space()), tl::expected<SpaceId, Error>>);
    STATIC_REQUIRE(std::is_same_v<decltype(std::declval<E&>().add_agent()), tl::expected<AgentId, Error>>);
    STATIC_REQUIRE(std::is_same_v<decltype(std::declval<E&>().start_conversation(SpaceId{})),
                                  tl::expected<ConversationId, Error>>);
    STATIC_REQUIRE(std::is_same_v<decltype(std::declval<E&>().accept(ConversationId{}, AgentId{})), Result<>>);
    STATIC_REQUIRE(std::is_same_v<decltype(std::declval<E&>().resolve(ConversationId{}, AgentId{}, "")), Result<>>);
    STATIC_REQUIRE(std::is_same_v<decltype(std::declval<E&>().update_site(SiteUpdate{})), Result<>>);
    STATIC_REQUIRE(std::is_same_v<decltype(std::declval<E&>().advance()), Result<std::size_t>>);
}

TEST_CASE("the error codes are SPEC's, in SPEC's precedence order [R27]", "[R27]") {
    constexpr std::array<std::string_view, 14> spec{
        "invalid_argument", "unknown_space", "unknown_agent", "unknown_conversation", "duplicate_id",
        "work_item_closed", "not_an_agent_in_space", "plan_not_eligible", "chat_disabled", "conversation_ended",
        "no_offer", "not_assignee", "conversation_active", "unknown_resolution"};
    for (std::size_t i = 0; i < spec.size(); ++i) {
        const auto error = static_cast<Error>(i);
        CHECK(to_string(error) == spec[i]);
        if (i > 0) CHECK(static_cast<Error>(i - 1) < error);
    }
}

// ---- each code ----

TEST_CASE("out-of-range values fail with invalid_argument [R27]", "[R27]") {
    Site t;
    const World world = t.world();
    refused(t.desk, world, "invalid_argument", [&] { return t.desk.engine.add_agent({-1}); });
    refused(t.desk, world, "invalid_argument", [&] { return t.desk.engine.add_agent({1'000'001}); });
    refused(t.desk, world, "invalid_argument", [&] { return t.desk.engine.set_limit(t.b, -1); });
    refused(t.desk, world, "invalid_argument", [&] { return t.desk.engine.set_limit(t.b, 1'000'001); });
    SiteUpdate bad_default;
    bad_default.default_limit = -3;
    refused(t.desk, world, "invalid_argument", [&] { return t.desk.engine.update_site(bad_default); });
    // The edges are fine.
    CHECK(outcome(t.desk.engine.set_limit(t.b, 0)) == "ok");
    CHECK(outcome(t.desk.engine.set_limit(t.b, 1'000'000)) == "ok");
    CHECK(outcome(t.desk.engine.add_agent({0})) == "ok");
}

TEST_CASE("a space timing that is not > 0 fails with invalid_argument [R27]", "[R27]") {
    const int which = GENERATE(0, 1, 2, 3, 4);
    const duration bad = GENERATE(duration{0}, duration{-1});
    Site t;
    SpaceSettings settings;
    duration* fields[] = {&settings.timings.offer_timeout, &settings.timings.accept_window,
                          &settings.timings.inactivity_warning, &settings.timings.inactivity_grace,
                          &settings.timings.max_duration};
    *fields[which] = bad;
    refused(t.desk, t.world(), "invalid_argument", [&] { return t.desk.engine.add_space(settings); });
    CHECK(t.desk.engine.space_count() == 2);
}

TEST_CASE("an id no engine issued, or another engine issued, is unknown [R27]", "[R27]") {
    Site t;
    Strangers x;
    const World world = t.world();
    auto& e = t.desk.engine;
    for (SpaceId unknown : {SpaceId{}, SpaceId{7, t.s.site, 0}, x.space_from_other}) {
        refused(t.desk, world, "unknown_space", [&] { return e.enable_chat(unknown); });
        refused(t.desk, world, "unknown_space", [&] { return e.disable_chat(unknown); });
        refused(t.desk, world, "unknown_space", [&] { return e.grant_role(t.b, unknown); });
        refused(t.desk, world, "unknown_space", [&] { return e.revoke_role(t.a, unknown); });
        refused(t.desk, world, "unknown_space", [&] { return e.set_availability(t.a, unknown, true); });
        refused(t.desk, world, "unknown_space", [&] { return e.start_conversation(unknown); });
        CHECK(outcome(e.chat_enabled(unknown)) == "unknown_space");
    }
    for (AgentId unknown : {AgentId{}, AgentId{9, t.a.site, 0}, x.agent_from_other}) {
        refused(t.desk, world, "unknown_agent", [&] { return e.set_limit(unknown, 1); });
        refused(t.desk, world, "unknown_agent", [&] { return e.grant_role(unknown, t.s); });
        refused(t.desk, world, "unknown_agent", [&] { return e.revoke_role(unknown, t.s); });
        refused(t.desk, world, "unknown_agent", [&] { return e.set_availability(unknown, t.s, true); });
        refused(t.desk, world, "unknown_agent", [&] { return e.set_availability(unknown, all_spaces, true); });
        refused(t.desk, world, "unknown_agent", [&] { return e.accept(t.waiting, unknown); });
        refused(t.desk, world, "unknown_agent", [&] { return e.decline(t.waiting, unknown); });
        refused(t.desk, world, "unknown_agent", [&] { return e.agent_message(t.active, unknown); });
        refused(t.desk, world, "unknown_agent", [&] { return e.agent_typing(t.active, unknown); });
        refused(t.desk, world, "unknown_agent", [&] { return e.note(t.active, unknown); });
        refused(t.desk, world, "unknown_agent", [&] { return e.follow_up(t.active, unknown); });
        refused(t.desk, world, "unknown_agent", [&] { return e.end_by_agent(t.active, unknown); });
        refused(t.desk, world, "unknown_agent", [&] { return e.resolve(t.wrapping, unknown, "Done"); });
        CHECK(outcome(e.load(unknown)) == "unknown_agent");
    }
    for (ConversationId unknown : {ConversationId{}, ConversationId{50, t.active.site, t.active.serial}, x.conversation_from_other}) {
        refused(t.desk, world, "unknown_conversation", [&] { return e.accept(unknown, t.a); });
        refused(t.desk, world, "unknown_conversation", [&] { return e.decline(unknown, t.a); });
        refused(t.desk, world, "unknown_conversation", [&] { return e.customer_message(unknown); });
        refused(t.desk, world, "unknown_conversation", [&] { return e.customer_typing(unknown); });
        refused(t.desk, world, "unknown_conversation", [&] { return e.agent_message(unknown, t.a); });
        refused(t.desk, world, "unknown_conversation", [&] { return e.agent_typing(unknown, t.a); });
        refused(t.desk, world, "unknown_conversation", [&] { return e.note(unknown, t.a); });
        refused(t.desk, world, "unknown_conversation", [&] { return e.follow_up(unknown, t.a); });
        refused(t.desk, world, "unknown_conversation", [&] { return e.end_by_customer(unknown); });
        refused(t.desk, world, "unknown_conversation", [&] { return e.end_by_agent(unknown, t.a); });
        refused(t.desk, world, "unknown_conversation", [&] { return e.resolve(unknown, t.a, "Done"); });
        CHECK(outcome(e.status(unknown)) == "unknown_conversation");
    }
}

TEST_CASE("duplicate_id has its code and message; engine handles are issued fresh and never collide [R27]",
          "[R27]") {
    CHECK(to_string(Error::duplicate_id) == "duplicate_id");
    CHECK_FALSE(message(Error::duplicate_id).empty());
    Desk desk;
    SpaceId s = desk.space();
    const ConversationId c0 = start(desk, s);
    REQUIRE(desk.engine.end_by_customer(c0));
    const ConversationId c1 = start(desk, s);
    CHECK(c1 != c0);
    CHECK(desk.space() != s);
    CHECK(desk.agent() != desk.agent());
}

TEST_CASE("commands on a closed work item fail with work_item_closed [R27]", "[R27]") {
    Site t;
    auto& e = t.desk.engine;
    const World world = t.world();
    refused(t.desk, world, "work_item_closed", [&] { return e.accept(t.closed, t.a); });
    refused(t.desk, world, "work_item_closed", [&] { return e.customer_message(t.closed); });
    refused(t.desk, world, "work_item_closed", [&] { return e.note(t.closed, t.a); });
    refused(t.desk, world, "work_item_closed", [&] { return e.resolve(t.closed, t.a, "Done"); });
}

TEST_CASE("acting without the role fails with not_an_agent_in_space [R27]", "[R27]") {
    Site t;
    auto& e = t.desk.engine;
    const World world = t.world();
    refused(t.desk, world, "not_an_agent_in_space", [&] { return e.set_availability(t.outsider, t.s, true); });
    refused(t.desk, world, "not_an_agent_in_space", [&] { return e.accept(t.waiting, t.outsider); });
    refused(t.desk, world, "not_an_agent_in_space", [&] { return e.note(t.active, t.outsider); });
    refused(t.desk, world, "not_an_agent_in_space", [&] { return e.resolve(t.wrapping, t.outsider, "Done"); });
}

TEST_CASE("the plan, chat, offer, assignee, status and resolution errors [R27]", "[R27]") {
    Site t;
    auto& e = t.desk.engine;
    const World world = t.world();
    refused(t.desk, world, "conversation_ended", [&] { return e.customer_message(t.wrapping); });
    refused(t.desk, world, "no_offer", [&] { return e.accept(t.waiting, t.b); });
    refused(t.desk, world, "not_assignee", [&] { return e.agent_message(t.active, t.b); });
    refused(t.desk, world, "conversation_active", [&] { return e.resolve(t.active, t.a, "Done"); });
    refused(t.desk, world, "unknown_resolution", [&] { return e.resolve(t.wrapping, t.a, "Nope"); });
    REQUIRE(e.disable_chat(t.s));
    refused(t.desk, world, "chat_disabled", [&] { return e.start_conversation(t.s); });
    REQUIRE(e.update_site(plan_is(Plan::standard)));
    refused(t.desk, world, "plan_not_eligible", [&] { return e.enable_chat(t.s); });
}

// ---- precedence ----

TEST_CASE("invalid_argument wins over an unknown id [R27]", "[R27]") {
    Site t;
    refused(t.desk, t.world(), "invalid_argument", [&] { return t.desk.engine.set_limit(AgentId{}, -1); });
}

TEST_CASE("unknown ids are reported in the order of the command's fields [R27]", "[R27]") {
    Site t;
    auto& e = t.desk.engine;
    const World world = t.world();
    const SpaceId no_space{};
    const AgentId no_agent{};
    const ConversationId no_conversation{};
    // agent, space
    refused(t.desk, world, "unknown_agent", [&] { return e.grant_role(no_agent, no_space); });
    refused(t.desk, world, "unknown_agent", [&] { return e.revoke_role(no_agent, no_space); });
    refused(t.desk, world, "unknown_agent", [&] { return e.set_availability(no_agent, no_space, true); });
    // agent, conversation
    refused(t.desk, world, "unknown_agent", [&] { return e.accept(no_conversation, no_agent); });
    refused(t.desk, world, "unknown_agent", [&] { return e.decline(no_conversation, no_agent); });
    // conversation, ..., agent
    refused(t.desk, world, "unknown_conversation", [&] { return e.agent_message(no_conversation, no_agent); });
    refused(t.desk, world, "unknown_conversation", [&] { return e.agent_typing(no_conversation, no_agent); });
    refused(t.desk, world, "unknown_conversation", [&] { return e.note(no_conversation, no_agent); });
    refused(t.desk, world, "unknown_conversation", [&] { return e.follow_up(no_conversation, no_agent); });
    refused(t.desk, world, "unknown_conversation", [&] { return e.end_by_agent(no_conversation, no_agent); });
    refused(t.desk, world, "unknown_conversation", [&] { return e.resolve(no_conversation, no_agent, "Nope"); });
}

TEST_CASE("an unknown id wins over the other errors [R27]", "[R27]") {
    Site t;
    auto& e = t.desk.engine;
    const World world = t.world();
    REQUIRE(e.update_site(plan_is(Plan::free)));
    refused(t.desk, world, "unknown_space", [&] { return e.enable_chat(SpaceId{}); });
    refused(t.desk, world, "unknown_space", [&] { return e.set_availability(t.outsider, SpaceId{}, true); });
    refused(t.desk, world, "unknown_agent", [&] { return e.accept(t.closed, AgentId{}); });
    refused(t.desk, world, "unknown_agent", [&] { return e.note(t.closed, AgentId{}); });
    refused(t.desk, world, "unknown_agent", [&] { return e.resolve(t.closed, AgentId{}, "Nope"); });
    refused(t.desk, world, "unknown_agent", [&] { return e.end_by_agent(t.wrapping, AgentId{}); });
}

TEST_CASE("work_item_closed wins over not_an_agent_in_space and the rest [R27]", "[R27]") {
    Site t;
    auto& e = t.desk.engine;
    const World world = t.world();
    refused(t.desk, world, "work_item_closed", [&] { return e.accept(t.closed, t.outsider); });
    refused(t.desk, world, "work_item_closed", [&] { return e.decline(t.closed, t.outsider); });
    refused(t.desk, world, "work_item_closed", [&] { return e.note(t.closed, t.outsider); });
    refused(t.desk, world, "work_item_closed", [&] { return e.agent_message(t.closed, t.outsider); });
    refused(t.desk, world, "work_item_closed", [&] { return e.end_by_agent(t.closed, t.b); });
    refused(t.desk, world, "work_item_closed", [&] { return e.resolve(t.closed, t.outsider, "Nope"); });
    refused(t.desk, world, "work_item_closed", [&] { return e.end_by_customer(t.closed); });
}

TEST_CASE("not_an_agent_in_space wins over conversation_ended, no_offer and not_assignee [R27]", "[R27]") {
    Site t;
    auto& e = t.desk.engine;
    const World world = t.world();
    refused(t.desk, world, "not_an_agent_in_space", [&] { return e.agent_message(t.wrapping, t.outsider); });
    refused(t.desk, world, "not_an_agent_in_space", [&] { return e.end_by_agent(t.wrapping, t.outsider); });
    refused(t.desk, world, "not_an_agent_in_space", [&] { return e.accept(t.waiting, t.outsider); });
    refused(t.desk, world, "not_an_agent_in_space", [&] { return e.decline(t.active, t.outsider); });
    refused(t.desk, world, "not_an_agent_in_space", [&] { return e.agent_message(t.active, t.outsider); });
    refused(t.desk, world, "not_an_agent_in_space", [&] { return e.resolve(t.active, t.outsider, "Nope"); });
}

TEST_CASE("conversation_ended wins over no_offer and not_assignee [R27]", "[R27]") {
    Site t;
    auto& e = t.desk.engine;
    const World world = t.world();
    refused(t.desk, world, "conversation_ended", [&] { return e.accept(t.wrapping, t.a); });
    refused(t.desk, world, "conversation_ended", [&] { return e.decline(t.wrapping, t.b); });
    refused(t.desk, world, "conversation_ended", [&] { return e.agent_message(t.wrapping, t.b); });
    refused(t.desk, world, "conversation_ended", [&] { return e.agent_typing(t.wrapping, t.b); });
    refused(t.desk, world, "conversation_ended", [&] { return e.end_by_agent(t.wrapping, t.b); });
}

TEST_CASE("not_assignee wins over conversation_active and unknown_resolution [R27]", "[R27]") {
    Site t;
    auto& e = t.desk.engine;
    const World world = t.world();
    refused(t.desk, world, "not_assignee", [&] { return e.resolve(t.active, t.b, "Nope"); });
    refused(t.desk, world, "not_assignee", [&] { return e.resolve(t.wrapping, t.b, "Nope"); });
    refused(t.desk, world, "not_assignee", [&] { return e.resolve(t.waiting, t.a, "Nope"); });
}

TEST_CASE("conversation_active wins over unknown_resolution [R27]", "[R27]") {
    Site t;
    refused(t.desk, t.world(), "conversation_active", [&] { return t.desk.engine.resolve(t.active, t.a, "Nope"); });
}

TEST_CASE("a failed command leaves every later outcome as if it had not been tried [R27]", "[R27]") {
    // Two sites, one of them hammered with refused commands: they go on identically.
    Site tried;
    Site clean;
    auto& e = tried.desk.engine;
    CHECK_FALSE(e.accept(tried.waiting, tried.b));
    CHECK_FALSE(e.decline(tried.waiting, tried.outsider));
    CHECK_FALSE(e.resolve(tried.active, tried.a, "Done"));
    CHECK_FALSE(e.end_by_agent(tried.wrapping, tried.a));
    CHECK_FALSE(e.set_limit(tried.a, -1));
    CHECK_FALSE(e.grant_role(AgentId{}, tried.s));
    CHECK_FALSE(e.add_agent({-1}));
    CHECK(tried.desk.take() == Lines{});
    for (Site* site : {&tried, &clean}) {
        Desk& d = site->desk;
        at(d, 100s);
        REQUIRE(d.engine.decline(site->waiting, site->a));
        REQUIRE(d.engine.set_availability(site->b, site->s, true));
        REQUIRE(d.engine.start_conversation(site->s));
        REQUIRE(d.engine.add_agent({}));
        at(d, 2000s);
    }
    CHECK(tried.desk.take() == clean.desk.take());
    CHECK(describe(tried.desk, tried.world()) == describe(clean.desk, clean.world()));
}
