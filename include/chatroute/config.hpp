#pragma once
/// \file
/// Site, space, agent and workflow settings, with the defaults SPEC gives (§1, §7).

#include <chatroute/clock.hpp>
#include <chatroute/detail/named_enum.hpp>
#include <chatroute/error.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatroute {

enum class Plan : std::uint8_t { free, standard, premium, enterprise };

/// R13 D: which spaces an agent who misses an offer becomes unavailable in.
enum class MissedOfferScope : std::uint8_t { all_spaces, offer_space };

[[nodiscard]] constexpr std::string_view to_string(Plan plan) {
    constexpr std::array<std::string_view, 4> names{"free", "standard", "premium", "enterprise"};
    return names[static_cast<std::size_t>(plan)];
}
[[nodiscard]] constexpr std::string_view to_string(MissedOfferScope scope) {
    return scope == MissedOfferScope::all_spaces ? "all_spaces" : "offer_space";
}

/// R1: chat exists only on premium and enterprise sites.
[[nodiscard]] constexpr bool chat_eligible(Plan plan) {
    return plan == Plan::premium || plan == Plan::enterprise;
}

/// A space's timers (§1). Every one must be > 0.
struct SpaceTimings {
    duration offer_timeout = std::chrono::seconds{120};
    duration accept_window = std::chrono::minutes{20};
    duration inactivity_warning = std::chrono::minutes{20};
    duration inactivity_grace = std::chrono::minutes{10};
    duration max_duration = std::chrono::hours{24};
};

struct SpaceSettings {
    /// R2: a space created as new has chat on (on an eligible plan); a pre-existing one off.
    bool is_new = true;
    std::string fallback_message{};
    SpaceTimings timings{};
};

struct AgentSettings {
    /// The agent's conversation limit across all spaces; the site default when empty.
    std::optional<std::int64_t> limit{};
};

/// Site-wide, shared work item configuration (R24).
struct Workflow {
    /// Display names of waiting_for_agent, active, wrapping_up, closed.
    std::array<std::string, 4> status_names{"Waiting for agent", "Active", "Wrapping up", "Closed"};
    std::vector<std::string> resolutions{"Done", "Won't do", "Duplicate", "Unanswered"};
    std::string unanswered_resolution = "Unanswered";
};

/// A change to the site: every field left empty stays as it is. Applied as a whole or not at all.
struct SiteUpdate {
    std::optional<Plan> plan{};
    std::optional<std::int64_t> default_limit{};
    std::optional<MissedOfferScope> missed_offer_scope{};
    std::optional<std::array<std::string, 4>> status_names{};
    std::optional<std::vector<std::string>> resolutions{};
    std::optional<std::string> unanswered_resolution{};

    [[nodiscard]] bool changes_workflow() const {
        return status_names || resolutions || unanswered_resolution;
    }
};

inline constexpr std::int64_t max_conversation_limit = 1'000'000;

[[nodiscard]] inline Result<> validate(const SpaceTimings& timings) {
    const bool positive = timings.offer_timeout > duration::zero() &&
                          timings.accept_window > duration::zero() &&
                          timings.inactivity_warning > duration::zero() &&
                          timings.inactivity_grace > duration::zero() &&
                          timings.max_duration > duration::zero();
    if (!positive) return tl::unexpected(Error::invalid_argument);
    return {};
}

[[nodiscard]] inline Result<> validate(const SpaceSettings& settings) {
    return validate(settings.timings);
}

[[nodiscard]] constexpr Result<> validate_limit(std::int64_t limit) {
    if (limit < 0 || limit > max_conversation_limit) return tl::unexpected(Error::invalid_argument);
    return {};
}

[[nodiscard]] inline Result<> validate(const AgentSettings& settings) {
    return settings.limit ? validate_limit(*settings.limit) : Result<>{};
}

/// R24: the unanswered resolution is in the list; no name is empty or repeated.
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
    const bool unanswered_listed =
        std::find(list.begin(), list.end(), workflow.unanswered_resolution) != list.end();
    if (bad_names(workflow.status_names) || bad_names(list) || !unanswered_listed)
        return tl::unexpected(Error::invalid_argument);
    return {};
}

}  // namespace chatroute
