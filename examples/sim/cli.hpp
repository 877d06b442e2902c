#pragma once
// chatroute-sim's command line: flags over a config file over the default scenario.
// Every problem is found here, before any work, and named.

#include "scenario.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace chatroute::sim {

struct Options {
    Scenario scenario = default_scenario();
    std::string csv_path;
    std::string report_path;
    bool json = false;
    bool progress = true;
    bool print_config = false;
    bool help = false;
    bool compare_strategies = false;  // run the day once per strategy (R28), side by side
};

inline constexpr std::string_view usage_text = R"(Usage: chatroute-sim [options]

Simulates a help desk's day through the chatroute engine (no wall time: a day takes
well under a second) and prints a summary. With no options: a weekday at a mid-size
help desk (3 spaces, 40 agents, ~1,700 chats). Same seed and inputs, same output.

Scenario
  --config FILE            JSON scenario (see --print-config for the format); flags override it
  --seed N                 random seed (default 1)
  --hours H                length of the run; arrivals stop then, conversations drain (24)
  --interval MIN           time-series interval in minutes (15)
  --traffic X              multiply every arrival rate by X (1)
  --rate R                 every space: R arrivals per hour, all day (replaces hourly profiles)
  --handoff P              every space: share of conversations handed off from the AI agent
  --agents N               total agents, spread over the groups in proportion
  --limit N                every agent's conversation limit (>= 1)
  --offer-timeout S, --accept-window S, --inactivity-warning S, --inactivity-grace S,
  --max-duration S         every space's timers, in seconds
  --missed-offer-scope all_spaces|offer_space
Routing and control (SPEC R28-R34)
  --strategy NAME          every space: round_robin, least_active, most_available or least_recent
  --compare-strategies     run the same day (same seed, same arrivals) under each strategy and
                           compare them side by side (table, --json, --csv, --report)
  --skills-relax S         every space: a waiting conversation drops its skills after S seconds
  --response-timeout S     every space: requeue a conversation whose customer waited S seconds
                           for the assignee's reply; the assignee is set unavailable (R33)
  --auto-return S          an agent set unavailable by a miss is available again after S (R34)
  --transfer P             every space: share of answered conversations the assignee transfers
                           (to another space at random unless the config names one)
  --silent-agents P        probability the assignee stops answering mid-chat
Agent behaviour
  --accept-time S          mean seconds to answer an offer (exponential; 0 = instant)
  --decline P              probability of declining an offer
  --miss P                 probability of missing an offer (it times out)
  --away-after-miss S      mean seconds before an agent who missed one is back
  --handle-time S          mean seconds from accept to end
  --handle-dist NAME       exponential, lognormal or fixed
  --handle-cv X            coefficient of variation (lognormal)
  --wrap-up S              mean seconds from end to resolve
  --messages N             mean messages per conversation
  --customer-ends P        share of conversations the customer ends
  --silent P               probability the customer goes quiet (inactivity ends it)
Customers
  --patience S             mean seconds a customer waits for an answer (0 = forever)
Output
  --json                   print the results as JSON instead of the table
  --csv FILE               write the per-interval time series as CSV
  --report FILE.html       write a self-contained HTML report with charts
  --no-progress            never draw the progress bar (drawn on a terminal for runs > 1 s)
  --print-config           print the effective scenario as JSON and exit
  --help                   this text
)";

