#pragma once
/// \file
/// Compact handles the engine hands back. The host keeps its own ids and maps them.
///
/// A handle names its engine by the engine's site id (EngineOptions::site), so a handle
/// of another site is an unknown id, and every replica of one site accepts the same
/// handles. A conversation's handle also carries its serial, the number of the start that
/// made it (never reused, 64 bits): once closed, its handle keeps reading as closed,
/// however many conversations reuse the slot (R23, R38).

#include <compare>
#include <cstdint>
#include <functional>
#include <limits>

namespace chatroute {

namespace detail {
template <class Tag>
struct Handle {
    static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();

    std::uint32_t index = none;  ///< the engine's slot
    std::uint32_t site = 0;      ///< the issuing engine's site id
    std::uint64_t serial = 0;    ///< conversations: start number + 1; spaces and agents: 0

    [[nodiscard]] constexpr bool valid() const { return index != none; }
    friend constexpr bool operator==(const Handle&, const Handle&) = default;
    friend constexpr auto operator<=>(const Handle&, const Handle&) = default;
};
struct SpaceTag {};
struct AgentTag {};
struct ConversationTag {};
}  // namespace detail

/// A help desk inside the site.
using SpaceId = detail::Handle<detail::SpaceTag>;
/// A person with the agent role in zero or more spaces.
using AgentId = detail::Handle<detail::AgentTag>;
/// A conversation and its work item (one each, same id).
using ConversationId = detail::Handle<detail::ConversationTag>;

/// For `set_availability`: every space where the agent holds the role.
struct AllSpaces {};
inline constexpr AllSpaces all_spaces{};

}  // namespace chatroute

template <class Tag>
struct std::hash<chatroute::detail::Handle<Tag>> {
    std::size_t operator()(const chatroute::detail::Handle<Tag>& handle) const noexcept {
        const std::uint64_t mixed = (handle.serial * 0x9E3779B97F4A7C15ULL) ^ (std::uint64_t{handle.site} << 32) ^
                                    handle.index;
        return std::hash<std::uint64_t>{}(mixed);
    }
};
