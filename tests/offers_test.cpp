// SPEC §4: offers — accept, decline, timeout, withdrawal, accept window (R11–R15).

#include "rules.hpp"

#include <catch2/catch.hpp>

using namespace chatroute;
using namespace chatroute::test;

// ---- R11 ----

TEST_CASE("accepting makes the agent the assignee and the work item active [R11]", "[R11]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    desk.wait(15s);
    desk.take();
    REQUIRE(desk.engine.accept(c, a));
    CHECK(desk.take() == Lines{"accepted{at=15, conversation=#0, agent=#0}",
                               "status_changed{at=15, conversation=#0, from=waiting_for_agent, to=active}"});
    CHECK(desk.engine.status(c).value() == Status::active);
    CHECK(desk.engine.assignee(c).value() == a);
    CHECK_FALSE(desk.engine.offered_to(c).value().has_value());
    CHECK(desk.engine.load(a).value() == Load{1, 0, 3});
    // The offer's timeout no longer runs: nothing happens at 120 s.
    at(desk, 121s);
    CHECK(desk.take() == Lines{});
    CHECK(desk.engine.available(a, s).value());
    desk.check();
}

TEST_CASE("a handed-off conversation shares its transcript with the assignee on accept [R11]", "[R11]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    desk.take();
    ConversationId c = start(desk, s, true);
    CHECK(desk.take() == Lines{"conversation_started{at=0, conversation=#0, space=#0, handoff=true}",
                               "offered{at=0, conversation=#0, agent=#0, space=#0, expires_at=120}"});
    REQUIRE(desk.engine.accept(c, a));
    CHECK(desk.take() == Lines{"accepted{at=0, conversation=#0, agent=#0}",
                               "status_changed{at=0, conversation=#0, from=waiting_for_agent, to=active}",
                               "transcript_shared{at=0, conversation=#0, agent=#0}"});
}

TEST_CASE("only the agent holding the offer may accept it [R11]", "[R11]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    REQUIRE(desk.engine.offered_to(c).value() == a);
    const World world{{s}, {a, b}, {c}};
    refused(desk, world, "no_offer", [&] { return desk.engine.accept(c, b); });
    refused(desk, world, "no_offer", [&] { return desk.engine.decline(c, b); });
    REQUIRE(desk.engine.accept(c, a));
    refused(desk, world, "no_offer", [&] { return desk.engine.accept(c, b); });
}

TEST_CASE("an accepted offer cannot be accepted or declined again [R11]", "[R11]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    REQUIRE(desk.engine.accept(c, a));
    const World world{{s}, {a}, {c}};
    refused(desk, world, "no_offer", [&] { return desk.engine.accept(c, a); });
    refused(desk, world, "no_offer", [&] { return desk.engine.decline(c, a); });
}

TEST_CASE("an offer cannot be accepted once it has expired [R11] [R25]", "[R11][R25]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    desk.take();
    desk.clock.set(time_point{150s});
    CHECK(outcome(desk.engine.accept(c, a)) == "no_offer");
    CHECK(desk.take() ==
          Lines{"offer_timed_out{at=120, conversation=#0, agent=#0}",
                "availability_changed{at=120, agent=#0, space=#0, available=false, reason=offer_timeout}"});
    CHECK(desk.engine.status(c).value() == Status::waiting_for_agent);
}

// ---- R12 ----

TEST_CASE("a declined conversation goes to the next eligible agent [R12]", "[R12]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    desk.wait(5s);
    desk.take();
    REQUIRE(desk.engine.decline(c, a));
    CHECK(desk.take() == Lines{"offer_declined{at=5, conversation=#0, agent=#0}",
                               "offered{at=5, conversation=#0, agent=#1, space=#0, expires_at=125}"});
    CHECK(desk.engine.offered_to(c).value() == b);
    CHECK(desk.engine.load(a).value() == Load{0, 0, 3});
    CHECK(desk.engine.available(a, s).value());  // declining is not missing an offer
    desk.check();
}

