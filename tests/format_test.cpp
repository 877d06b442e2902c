// fmt formatters: every enum, every error (code and message), every event, as SPEC §10
// spells their words and fields. Each test carries the rule whose words it pins.

#include "rules.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

using namespace chatroute;
using namespace chatroute::test;

namespace {
template <class E>
std::string f(const E& value) {
    return fmt::format("{}", value);
}
time_point secs(std::int64_t s) { return time_point{std::chrono::seconds{s}}; }
}  // namespace

// ---- enums ----

TEST_CASE("plans format as SPEC names them [R1]", "[R1]") {
    CHECK(f(Plan::free) == "free");
    CHECK(f(Plan::standard) == "standard");
    CHECK(f(Plan::premium) == "premium");
    CHECK(f(Plan::enterprise) == "enterprise");
    CHECK(fmt::format("[{:>10}]", Plan::free) == "[      free]");
}

TEST_CASE("missed offer scopes format as SPEC names them [R13]", "[R13]") {
    CHECK(f(MissedOfferScope::all_spaces) == "all_spaces");
    CHECK(f(MissedOfferScope::offer_space) == "offer_space");
}

TEST_CASE("availability reasons format as SPEC names them [R7]", "[R7]") {
    CHECK(f(AvailabilityReason::agent) == "agent");
    CHECK(f(AvailabilityReason::offer_timeout) == "offer_timeout");
    CHECK(f(AvailabilityReason::role_revoked) == "role_revoked");
}

TEST_CASE("withdraw reasons format as SPEC names them [R14]", "[R14]") {
    CHECK(f(WithdrawReason::agent_unavailable) == "agent_unavailable");
    CHECK(f(WithdrawReason::role_revoked) == "role_revoked");
    CHECK(f(WithdrawReason::conversation_ended) == "conversation_ended");
}

TEST_CASE("end reasons format as SPEC names them [R20]", "[R20]") {
    CHECK(f(EndReason::agent) == "agent");
    CHECK(f(EndReason::customer) == "customer");
    CHECK(f(EndReason::inactivity) == "inactivity");
    CHECK(f(EndReason::max_duration) == "max_duration");
    CHECK(f(EndReason::no_agent) == "no_agent");
}

TEST_CASE("statuses and lifecycle triggers format as SPEC names them [R20]", "[R20]") {
    CHECK(f(Status::waiting_for_agent) == "waiting_for_agent");
    CHECK(f(Status::active) == "active");
    CHECK(f(Status::wrapping_up) == "wrapping_up");
    CHECK(f(Status::closed) == "closed");
    CHECK(fmt::format("{:<8}|", Status::active) == "active  |");
    CHECK(f(Trigger::accept) == "accept");
    CHECK(f(Trigger::end) == "end");
    CHECK(f(Trigger::resolve) == "resolve");
}

TEST_CASE("parties and audiences format as SPEC names them [R16]", "[R16]") {
    CHECK(f(Party::customer) == "customer");
    CHECK(f(Party::agent) == "agent");
    CHECK(f(Audience::conversation) == "conversation");
    CHECK(f(Audience::agent) == "agent");
    CHECK(f(Audience::customer) == "customer");
    CHECK(f(Audience::team) == "team");
}

TEST_CASE("timer kinds format by name [R25]", "[R25]") {
    CHECK(f(TimerKind::offer_timeout) == "offer_timeout");
    CHECK(f(TimerKind::accept_window) == "accept_window");
    CHECK(f(TimerKind::inactivity_warning) == "inactivity_warning");
    CHECK(f(TimerKind::inactivity_grace) == "inactivity_grace");
    CHECK(f(TimerKind::max_duration) == "max_duration");
}

// ---- errors ----

TEST_CASE("every error formats as its code and has its own human-readable message [R27]", "[R27]") {
    const std::vector<std::pair<Error, std::string>> codes{
        {Error::invalid_argument, "invalid_argument"},
        {Error::unknown_space, "unknown_space"},
        {Error::unknown_agent, "unknown_agent"},
        {Error::unknown_conversation, "unknown_conversation"},
        {Error::duplicate_id, "duplicate_id"},
        {Error::work_item_closed, "work_item_closed"},
        {Error::not_an_agent_in_space, "not_an_agent_in_space"},
        {Error::plan_not_eligible, "plan_not_eligible"},
        {Error::chat_disabled, "chat_disabled"},
        {Error::conversation_ended, "conversation_ended"},
        {Error::no_offer, "no_offer"},
        {Error::not_assignee, "not_assignee"},
        {Error::conversation_active, "conversation_active"},
        {Error::unknown_resolution, "unknown_resolution"},
    };
    std::set<std::string> messages;
    for (const auto& [error, code] : codes) {
        INFO(code);
        CHECK(f(error) == code);
        const std::string text = fmt::format("{}", message(error));
        CHECK(text.size() > code.size() / 2);
        CHECK(text != code);
        CHECK(text.find('_') == std::string::npos);  // words for people, not a code
        messages.insert(text);
    }
    CHECK(messages.size() == codes.size());
}