namespace detail {

inline double parse_number(std::string_view flag, const std::string& text) {
    double value = 0;
    const char* first = text.data();
    const char* last = first + text.size();
    const auto [end, ec] = std::from_chars(first, last, value);
    if (ec != std::errc{} || end != last || !std::isfinite(value))
        throw std::invalid_argument(fmt::format("{}: expected a number, got '{}'", flag, text));
    return value;
}

inline std::int64_t parse_whole(std::string_view flag, const std::string& text) {
    std::int64_t value = 0;
    const char* first = text.data();
    const char* last = first + text.size();
    const auto [end, ec] = std::from_chars(first, last, value);
    if (ec != std::errc{} || end != last)
        throw std::invalid_argument(fmt::format("{}: expected a whole number, got '{}'", flag, text));
    return value;
}

// N agents over the groups in proportion to their sizes (largest remainder, ties to the first).
inline void set_agent_total(Scenario& s, std::int64_t total) {
    if (total < 0) throw std::invalid_argument(fmt::format("--agents must be 0 or more (got {})", total));
    if (s.agents.empty()) {
        s.agents.emplace_back();
        s.agents.back().name = "agents";
    }
    const std::int64_t before = s.agent_count();
    std::vector<double> share;
    for (const auto& g : s.agents)
        share.push_back(before > 0 ? static_cast<double>(g.count) / static_cast<double>(before)
                                   : 1.0 / static_cast<double>(s.agents.size()));
    std::int64_t given = 0;
    std::vector<std::pair<double, std::size_t>> remainders;
    for (std::size_t i = 0; i < s.agents.size(); ++i) {
        const double exact = share[i] * static_cast<double>(total);
        s.agents[i].count = static_cast<std::int64_t>(std::floor(exact));
        given += s.agents[i].count;
        remainders.emplace_back(exact - std::floor(exact), i);
    }
    std::stable_sort(remainders.begin(), remainders.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (std::size_t k = 0; given < total; ++k, ++given) ++s.agents[remainders[k % remainders.size()].second].count;
}

}  // namespace detail

// Reads the command line (without argv[0]). Throws std::invalid_argument naming the flag or
// the parameter; the scenario it returns has passed validate().
inline Options parse_command_line(const std::vector<std::string>& args) {
    Options o;
    Scenario& s = o.scenario;
    using Setter = std::function<void(const std::string& flag, const std::string& value)>;
    const auto number = [](double& field) -> Setter {
        return [&field](const std::string& flag, const std::string& v) { field = detail::parse_number(flag, v); };
    };
    const auto each_space = [&s](double SpaceSpec::*field) -> Setter {
        return [&s, field](const std::string& flag, const std::string& v) {
            const double value = detail::parse_number(flag, v);
            for (SpaceSpec& sp : s.spaces) sp.*field = value;
        };
    };
    Behaviour& b = s.behaviour;
    const std::map<std::string, Setter> setters{
        {"--seed",
         [&s](const std::string& flag, const std::string& v) {
             const std::int64_t seed = detail::parse_whole(flag, v);
             if (seed < 0) throw std::invalid_argument(fmt::format("--seed must be 0 or more (got {})", v));
             s.seed = static_cast<std::uint64_t>(seed);
         }},
        {"--hours", number(s.hours)},
        {"--interval", number(s.interval_minutes)},
        {"--traffic", number(s.traffic)},
        {"--rate",
         [&s](const std::string& flag, const std::string& v) {
             const double rate = detail::parse_number(flag, v);
             for (SpaceSpec& sp : s.spaces) sp.rate_per_hour = rate, sp.hourly.clear();
         }},
        {"--handoff", each_space(&SpaceSpec::handoff_share)},
        {"--agents", [&s](const std::string& flag, const std::string& v) {
             detail::set_agent_total(s, detail::parse_whole(flag, v));
         }},
        {"--limit",
         [&s](const std::string& flag, const std::string& v) {
             const std::int64_t limit = detail::parse_whole(flag, v);
             for (AgentGroupSpec& g : s.agents) g.limit = limit;
         }},
        {"--offer-timeout", each_space(&SpaceSpec::offer_timeout)},
        {"--accept-window", each_space(&SpaceSpec::accept_window)},
        {"--inactivity-warning", each_space(&SpaceSpec::inactivity_warning)},
        {"--inactivity-grace", each_space(&SpaceSpec::inactivity_grace)},
        {"--max-duration", each_space(&SpaceSpec::max_duration)},
        {"--missed-offer-scope", [&s](const std::string&, const std::string& v) { s.missed_offer_scope = v; }},
        {"--accept-time", number(b.accept_time)},
        {"--decline", number(b.decline_probability)},
        {"--miss", number(b.miss_probability)},
        {"--away-after-miss", number(b.away_after_miss)},
        {"--handle-time", number(b.handle_time)},
        {"--handle-dist", [&b](const std::string&, const std::string& v) { b.handle_time_distribution = v; }},
        {"--handle-cv", number(b.handle_time_cv)},
        {"--wrap-up", number(b.wrap_up_time)},
        {"--messages", number(b.messages)},
        {"--customer-ends", number(b.customer_end_share)},
        {"--silent", number(b.silent_probability)},
        {"--patience", number(s.customers.patience)},
        {"--strategy", [&s](const std::string&, const std::string& v) {
             for (SpaceSpec& sp : s.spaces) sp.strategy = v;
         }},
        {"--skills-relax", each_space(&SpaceSpec::skills_relax_after)},
        {"--response-timeout", each_space(&SpaceSpec::assignee_response_timeout)},
        {"--auto-return", number(s.missed_offer_return_after)},
        {"--transfer", each_space(&SpaceSpec::transfer_share)},
        {"--silent-agents", number(b.silent_agent_probability)},
        {"--csv", [&o](const std::string&, const std::string& v) { o.csv_path = v; }},
        {"--report", [&o](const std::string&, const std::string& v) { o.report_path = v; }},
        {"--config", [](const std::string&, const std::string&) {}},  // read first, below
    };

    // Split "--flag=value" and pair each flag with its value.
    struct Item {
        std::string flag;
        std::string value;
        bool has_value = false;
    };
    static const std::vector<std::string> switches{"--json", "--no-progress", "--print-config", "--compare-strategies",
                                                   "--help", "-h"};
    std::vector<Item> items;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string arg = args[i];
        if (arg.rfind("-", 0) != 0) throw std::invalid_argument(fmt::format("unexpected argument '{}'", arg));
        Item item;
        if (const auto eq = arg.find('='); eq != std::string::npos) {
            item.flag = arg.substr(0, eq);
            item.value = arg.substr(eq + 1);
            item.has_value = true;
        } else {
            item.flag = arg;
        }
        const bool is_switch = std::find(switches.begin(), switches.end(), item.flag) != switches.end();
        // Unknown flags first: nothing else matters if the command line is wrong.
        if (!is_switch && !setters.contains(item.flag))
            throw std::invalid_argument(fmt::format("unknown flag '{}' (see --help)", item.flag));
        if (is_switch && item.has_value) throw std::invalid_argument(fmt::format("{} takes no value", item.flag));
        if (!is_switch && !item.has_value) {
            if (i + 1 >= args.size()) throw std::invalid_argument(fmt::format("{} needs a value", item.flag));
            item.value = args[++i];
            item.has_value = true;
        }
        items.push_back(std::move(item));
    }

