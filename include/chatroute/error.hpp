#pragma once
/// \file
/// Errors are values: one enum, one message table, an fmt formatter (R27).

#include <tl/expected.hpp>

#include <array>
#include <cstdint>
#include <string_view>

namespace chatroute {

/// In precedence order: where several apply, the first wins (R27).
enum class Error : std::uint8_t {
    invalid_argument,
    unknown_space,
    unknown_agent,
    unknown_conversation,
    duplicate_id,
    work_item_closed,
    not_an_agent_in_space,
    plan_not_eligible,
    chat_disabled,
    conversation_ended,
    no_offer,
    not_assignee,
    conversation_active,
    unknown_resolution,
    /// Not in SPEC's list: a command called from inside the event sink (never from a
    /// scenario). Refused so that a command never runs in the middle of another.
    reentrant_call,
};

template <class T = void>
using Result = tl::expected<T, Error>;

namespace detail {
struct ErrorText {
    std::string_view code;
    std::string_view message;
};
inline constexpr std::array<ErrorText, 15> error_texts{{
    {"invalid_argument", "a value is out of range or not among the allowed words"},
    {"unknown_space", "no such space"},
    {"unknown_agent", "no such agent"},
    {"unknown_conversation", "no such conversation"},
    {"duplicate_id", "that id is already in use"},
    {"work_item_closed", "the work item is closed; nothing more can be done with it"},
    {"not_an_agent_in_space", "the agent does not hold the agent role in this space"},
    {"plan_not_eligible", "chat needs a premium or enterprise plan"},
    {"chat_disabled", "chat is turned off in this space"},
    {"conversation_ended", "the customer-facing conversation has ended"},
    {"no_offer", "the agent holds no pending offer for this conversation"},
    {"not_assignee", "only the conversation's assignee may do this"},
    {"conversation_active", "the conversation is still active; end it first"},
    {"unknown_resolution", "no such resolution in the workflow"},
    {"reentrant_call", "a command was called from inside the event sink; call it after the sink returns"},
}};
}  // namespace detail

/// The machine-readable code, as SPEC spells it: "no_offer".
[[nodiscard]] constexpr std::string_view to_string(Error error) {
    return detail::error_texts[static_cast<std::size_t>(error)].code;
}

/// One line a person can read.
[[nodiscard]] constexpr std::string_view message(Error error) {
    return detail::error_texts[static_cast<std::size_t>(error)].message;
}

}  // namespace chatroute
