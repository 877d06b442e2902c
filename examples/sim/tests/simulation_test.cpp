// The simulator's own behaviour: clean runs, determinism, arrivals, shifts, bad input.

#include "cli.hpp"
#include "mmc.hpp"
#include "report.hpp"
#include "simulation.hpp"
#include "summary.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using namespace chatroute::sim;
using chatroute::EndReason;

namespace {

std::uint64_t ended_total(const Results& r) {
    std::uint64_t total = 0;
    for (std::uint64_t n : r.ended) total += n;
    return total;
}

// Every conversation started ends by the close of the drain, exactly once; the answered
// ones are those accepted; the engine refused nothing.
void check_books(const Results& r) {
    CHECK(r.engine_errors == 0);
    CHECK(r.first_engine_error.empty());
    CHECK(ended_total(r) == r.started);
    CHECK(r.customers.size() == r.started);
    CHECK(r.waits.size() == r.accepted);
    std::uint64_t answered = 0, unanswered_ends = 0;
    for (const CustomerRecord& c : r.customers) {
        CHECK(c.ended);
        if (c.answered()) {
            ++answered;
            CHECK(c.accepted_us >= c.started_us);
        } else {
            ++unanswered_ends;
            CHECK((c.end == EndReason::customer || c.end == EndReason::no_agent || c.end == EndReason::max_duration));
        }
    }
    CHECK(answered == r.accepted);
    CHECK(answered + unanswered_ends == r.started);
    CHECK(r.abandoned <= r.ended[static_cast<std::size_t>(EndReason::customer)]);
    std::uint64_t started = 0;
    for (const IntervalRow& row : r.intervals) started += row.started;
    CHECK(started == r.started);
}

Options parse(std::vector<std::string> args) { return parse_command_line(args); }

std::string parse_error(std::vector<std::string> args) {
    try {
        parse_command_line(args);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("The default day runs clean and looks like a help desk") {
    const Results r = simulate(default_scenario());
    check_books(r);
    CHECK(r.started > 1000);
    CHECK(r.answered_share() > 0.85);
    CHECK(r.declines > 0);
    CHECK(r.missed > 0);
    CHECK(r.missed_agents > 0);
    CHECK(r.missed_unavailable >= r.missed);  // all_spaces: every space of the agent
    CHECK(r.handoffs > 0);
    std::uint64_t answered_handoffs = 0;
    for (const CustomerRecord& c : r.customers) answered_handoffs += c.handoff && c.answered();
    CHECK(r.transcripts == answered_handoffs);
    CHECK(r.occupancy() > 0.3);
    CHECK(r.occupancy() < 1.0);
    CHECK(r.agents.size() == 40);
    CHECK(r.intervals.size() >= 96);
}

TEST_CASE("Same scenario and seed, same bytes, and another seed, other bytes") {
    Scenario s = default_scenario();
    s.hours = 8;
    const Results a = simulate(s);
    const Results b = simulate(s);
    CHECK(summary_text(a) == summary_text(b));
    CHECK(results_json(a).dump() == results_json(b).dump());
    CHECK(intervals_csv(a) == intervals_csv(b));
    CHECK(report_html(a) == report_html(b));
    s.seed = 2;
    const Results c = simulate(s);
    CHECK(results_json(a).dump() != results_json(c).dump());
}

TEST_CASE("Rough agents and impatient customers: the books still balance") {
    Scenario s = default_scenario();
    s.hours = 10;
    s.traffic = 2;
    s.missed_offer_scope = "offer_space";
    s.behaviour.decline_probability = 0.3;
    s.behaviour.miss_probability = 0.2;
    s.behaviour.accept_time = 60;  // some answers come after the 120 s timeout: stale
    s.behaviour.silent_probability = 0.2;
    s.customers.patience = 120;
    for (SpaceSpec& sp : s.spaces) sp.accept_window = 300, sp.inactivity_warning = 300, sp.max_duration = 1800;
    const Results r = simulate(s);
    check_books(r);
    CHECK(r.declines > 100);
    CHECK(r.missed > 100);
    CHECK(r.stale_answers > 0);
    CHECK(r.abandoned > 100);
    CHECK(r.ended[static_cast<std::size_t>(EndReason::no_agent)] > 0);
    CHECK(r.ended[static_cast<std::size_t>(EndReason::inactivity)] > 0);
    CHECK(r.ended[static_cast<std::size_t>(EndReason::max_duration)] > 0);
    CHECK(r.withdrawn[0] > 0);
}

TEST_CASE("Arrivals are Poisson at the rate given, hour by hour") {
    SECTION("a constant rate") {
        Scenario s = mmc_scenario({120, 50, 60, 0}, 500, 3);
        const Results r = simulate(s);
        const double expected = 120.0 * 500;
        CHECK(std::fabs(static_cast<double>(r.started) - expected) < 4 * std::sqrt(expected));
        check_books(r);
    }
    SECTION("a rate per hour of the day") {
        Scenario s = mmc_scenario({0, 50, 60, 0}, 24 * 100, 4);
        s.spaces[0].hourly.assign(24, 0.0);
        s.spaces[0].hourly[3] = 10;
        s.spaces[0].hourly[12] = 200;
        s.spaces[0].hourly[13] = 50;
        const Results r = simulate(s);
        std::vector<double> by_hour(24, 0.0);
        for (const CustomerRecord& c : r.customers)
            by_hour[static_cast<std::size_t>(c.started_us / 3'600'000'000LL % 24)] += 1;
        for (int h = 0; h < 24; ++h) {
            const double expected = s.spaces[0].hourly[static_cast<std::size_t>(h)] * 100;
            INFO("hour " << h << ": " << by_hour[static_cast<std::size_t>(h)] << " arrivals, expected " << expected);
            CHECK(std::fabs(by_hour[static_cast<std::size_t>(h)] - expected) <= 4 * std::sqrt(expected) + 1e-9);
        }
    }
}

TEST_CASE("Agents take conversations only on shift and off break") {
    Scenario s = mmc_scenario({60, 3, 300, 0}, 24 * 5, 5);
    s.agents[0].shift_start = 9;
    s.agents[0].shift_end = 17;
    s.agents[0].breaks = {{12, 60}};
    s.spaces[0].accept_window = 1200;
    s.spaces[0].max_duration = 86400;
    const Results r = simulate(s);
    check_books(r);
    CHECK(r.accepted > 0);
    CHECK(r.ended[static_cast<std::size_t>(EndReason::no_agent)] > 0);
    for (const CustomerRecord& c : r.customers) {
        if (!c.answered()) continue;
        const double hour = std::fmod(static_cast<double>(c.accepted_us) / 3.6e9, 24.0);
        INFO("accepted at hour " << hour);
        CHECK(hour >= 9);
        CHECK(hour < 17);
        CHECK(!(hour >= 12 && hour < 13));
    }
    // Staffed time: 3 agents × 7 h a day × 5 days, limit 1.
    CHECK(r.staffed_slot_seconds == Approx(3 * 7 * 3600.0 * 5));
}

TEST_CASE("A night shift runs past midnight, and at the start of the run") {
    Scenario s = mmc_scenario({30, 2, 120, 0}, 48, 6);
    s.agents[0].shift_start = 22;
    s.agents[0].shift_end = 30;
    s.spaces[0].accept_window = 1200;
    const Results r = simulate(s);
    check_books(r);
    // On shift 0-6, 22-30 and 46-48 (the shift starting at 46 runs on into the drain: not
    // past the horizon).
    for (const CustomerRecord& c : r.customers) {
        if (!c.answered()) continue;
        const double hour = std::fmod(static_cast<double>(c.accepted_us) / 3.6e9, 24.0);
        CHECK((hour < 6 || hour >= 22));
    }
    CHECK(r.accepted > 0);
}

TEST_CASE("Bad input is refused before any work, naming the parameter") {
    CHECK(parse_error({"--bogus"}) == "unknown flag '--bogus' (see --help)");
    CHECK_THAT(parse_error({"--decline", "1.5"}),
               Catch::Contains("behaviour.decline_probability must be a probability in [0, 1] (got 1.5)"));
    CHECK_THAT(parse_error({"--miss=-0.1"}), Catch::Contains("behaviour.miss_probability"));
    CHECK_THAT(parse_error({"--decline", "0.7", "--miss", "0.5"}),
               Catch::Contains("decline_probability + behaviour.miss_probability must be at most 1"));
    CHECK_THAT(parse_error({"--rate", "-3"}), Catch::Contains("spaces[0].rate_per_hour must be at least 0"));
    CHECK_THAT(parse_error({"--traffic", "-1"}), Catch::Contains("traffic must be at least 0"));
    CHECK_THAT(parse_error({"--limit", "0"}), Catch::Contains("agents[0].limit must be between 1 and 1000000 (got 0)"));
    CHECK_THAT(parse_error({"--agents", "-2"}), Catch::Contains("--agents must be 0 or more"));
    CHECK_THAT(parse_error({"--handoff", "2"}), Catch::Contains("spaces[0].handoff_share must be a probability"));
    CHECK_THAT(parse_error({"--patience", "-1"}), Catch::Contains("customers.patience must be at least 0"));
    CHECK_THAT(parse_error({"--handle-time", "0"}), Catch::Contains("behaviour.handle_time must be greater than 0"));
    CHECK_THAT(parse_error({"--handle-dist", "gamma"}), Catch::Contains("behaviour.handle_time_distribution"));
    CHECK_THAT(parse_error({"--offer-timeout", "0"}), Catch::Contains("spaces[0].offer_timeout must be greater than 0"));
    CHECK_THAT(parse_error({"--missed-offer-scope", "some"}), Catch::Contains("missed_offer_scope must be"));
    CHECK_THAT(parse_error({"--hours", "soon"}), Catch::Contains("--hours: expected a number, got 'soon'"));
    CHECK_THAT(parse_error({"--seed", "-4"}), Catch::Contains("--seed must be 0 or more"));
    CHECK_THAT(parse_error({"--seed"}), Catch::Contains("--seed needs a value"));
    CHECK_THAT(parse_error({"--json=yes"}), Catch::Contains("--json takes no value"));
    CHECK_THAT(parse_error({"stray"}), Catch::Contains("unexpected argument 'stray'"));
    CHECK_THAT(parse_error({"--config", "/nonexistent/x.json"}), Catch::Contains("--config: cannot open"));
}

TEST_CASE("Timers the engine would refuse are refused up front, with the engine's bounds (decision 46)") {
    // Review finding 2: these passed the "> 0" check, then the engine refused the space and
    // the throw reached std::terminate.
    const std::string most = fmt::format("{}", std::chrono::duration<double>(chatroute::max_timing).count());
    CHECK_THAT(parse_error({"--offer-timeout", "1e-9"}),
               Catch::Contains("spaces[0].offer_timeout must round to at least 1 µs") &&
                   Catch::Contains("[from --offer-timeout]"));
    CHECK_THAT(parse_error({"--accept-window", "1e-7"}), Catch::Contains("spaces[0].accept_window must round to at least 1 µs"));
    CHECK_THAT(parse_error({"--max-duration", "4e9"}),
               Catch::Contains("spaces[0].max_duration must be at most " + most + " seconds, the engine's max_timing") &&
                   Catch::Contains("[from --max-duration]"));
    CHECK_THAT(parse_error({"--inactivity-grace", "1e19"}), Catch::Contains("spaces[0].inactivity_grace must be at most " + most));
    CHECK_THAT(parse_error({"--inactivity-warning", "1e300"}), Catch::Contains("spaces[0].inactivity_warning must be at most"));
    // The timers 0 turns off: 0 stays off, anything else is held to the same bounds.
    CHECK_THAT(parse_error({"--response-timeout", "4e9"}),
               Catch::Contains("spaces[0].assignee_response_timeout must be at most " + most));
    CHECK_THAT(parse_error({"--skills-relax", "1e-9"}), Catch::Contains("spaces[0].skills_relax_after must round to at least 1 µs"));
    CHECK_THAT(parse_error({"--auto-return", "1e300"}), Catch::Contains("missed_offer_return_after must be at most " + most));
    CHECK_THAT(parse_error({"--interval", "1e300"}), Catch::Contains("interval_minutes must be at most 527040"));
    // The bounds themselves are timers the engine takes: the simulation builds.
    const Options edge = parse({"--offer-timeout", "0.0000005", "--max-duration", most, "--skills-relax", most,
                                "--response-timeout", "0.000001", "--auto-return", most});
    CHECK_NOTHROW(Simulation(edge.scenario));
    CHECK_NOTHROW(Simulation(parse({"--skills-relax", "0", "--response-timeout", "0", "--auto-return", "0"}).scenario));
}

TEST_CASE("Config files are read strictly") {
    const auto with_config = [](const std::string& text) {
        const std::string path = "chatroute_sim_test_config.json";
        std::ofstream(path) << text;
        std::string error = parse_error({"--config", path});
        std::remove(path.c_str());
        return error;
    };
    CHECK_THAT(with_config(R"({"behavior": {}})"), Catch::Contains("unknown key behavior"));
    CHECK_THAT(with_config(R"({"agents": [{"count": 3, "limti": 2}]})"), Catch::Contains("unknown key agents[0].limti"));
    CHECK_THAT(with_config(R"({"agents": [{"count": 3, "limit": 0}]})"), Catch::Contains("agents[0].limit must be between 1"));
    CHECK_THAT(with_config(R"({"agents": [{"count": 2.5}]})"), Catch::Contains("agents[0].count must be a whole number"));
    CHECK_THAT(with_config(R"({"spaces": [{"name": "a", "hourly": [1, 2]}]})"),
               Catch::Contains("spaces[0].hourly must have 24 values"));
    CHECK_THAT(with_config(R"({"spaces": [{"name": "a", "rate_per_hour": "lots"}]})"),
               Catch::Contains("spaces[0].rate_per_hour must be a number"));
    CHECK_THAT(with_config(R"({"agents": [{"spaces": ["nowhere"]}]})"), Catch::Contains("unknown space \"nowhere\""));
    CHECK_THAT(with_config(R"({"agents": [{"shift_start": 9, "shift_end": 17, "breaks": [{"start_hour": 18}]}]})"),
               Catch::Contains("agents[0].breaks[0].start_hour must fall within the shift"));
    CHECK_THAT(with_config("{not json"), Catch::Contains("is not valid JSON"));
    // The effective scenario round-trips through its own JSON.
    const std::string path = "chatroute_sim_test_roundtrip.json";
    std::ofstream(path) << to_json(default_scenario()).dump(2);
    const Options o = parse({"--config", path, "--seed", "9"});
    std::remove(path.c_str());
    Scenario expected = default_scenario();
    expected.seed = 9;
    CHECK(to_json(o.scenario).dump() == to_json(expected).dump());
}

TEST_CASE("The --agents flag spreads a total over the groups in proportion") {
    const Options o = parse({"--agents", "80"});
    CHECK(o.scenario.agent_count() == 80);
    CHECK(o.scenario.agents[1].count == 28);  // "day": 14 of 40
    const Options few = parse({"--agents", "3"});
    CHECK(few.scenario.agent_count() == 3);
}
