#pragma once
/// \file
/// Site, space, agent, conversation and workflow settings, with the defaults SPEC gives
/// (§1, §7, §11, §12), and the checks that refuse bad ones (R27: `invalid_argument`).
/// Plain types: nothing here needs fmt (formatting lives in format.hpp).

#include <chatroute/clock.hpp>
#include <chatroute/error.hpp>
#include <chatroute/ids.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chatroute {

enum class Plan : std::uint8_t { free, standard, premium, enterprise };

/// R13 D: which spaces an agent who misses an offer becomes unavailable in.
enum class MissedOfferScope : std::uint8_t { all_spaces, offer_space };

/// R28: how a space chooses among its eligible agents. Twilio calls least_recent
/// "longest idle"; Omni-Channel calls the next two "least active" and "most available".
enum class Strategy : std::uint8_t { round_robin, least_active, most_available, least_recent };

/// R35: what a conversation started while nobody with the role is available gets.
enum class NoAgentAction : std::uint8_t { wait, fallback };

[[nodiscard]] constexpr std::string_view to_string(Plan plan) {
    constexpr std::array<std::string_view, 4> names{"free", "standard", "premium", "enterprise"};
    return names[static_cast<std::size_t>(plan)];
}
[[nodiscard]] constexpr std::string_view to_string(MissedOfferScope scope) {
    return scope == MissedOfferScope::all_spaces ? "all_spaces" : "offer_space";
}
[[nodiscard]] constexpr std::string_view to_string(Strategy strategy) {
    constexpr std::array<std::string_view, 4> names{"round_robin", "least_active", "most_available",
                                                    "least_recent"};
    return names[static_cast<std::size_t>(strategy)];
}
[[nodiscard]] constexpr std::string_view to_string(NoAgentAction action) {
    return action == NoAgentAction::wait ? "wait" : "fallback";
}

/// R1: chat exists only on premium and enterprise sites.
[[nodiscard]] constexpr bool chat_eligible(Plan plan) {
    return plan == Plan::premium || plan == Plan::enterprise;
}

inline constexpr std::int64_t max_conversation_limit = 1'000'000;  ///< §1
inline constexpr std::int64_t max_priority = 1000;                  ///< R29
inline constexpr std::size_t max_skills = 32;                       ///< R30: names per list
inline constexpr std::size_t max_skill_bytes = 64;                  ///< R30: bytes per name
/// The longest timing accepted: 100 years. Longer ones are `invalid_argument`, so that an
/// instant plus a timing can never overflow (a "never" is an unset optional timing).
inline constexpr duration max_timing = std::chrono::hours{24 * 365 * 100};
/// The latest instant the engine works at, 292,000 years after the clock's epoch less 100
/// years: a later reading of the clock is taken as this one (as R26 clamps a clock that
/// goes back), so an instant plus a timing never overflows. Snapshots past it are refused.
inline constexpr time_point latest_instant = time_point::max() - max_timing;

/// A space's timers (§1, §12). Every one must be > 0; the optional ones are off unless set.
struct SpaceTimings {
    duration offer_timeout = std::chrono::seconds{120};
    duration accept_window = std::chrono::minutes{20};
    duration inactivity_warning = std::chrono::minutes{20};
    duration inactivity_grace = std::chrono::minutes{10};
    duration max_duration = std::chrono::hours{24};
    std::optional<duration> skills_relax_after{};         ///< R30
    std::optional<duration> assignee_response_timeout{};  ///< R33
    std::optional<duration> wrap_up_timeout{};            ///< R36
};

struct SpaceSettings {
    /// R2: a space created as new has chat on (on an eligible plan); a pre-existing one off.
    bool is_new = true;
    std::string fallback_message{};
    SpaceTimings timings{};
    Strategy strategy = Strategy::round_robin;         ///< R28
    NoAgentAction no_agent_action = NoAgentAction::wait;  ///< R35
};

/// A change to a space: every field left empty stays as it is (R28, R35).
struct SpaceUpdate {
    std::optional<Strategy> strategy{};
    std::optional<std::string> fallback_message{};
    std::optional<NoAgentAction> no_agent_action{};
};

struct AgentSettings {
    /// The agent's conversation limit across all spaces; the site default when empty.
    std::optional<std::int64_t> limit{};
    /// R30: what the agent can handle.
    std::vector<std::string> skills{};
};

/// What a new conversation brings (R11, R29, R30, R39).
struct StartOptions {
    bool handoff = false;                     ///< handed off from an AI agent: share the transcript
    std::int64_t priority = 0;                ///< 0..1000, highest served first
    std::vector<std::string> skills{};        ///< every one required of its agent
    std::optional<AgentId> preferred_agent{}; ///< offered first if eligible at start
};

/// The engine's identity: handles carry it, so another site's handles are unknown ids.
/// Replicas of one site use the same value (chatroute-node does).
struct EngineOptions {
    std::uint32_t site = 0;
};