TEST_CASE("a declined conversation goes to the first eligible agent from the cursor, not the decliner's successor [R12] [R9]",
          "[R12][R9]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    AgentId c = desk.ready_agent(s);
    ConversationId k0 = start(desk, s);  // a
    ConversationId k1 = start(desk, s);  // b; the cursor is at c
    desk.take();
    REQUIRE(desk.engine.decline(k0, a));
    CHECK(desk.take() == Lines{"offer_declined{at=0, conversation=#0, agent=#0}",
                               "offered{at=0, conversation=#0, agent=#2, space=#0, expires_at=120}"});
    CHECK(desk.engine.offered_to(k1).value() == b);
    // The cursor moved past c: the next goes to a.
    ConversationId k2 = start(desk, s);
    CHECK(desk.engine.offered_to(k2).value() == a);
    (void)c;
}

TEST_CASE("a declined conversation skips the decliner when the cursor points at it [R12] [R9]", "[R12][R9]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    ConversationId k0 = start(desk, s);  // a
    ConversationId k1 = start(desk, s);  // b; the cursor wraps to a
    desk.take();
    REQUIRE(desk.engine.decline(k0, a));
    CHECK(desk.take() == Lines{"offer_declined{at=0, conversation=#0, agent=#0}",
                               "offered{at=0, conversation=#0, agent=#1, space=#0, expires_at=120}"});
    REQUIRE(desk.engine.decline(k1, b));  // the cursor wrapped to a again
    CHECK(desk.take() == Lines{"offer_declined{at=0, conversation=#1, agent=#1}",
                               "offered{at=0, conversation=#1, agent=#0, space=#0, expires_at=120}"});
    desk.check();
}

TEST_CASE("the only eligible agent who declines gets the offer back [R12]", "[R12]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId busy = desk.ready_agent(s, 1);
    AgentId away = desk.agent();
    REQUIRE(desk.engine.grant_role(away, s));
    ConversationId k0 = start(desk, s);  // a
    ConversationId k1 = start(desk, s);  // busy: now full
    desk.wait(30s);
    desk.take();
    REQUIRE(desk.engine.decline(k0, a));
    CHECK(desk.take() == Lines{"offer_declined{at=30, conversation=#0, agent=#0}",
                               "offered{at=30, conversation=#0, agent=#0, space=#0, expires_at=150}"});
    CHECK(desk.engine.offered_to(k0).value() == a);
    CHECK(desk.engine.offered_to(k1).value() == busy);
    CHECK(desk.engine.load(a).value() == Load{0, 1, 3});
    // The new offer runs its own 120 s: busy's (set at 0) expires first and goes to a;
    // a's own expires at 150, not at 120.
    at(desk, 120s);
    CHECK(desk.take() == Lines{"offer_timed_out{at=120, conversation=#1, agent=#1}",
                               "availability_changed{at=120, agent=#1, space=#0, available=false, reason=offer_timeout}",
                               "offered{at=120, conversation=#1, agent=#0, space=#0, expires_at=240}"});
    at(desk, 150s);
    CHECK(desk.take() ==
          Lines{"offer_timed_out{at=150, conversation=#0, agent=#0}",
                "availability_changed{at=150, agent=#0, space=#0, available=false, reason=offer_timeout}",
                "offer_withdrawn{at=150, conversation=#1, agent=#0, reason=agent_unavailable}"});
    desk.check();
}

TEST_CASE("a declined conversation with nobody eligible waits [R12]", "[R12]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    REQUIRE(desk.engine.set_limit(a, 0));  // keeps the offer (decisions 8), but may take no more
    desk.take();
    REQUIRE(desk.engine.decline(c, a));
    CHECK(desk.take() == Lines{"offer_declined{at=0, conversation=#0, agent=#0}"});
    CHECK_FALSE(desk.engine.offered_to(c).value().has_value());
    CHECK(desk.engine.status(c).value() == Status::waiting_for_agent);
    REQUIRE(desk.engine.set_limit(a, 1));
    CHECK(desk.take() == Lines{"offered{at=0, conversation=#0, agent=#0, space=#0, expires_at=120}"});
    desk.check();
}

