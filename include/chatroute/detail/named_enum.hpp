#pragma once
// One formatter for every public enum that has a `to_string`.

#include <fmt/format.h>

#include <concepts>
#include <string_view>
#include <type_traits>

namespace chatroute::detail {
template <class E>
concept NamedEnum = std::is_enum_v<E> && requires(E value) {
    { to_string(value) } -> std::same_as<std::string_view>;
};
}  // namespace chatroute::detail

template <chatroute::detail::NamedEnum E>
struct fmt::formatter<E> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(E value, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(to_string(value), ctx);
    }
};
