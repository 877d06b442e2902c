#pragma once
/// \file
/// Time as the engine sees it: an injected clock, never the wall.

#include <chrono>
#include <concepts>
#include <cstdint>

namespace chatroute {

/// The engine's own timeline: microseconds since an epoch the host chooses
/// (a scenario's start, the Unix epoch, a simulation's zero).
struct timeline {
    using rep = std::int64_t;
    using period = std::micro;
    using duration = std::chrono::duration<rep, period>;
    using time_point = std::chrono::time_point<timeline, duration>;
    static constexpr bool is_steady = true;
};

using duration = timeline::duration;
using time_point = timeline::time_point;

/// Anything with `now()` giving a time_point can drive the engine.
template <class C>
concept Clock = requires(const C& clock) {
    { clock.now() } -> std::convertible_to<time_point>;
};

/// A clock the host moves by hand: tests, simulations, replays.
class ManualClock {
public:
    constexpr ManualClock() = default;
    constexpr explicit ManualClock(time_point start) : now_(start) {}

    [[nodiscard]] constexpr time_point now() const { return now_; }
    constexpr void set(time_point instant) { now_ = instant; }
    constexpr void advance(duration elapsed) { now_ += elapsed; }

private:
    time_point now_{};
};

static_assert(Clock<ManualClock>);

/// Seconds since the epoch as a time_point; fractional seconds round to the microsecond.
[[nodiscard]] constexpr time_point at_seconds(double seconds) {
    const double micros = seconds * 1e6;
    return time_point{duration{static_cast<std::int64_t>(micros < 0 ? micros - 0.5 : micros + 0.5)}};
}

}  // namespace chatroute
