#pragma once
// TEMPORARY: the public value types of the 0.2 API (/work/api-contract.md), declared here
// only so that reference_model.hpp compiles on its own (-DCHATROUTE_MODEL_SHIM) before the
// new ids.hpp, config.hpp and events.hpp land on main. Delete once they have.

#include <chatroute/clock.hpp>
#include <chatroute/error.hpp>
#include <chatroute/lifecycle.hpp>

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace chatroute {

template <class Tag>
struct Handle {
    static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
    std::uint32_t index = none;
    std::uint32_t site = 0;
    std::uint64_t serial = 0;
    [[nodiscard]] constexpr bool valid() const { return index != none; }
    friend constexpr bool operator==(Handle, Handle) = default;
    friend constexpr auto operator<=>(Handle, Handle) = default;
};
struct SpaceTag {};
struct AgentTag {};
struct ConversationTag {};
using SpaceId = Handle<SpaceTag>;
using AgentId = Handle<AgentTag>;
using ConversationId = Handle<ConversationTag>;
struct AllSpaces {};
inline constexpr AllSpaces all_spaces{};

enum class Plan : std::uint8_t { free, standard, premium, enterprise };
enum class MissedOfferScope : std::uint8_t { all_spaces, offer_space };
enum class Strategy : std::uint8_t { round_robin, least_active, most_available, least_recent };
enum class NoAgentAction : std::uint8_t { wait, fallback };

[[nodiscard]] constexpr std::string_view to_string(Plan plan) {
    constexpr std::array<std::string_view, 4> names{"free", "standard", "premium", "enterprise"};
    return names[static_cast<std::size_t>(plan)];
}
[[nodiscard]] constexpr std::string_view to_string(MissedOfferScope scope) {
    return scope == MissedOfferScope::all_spaces ? "all_spaces" : "offer_space";
}
[[nodiscard]] constexpr std::string_view to_string(Strategy s) {
    constexpr std::array<std::string_view, 4> names{"round_robin", "least_active", "most_available", "least_recent"};
    return names[static_cast<std::size_t>(s)];
}
[[nodiscard]] constexpr std::string_view to_string(NoAgentAction a) {
    return a == NoAgentAction::wait ? "wait" : "fallback";
}

struct SpaceTimings {
    duration offer_timeout = std::chrono::seconds{120};
    duration accept_window = std::chrono::minutes{20};
    duration inactivity_warning = std::chrono::minutes{20};
    duration inactivity_grace = std::chrono::minutes{10};
    duration max_duration = std::chrono::hours{24};
    std::optional<duration> skills_relax_after{};
    std::optional<duration> assignee_response_timeout{};
    std::optional<duration> wrap_up_timeout{};
};
struct SpaceSettings {
    bool is_new = true;
    std::string fallback_message{};
    SpaceTimings timings{};
    Strategy strategy = Strategy::round_robin;
    NoAgentAction no_agent_action = NoAgentAction::wait;
};
struct SpaceUpdate {
    std::optional<Strategy> strategy{};
    std::optional<std::string> fallback_message{};
    std::optional<NoAgentAction> no_agent_action{};
};
struct AgentSettings {
    std::optional<std::int64_t> limit{};
    std::vector<std::string> skills{};
};
struct Workflow {
    std::array<std::string, 4> status_names{"Waiting for agent", "Active", "Wrapping up", "Closed"};
    std::vector<std::string> resolutions{"Done", "Won't do", "Duplicate", "Unanswered"};
    std::string unanswered_resolution = "Unanswered";
    std::optional<std::string> wrap_up_resolution{};
};
struct SiteUpdate {
    std::optional<Plan> plan{};
    std::optional<std::int64_t> default_limit{};
    std::optional<MissedOfferScope> missed_offer_scope{};
    std::optional<duration> missed_offer_return_after{};
    std::optional<std::array<std::string, 4>> status_names{};
    std::optional<std::vector<std::string>> resolutions{};
    std::optional<std::string> unanswered_resolution{};
    std::optional<std::string> wrap_up_resolution{};
    [[nodiscard]] bool changes_workflow() const {
        return status_names || resolutions || unanswered_resolution || wrap_up_resolution;
    }
};
struct StartOptions {
    bool handoff = false;
    std::int64_t priority = 0;
    std::vector<std::string> skills{};
    std::optional<AgentId> preferred_agent{};
};
struct EngineOptions {
    std::uint32_t site = 0;
};
inline constexpr std::int64_t max_conversation_limit = 1'000'000, max_priority = 1000;
inline constexpr std::size_t max_skills = 32, max_skill_bytes = 64;

enum class Party : std::uint8_t { customer, agent };
enum class Audience : std::uint8_t { conversation, agent, customer, team };
enum class AvailabilityReason : std::uint8_t { agent, offer_timeout, role_revoked, auto_return, assignee_unresponsive };
enum class WithdrawReason : std::uint8_t { agent_unavailable, role_revoked, conversation_ended };
enum class EndReason : std::uint8_t { agent, customer, inactivity, max_duration, no_agent };
enum class TransferReason : std::uint8_t { agent, assignee_unresponsive };

[[nodiscard]] constexpr std::string_view to_string(Party p) { return p == Party::customer ? "customer" : "agent"; }
[[nodiscard]] constexpr std::string_view to_string(Audience a) {
    constexpr std::array<std::string_view, 4> names{"conversation", "agent", "customer", "team"};
    return names[static_cast<std::size_t>(a)];
}
[[nodiscard]] constexpr std::string_view to_string(AvailabilityReason r) {
    constexpr std::array<std::string_view, 5> names{"agent", "offer_timeout", "role_revoked", "auto_return",
                                                    "assignee_unresponsive"};
    return names[static_cast<std::size_t>(r)];
}
[[nodiscard]] constexpr std::string_view to_string(WithdrawReason r) {
    constexpr std::array<std::string_view, 3> names{"agent_unavailable", "role_revoked", "conversation_ended"};
    return names[static_cast<std::size_t>(r)];
}
[[nodiscard]] constexpr std::string_view to_string(EndReason r) {
    constexpr std::array<std::string_view, 5> names{"agent", "customer", "inactivity", "max_duration", "no_agent"};
    return names[static_cast<std::size_t>(r)];
}
[[nodiscard]] constexpr std::string_view to_string(TransferReason r) {
    return r == TransferReason::agent ? "agent" : "assignee_unresponsive";
}

struct MessageRef {
    std::uint64_t value = 0;
    friend constexpr bool operator==(MessageRef, MessageRef) = default;
};

namespace events {
#define CHATROUTE_SHIM_EVENT(Type, text) static constexpr std::string_view name = text; time_point at
struct ConversationStarted { CHATROUTE_SHIM_EVENT(ConversationStarted, "conversation_started"); ConversationId conversation; SpaceId space; bool handoff = false;
    template <class F> void fields(F&& f) const { f("conversation", conversation), f("space", space), f("handoff", handoff); } };
struct AvailabilityChanged { CHATROUTE_SHIM_EVENT(AvailabilityChanged, "availability_changed"); AgentId agent; SpaceId space; bool available = false; AvailabilityReason reason{};
    template <class F> void fields(F&& f) const { f("agent", agent), f("space", space), f("available", available), f("reason", reason); } };
struct Offered { CHATROUTE_SHIM_EVENT(Offered, "offered"); ConversationId conversation; AgentId agent; SpaceId space; time_point expires_at;
    template <class F> void fields(F&& f) const { f("conversation", conversation), f("agent", agent), f("space", space), f("expires_at", expires_at); } };
template <class Tag> struct ConversationAgentEvent { static constexpr std::string_view name = Tag::name; time_point at; ConversationId conversation; AgentId agent;
    template <class F> void fields(F&& f) const { f("conversation", conversation), f("agent", agent); } };
struct OfferDeclinedTag { static constexpr std::string_view name = "offer_declined"; };
struct OfferTimedOutTag { static constexpr std::string_view name = "offer_timed_out"; };
struct AcceptedTag { static constexpr std::string_view name = "accepted"; };
struct TranscriptSharedTag { static constexpr std::string_view name = "transcript_shared"; };
struct FollowUpCreatedTag { static constexpr std::string_view name = "follow_up_created"; };
struct SlotReleasedTag { static constexpr std::string_view name = "slot_released"; };
using OfferDeclined = ConversationAgentEvent<OfferDeclinedTag>;
using OfferTimedOut = ConversationAgentEvent<OfferTimedOutTag>;
using Accepted = ConversationAgentEvent<AcceptedTag>;
using TranscriptShared = ConversationAgentEvent<TranscriptSharedTag>;
using FollowUpCreated = ConversationAgentEvent<FollowUpCreatedTag>;
using SlotReleased = ConversationAgentEvent<SlotReleasedTag>;
struct OfferWithdrawn { CHATROUTE_SHIM_EVENT(OfferWithdrawn, "offer_withdrawn"); ConversationId conversation; AgentId agent; WithdrawReason reason{};
    template <class F> void fields(F&& f) const { f("conversation", conversation), f("agent", agent), f("reason", reason); } };
struct StatusChanged { CHATROUTE_SHIM_EVENT(StatusChanged, "status_changed"); ConversationId conversation; Status from{}; Status to{};
    template <class F> void fields(F&& f) const { f("conversation", conversation), f("from", from), f("to", to); } };
template <class Tag> struct Utterance { static constexpr std::string_view name = Tag::name; time_point at; ConversationId conversation; Party from{}; Audience audience{}; AgentId agent; MessageRef ref;
    template <class F> void fields(F&& f) const { f("conversation", conversation), f("from", from), f("audience", audience); if (from == Party::agent) f("agent", agent); } };
struct MessageTag { static constexpr std::string_view name = "message"; };
struct TypingTag { static constexpr std::string_view name = "typing"; };
using Message = Utterance<MessageTag>;
using Typing = Utterance<TypingTag>;
struct Note { CHATROUTE_SHIM_EVENT(Note, "note"); ConversationId conversation; AgentId agent; MessageRef ref; static constexpr Audience audience = Audience::team;
    template <class F> void fields(F&& f) const { f("conversation", conversation), f("agent", agent), f("audience", audience); } };
struct InactivityWarning { CHATROUTE_SHIM_EVENT(InactivityWarning, "inactivity_warning"); ConversationId conversation;
    template <class F> void fields(F&& f) const { f("conversation", conversation); } };
struct ConversationEnded { CHATROUTE_SHIM_EVENT(ConversationEnded, "conversation_ended"); ConversationId conversation; EndReason reason{};
    template <class F> void fields(F&& f) const { f("conversation", conversation), f("reason", reason); } };
struct FallbackMessage { CHATROUTE_SHIM_EVENT(FallbackMessage, "fallback_message"); ConversationId conversation; std::string_view text;
    template <class F> void fields(F&& f) const { f("conversation", conversation), f("text", text); } };
struct Resolved { CHATROUTE_SHIM_EVENT(Resolved, "resolved"); ConversationId conversation; std::string_view resolution;
    template <class F> void fields(F&& f) const { f("conversation", conversation), f("resolution", resolution); } };
struct WorkflowChanged { CHATROUTE_SHIM_EVENT(WorkflowChanged, "workflow_changed");
    template <class F> void fields(F&&) const {} };
struct PriorityChanged { CHATROUTE_SHIM_EVENT(PriorityChanged, "priority_changed"); ConversationId conversation; std::int64_t priority = 0;
    template <class F> void fields(F&& f) const { f("conversation", conversation), f("priority", priority); } };
struct SkillsRelaxed { CHATROUTE_SHIM_EVENT(SkillsRelaxed, "skills_relaxed"); ConversationId conversation;
    template <class F> void fields(F&& f) const { f("conversation", conversation); } };
struct Transferred { CHATROUTE_SHIM_EVENT(Transferred, "transferred"); ConversationId conversation; AgentId agent; SpaceId space; TransferReason reason{};
    template <class F> void fields(F&& f) const { f("conversation", conversation), f("agent", agent), f("space", space), f("reason", reason); } };
#undef CHATROUTE_SHIM_EVENT
}  // namespace events

using Event = std::variant<events::ConversationStarted, events::AvailabilityChanged, events::Offered, events::OfferDeclined,
                           events::OfferTimedOut, events::OfferWithdrawn, events::Accepted, events::TranscriptShared,
                           events::StatusChanged, events::Message, events::Typing, events::Note, events::FollowUpCreated,
                           events::InactivityWarning, events::ConversationEnded, events::FallbackMessage, events::Resolved,
                           events::SlotReleased, events::WorkflowChanged, events::PriorityChanged, events::SkillsRelaxed,
                           events::Transferred>;

struct RecordingSink {
    std::vector<Event> events;
    template <class E>
    void operator()(const E& event) { events.emplace_back(event); }
};

}  // namespace chatroute

template <class Tag>
struct std::hash<chatroute::Handle<Tag>> {
    std::size_t operator()(chatroute::Handle<Tag> h) const noexcept {
        return std::hash<std::uint64_t>{}((std::uint64_t{h.site} << 32 | h.index) ^ (h.serial * 0x9E3779B97F4A7C15ull));
    }
};

// fmt for instants, as format.hpp does it: seconds, shortest exact form.
#include <fmt/format.h>
template <>
struct fmt::formatter<chatroute::time_point> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <class FormatContext>
    auto format(chatroute::time_point instant, FormatContext& ctx) const {
        const std::int64_t micros = instant.time_since_epoch().count();
        std::string text = fmt::format("{}", micros / 1'000'000);
        std::int64_t fraction = micros % 1'000'000;
        if (fraction < 0) fraction = -fraction;
        if (fraction != 0) {
            int digits = 6;
            while (fraction % 10 == 0) fraction /= 10, --digits;
            text += fmt::format(".{:0{}}", fraction, digits);
        }
        return fmt::format_to(ctx.out(), "{}", text);
    }
};