TEST_CASE("after a decline re-offers, routing runs for the rest [R12] [R10]", "[R12][R10]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId a = desk.ready_agent(s1, 1);
    AgentId b = desk.ready_agent(s1, 1);
    REQUIRE(desk.engine.grant_role(a, s2));
    REQUIRE(desk.engine.set_availability(a, s2, true));
    ConversationId k0 = start(desk, s1);  // a: full
    ConversationId k1 = start(desk, s2);  // waits for a
    desk.take();
    REQUIRE(desk.engine.decline(k0, a));
    CHECK(desk.take() == Lines{"offer_declined{at=0, conversation=#0, agent=#0}",
                               "offered{at=0, conversation=#0, agent=#1, space=#0, expires_at=120}",
                               "offered{at=0, conversation=#1, agent=#0, space=#1, expires_at=120}"});
    CHECK(desk.engine.offered_to(k0).value() == b);
    CHECK(desk.engine.offered_to(k1).value() == a);
    desk.check();
}

// ---- R13 ----

namespace {
// Agent a is available in s1 and s2, agent b in s1; a holds k0 (s1, offered at 0) and
// k1 (s2, offered at 10). Then the clock reaches 120 s: a's offer of k0 is missed.
struct MissedOffer {
    SpaceId s1, s2;
    AgentId a, b;
    ConversationId k0, k1;

    explicit MissedOffer(Desk& desk) {
        s1 = desk.space();
        s2 = desk.space();
        a = desk.ready_agent(s1);
        b = desk.ready_agent(s1);
        REQUIRE(desk.engine.grant_role(a, s2));
        REQUIRE(desk.engine.set_availability(a, s2, true));
        k0 = start(desk, s1);
        desk.wait(10s);
        k1 = start(desk, s2);
        desk.take();
        at(desk, 120s);
    }
};
}  // namespace

TEST_CASE("a missed offer times out and makes the agent unavailable in all its spaces [R13]", "[R13]") {
    Desk desk;
    REQUIRE(desk.engine.missed_offer_scope() == MissedOfferScope::all_spaces);
    const auto [s1, s2, a, b, k0, k1] = MissedOffer(desk);
    CHECK(desk.take() ==
          Lines{"offer_timed_out{at=120, conversation=#0, agent=#0}",
                "availability_changed{at=120, agent=#0, space=#0, available=false, reason=offer_timeout}",
                "availability_changed{at=120, agent=#0, space=#1, available=false, reason=offer_timeout}",
                "offer_withdrawn{at=120, conversation=#1, agent=#0, reason=agent_unavailable}",
                "offered{at=120, conversation=#0, agent=#1, space=#0, expires_at=240}"});
    CHECK_FALSE(desk.engine.available(a, s1).value());
    CHECK_FALSE(desk.engine.available(a, s2).value());
    CHECK(desk.engine.offered_to(k0).value() == b);
    CHECK_FALSE(desk.engine.offered_to(k1).value().has_value());
    CHECK(desk.engine.load(a).value() == Load{0, 0, 3});
    CHECK(desk.engine.status(k0).value() == Status::waiting_for_agent);
    // k1's own offer would have expired at 130: it was withdrawn, so nothing fires.
    at(desk, 130s);
    CHECK(desk.take() == Lines{});
    desk.check();
}

