#pragma once
// Expected event lines for the rule tests of SPEC §11–§13 (policies, control, bounds),
// built from the handles themselves (slot and serial), so they do not depend on how a
// handle prints. Instants are durations since the desk's start.

#include "rules.hpp"

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace chatroute::test {

// Every event since the last look, formatted with full handles (slot and serial), then forgotten.
inline Lines taken(Desk& desk) {
    Lines out;
    for (const Event& event : desk.sink.events) out.push_back(fmt::format("{}", event));
    desk.sink.events.clear();
    return out;
}

namespace ev {
inline std::string t(duration since_start) { return fmt::format("{}", time_point{since_start}); }
inline std::string started(duration at, ConversationId c, SpaceId s, bool handoff = false) {
    return fmt::format("conversation_started{{at={}, conversation={}, space={}, handoff={}}}", t(at), c, s, handoff);
}
inline std::string availability(duration at, AgentId a, SpaceId s, bool available, std::string_view reason) {
    return fmt::format("availability_changed{{at={}, agent={}, space={}, available={}, reason={}}}", t(at), a, s,
                       available, reason);
}
inline std::string offered(duration at, ConversationId c, AgentId a, SpaceId s, duration expires_at) {
    return fmt::format("offered{{at={}, conversation={}, agent={}, space={}, expires_at={}}}", t(at), c, a, s,
                       t(expires_at));
}
inline std::string declined(duration at, ConversationId c, AgentId a) {
    return fmt::format("offer_declined{{at={}, conversation={}, agent={}}}", t(at), c, a);
}
inline std::string accepted(duration at, ConversationId c, AgentId a) {
    return fmt::format("accepted{{at={}, conversation={}, agent={}}}", t(at), c, a);
}
inline std::string status(duration at, ConversationId c, std::string_view from, std::string_view to) {
    return fmt::format("status_changed{{at={}, conversation={}, from={}, to={}}}", t(at), c, from, to);
}
inline std::string ended(duration at, ConversationId c, std::string_view reason) {
    return fmt::format("conversation_ended{{at={}, conversation={}, reason={}}}", t(at), c, reason);
}
inline std::string fallback(duration at, ConversationId c, std::string_view text) {
    return fmt::format("fallback_message{{at={}, conversation={}, text={}}}", t(at), c, text);
}
inline std::string resolved(duration at, ConversationId c, std::string_view resolution) {
    return fmt::format("resolved{{at={}, conversation={}, resolution={}}}", t(at), c, resolution);
}
inline std::string released(duration at, ConversationId c, AgentId a) {
    return fmt::format("slot_released{{at={}, conversation={}, agent={}}}", t(at), c, a);
}
inline std::string priority(duration at, ConversationId c, std::int64_t value) {
    return fmt::format("priority_changed{{at={}, conversation={}, priority={}}}", t(at), c, value);
}
inline std::string relaxed(duration at, ConversationId c) {
    return fmt::format("skills_relaxed{{at={}, conversation={}}}", t(at), c);
}
inline std::string timed_out(duration at, ConversationId c, AgentId a) {
    return fmt::format("offer_timed_out{{at={}, conversation={}, agent={}}}", t(at), c, a);
}
inline std::string withdrawn(duration at, ConversationId c, AgentId a, std::string_view reason) {
    return fmt::format("offer_withdrawn{{at={}, conversation={}, agent={}, reason={}}}", t(at), c, a, reason);
}
inline std::string transcript(duration at, ConversationId c, AgentId a) {
    return fmt::format("transcript_shared{{at={}, conversation={}, agent={}}}", t(at), c, a);
}
inline std::string transferred(duration at, ConversationId c, AgentId a, SpaceId s, std::string_view reason) {
    return fmt::format("transferred{{at={}, conversation={}, agent={}, space={}, reason={}}}", t(at), c, a, s, reason);
}
inline std::string warning(duration at, ConversationId c) {
    return fmt::format("inactivity_warning{{at={}, conversation={}}}", t(at), c);
}
inline std::string workflow_changed(duration at) { return fmt::format("workflow_changed{{at={}}}", t(at)); }
// A conversation nobody accepted closes: R15, R20, decisions 9.
inline Lines closed_unanswered(duration at, ConversationId c, std::string_view end_reason) {
    return {ended(at, c, end_reason), resolved(at, c, "Unanswered"), status(at, c, "waiting_for_agent", "closed")};
}
}  // namespace ev

}  // namespace chatroute::test
