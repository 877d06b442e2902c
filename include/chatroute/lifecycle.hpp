#pragma once
/// \file
/// The work item lifecycle as data the engine runs: every transition (`lifecycle`) and
/// every conversation deadline (`timer_rules`). The engine looks each move up here and
/// refuses (CHATROUTE_ASSERT) any pair the table lacks; docs/lifecycle.md quotes these
/// tables and a test keeps the two identical and walks every row.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace chatroute {

enum class Status : std::uint8_t { waiting_for_agent, active, wrapping_up, closed };

/// What moves a work item (or keeps it where it is, with an effect).
enum class Trigger : std::uint8_t {
    offer,          ///< routing offers it to one agent
    decline,        ///< the agent holding the offer declines it
    offer_timeout,  ///< the offer expired unanswered
    withdraw,       ///< the offer is taken back: its agent turned unavailable or lost the role
    relax,          ///< it waited skills_relax_after and drops its required skills
    accept,         ///< the agent holding the offer accepts it
    warn,           ///< it was inactive inactivity_warning long
    transfer,       ///< its assignee hands it on, or stopped answering
    end,            ///< the conversation ends: by the assignee, the customer, or a timer
    resolve,        ///< resolved by the assignee, or by the wrap-up timeout
};
inline constexpr std::size_t trigger_count = 10;

[[nodiscard]] constexpr std::string_view to_string(Status status) {
    constexpr std::array<std::string_view, 4> names{"waiting_for_agent", "active", "wrapping_up", "closed"};
    return names[static_cast<std::size_t>(status)];
}
[[nodiscard]] constexpr std::string_view to_string(Trigger trigger) {
    constexpr std::array<std::string_view, trigger_count> names{
        "offer", "decline", "offer_timeout", "withdraw", "relax", "accept", "warn", "transfer", "end", "resolve"};
    return names[static_cast<std::size_t>(trigger)];
}

struct Transition {
    Status from;
    Trigger trigger;
    Status to;
    std::string_view rules;
};

/// Every transition there is. A pair not listed is refused (closed is final: R23).
inline constexpr std::array<Transition, 11> lifecycle{{
    {Status::waiting_for_agent, Trigger::offer, Status::waiting_for_agent, "R8 R9 R28 R39"},
    {Status::waiting_for_agent, Trigger::decline, Status::waiting_for_agent, "R12"},
    {Status::waiting_for_agent, Trigger::offer_timeout, Status::waiting_for_agent, "R13"},
    {Status::waiting_for_agent, Trigger::withdraw, Status::waiting_for_agent, "R14"},
    {Status::waiting_for_agent, Trigger::relax, Status::waiting_for_agent, "R30"},
    {Status::waiting_for_agent, Trigger::accept, Status::active, "R11"},
    {Status::waiting_for_agent, Trigger::end, Status::closed, "R15 R18 R20 R35"},
    {Status::active, Trigger::warn, Status::active, "R17"},
    {Status::active, Trigger::transfer, Status::waiting_for_agent, "R32 R33"},
    {Status::active, Trigger::end, Status::wrapping_up, "R17 R18 R20"},
    {Status::wrapping_up, Trigger::resolve, Status::closed, "R22 R36"},
}};

[[nodiscard]] constexpr std::optional<Status> next_status(Status from, Trigger trigger) {
    for (const Transition& row : lifecycle)
        if (row.from == from && row.trigger == trigger) return row.to;
    return std::nullopt;
}

/// A conversation's deadlines. Each runs in one status; when it fires, the engine applies
/// its trigger (the effect column says what follows).
enum class TimerKind : std::uint8_t {
    offer_timeout,              ///< R13: while an offer is pending
    accept_window,              ///< R15: while waiting_for_agent
    skills_relax,               ///< R30: while waiting_for_agent with required skills
    inactivity_warning,         ///< R17: while active, counting from the last message
    inactivity_grace,           ///< R17: while active, after the warning
    assignee_response_timeout,  ///< R33: while active, from the first unanswered customer message
    wrap_up_timeout,            ///< R36: while wrapping_up
    max_duration,               ///< R18: until the conversation ends
};
inline constexpr std::size_t timer_kind_count = 8;

[[nodiscard]] constexpr std::string_view to_string(TimerKind kind) {
    constexpr std::array<std::string_view, timer_kind_count> names{
        "offer_timeout",    "accept_window", "skills_relax",   "inactivity_warning", "inactivity_grace",
        "assignee_response_timeout", "wrap_up_timeout", "max_duration"};
    return names[static_cast<std::size_t>(kind)];
}

struct TimerRule {
    TimerKind kind;
    Status runs_in;
    Trigger trigger;
    std::string_view effect;
    std::string_view rule;
};

/// Every deadline, the status it runs in, and the trigger it applies when it fires.
inline constexpr std::array<TimerRule, 9> timer_rules{{
    {TimerKind::offer_timeout, Status::waiting_for_agent, Trigger::offer_timeout,
     "offer_timed_out; agent unavailable; conversation waits again", "R13"},
    {TimerKind::accept_window, Status::waiting_for_agent, Trigger::end,
     "offer withdrawn; fallback_message; ends (no_agent); closed unanswered", "R15"},
    {TimerKind::skills_relax, Status::waiting_for_agent, Trigger::relax, "skills_relaxed; routing", "R30"},
    {TimerKind::inactivity_warning, Status::active, Trigger::warn, "inactivity_warning; grace starts", "R17"},
    {TimerKind::inactivity_grace, Status::active, Trigger::end, "ends (inactivity); wrapping_up", "R17"},
    {TimerKind::assignee_response_timeout, Status::active, Trigger::transfer,
     "transferred to its own space; assignee unavailable as for a missed offer", "R33"},
    {TimerKind::wrap_up_timeout, Status::wrapping_up, Trigger::resolve,
     "resolved with the wrap-up resolution; slot released", "R36"},
    {TimerKind::max_duration, Status::waiting_for_agent, Trigger::end, "ends (max_duration); closed unanswered",
     "R18"},
    {TimerKind::max_duration, Status::active, Trigger::end, "ends (max_duration); wrapping_up", "R18"},
}};

/// The rule for a deadline firing in a status; empty where that deadline cannot run.
[[nodiscard]] constexpr std::optional<TimerRule> timer_rule(TimerKind kind, Status status) {
    for (const TimerRule& rule : timer_rules)
        if (rule.kind == kind && rule.runs_in == status) return rule;
    return std::nullopt;
}

}  // namespace chatroute
