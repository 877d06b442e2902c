#pragma once
// Strong index types for the engine's internal tables: an agent's index cannot be passed
// where a conversation's is expected. `nil` marks "none".

#include <compare>
#include <cstdint>

namespace chatroute::detail {

inline constexpr std::uint32_t nil = 0xFFFF'FFFF;

template <class Tag>
struct Index {
    std::uint32_t value = nil;

    constexpr Index() = default;
    constexpr explicit Index(std::uint32_t v) : value(v) {}
    [[nodiscard]] constexpr bool some() const { return value != nil; }
    [[nodiscard]] constexpr bool none() const { return value == nil; }
    friend constexpr bool operator==(Index, Index) = default;
    friend constexpr auto operator<=>(Index, Index) = default;
};

struct AgentIndexTag {};
struct SpaceIndexTag {};
struct ConversationIndexTag {};
struct MemberIndexTag {};
struct SkillSetIndexTag {};

using AgentIx = Index<AgentIndexTag>;                ///< an agent record
using SpaceIx = Index<SpaceIndexTag>;                ///< a space record
using ConvIx = Index<ConversationIndexTag>;          ///< a conversation table slot
using MemberIx = Index<MemberIndexTag>;              ///< an (agent, space) membership record
using SkillSetIx = Index<SkillSetIndexTag>;          ///< an interned set of skill names

/// The empty skill set: always interned, at index 0.
inline constexpr SkillSetIx no_skills{0};

}  // namespace chatroute::detail
