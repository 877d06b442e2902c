#pragma once
// The M/M/c set-up of the simulator, used by its Erlang C test and by docs/simulation.md's
// table (`chatroute_sim_tests "[table]"` prints it).

#include "queueing.hpp"
#include "simulation.hpp"

#include <cstdint>
#include <vector>

namespace chatroute::sim {

struct MmcPoint {
    double arrivals_per_hour;
    int agents;
    double handle_seconds;
    std::size_t customers;  // simulated after the warm-up: busier points need more for a tight interval
};

// From lightly loaded to busy, from one agent to twenty.
inline std::vector<MmcPoint> mmc_points() {
    return {{30, 1, 60, 150'000},
            {60, 2, 90, 200'000},
            {120, 5, 120, 250'000},
            {300, 10, 96, 300'000},
            {360, 20, 170, 500'000}};
}

// One space, `agents` agents at limit 1 always on, instant accepts, no declines, misses,
// messages or wrap-up, exponential handle times, patient customers, timers out of reach.
inline Scenario mmc_scenario(const MmcPoint& point, double hours, std::uint64_t seed) {
    Scenario s;
    s.seed = seed;
    s.hours = hours;
    s.interval_minutes = 60;
    const double far = 1e9;  // seconds: no timer ever fires
    SpaceSpec space;
    space.name = "queue";
    space.offer_timeout = space.accept_window = space.inactivity_warning = space.inactivity_grace = space.max_duration =
        far;
    space.rate_per_hour = point.arrivals_per_hour;
    s.spaces.push_back(space);
    AgentGroupSpec group;
    group.name = "agent";
    group.count = point.agents;
    group.limit = 1;
    s.agents.push_back(group);
    Behaviour& b = s.behaviour;
    b.accept_time = 0;
    b.decline_probability = 0;
    b.miss_probability = 0;
    b.handle_time = point.handle_seconds;
    b.handle_time_distribution = "exponential";
    b.wrap_up_time = 0;
    b.messages = 0;
    b.customer_end_share = 0;
    b.silent_probability = 0;
    s.customers.patience = 0;
    return s;
}

struct MmcCheck {
    double theory_wait_probability = 0;
    double theory_mean_wait = 0;
    queueing::Estimate wait_probability;
    queueing::Estimate mean_wait;
    double occupancy = 0;  // measured; theory: λ / (c μ)
    std::size_t customers = 0;
    bool results_clean = false;  // everyone answered, no timer fired, no engine error
};

// Simulates about `customers` arrivals after a warm-up of a tenth as many, then
// estimates by batch means over `batches` batches.
inline MmcCheck run_mmc(const MmcPoint& point, std::size_t customers, std::size_t batches, std::uint64_t seed) {
    const double warm_up = static_cast<double>(customers) / 10;
    const double hours = (static_cast<double>(customers) + warm_up) / point.arrivals_per_hour;
    const Results r = simulate(mmc_scenario(point, hours, seed));
    const queueing::MMc model{point.arrivals_per_hour / 3600, point.handle_seconds, point.agents};
    MmcCheck check;
    check.theory_wait_probability = model.probability_of_waiting();
    check.theory_mean_wait = model.mean_wait();
    std::vector<double> waited, waits;
    const auto skip = static_cast<std::size_t>(warm_up);
    for (std::size_t i = skip; i < r.customers.size(); ++i) {
        const CustomerRecord& c = r.customers[i];
        const double w = c.answered() ? c.wait_seconds() : 0.0;
        waited.push_back(w > 0 ? 1.0 : 0.0);
        waits.push_back(w);
    }
    check.customers = waits.size();
    check.occupancy = r.occupancy();
    check.wait_probability = queueing::batch_means(waited, batches);
    check.mean_wait = queueing::batch_means(waits, batches);
    check.results_clean = r.accepted == r.started && r.engine_errors == 0 && r.inactivity_warnings == 0 &&
                          r.ended[static_cast<std::size_t>(EndReason::no_agent)] == 0 &&
                          r.ended[static_cast<std::size_t>(EndReason::max_duration)] == 0 && r.missed == 0;
    return check;
}

}  // namespace chatroute::sim
