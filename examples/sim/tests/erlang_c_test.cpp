// With instant accepts, limit 1, no declines or misses, exponential handle times and
// timers too long to fire, the help desk is an M/M/c queue: the measured probability of
// waiting and mean wait must match Erlang C within the run's own 99.9 % confidence
// interval (batch means).

#include "mmc.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>

using namespace chatroute::sim;

TEST_CASE("Erlang C: the recurrence matches the closed form") {
    // c = 2, a = 1: C = (a^c/c!)(c/(c-a)) / (1 + a + (a^c/c!)(c/(c-a))) = 1 / 3.
    CHECK(queueing::erlang_c(2, 1.0) == Approx(1.0 / 3));
    // M/M/1: C = ρ.
    CHECK(queueing::erlang_c(1, 0.7) == Approx(0.7));
    // A textbook value: c = 10, a = 8 → 0.4092.
    CHECK(queueing::erlang_c(10, 8.0) == Approx(0.4092).epsilon(1e-3));
}

TEST_CASE("M/M/c: probability of waiting and mean wait match Erlang C") {
    for (const MmcPoint& point : mmc_points()) {
        const MmcCheck check = run_mmc(point, point.customers, 20, 1);
        INFO(fmt::format("λ = {}/h, c = {}, handle {} s: P(wait) theory {:.4f}, simulated {:.4f} ± {:.4f}; "
                         "mean wait theory {:.2f} s, simulated {:.2f} ± {:.2f} s",
                         point.arrivals_per_hour, point.agents, point.handle_seconds, check.theory_wait_probability,
                         check.wait_probability.mean, check.wait_probability.half_width, check.theory_mean_wait,
                         check.mean_wait.mean, check.mean_wait.half_width));
        // Nobody hit a timer, nobody left: the model really is M/M/c.
        REQUIRE(check.results_clean);
        CHECK(check.wait_probability.covers(check.theory_wait_probability));
        CHECK(check.mean_wait.covers(check.theory_mean_wait));
        // And the interval is tight enough to mean something.
        CHECK(check.wait_probability.half_width < 0.12 * check.theory_wait_probability);
        CHECK(check.mean_wait.half_width < 0.25 * check.theory_mean_wait);
        // Occupancy (slot time used / staffed) is the utilisation ρ.
        CHECK(check.occupancy == Approx(point.arrivals_per_hour / 3600 * point.handle_seconds / point.agents).epsilon(0.03));
    }
}

// The table in docs/simulation.md: `chatroute_sim_tests "[.table]"`.
TEST_CASE("M/M/c: theory against simulation, as a table", "[.table]") {
    std::string table =
        "| λ (per hour) | agents c | handle time | ρ | P(wait) Erlang C | P(wait) simulated ± 99.9 % | "
        "mean wait Erlang C | mean wait simulated ± 99.9 % | customers |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const MmcPoint& point : mmc_points()) {
        const MmcCheck check = run_mmc(point, point.customers, 20, 1);
        table += fmt::format("| {} | {} | {} s | {:.3f} | {:.4f} | {:.4f} ± {:.4f} | {:.2f} s | {:.2f} ± {:.2f} s | {} |\n",
                             point.arrivals_per_hour, point.agents, point.handle_seconds,
                             point.arrivals_per_hour / 3600 * point.handle_seconds / point.agents,
                             check.theory_wait_probability, check.wait_probability.mean,
                             check.wait_probability.half_width, check.theory_mean_wait, check.mean_wait.mean,
                             check.mean_wait.half_width, check.customers);
    }
    fmt::print("{}", table);
}