/// Site-wide, shared work item configuration (R24, R36).
struct Workflow {
    /// Display names of waiting_for_agent, active, wrapping_up, closed.
    std::array<std::string, 4> status_names{"Waiting for agent", "Active", "Wrapping up", "Closed"};
    std::vector<std::string> resolutions{"Done", "Won't do", "Duplicate", "Unanswered"};
    std::string unanswered_resolution = "Unanswered";
    /// R36: what a wrap-up timeout resolves with; unset: the list's first resolution.
    std::optional<std::string> wrap_up_resolution{};

    [[nodiscard]] std::string_view wrap_up() const {
        return wrap_up_resolution ? std::string_view{*wrap_up_resolution} : std::string_view{resolutions.front()};
    }
};

/// A change to the site: every field left empty stays as it is. Applied as a whole or not at all.
struct SiteUpdate {
    std::optional<Plan> plan{};
    std::optional<std::int64_t> default_limit{};
    std::optional<MissedOfferScope> missed_offer_scope{};
    std::optional<duration> missed_offer_return_after{};  ///< R34; > 0
    std::optional<std::array<std::string, 4>> status_names{};
    std::optional<std::vector<std::string>> resolutions{};
    std::optional<std::string> unanswered_resolution{};
    std::optional<std::string> wrap_up_resolution{};  ///< R36; must be in the list

    [[nodiscard]] bool changes_workflow() const {
        return status_names || resolutions || unanswered_resolution || wrap_up_resolution;
    }
};

/// A timing is > 0 and at most max_timing.
[[nodiscard]] constexpr bool valid_timing(duration span) { return span > duration::zero() && span <= max_timing; }

namespace detail {
[[nodiscard]] inline bool valid(std::optional<duration> span) { return !span || valid_timing(*span); }
}  // namespace detail

[[nodiscard]] inline Result<> validate(const SpaceTimings& t) {
    const bool valid = valid_timing(t.offer_timeout) && valid_timing(t.accept_window) &&
                       valid_timing(t.inactivity_warning) && valid_timing(t.inactivity_grace) &&
                       valid_timing(t.max_duration) && detail::valid(t.skills_relax_after) &&
                       detail::valid(t.assignee_response_timeout) && detail::valid(t.wrap_up_timeout);
    if (!valid) return tl::unexpected(Error::invalid_argument);
    return {};
}

[[nodiscard]] inline Result<> validate(const SpaceSettings& settings) { return validate(settings.timings); }

[[nodiscard]] constexpr Result<> validate_limit(std::int64_t limit) {
    if (limit < 0 || limit > max_conversation_limit) return tl::unexpected(Error::invalid_argument);
    return {};
}

[[nodiscard]] constexpr Result<> validate_priority(std::int64_t priority) {
    if (priority < 0 || priority > max_priority) return tl::unexpected(Error::invalid_argument);
    return {};
}

/// R30: at most 32 names, each 1..64 bytes, none repeated.
[[nodiscard]] inline Result<> validate_skills(std::span<const std::string> skills) {
    if (skills.size() > max_skills) return tl::unexpected(Error::invalid_argument);
    for (std::size_t i = 0; i < skills.size(); ++i) {
        if (skills[i].empty() || skills[i].size() > max_skill_bytes) return tl::unexpected(Error::invalid_argument);
        for (std::size_t j = 0; j < i; ++j)
            if (skills[j] == skills[i]) return tl::unexpected(Error::invalid_argument);
    }
    return {};
}

[[nodiscard]] inline Result<> validate(const AgentSettings& settings) {
    if (settings.limit) {
        if (auto ok = validate_limit(*settings.limit); !ok) return ok;
    }
    return validate_skills(settings.skills);
}

[[nodiscard]] inline Result<> validate(const StartOptions& options) {
    if (auto ok = validate_priority(options.priority); !ok) return ok;
    return validate_skills(options.skills);
}

/// R24, R36: the unanswered (and any wrap-up) resolution is in the list; no name is
/// empty or repeated.
[[nodiscard]] inline Result<> validate(const Workflow& workflow) {
    const auto bad_names = [](const auto& names) {
        for (std::size_t i = 0; i < names.size(); ++i) {
            if (names[i].empty()) return true;
            for (std::size_t j = 0; j < i; ++j)
                if (names[j] == names[i]) return true;
        }
        return false;
    };
    const auto& list = workflow.resolutions;
    const auto listed = [&](std::string_view name) { return std::find(list.begin(), list.end(), name) != list.end(); };
    const bool wrap_up_listed = !workflow.wrap_up_resolution || listed(*workflow.wrap_up_resolution);
    if (bad_names(workflow.status_names) || bad_names(list) || !listed(workflow.unanswered_resolution) ||
        !wrap_up_listed)
        return tl::unexpected(Error::invalid_argument);
    return {};
}

}  // namespace chatroute