TEST_CASE("with missed_offer_scope offer_space a missed offer makes the agent unavailable only there [R13]", "[R13]") {
    Desk desk;
    REQUIRE(desk.engine.update_site(scope_is(MissedOfferScope::offer_space)));
    CHECK(desk.engine.missed_offer_scope() == MissedOfferScope::offer_space);
    const auto [s1, s2, a, b, k0, k1] = MissedOffer(desk);
    CHECK(desk.take() ==
          Lines{"offer_timed_out{at=120, conversation=#0, agent=#0}",
                "availability_changed{at=120, agent=#0, space=#0, available=false, reason=offer_timeout}",
                "offered{at=120, conversation=#0, agent=#1, space=#0, expires_at=240}"});
    CHECK_FALSE(desk.engine.available(a, s1).value());
    CHECK(desk.engine.available(a, s2).value());
    CHECK(desk.engine.offered_to(k1).value() == a);
    CHECK(desk.engine.offered_to(k0).value() == b);
    // Back to the default: the next miss reaches every space.
    REQUIRE(desk.engine.update_site(scope_is(MissedOfferScope::all_spaces)));
    REQUIRE(desk.engine.set_availability(a, s1, true));
    desk.take();
    at(desk, 130s);
    CHECK(desk.take() ==
          Lines{"offer_timed_out{at=130, conversation=#1, agent=#0}",
                "availability_changed{at=130, agent=#0, space=#0, available=false, reason=offer_timeout}",
                "availability_changed{at=130, agent=#0, space=#1, available=false, reason=offer_timeout}"});
    desk.check();
}

TEST_CASE("a missed offer withdraws the agent's other offers space by space, oldest first [R13] [R14]",
          "[R13][R14]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId a = desk.agent();
    REQUIRE(desk.engine.grant_role(a, s2));
    REQUIRE(desk.engine.grant_role(a, s1));
    REQUIRE(desk.engine.set_availability(a, all_spaces, true));
    start(desk, s1);  // #0, expires 120
    desk.wait(1s);
    start(desk, s2);  // #1
    desk.wait(1s);
    start(desk, s1);  // #2
    desk.take();
    at(desk, 120s);
    CHECK(desk.take() ==
          Lines{"offer_timed_out{at=120, conversation=#0, agent=#0}",
                "availability_changed{at=120, agent=#0, space=#0, available=false, reason=offer_timeout}",
                "offer_withdrawn{at=120, conversation=#2, agent=#0, reason=agent_unavailable}",
                "availability_changed{at=120, agent=#0, space=#1, available=false, reason=offer_timeout}",
                "offer_withdrawn{at=120, conversation=#1, agent=#0, reason=agent_unavailable}"});
    CHECK(desk.engine.load(a).value() == Load{0, 0, 3});
    desk.check();
}

TEST_CASE("a missed offer with nobody else eligible leaves the conversation waiting [R13]", "[R13]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    desk.take();
    at(desk, 120s);
    CHECK(desk.take() ==
          Lines{"offer_timed_out{at=120, conversation=#0, agent=#0}",
                "availability_changed{at=120, agent=#0, space=#0, available=false, reason=offer_timeout}"});
    CHECK(desk.engine.status(c).value() == Status::waiting_for_agent);
    CHECK_FALSE(desk.engine.offered_to(c).value().has_value());
    REQUIRE(desk.engine.set_availability(a, s, true));
    CHECK(desk.take() == Lines{"availability_changed{at=120, agent=#0, space=#0, available=true, reason=agent}",
                               "offered{at=120, conversation=#0, agent=#0, space=#0, expires_at=240}"});
}

// ---- R14 ----

