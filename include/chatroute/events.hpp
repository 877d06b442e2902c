#pragma once
/// \file
/// What the engine tells the host: small value types, each with its instant and ids (§10).

#include <chatroute/clock.hpp>
#include <chatroute/ids.hpp>
#include <chatroute/lifecycle.hpp>

#include <array>
#include <concepts>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace chatroute {

enum class Party : std::uint8_t { customer, agent };

/// Who may see an event's content. `team` never reaches the customer.
enum class Audience : std::uint8_t { conversation, agent, customer, team };

enum class AvailabilityReason : std::uint8_t { agent, offer_timeout, role_revoked, auto_return, assignee_unresponsive };
enum class TransferReason : std::uint8_t { agent, assignee_unresponsive };
enum class WithdrawReason : std::uint8_t { agent_unavailable, role_revoked, conversation_ended };
enum class EndReason : std::uint8_t { agent, customer, inactivity, max_duration, no_agent };

[[nodiscard]] constexpr std::string_view to_string(Party party) {
    return party == Party::customer ? "customer" : "agent";
}
[[nodiscard]] constexpr std::string_view to_string(Audience audience) {
    constexpr std::array<std::string_view, 4> names{"conversation", "agent", "customer", "team"};
    return names[static_cast<std::size_t>(audience)];
}
[[nodiscard]] constexpr std::string_view to_string(AvailabilityReason reason) {
    constexpr std::array<std::string_view, 5> names{"agent", "offer_timeout", "role_revoked", "auto_return",
                                                    "assignee_unresponsive"};
    return names[static_cast<std::size_t>(reason)];
}
[[nodiscard]] constexpr std::string_view to_string(TransferReason reason) {
    return reason == TransferReason::agent ? "agent" : "assignee_unresponsive";
}
[[nodiscard]] constexpr std::string_view to_string(WithdrawReason reason) {
    constexpr std::array<std::string_view, 3> names{"agent_unavailable", "role_revoked",
                                                    "conversation_ended"};
    return names[static_cast<std::size_t>(reason)];
}
[[nodiscard]] constexpr std::string_view to_string(EndReason reason) {
    constexpr std::array<std::string_view, 5> names{"agent", "customer", "inactivity",
                                                    "max_duration", "no_agent"};
    return names[static_cast<std::size_t>(reason)];
}

/// The host's reference to a message body it keeps; the engine only carries it back (R19).
struct MessageRef {
    std::uint64_t value = 0;
    friend constexpr bool operator==(MessageRef, MessageRef) = default;
};