TEST_CASE("error messages say what went wrong [R27]", "[R27]") {
    CHECK(message(Error::plan_not_eligible).find("premium") != std::string_view::npos);
    CHECK(message(Error::chat_disabled).find("chat") != std::string_view::npos);
    CHECK(message(Error::unknown_space).find("space") != std::string_view::npos);
    CHECK(message(Error::unknown_agent).find("agent") != std::string_view::npos);
    CHECK(message(Error::unknown_conversation).find("conversation") != std::string_view::npos);
    CHECK(message(Error::unknown_resolution).find("resolution") != std::string_view::npos);
    CHECK(message(Error::no_offer).find("offer") != std::string_view::npos);
    CHECK(message(Error::not_assignee).find("assignee") != std::string_view::npos);
    CHECK(message(Error::work_item_closed).find("closed") != std::string_view::npos);
}

TEST_CASE("a failed command's error formats through fmt [R27]", "[R27]") {
    Desk desk;
    const auto result = desk.engine.start_conversation(SpaceId{});
    REQUIRE_FALSE(result.has_value());
    CHECK(fmt::format("{}: {}", result.error(), message(result.error())) == "unknown_space: no such space");
}

// ---- instants, handles, references ----

TEST_CASE("instants format in seconds, shortest exact form [R25]", "[R25]") {
    CHECK(f(secs(0)) == "0");
    CHECK(f(secs(120)) == "120");
    CHECK(f(time_point{std::chrono::milliseconds{500}}) == "0.5");
    CHECK(f(time_point{std::chrono::milliseconds{1250}}) == "1.25");
    CHECK(f(time_point{duration{1'000'001}}) == "1.000001");
    CHECK(f(time_point{duration{119'999'999}}) == "119.999999");
    CHECK(f(time_point{duration{-500'000}}) == "-0.5");
    CHECK(f(time_point{duration{-3'000'001}}) == "-3.000001");
    CHECK(f(at_seconds(86400.25)) == "86400.25");
}

TEST_CASE("handles format as index, serial and site, or #none; message references as ref:N [R19] [R38]",
          "[R19][R38]") {
    CHECK(f(SpaceId{4, 0, 0}) == "#4");
    CHECK(f(AgentId{0, 123, 0}) == "#0@123");
    CHECK(f(ConversationId{17, 0, 9}) == "#17/9");
    // Two conversations that shared a slot, or handles of two sites, never read the same.
    CHECK(f(ConversationId{17, 0, 10}) != f(ConversationId{17, 0, 9}));
    CHECK(f(ConversationId{17, 2, 9}) == "#17/9@2");
    CHECK(f(AgentId{}) == "#none");
    CHECK(f(MessageRef{42}) == "ref:42");
}

// ---- events ----

TEST_CASE("conversation_started formats with SPEC's fields [R3]", "[R3]") {
    CHECK(f(events::ConversationStarted{secs(1), ConversationId{3, 0}, SpaceId{1, 0}, true}) ==
          "conversation_started{at=1, conversation=#3, space=#1, handoff=true}");
}

TEST_CASE("availability_changed formats with SPEC's fields [R7]", "[R7]") {
    CHECK(f(events::AvailabilityChanged{secs(2), AgentId{5, 0}, SpaceId{1, 0}, false,
                                        AvailabilityReason::offer_timeout}) ==
          "availability_changed{at=2, agent=#5, space=#1, available=false, reason=offer_timeout}");
}

TEST_CASE("offered formats with SPEC's fields [R8]", "[R8]") {
    CHECK(f(events::Offered{secs(3), ConversationId{0, 0}, AgentId{1, 0}, SpaceId{2, 0}, secs(123)}) ==
          "offered{at=3, conversation=#0, agent=#1, space=#2, expires_at=123}");
}

TEST_CASE("offer_declined formats with SPEC's fields [R12]", "[R12]") {
    CHECK(f(events::OfferDeclined{secs(4), ConversationId{1, 0}, AgentId{2, 0}}) ==
          "offer_declined{at=4, conversation=#1, agent=#2}");
}

TEST_CASE("offer_timed_out formats with SPEC's fields [R13]", "[R13]") {
    CHECK(f(events::OfferTimedOut{secs(120), ConversationId{1, 0}, AgentId{2, 0}}) ==
          "offer_timed_out{at=120, conversation=#1, agent=#2}");
}

TEST_CASE("offer_withdrawn formats with SPEC's fields [R14]", "[R14]") {
    CHECK(f(events::OfferWithdrawn{secs(5), ConversationId{1, 0}, AgentId{2, 0}, WithdrawReason::role_revoked}) ==
          "offer_withdrawn{at=5, conversation=#1, agent=#2, reason=role_revoked}");
}

TEST_CASE("accepted and transcript_shared format with SPEC's fields [R11]", "[R11]") {
    CHECK(f(events::Accepted{secs(6), ConversationId{1, 0}, AgentId{2, 0}}) ==
          "accepted{at=6, conversation=#1, agent=#2}");
    CHECK(f(events::TranscriptShared{secs(6), ConversationId{1, 0}, AgentId{2, 0}}) ==
          "transcript_shared{at=6, conversation=#1, agent=#2}");
}

TEST_CASE("status_changed formats with SPEC's fields [R20]", "[R20]") {
    CHECK(f(events::StatusChanged{secs(7), ConversationId{1, 0}, Status::active, Status::wrapping_up}) ==
          "status_changed{at=7, conversation=#1, from=active, to=wrapping_up}");
}

TEST_CASE("message and typing format with SPEC's fields, agent only when from an agent [R16]", "[R16]") {
    CHECK(f(events::Message{secs(8), ConversationId{1, 0}, Party::customer, Audience::conversation, AgentId{},
                            MessageRef{9}}) == "message{at=8, conversation=#1, from=customer, audience=conversation}");
    CHECK(f(events::Message{secs(8), ConversationId{1, 0}, Party::agent, Audience::conversation, AgentId{2, 0},
                            MessageRef{9}}) ==
          "message{at=8, conversation=#1, from=agent, audience=conversation, agent=#2}");
    CHECK(f(events::Typing{secs(8), ConversationId{1, 0}, Party::customer, Audience::agent, AgentId{}, {}}) ==
          "typing{at=8, conversation=#1, from=customer, audience=agent}");
    CHECK(f(events::Typing{secs(8), ConversationId{1, 0}, Party::agent, Audience::customer, AgentId{2, 0}, {}}) ==
          "typing{at=8, conversation=#1, from=agent, audience=customer, agent=#2}");
}

TEST_CASE("note and follow_up_created format with SPEC's fields [R16]", "[R16]") {
    CHECK(f(events::Note{secs(9), ConversationId{1, 0}, AgentId{2, 0}, MessageRef{3}}) ==
          "note{at=9, conversation=#1, agent=#2, audience=team}");
    CHECK(f(events::FollowUpCreated{secs(9), ConversationId{1, 0}, AgentId{2, 0}}) ==
          "follow_up_created{at=9, conversation=#1, agent=#2}");
}

TEST_CASE("inactivity_warning formats with SPEC's fields [R17]", "[R17]") {
    CHECK(f(events::InactivityWarning{secs(1200), ConversationId{1, 0}}) ==
          "inactivity_warning{at=1200, conversation=#1}");
}

TEST_CASE("conversation_ended formats with SPEC's fields [R20]", "[R20]") {
    CHECK(f(events::ConversationEnded{secs(10), ConversationId{1, 0}, EndReason::max_duration}) ==
          "conversation_ended{at=10, conversation=#1, reason=max_duration}");
}

TEST_CASE("fallback_message formats with SPEC's fields [R15]", "[R15]") {
    CHECK(f(events::FallbackMessage{secs(1200), ConversationId{1, 0}, "Back at 9, sorry!"}) ==
          "fallback_message{at=1200, conversation=#1, text=Back at 9, sorry!}");
}

TEST_CASE("resolved and slot_released format with SPEC's fields [R22]", "[R22]") {
    CHECK(f(events::Resolved{secs(11), ConversationId{1, 0}, "Won't do"}) ==
          "resolved{at=11, conversation=#1, resolution=Won't do}");
    CHECK(f(events::SlotReleased{secs(11), ConversationId{1, 0}, AgentId{2, 0}}) ==
          "slot_released{at=11, conversation=#1, agent=#2}");
}

TEST_CASE("workflow_changed formats with no fields [R24]", "[R24]") {
    CHECK(f(events::WorkflowChanged{secs(12)}) == "workflow_changed{at=12}");
}

TEST_CASE("an Event formats as the event it holds, and names it and gives its instant [R25]", "[R25]") {
    const Event event = events::Offered{secs(3), ConversationId{0, 0}, AgentId{1, 0}, SpaceId{2, 0}, secs(123)};
    CHECK(f(event) == "offered{at=3, conversation=#0, agent=#1, space=#2, expires_at=123}");
    CHECK(event_name(event) == "offered");
    CHECK(event_time(event) == secs(3));
    const Event none = events::WorkflowChanged{secs(4)};
    CHECK(f(none) == "workflow_changed{at=4}");
    CHECK(event_name(none) == "workflow_changed");
}

TEST_CASE("every event name is SPEC's [R7] [R11] [R13] [R14] [R15] [R17] [R20] [R22] [R24]",
          "[R7][R11][R13][R14][R15][R17][R20][R22][R24]") {
    std::set<std::string> names;
    const auto visit_all = [&]<std::size_t... I>(std::index_sequence<I...>) {
        (names.insert(std::string(std::variant_alternative_t<I, Event>::name)), ...);
    };
    visit_all(std::make_index_sequence<std::variant_size_v<Event>>{});
    CHECK(names == std::set<std::string>{"conversation_started", "availability_changed", "offered", "offer_declined",
                                         "offer_timed_out", "offer_withdrawn", "accepted", "transcript_shared",
                                         "status_changed", "message", "typing", "note", "follow_up_created", "priority_changed",
                                         "skills_relaxed", "transferred",
                                         "inactivity_warning", "conversation_ended", "fallback_message", "resolved",
                                         "slot_released", "workflow_changed"});
}
