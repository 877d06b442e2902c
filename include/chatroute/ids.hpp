#pragma once
/// \file
/// Compact handles the engine hands back. The host keeps its own ids and maps them.

#include <compare>
#include <cstdint>
#include <functional>
#include <limits>

namespace chatroute {

namespace detail {
template <class Tag>
struct Handle {
    static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();

    std::uint32_t index = none;
    /// High byte: the engine that issued it; low 24 bits: the slot's generation.
    std::uint32_t stamp = 0;

    [[nodiscard]] constexpr bool valid() const { return index != none; }
    [[nodiscard]] constexpr std::uint64_t bits() const { return (std::uint64_t{stamp} << 32) | index; }
    friend constexpr bool operator==(Handle, Handle) = default;
    friend constexpr auto operator<=>(Handle, Handle) = default;
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
    std::size_t operator()(chatroute::detail::Handle<Tag> handle) const noexcept {
        return std::hash<std::uint64_t>{}(handle.bits());
    }
};