/// Each event lists its fields, in SPEC's order, through `fields(visit)`; formatters and
/// the replay tool's JSON are written once against that.
namespace events {

struct ConversationStarted {
    static constexpr std::string_view name = "conversation_started";
    time_point at;
    ConversationId conversation;
    SpaceId space;
    bool handoff = false;
    template <class F> void fields(F&& f) const {
        f("conversation", conversation), f("space", space), f("handoff", handoff);
    }
};

struct AvailabilityChanged {
    static constexpr std::string_view name = "availability_changed";
    time_point at;
    AgentId agent;
    SpaceId space;
    bool available = false;
    AvailabilityReason reason = AvailabilityReason::agent;
    template <class F> void fields(F&& f) const {
        f("agent", agent), f("space", space), f("available", available), f("reason", reason);
    }
};

struct Offered {
    static constexpr std::string_view name = "offered";
    time_point at;
    ConversationId conversation;
    AgentId agent;
    SpaceId space;
    time_point expires_at;
    template <class F> void fields(F&& f) const {
        f("conversation", conversation), f("agent", agent), f("space", space),
            f("expires_at", expires_at);
    }
};

/// Events that name only a conversation and an agent.
template <class Tag>
struct ConversationAgentEvent {
    static constexpr std::string_view name = Tag::name;
    time_point at;
    ConversationId conversation;
    AgentId agent;
    template <class F> void fields(F&& f) const { f("conversation", conversation), f("agent", agent); }
};
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

struct OfferWithdrawn {
    static constexpr std::string_view name = "offer_withdrawn";
    time_point at;
    ConversationId conversation;
    AgentId agent;
    WithdrawReason reason = WithdrawReason::agent_unavailable;
    template <class F> void fields(F&& f) const {
        f("conversation", conversation), f("agent", agent), f("reason", reason);
    }
};

struct StatusChanged {
    static constexpr std::string_view name = "status_changed";
    time_point at;
    ConversationId conversation;
    Status from = Status::waiting_for_agent;
    Status to = Status::waiting_for_agent;
    template <class F> void fields(F&& f) const {
        f("conversation", conversation), f("from", from), f("to", to);
    }
};

/// A chat message or a typing indicator; `agent` is set only when from an agent.
template <class Tag>
struct Utterance {
    static constexpr std::string_view name = Tag::name;
    time_point at;
    ConversationId conversation;
    Party from = Party::customer;
    Audience audience = Audience::conversation;
    AgentId agent;
    MessageRef ref;
    template <class F> void fields(F&& f) const {
        f("conversation", conversation), f("from", from), f("audience", audience);
        if (from == Party::agent) f("agent", agent);
    }
};
struct MessageTag { static constexpr std::string_view name = "message"; };
struct TypingTag { static constexpr std::string_view name = "typing"; };
using Message = Utterance<MessageTag>;
using Typing = Utterance<TypingTag>;

/// An internal note: its audience is the team, always (R16).
struct Note {
    static constexpr std::string_view name = "note";
    static constexpr Audience audience = Audience::team;
    time_point at;
    ConversationId conversation;
    AgentId agent;
    MessageRef ref;
    template <class F> void fields(F&& f) const {
        f("conversation", conversation), f("agent", agent), f("audience", audience);
    }
};

struct InactivityWarning {
    static constexpr std::string_view name = "inactivity_warning";
    time_point at;
    ConversationId conversation;
    template <class F> void fields(F&& f) const { f("conversation", conversation); }
};

struct ConversationEnded {
    static constexpr std::string_view name = "conversation_ended";
    time_point at;
    ConversationId conversation;
    EndReason reason = EndReason::agent;
    template <class F> void fields(F&& f) const { f("conversation", conversation), f("reason", reason); }
};

/// `text` is valid while the sink runs (RecordingSink keeps a copy).
struct FallbackMessage {
    static constexpr std::string_view name = "fallback_message";
    time_point at;
    ConversationId conversation;
    std::string_view text;
    template <class F> void fields(F&& f) const { f("conversation", conversation), f("text", text); }
};

/// `resolution` is valid while the sink runs (RecordingSink keeps a copy).
struct Resolved {
    static constexpr std::string_view name = "resolved";
    time_point at;
    ConversationId conversation;
    std::string_view resolution;
    template <class F> void fields(F&& f) const {
        f("conversation", conversation), f("resolution", resolution);
    }
};

struct WorkflowChanged {
    static constexpr std::string_view name = "workflow_changed";
    time_point at;
    template <class F> void fields(F&&) const {}
};

/// R29: a conversation's priority changed (0..1000).
struct PriorityChanged {
    static constexpr std::string_view name = "priority_changed";
    time_point at;
    ConversationId conversation;
    std::int64_t priority = 0;
    template <class F> void fields(F&& f) const { f("conversation", conversation), f("priority", priority); }
};

/// R30: a conversation waited skills_relax_after and no longer requires skills.
struct SkillsRelaxed {
    static constexpr std::string_view name = "skills_relaxed";
    time_point at;
    ConversationId conversation;
    template <class F> void fields(F&& f) const { f("conversation", conversation); }
};

/// R32, R33: an active conversation left its assignee and waits in `space`.
struct Transferred {
    static constexpr std::string_view name = "transferred";
    time_point at;
    ConversationId conversation;
    AgentId agent;  ///< the assignee it leaves
    SpaceId space;  ///< where it goes (its own space for a requeue)
    TransferReason reason = TransferReason::agent;
    template <class F> void fields(F&& f) const {
        f("conversation", conversation), f("agent", agent), f("space", space), f("reason", reason);
    }
};

}  // namespace events

/// Every event, for hosts that store or queue them.
using Event = std::variant<events::ConversationStarted, events::AvailabilityChanged,
                           events::Offered, events::OfferDeclined, events::OfferTimedOut,
                           events::OfferWithdrawn, events::Accepted, events::TranscriptShared,
                           events::StatusChanged, events::Message, events::Typing, events::Note,
                           events::FollowUpCreated, events::InactivityWarning,
                           events::ConversationEnded, events::FallbackMessage, events::Resolved,
                           events::SlotReleased, events::WorkflowChanged, events::PriorityChanged,
                           events::SkillsRelaxed, events::Transferred>;

namespace detail {
template <class S, class V>
struct accepts_all;
template <class S, class... E>
struct accepts_all<S, std::variant<E...>> {
    static constexpr bool value = (std::invocable<S&, const E&> && ...);
};
}  // namespace detail

/// Anything callable with every event type: a lambda with `auto`, an overload set, a recorder.
template <class S>
concept EventSink = detail::accepts_all<S, Event>::value;

/// Keeps every event in order: for tests and for hosts that batch. Texts (fallback
/// messages, resolutions) are copied, so the events stay readable after the command.
struct RecordingSink {
    std::vector<Event> events;
    std::deque<std::string> texts;
    template <class E>
    void operator()(const E& event) {
        E copy = event;
        if constexpr (requires { copy.text; }) copy.text = texts.emplace_back(event.text);
        if constexpr (requires { copy.resolution; }) copy.resolution = texts.emplace_back(event.resolution);
        events.emplace_back(copy);
    }
};

/// Drops every event: for benchmarks and for hosts that only query.
struct NullSink {
    template <class E>
    void operator()(const E&) const noexcept {}
};

static_assert(EventSink<RecordingSink>);
static_assert(EventSink<NullSink>);

[[nodiscard]] inline std::string_view event_name(const Event& event) {
    return std::visit([](const auto& e) { return decltype(e.name){e.name}; }, event);
}

[[nodiscard]] inline time_point event_time(const Event& event) {
    return std::visit([](const auto& e) { return e.at; }, event);
}

}  // namespace chatroute
