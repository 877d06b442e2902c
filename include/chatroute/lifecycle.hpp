#pragma once
/// \file
/// The work item lifecycle in one table: the engine executes it, the docs and tests quote it.

#include <chatroute/detail/named_enum.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace chatroute {

enum class Status : std::uint8_t { waiting_for_agent, active, wrapping_up, closed };

/// What moves a work item.
enum class Trigger : std::uint8_t {
    accept,   ///< an agent accepts the offer
    end,      ///< the conversation ends: by the assignee, the customer, or a timer
    resolve,  ///< the assignee resolves it with a resolution
};

[[nodiscard]] constexpr std::string_view to_string(Status status) {
    constexpr std::array<std::string_view, 4> names{"waiting_for_agent", "active", "wrapping_up",
                                                    "closed"};
    return names[static_cast<std::size_t>(status)];
}
[[nodiscard]] constexpr std::string_view to_string(Trigger trigger) {
    constexpr std::array<std::string_view, 3> names{"accept", "end", "resolve"};
    return names[static_cast<std::size_t>(trigger)];
}

struct Transition {
    Status from;
    Trigger trigger;
    Status to;
    std::string_view rules;
};

/// Every transition there is. A pair not listed is refused (closed is final: R23).
inline constexpr std::array<Transition, 4> lifecycle{{
    {Status::waiting_for_agent, Trigger::accept, Status::active, "R11"},
    {Status::waiting_for_agent, Trigger::end, Status::closed, "R15 R18 R20"},
    {Status::active, Trigger::end, Status::wrapping_up, "R17 R18 R20"},
    {Status::wrapping_up, Trigger::resolve, Status::closed, "R22"},
}};

[[nodiscard]] constexpr std::optional<Status> next_status(Status from, Trigger trigger) {
    for (const Transition& row : lifecycle)
        if (row.from == from && row.trigger == trigger) return row.to;
    return std::nullopt;
}

/// The conversation's timers and the statuses they run in.
enum class TimerKind : std::uint8_t {
    offer_timeout,       ///< R13: while an offer is pending
    accept_window,       ///< R15: while waiting_for_agent
    inactivity_warning,  ///< R17: while active, counting from the last message
    inactivity_grace,    ///< R17: while active, after the warning
    max_duration,        ///< R18: until the conversation ends
};

[[nodiscard]] constexpr std::string_view to_string(TimerKind kind) {
    constexpr std::array<std::string_view, 5> names{"offer_timeout", "accept_window",
                                                    "inactivity_warning", "inactivity_grace",
                                                    "max_duration"};
    return names[static_cast<std::size_t>(kind)];
}

struct TimerRule {
    TimerKind kind;
    Status runs_in;
    std::string_view effect;
    std::string_view rule;
};

inline constexpr std::array<TimerRule, 6> timer_rules{{
    {TimerKind::offer_timeout, Status::waiting_for_agent,
     "offer_timed_out; agent unavailable; conversation waits again", "R13"},
    {TimerKind::accept_window, Status::waiting_for_agent,
     "offer withdrawn; fallback_message; ends (no_agent); closed unanswered", "R15"},
    {TimerKind::inactivity_warning, Status::active, "inactivity_warning; grace starts", "R17"},
    {TimerKind::inactivity_grace, Status::active, "ends (inactivity); wrapping_up", "R17"},
    {TimerKind::max_duration, Status::waiting_for_agent, "ends (max_duration); closed unanswered",
     "R18"},
    {TimerKind::max_duration, Status::active, "ends (max_duration); wrapping_up", "R18"},
}};

}  // namespace chatroute