TEST_CASE("turning unavailable withdraws the agent's pending offers in that space and re-routes them [R14]",
          "[R14]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId a = desk.ready_agent(s1);
    AgentId b = desk.ready_agent(s1);
    REQUIRE(desk.engine.grant_role(a, s2));
    REQUIRE(desk.engine.set_availability(a, s2, true));
    ConversationId k0 = start(desk, s1);  // a
    ConversationId k1 = start(desk, s2);  // a
    desk.wait(40s);
    desk.take();
    REQUIRE(desk.engine.set_availability(a, s1, false));
    CHECK(desk.take() == Lines{"availability_changed{at=40, agent=#0, space=#0, available=false, reason=agent}",
                               "offer_withdrawn{at=40, conversation=#0, agent=#0, reason=agent_unavailable}",
                               "offered{at=40, conversation=#0, agent=#1, space=#0, expires_at=160}"});
    CHECK(desk.engine.offered_to(k0).value() == b);
    CHECK(desk.engine.offered_to(k1).value() == a);
    CHECK(desk.engine.load(a).value() == Load{0, 1, 3});
    // The withdrawn offer's timeout is gone: at 120 only k1's offer times out.
    at(desk, 121s);
    CHECK(desk.take() == Lines{"offer_timed_out{at=120, conversation=#1, agent=#0}",
                               "availability_changed{at=120, agent=#0, space=#1, available=false, reason=offer_timeout}"});
    desk.check();
}

TEST_CASE("turning unavailable everywhere withdraws offers space by space [R14] [R5]", "[R14][R5]") {
    Desk desk;
    SpaceId s1 = desk.space();
    SpaceId s2 = desk.space();
    AgentId a = desk.agent();
    REQUIRE(desk.engine.grant_role(a, s1));
    REQUIRE(desk.engine.grant_role(a, s2));
    REQUIRE(desk.engine.set_availability(a, all_spaces, true));
    start(desk, s2);
    start(desk, s1);
    desk.take();
    REQUIRE(desk.engine.set_availability(a, all_spaces, false));
    CHECK(desk.take() == Lines{"availability_changed{at=0, agent=#0, space=#0, available=false, reason=agent}",
                               "offer_withdrawn{at=0, conversation=#1, agent=#0, reason=agent_unavailable}",
                               "availability_changed{at=0, agent=#0, space=#1, available=false, reason=agent}",
                               "offer_withdrawn{at=0, conversation=#0, agent=#0, reason=agent_unavailable}"});
    desk.check();
}

TEST_CASE("losing the role withdraws pending offers with reason role_revoked [R14]", "[R14]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    start(desk, s);
    start(desk, s);
    desk.take();
    REQUIRE(desk.engine.revoke_role(a, s));
    CHECK(desk.take() ==
          Lines{"availability_changed{at=0, agent=#0, space=#0, available=false, reason=role_revoked}",
                "offer_withdrawn{at=0, conversation=#0, agent=#0, reason=role_revoked}",
                "offer_withdrawn{at=0, conversation=#1, agent=#0, reason=role_revoked}"});
    CHECK(desk.engine.load(a).value() == Load{0, 0, 3});
    desk.check();
}

// ---- R15 ----

TEST_CASE("with no agent 20 minutes after start, the customer gets the fallback and the item closes [R15]",
          "[R15]") {
    Desk desk;
    SpaceSettings settings;
    settings.fallback_message = "We are away; we will email you.";
    SpaceId s = desk.space(settings);
    ConversationId c = start(desk, s);
    desk.take();
    at(desk, 1199s);
    CHECK(desk.take() == Lines{});
    CHECK(desk.engine.status(c).value() == Status::waiting_for_agent);
    at(desk, 1200s);
    CHECK(desk.take() == Lines{"fallback_message{at=1200, conversation=#0, text=We are away; we will email you.}",
                               "conversation_ended{at=1200, conversation=#0, reason=no_agent}",
                               "resolved{at=1200, conversation=#0, resolution=Unanswered}",
                               "status_changed{at=1200, conversation=#0, from=waiting_for_agent, to=closed}"});
    CHECK(desk.engine.status(c).value() == Status::closed);
    CHECK(desk.engine.live_conversations() == 0);
    CHECK(desk.engine.pending_deadlines() == 0);
    desk.check();
}

