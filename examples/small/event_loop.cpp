// Driving deadlines from an event loop. The engine never reads the wall clock: the host
// gives it a clock (here an adapter over std::chrono::steady_clock), asks next_deadline()
// when to wake up, sleeps (or polls its sockets) until then, and calls advance().
// Short timings keep the run under a second: an offer nobody answers, then the accept
// window runs out and the customer gets the fallback message.
#include <chatroute/chatroute.hpp>

#include <fmt/format.h>

#include <chrono>
#include <thread>

// The engine's timeline counts microseconds from an epoch the host picks: here, start-up.
class SteadyClock {
public:
    [[nodiscard]] chatroute::time_point now() const { return to_engine(std::chrono::steady_clock::now()); }
    [[nodiscard]] chatroute::time_point to_engine(std::chrono::steady_clock::time_point t) const {
        return chatroute::time_point{std::chrono::duration_cast<chatroute::duration>(t - epoch_)};
    }
    [[nodiscard]] std::chrono::steady_clock::time_point to_steady(chatroute::time_point t) const {
        return epoch_ + t.time_since_epoch();
    }

private:
    std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();
};
static_assert(chatroute::Clock<SteadyClock>);

int main() {
    using namespace std::chrono_literals;
    SteadyClock clock;
    // Event times depend on how late the loop wakes; print what happened, in order.
    auto print = [](const auto& event) { fmt::print("{}\n", event.name); };
    chatroute::Engine engine{clock, print};

    chatroute::SpaceSettings settings{.fallback_message = "We will email you back."};
    settings.timings.offer_timeout = 30ms;
    settings.timings.accept_window = 100ms;
    auto space = engine.add_space(settings);
    auto ana = engine.add_agent();
    if (!space || !ana) return 1;
    if (!engine.grant_role(*ana, *space) || !engine.set_availability(*ana, *space, true)) return 1;
    auto chat = engine.start_conversation(*space);  // offered to ana, who never answers
    if (!chat) return 1;

    // The loop: sleep until the next deadline, then let the engine fire what is due.
    // A real host waits on its sockets with this timeout (epoll, Asio's steady_timer).
    std::size_t fired_total = 0;
    while (auto deadline = engine.next_deadline()) {
        std::this_thread::sleep_until(clock.to_steady(*deadline));
        auto fired = engine.advance();
        if (!fired) return fmt::print(stderr, "advance: {}\n", fired.error()), 1;
        fired_total += *fired;
    }
    auto status = engine.status(*chat);
    if (!status) return 1;
    fmt::print("{} deadlines fired; status {}\n", fired_total, *status);
    return 0;
}
