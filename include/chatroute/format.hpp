#pragma once
/// \file
/// fmt formatters for handles, instants, events and the Event variant. Enums and errors
/// format through their `to_string` (detail/named_enum.hpp). The only public header that
/// includes fmt: the type headers stay free of it (tests/layering/ keeps it so).

#include <chatroute/clock.hpp>
#include <chatroute/config.hpp>
#include <chatroute/detail/named_enum.hpp>
#include <chatroute/error.hpp>
#include <chatroute/events.hpp>
#include <chatroute/ids.hpp>
#include <chatroute/lifecycle.hpp>
#include <chatroute/snapshot.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <string_view>
#include <variant>

namespace chatroute::detail {

/// Seconds since the epoch, shortest exact form: "120", "0.5", "-3.000001".
template <class Out>
Out format_seconds(Out out, time_point instant) {
    const std::int64_t micros = instant.time_since_epoch().count();
    const std::uint64_t magnitude =
        micros < 0 ? std::uint64_t(0) - static_cast<std::uint64_t>(micros) : static_cast<std::uint64_t>(micros);
    const std::string_view sign = micros < 0 ? "-" : "";
    std::uint64_t fraction = magnitude % 1'000'000;
    if (fraction == 0) return fmt::format_to(out, "{}{}", sign, magnitude / 1'000'000);
    int digits = 6;
    while (fraction % 10 == 0) fraction /= 10, --digits;
    return fmt::format_to(out, "{}{}.{:0{}}", sign, magnitude / 1'000'000, fraction, digits);
}

template <class T>
concept FieldedEvent = requires(const T& event) {
    T::name;
    event.at;
    event.fields([](std::string_view, const auto&) {});
};

}  // namespace chatroute::detail

template <>
struct fmt::formatter<chatroute::time_point> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <class FormatContext>
    auto format(chatroute::time_point instant, FormatContext& ctx) const {
        return chatroute::detail::format_seconds(ctx.out(), instant);
    }
};

template <class Tag>
struct fmt::formatter<chatroute::detail::Handle<Tag>> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <class FormatContext>
    auto format(chatroute::detail::Handle<Tag> handle, FormatContext& ctx) const {
        // "#3", "#3/17" (a conversation: slot/serial), "#3/17@5" (of site 5): handles of two
        // conversations that shared a slot, or of two sites, never read the same.
        if (!handle.valid()) return fmt::format_to(ctx.out(), "#none");
        auto out = fmt::format_to(ctx.out(), "#{}", handle.index);
        if (handle.serial != 0) out = fmt::format_to(out, "/{}", handle.serial);
        if (handle.site != 0) out = fmt::format_to(out, "@{}", handle.site);
        return out;
    }
};

template <>
struct fmt::formatter<chatroute::MessageRef> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <class FormatContext>
    auto format(chatroute::MessageRef ref, FormatContext& ctx) const {
        return fmt::format_to(ctx.out(), "ref:{}", ref.value);
    }
};

/// "offered{at=0, conversation=#0, agent=#1, space=#0, expires_at=120}"
template <chatroute::detail::FieldedEvent E>
struct fmt::formatter<E> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <class FormatContext>
    auto format(const E& event, FormatContext& ctx) const {
        auto out = fmt::format_to(ctx.out(), "{}{{at={}", E::name, event.at);
        event.fields([&](std::string_view key, const auto& value) {
            out = fmt::format_to(out, ", {}={}", key, value);
        });
        return fmt::format_to(out, "}}");
    }
};

template <>
struct fmt::formatter<chatroute::Event> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <class FormatContext>
    auto format(const chatroute::Event& event, FormatContext& ctx) const {
        return std::visit([&](const auto& e) { return fmt::format_to(ctx.out(), "{}", e); }, event);
    }
};