    for (const Item& item : items) {
        if (item.flag == "--help" || item.flag == "-h") o.help = true;
    }
    if (o.help) return o;

    // The config file, then every other flag in order.
    for (const Item& item : items) {
        if (item.flag != "--config") continue;
        std::ifstream in(item.value);
        if (!in) throw std::invalid_argument(fmt::format("--config: cannot open '{}'", item.value));
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(in);
        } catch (const nlohmann::json::exception& e) {
            throw std::invalid_argument(fmt::format("--config: '{}' is not valid JSON: {}", item.value, e.what()));
        }
        try {
            read_json(j, s);
        } catch (const std::runtime_error& e) {
            throw std::invalid_argument(fmt::format("--config '{}': {}", item.value, e.what()));
        }
    }
    for (const Item& item : items) {
        if (item.flag == "--json") o.json = true;
        else if (item.flag == "--no-progress") o.progress = false;
        else if (item.flag == "--print-config") o.print_config = true;
        else if (item.flag == "--compare-strategies") o.compare_strategies = true;
        else if (setters.contains(item.flag)) setters.at(item.flag)(item.flag, item.value);
    }
    if (auto problem = validate(s)) {
        // Name the flag too, where one given on the command line set the parameter.
        static const std::map<std::string, std::string> keys{
            {"--hours", "hours "}, {"--interval", "interval_minutes"}, {"--traffic", "traffic "},
            {"--rate", ".rate_per_hour"}, {"--handoff", ".handoff_share"}, {"--limit", ".limit "},
            {"--offer-timeout", ".offer_timeout"}, {"--accept-window", ".accept_window"},
            {"--inactivity-warning", ".inactivity_warning"}, {"--inactivity-grace", ".inactivity_grace"},
            {"--max-duration", ".max_duration"}, {"--missed-offer-scope", "missed_offer_scope"},
            {"--accept-time", ".accept_time"}, {"--decline", ".decline_probability"}, {"--miss", ".miss_probability"},
            {"--away-after-miss", ".away_after_miss"}, {"--handle-time", ".handle_time "},
            {"--handle-dist", ".handle_time_distribution"}, {"--handle-cv", ".handle_time_cv"},
            {"--wrap-up", ".wrap_up_time"}, {"--messages", ".messages"}, {"--customer-ends", ".customer_end_share"},
            {"--silent", ".silent_probability"}, {"--patience", ".patience"}, {"--strategy", ".strategy "},
            {"--skills-relax", ".skills_relax_after"}, {"--response-timeout", ".assignee_response_timeout"},
            {"--auto-return", "missed_offer_return_after"}, {"--transfer", ".transfer_share"},
            {"--silent-agents", ".silent_agent_probability"}};
        std::string message = *problem;
        for (const Item& item : items) {
            const auto key = keys.find(item.flag);
            if (key != keys.end() && (" " + *problem).find(key->second) != std::string::npos) {
                message += fmt::format(" [from {}]", item.flag);
                break;
            }
        }
        throw std::invalid_argument(message);
    }
    return o;
}

}  // namespace chatroute::sim