TEST_CASE("the accept window withdraws a pending offer first, and frees its slot silently [R15]", "[R15]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.agent(1);
    REQUIRE(desk.engine.grant_role(a, s));
    ConversationId c0 = start(desk, s);
    desk.wait(60s);
    ConversationId c1 = start(desk, s);
    at(desk, 1100s);
    REQUIRE(desk.engine.set_availability(a, s, true));  // offered c0, expires 1220
    desk.take();
    at(desk, 1200s);
    CHECK(desk.take() == Lines{"offer_withdrawn{at=1200, conversation=#0, agent=#0, reason=conversation_ended}",
                               "fallback_message{at=1200, conversation=#0, text=}",
                               "conversation_ended{at=1200, conversation=#0, reason=no_agent}",
                               "resolved{at=1200, conversation=#0, resolution=Unanswered}",
                               "status_changed{at=1200, conversation=#0, from=waiting_for_agent, to=closed}",
                               "offered{at=1200, conversation=#1, agent=#0, space=#0, expires_at=1320}"});
    CHECK(desk.engine.status(c0).value() == Status::closed);
    CHECK(desk.engine.offered_to(c1).value() == a);
    CHECK(desk.engine.available(a, s).value());
    CHECK(desk.engine.load(a).value() == Load{0, 1, 1});
    desk.check();
}

TEST_CASE("an accept window and an offer expiry on the same instant: the window, set first, fires first [R15] [R25]",
          "[R15][R25]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.agent();
    REQUIRE(desk.engine.grant_role(a, s));
    ConversationId c = start(desk, s);
    at(desk, 1080s);
    REQUIRE(desk.engine.set_availability(a, s, true));  // offer expires at 1200
    desk.take();
    at(desk, 1200s);
    CHECK(desk.take() == Lines{"offer_withdrawn{at=1200, conversation=#0, agent=#0, reason=conversation_ended}",
                               "fallback_message{at=1200, conversation=#0, text=}",
                               "conversation_ended{at=1200, conversation=#0, reason=no_agent}",
                               "resolved{at=1200, conversation=#0, resolution=Unanswered}",
                               "status_changed{at=1200, conversation=#0, from=waiting_for_agent, to=closed}"});
    CHECK(desk.engine.status(c).value() == Status::closed);
    CHECK(desk.engine.available(a, s).value());  // the agent did not miss anything
}

TEST_CASE("a conversation accepted within the window is not ended by it [R15]", "[R15]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    at(desk, 100s);
    REQUIRE(desk.engine.accept(c, a));
    REQUIRE(desk.engine.customer_message(c));
    desk.take();
    at(desk, 1200s);
    at(desk, 1250s);
    CHECK(desk.take() == Lines{});
    CHECK(desk.engine.status(c).value() == Status::active);
}

TEST_CASE("the accept window counts from the start, not from the last offer [R15]", "[R15]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    AgentId b = desk.ready_agent(s);
    ConversationId c = start(desk, s);
    // Declines bounce it between the two; none of them restarts the window.
    for (int i = 1; i <= 11; ++i) {
        at(desk, std::chrono::seconds{100 * i});
        REQUIRE(desk.engine.decline(c, desk.engine.offered_to(c).value().value()));
    }
    desk.take();
    at(desk, 1200s);
    CHECK(desk.names() == Lines{"offer_withdrawn", "fallback_message", "conversation_ended", "resolved",
                                "status_changed"});
    CHECK(desk.engine.status(c).value() == Status::closed);
    (void)a, (void)b;
    desk.check();
}

TEST_CASE("customer messages while waiting do not move the accept window [R15] [R17]", "[R15][R17]") {
    Desk desk;
    SpaceId s = desk.space();
    ConversationId c = start(desk, s);
    at(desk, 600s);
    REQUIRE(desk.engine.customer_message(c));
    at(desk, 1100s);
    REQUIRE(desk.engine.customer_message(c));
    REQUIRE(desk.engine.customer_typing(c));
    desk.take();
    at(desk, 1200s);
    CHECK(desk.names() == Lines{"fallback_message", "conversation_ended", "resolved", "status_changed"});
    CHECK(desk.engine.status(c).value() == Status::closed);
}
