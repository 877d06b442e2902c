#pragma once
// What the simulator simulates: spaces, agents, their behaviour and the customers', as one
// plain struct with a realistic default (a mid-size help desk's weekday), a validator that
// names the parameter at fault, and JSON in and out (the `--config` file format).

#include <chatroute/config.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chatroute::sim {

// A kind of conversation a space receives (R29, R30): `share` of its arrivals start with
// this priority and require these skills. Arrivals of no class: priority 0, no skills.
struct ConversationClass {
    std::string name;
    double share = 0;
    std::int64_t priority = 0;
    std::vector<std::string> skills{};
};

inline constexpr std::string_view strategy_names[] = {"round_robin", "least_active", "most_available",
                                                      "least_recent"};

struct SpaceSpec {
    std::string name;
    std::string strategy = "round_robin";  // R28
    // Timers (seconds), as in SPEC §1.
    double offer_timeout = 120;
    double accept_window = 20 * 60;
    double inactivity_warning = 20 * 60;
    double inactivity_grace = 10 * 60;
    double max_duration = 24 * 3600;
    std::string fallback = "Sorry, all our agents are busy. We will answer by email.";
    // Customer arrivals: Poisson, `rate_per_hour` throughout, or `hourly[h]` in hour h of
    // each day when `hourly` is given (24 values).
    double rate_per_hour = 0;
    std::vector<double> hourly;
    // Share of conversations that come from the AI agent (handoff).
    double handoff_share = 0;
    std::vector<ConversationClass> classes{};  // priorities and required skills (R29, R30)
    double skills_relax_after = 0;           // seconds; 0: off (R30)
    double assignee_response_timeout = 0;    // seconds; 0: off (R33)
    // Share of answered conversations the assignee transfers (R32), once, at a random point
    // of the handling; to `transfer_to` (a space's name; its own name requeues), or to
    // another space at random when empty.
    double transfer_share = 0;
    std::string transfer_to{};
};

struct BreakSpec {
    double start_hour = 12;  // hour of the day
    double minutes = 30;
};

// `count` agents alike: the same limit, roles and shift.
struct AgentGroupSpec {
    std::string name;
    std::int64_t count = 1;
    std::int64_t limit = 3;
    std::vector<std::string> spaces;  // roles; every space when empty
    std::vector<std::string> skills{};  // R30
    double shift_start = 0;           // hour of the day, [0, 24)
    double shift_end = 24;            // hour, after the start, at most 24 h after it (may pass midnight)
    std::vector<BreakSpec> breaks;
    double break_stagger_minutes = 0;  // each agent's breaks move by up to this, at random
};

struct Behaviour {
    double accept_time = 15;           // mean seconds from offer to answer (exponential); 0 = instant
    double decline_probability = 0.03;
    double miss_probability = 0.01;    // never answers: the offer times out
    double away_after_miss = 300;      // mean seconds until a missed-offer agent turns available again
    double handle_time = 20 * 60;      // mean seconds from accept to end
    std::string handle_time_distribution = "lognormal";  // exponential, lognormal or fixed
    double handle_time_cv = 0.8;       // lognormal only
    double wrap_up_time = 120;         // mean seconds from end to resolve (exponential); 0 = instant
    double messages = 14;              // mean messages per conversation (Poisson), both sides
    double customer_end_share = 0.25;  // share of conversations the customer ends
    double silent_probability = 0.03;  // the customer goes quiet mid-chat: inactivity ends it
    // The assignee stops answering mid-chat (from a random message on) while the customer
    // goes on writing; the customer ends it at the planned end, unless R33 catches it first.
    double silent_agent_probability = 0;
};

struct CustomerBehaviour {
    double patience = 8 * 60;  // mean seconds a customer waits for an answer (exponential); 0 = forever
};

struct Scenario {
    std::uint64_t seed = 1;
    double hours = 24;
    double interval_minutes = 15;
    double traffic = 1;  // multiplies every arrival rate
    std::string missed_offer_scope = "all_spaces";
    double missed_offer_return_after = 0;  // seconds; 0: off (R34)
    std::vector<SpaceSpec> spaces;
    std::vector<AgentGroupSpec> agents;
    Behaviour behaviour;
    CustomerBehaviour customers;

    [[nodiscard]] std::int64_t agent_count() const {
        std::int64_t total = 0;
        for (const auto& g : agents) total += g.count;
        return total;
    }
};

// A weekday at a mid-size help desk: three spaces, about 1,700 chats, 40 agents in five
// shifts at limit 3 (tier 2 at limit 2), with breaks.
inline Scenario default_scenario() {
    // Relative traffic per hour of the day: quiet nights, a morning peak, a second after lunch.
    const std::vector<double> shape{0.10, 0.06, 0.05, 0.05, 0.08, 0.15, 0.35, 0.65, 0.95, 1.20, 1.30, 1.20,
                                    1.00, 1.10, 1.25, 1.20, 1.05, 0.85, 0.60, 0.45, 0.35, 0.28, 0.20, 0.14};
    const auto scaled = [&](double peak) {
        std::vector<double> rates;
        for (double s : shape) rates.push_back(std::round(peak * s / 1.30 * 10) / 10);
        return rates;
    };
    Scenario s;
    s.spaces = {
        SpaceSpec{.name = "general", .hourly = scaled(70), .handoff_share = 0.40},
        SpaceSpec{.name = "billing", .hourly = scaled(30), .handoff_share = 0.20},
        SpaceSpec{.name = "technical", .hourly = scaled(45), .handoff_share = 0.30},
    };
    s.agents = {
        AgentGroupSpec{.name = "early", .count = 9, .limit = 3, .spaces = {},
                       .shift_start = 6, .shift_end = 14.5,
                       .breaks = {{9.5, 15}, {11.5, 30}}, .break_stagger_minutes = 60},
        AgentGroupSpec{.name = "day", .count = 14, .limit = 3, .spaces = {},
                       .shift_start = 8.5, .shift_end = 17,
                       .breaks = {{10.5, 15}, {12.5, 30}, {15, 15}}, .break_stagger_minutes = 60},
        AgentGroupSpec{.name = "tier2", .count = 4, .limit = 2, .spaces = {"technical"},
                       .shift_start = 9, .shift_end = 17.5,
                       .breaks = {{12, 30}}, .break_stagger_minutes = 60},
        AgentGroupSpec{.name = "late", .count = 10, .limit = 3, .spaces = {},
                       .shift_start = 13.5, .shift_end = 22,
                       .breaks = {{16, 15}, {18, 30}}, .break_stagger_minutes = 120},
        AgentGroupSpec{.name = "night", .count = 3, .limit = 3, .spaces = {},
                       .shift_start = 21.5, .shift_end = 30.5,
                       .breaks = {{1.5, 30}}, .break_stagger_minutes = 60},
    };
    return s;
}

// A break's start in the shift's own hours: past midnight for a shift that crosses it.
[[nodiscard]] inline double break_start_in_shift(const AgentGroupSpec& g, const BreakSpec& br) {
    return br.start_hour < g.shift_start ? br.start_hour + 24 : br.start_hour;
}

// A timer in seconds as the engine gets it: rounded to the nearest microsecond. Empty
// unless the engine accepts it (valid_timing: at least 1 µs, at most max_timing; decision
// 46), so that a scenario validate() passes never has a space the engine refuses.
[[nodiscard]] inline std::optional<duration> engine_timing(double seconds) {
    if (!std::isfinite(seconds)) return std::nullopt;
    // Clamped just past the bounds first: a huge count of seconds must not overflow the cast.
    const double micros = std::clamp(std::round(seconds * 1e6), 0.0, static_cast<double>(max_timing.count()) + 1);
    const duration span{static_cast<duration::rep>(micros)};
    if (!valid_timing(span)) return std::nullopt;
    return span;
}

// ---- Validation: the first impossible parameter, named as in the config file ----

namespace detail {

inline std::string number(double value) { return fmt::format("{}", value); }

// R30's rules for a list of skill names.
inline std::optional<std::string> check_skills(const std::string& name, const std::vector<std::string>& skills) {
    if (skills.size() > 32) return name + " must list at most 32 skills (got " + std::to_string(skills.size()) + ")";
    std::set<std::string> seen;
    for (const std::string& skill : skills) {
        if (skill.empty() || skill.size() > 64)
            return name + " must be names of 1 to 64 bytes (got \"" + skill + "\")";
        if (!seen.insert(skill).second) return name + " lists \"" + skill + "\" twice";
    }
    return std::nullopt;
}

}  // namespace detail

// Empty when the scenario can run; else one line naming the parameter.
inline std::optional<std::string> validate(const Scenario& s) {
    using detail::number;
    const auto finite = [](double v) { return std::isfinite(v); };
    const auto at_least = [&](const std::string& name, double v, double low) -> std::optional<std::string> {
        if (!finite(v) || v < low) return name + " must be at least " + number(low) + " (got " + number(v) + ")";
        return std::nullopt;
    };
    const auto positive = [&](const std::string& name, double v) -> std::optional<std::string> {
        if (!finite(v) || v <= 0) return name + " must be greater than 0 (got " + number(v) + ")";
        return std::nullopt;
    };
    // A timer the engine takes, after the "> 0" (or "at least 0" for one that 0 turns off)
    // check; the bounds in the message are the engine's own.
    const auto timing = [&](const std::string& name, double v) -> std::optional<std::string> {
        if (v == 0 || engine_timing(v)) return std::nullopt;
        const double longest = std::chrono::duration<double>(max_timing).count();
        if (v > longest)
            return name + " must be at most " + number(longest) + " seconds, the engine's max_timing (got " + number(v) + ")";
        return name + " must round to at least 1 µs, the engine's shortest timer (got " + number(v) + ")";
    };
    const auto probability = [&](const std::string& name, double v) -> std::optional<std::string> {
        if (!finite(v) || v < 0 || v > 1) return name + " must be a probability in [0, 1] (got " + number(v) + ")";
        return std::nullopt;
    };
#define CHATROUTE_SIM_CHECK(expr) \
    if (auto problem = (expr)) return problem

    CHATROUTE_SIM_CHECK(positive("hours", s.hours));
    if (s.hours > 24 * 366) return "hours must be at most 8784 (a year; got " + number(s.hours) + ")";
    CHATROUTE_SIM_CHECK(positive("interval_minutes", s.interval_minutes));
    // Like hours: an interval of 1e300 minutes would overflow the run's clock (and its
    // tables) rather than be refused.
    if (s.interval_minutes > 60 * 24 * 366)
        return "interval_minutes must be at most 527040 (a year; got " + number(s.interval_minutes) + ")";
    if (s.hours * 60 / s.interval_minutes > 1e6)
        return "interval_minutes is too small for the run: more than a million intervals";
    CHATROUTE_SIM_CHECK(at_least("traffic", s.traffic, 0));
    if (s.missed_offer_scope != "all_spaces" && s.missed_offer_scope != "offer_space")
        return "missed_offer_scope must be \"all_spaces\" or \"offer_space\" (got \"" + s.missed_offer_scope + "\")";
    CHATROUTE_SIM_CHECK(at_least("missed_offer_return_after", s.missed_offer_return_after, 0));
    CHATROUTE_SIM_CHECK(timing("missed_offer_return_after", s.missed_offer_return_after));
    if (s.spaces.empty()) return "spaces must list at least one space";
    std::set<std::string> names;
    for (std::size_t i = 0; i < s.spaces.size(); ++i) {
        const SpaceSpec& sp = s.spaces[i];
        const std::string at = "spaces[" + std::to_string(i) + "].";
        if (sp.name.empty()) return at + "name must not be empty";
        if (!names.insert(sp.name).second) return at + "name \"" + sp.name + "\" is used twice";
        CHATROUTE_SIM_CHECK(positive(at + "offer_timeout", sp.offer_timeout));
        CHATROUTE_SIM_CHECK(timing(at + "offer_timeout", sp.offer_timeout));
        CHATROUTE_SIM_CHECK(positive(at + "accept_window", sp.accept_window));
        CHATROUTE_SIM_CHECK(timing(at + "accept_window", sp.accept_window));
        CHATROUTE_SIM_CHECK(positive(at + "inactivity_warning", sp.inactivity_warning));
        CHATROUTE_SIM_CHECK(timing(at + "inactivity_warning", sp.inactivity_warning));
        CHATROUTE_SIM_CHECK(positive(at + "inactivity_grace", sp.inactivity_grace));
        CHATROUTE_SIM_CHECK(timing(at + "inactivity_grace", sp.inactivity_grace));
        CHATROUTE_SIM_CHECK(positive(at + "max_duration", sp.max_duration));
        CHATROUTE_SIM_CHECK(timing(at + "max_duration", sp.max_duration));
        CHATROUTE_SIM_CHECK(at_least(at + "rate_per_hour", sp.rate_per_hour, 0));
        if (!sp.hourly.empty() && sp.hourly.size() != 24)
            return at + "hourly must have 24 values, one per hour of the day (got " +
                   std::to_string(sp.hourly.size()) + ")";
        for (std::size_t h = 0; h < sp.hourly.size(); ++h)
            CHATROUTE_SIM_CHECK(at_least(at + "hourly[" + std::to_string(h) + "]", sp.hourly[h], 0));
        CHATROUTE_SIM_CHECK(probability(at + "handoff_share", sp.handoff_share));
        if (std::find(std::begin(strategy_names), std::end(strategy_names), sp.strategy) == std::end(strategy_names))
            return at + "strategy must be \"round_robin\", \"least_active\", \"most_available\" or \"least_recent\" (got \"" +
                   sp.strategy + "\")";
        double shares = 0;
        for (std::size_t c = 0; c < sp.classes.size(); ++c) {
            const ConversationClass& k = sp.classes[c];
            const std::string cat = at + "classes[" + std::to_string(c) + "].";
            CHATROUTE_SIM_CHECK(probability(cat + "share", k.share));
            shares += k.share;
            if (k.priority < 0 || k.priority > 1000)
                return cat + "priority must be between 0 and 1000 (got " + std::to_string(k.priority) + ")";
            CHATROUTE_SIM_CHECK(detail::check_skills(cat + "skills", k.skills));
        }
        if (shares > 1 + 1e-9) return at + "classes: the shares add up to more than 1 (got " + number(shares) + ")";
        CHATROUTE_SIM_CHECK(at_least(at + "skills_relax_after", sp.skills_relax_after, 0));
        CHATROUTE_SIM_CHECK(timing(at + "skills_relax_after", sp.skills_relax_after));
        CHATROUTE_SIM_CHECK(at_least(at + "assignee_response_timeout", sp.assignee_response_timeout, 0));
        CHATROUTE_SIM_CHECK(timing(at + "assignee_response_timeout", sp.assignee_response_timeout));
        CHATROUTE_SIM_CHECK(probability(at + "transfer_share", sp.transfer_share));
    }
    for (std::size_t i = 0; i < s.spaces.size(); ++i)
        if (!s.spaces[i].transfer_to.empty() && !names.contains(s.spaces[i].transfer_to))
            return "spaces[" + std::to_string(i) + "].transfer_to names an unknown space \"" + s.spaces[i].transfer_to + "\"";
    std::set<std::string> group_names;
    for (std::size_t i = 0; i < s.agents.size(); ++i) {
        const AgentGroupSpec& g = s.agents[i];
        const std::string at = "agents[" + std::to_string(i) + "].";
        if (!g.name.empty() && !group_names.insert(g.name).second)
            return at + "name \"" + g.name + "\" is used twice";
        if (g.count < 0 || g.count > 100000)
            return at + "count must be between 0 and 100000 (got " + std::to_string(g.count) + ")";
        if (g.limit < 1 || g.limit > 1000000)
            return at + "limit must be between 1 and 1000000 (got " + std::to_string(g.limit) + ")";
        for (const std::string& space : g.spaces)
            if (!names.contains(space)) return at + "spaces names an unknown space \"" + space + "\"";
        CHATROUTE_SIM_CHECK(detail::check_skills(at + "skills", g.skills));
        if (!finite(g.shift_start) || g.shift_start < 0 || g.shift_start >= 24)
            return at + "shift_start must be an hour in [0, 24) (got " + number(g.shift_start) + ")";
        if (!finite(g.shift_end) || g.shift_end <= g.shift_start || g.shift_end > g.shift_start + 24)
            return at + "shift_end must be after shift_start and at most 24 h after it (got " +
                   number(g.shift_end) + ")";
        for (std::size_t b = 0; b < g.breaks.size(); ++b) {
            const BreakSpec& br = g.breaks[b];
            const std::string bat = at + "breaks[" + std::to_string(b) + "].";
            CHATROUTE_SIM_CHECK(positive(bat + "minutes", br.minutes));
            if (!finite(br.start_hour) || br.start_hour < 0 || br.start_hour >= 24)
                return bat + "start_hour must be an hour of the day in [0, 24) (got " + number(br.start_hour) + ")";
            if (break_start_in_shift(g, br) >= g.shift_end)
                return bat + "start_hour must fall within the shift (got " + number(br.start_hour) + ")";
        }
        CHATROUTE_SIM_CHECK(at_least(at + "break_stagger_minutes", g.break_stagger_minutes, 0));
    }
    const Behaviour& b = s.behaviour;
    CHATROUTE_SIM_CHECK(at_least("behaviour.accept_time", b.accept_time, 0));
    CHATROUTE_SIM_CHECK(probability("behaviour.decline_probability", b.decline_probability));
    CHATROUTE_SIM_CHECK(probability("behaviour.miss_probability", b.miss_probability));
    if (b.decline_probability + b.miss_probability > 1)
        return "behaviour.decline_probability + behaviour.miss_probability must be at most 1 (got " +
               number(b.decline_probability + b.miss_probability) + ")";
    CHATROUTE_SIM_CHECK(at_least("behaviour.away_after_miss", b.away_after_miss, 0));
    CHATROUTE_SIM_CHECK(positive("behaviour.handle_time", b.handle_time));
    if (b.handle_time_distribution != "exponential" && b.handle_time_distribution != "lognormal" &&
        b.handle_time_distribution != "fixed")
        return "behaviour.handle_time_distribution must be \"exponential\", \"lognormal\" or \"fixed\" (got \"" +
               b.handle_time_distribution + "\")";
    CHATROUTE_SIM_CHECK(positive("behaviour.handle_time_cv", b.handle_time_cv));
    CHATROUTE_SIM_CHECK(at_least("behaviour.wrap_up_time", b.wrap_up_time, 0));
    CHATROUTE_SIM_CHECK(at_least("behaviour.messages", b.messages, 0));
    if (b.messages > 500) return "behaviour.messages must be at most 500 (got " + number(b.messages) + ")";
    CHATROUTE_SIM_CHECK(probability("behaviour.customer_end_share", b.customer_end_share));
    CHATROUTE_SIM_CHECK(probability("behaviour.silent_probability", b.silent_probability));
    CHATROUTE_SIM_CHECK(probability("behaviour.silent_agent_probability", b.silent_agent_probability));
    CHATROUTE_SIM_CHECK(at_least("customers.patience", s.customers.patience, 0));
#undef CHATROUTE_SIM_CHECK
    return std::nullopt;
}

// ---- JSON ----

inline nlohmann::ordered_json to_json(const Scenario& s) {
    nlohmann::ordered_json j;
    j["seed"] = s.seed;
    j["hours"] = s.hours;
    j["interval_minutes"] = s.interval_minutes;
    j["traffic"] = s.traffic;
    j["missed_offer_scope"] = s.missed_offer_scope;
    j["missed_offer_return_after"] = s.missed_offer_return_after;
    j["spaces"] = nlohmann::ordered_json::array();
    for (const SpaceSpec& sp : s.spaces) {
        nlohmann::ordered_json o;
        o["name"] = sp.name;
        o["offer_timeout"] = sp.offer_timeout;
        o["accept_window"] = sp.accept_window;
        o["inactivity_warning"] = sp.inactivity_warning;
        o["inactivity_grace"] = sp.inactivity_grace;
        o["max_duration"] = sp.max_duration;
        o["fallback"] = sp.fallback;
        if (sp.hourly.empty())
            o["rate_per_hour"] = sp.rate_per_hour;
        else
            o["hourly"] = sp.hourly;
        o["handoff_share"] = sp.handoff_share;
        o["strategy"] = sp.strategy;
        o["classes"] = nlohmann::ordered_json::array();
        for (const ConversationClass& k : sp.classes)
            o["classes"].push_back(nlohmann::ordered_json{
                {"name", k.name}, {"share", k.share}, {"priority", k.priority}, {"skills", k.skills}});
        o["skills_relax_after"] = sp.skills_relax_after;
        o["assignee_response_timeout"] = sp.assignee_response_timeout;
        o["transfer_share"] = sp.transfer_share;
        o["transfer_to"] = sp.transfer_to;
        j["spaces"].push_back(std::move(o));
    }
    j["agents"] = nlohmann::ordered_json::array();
    for (const AgentGroupSpec& g : s.agents) {
        nlohmann::ordered_json o;
        o["name"] = g.name;
        o["count"] = g.count;
        o["limit"] = g.limit;
        o["spaces"] = g.spaces;
        o["skills"] = g.skills;
        o["shift_start"] = g.shift_start;
        o["shift_end"] = g.shift_end;
        o["breaks"] = nlohmann::ordered_json::array();
        for (const BreakSpec& br : g.breaks)
            o["breaks"].push_back(nlohmann::ordered_json{{"start_hour", br.start_hour}, {"minutes", br.minutes}});
        o["break_stagger_minutes"] = g.break_stagger_minutes;
        j["agents"].push_back(std::move(o));
    }
    const Behaviour& b = s.behaviour;
    j["behaviour"] = nlohmann::ordered_json{
        {"accept_time", b.accept_time},
        {"decline_probability", b.decline_probability},
        {"miss_probability", b.miss_probability},
        {"away_after_miss", b.away_after_miss},
        {"handle_time", b.handle_time},
        {"handle_time_distribution", b.handle_time_distribution},
        {"handle_time_cv", b.handle_time_cv},
        {"wrap_up_time", b.wrap_up_time},
        {"messages", b.messages},
        {"customer_end_share", b.customer_end_share},
        {"silent_probability", b.silent_probability},
        {"silent_agent_probability", b.silent_agent_probability},
    };
    j["customers"] = nlohmann::ordered_json{{"patience", s.customers.patience}};
    return j;
}

namespace detail {

// Reads one JSON object strictly: every key must be known, every value well typed.
class ObjectReader {
public:
    ObjectReader(const nlohmann::json& object, std::string path) : object_(object), path_(std::move(path)) {
        if (!object_.is_object()) throw std::runtime_error(where() + "must be a JSON object");
    }

    void number(const char* key, double& out) {
        if (const auto* v = take(key)) {
            if (!v->is_number()) throw std::runtime_error(where(key) + " must be a number");
            out = v->get<double>();
        }
    }
    void whole(const char* key, std::int64_t& out) {
        if (const auto* v = take(key)) {
            if (!v->is_number_integer())
                throw std::runtime_error(where(key) + " must be a whole number (got " + v->dump() + ")");
            out = v->get<std::int64_t>();
        }
    }
    void seed(const char* key, std::uint64_t& out) {
        if (const auto* v = take(key)) {
            if (!v->is_number_integer() || (v->is_number_integer() && !v->is_number_unsigned()))
                throw std::runtime_error(where(key) + " must be a whole number, 0 or more (got " + v->dump() + ")");
            out = v->get<std::uint64_t>();
        }
    }
    void text(const char* key, std::string& out) {
        if (const auto* v = take(key)) {
            if (!v->is_string()) throw std::runtime_error(where(key) + " must be a string");
            out = v->get<std::string>();
        }
    }
    void texts(const char* key, std::vector<std::string>& out) {
        if (const auto* v = take(key)) {
            if (!v->is_array()) throw std::runtime_error(where(key) + " must be a list of strings");
            out.clear();
            for (const auto& item : *v) {
                if (!item.is_string()) throw std::runtime_error(where(key) + " must be a list of strings");
                out.push_back(item.get<std::string>());
            }
        }
    }
    void numbers(const char* key, std::vector<double>& out) {
        if (const auto* v = take(key)) {
            if (!v->is_array()) throw std::runtime_error(where(key) + " must be a list of numbers");
            out.clear();
            for (const auto& item : *v) {
                if (!item.is_number()) throw std::runtime_error(where(key) + " must be a list of numbers");
                out.push_back(item.get<double>());
            }
        }
    }
    template <class F>
    void objects(const char* key, F&& each) {
        if (const auto* v = take(key)) {
            if (!v->is_array()) throw std::runtime_error(where(key) + " must be a list of objects");
            for (std::size_t i = 0; i < v->size(); ++i)
                each((*v)[i], where(key) + "[" + std::to_string(i) + "]");
        }
    }
    template <class F>
    void object(const char* key, F&& read) {
        if (const auto* v = take(key)) read(*v, where(key));
    }
    // Every key must have been read.
    void done() const {
        for (const auto& [key, value] : object_.items())
            if (!seen_.contains(key)) throw std::runtime_error("unknown key " + where(key.c_str()));
    }

private:
    const nlohmann::json* take(const char* key) {
        seen_.insert(key);
        const auto it = object_.find(key);
        return it == object_.end() ? nullptr : &*it;
    }
    std::string where(const char* key = nullptr) const {
        if (key == nullptr) return path_.empty() ? "the config " : path_ + " ";
        return path_.empty() ? std::string(key) : path_ + "." + key;
    }

    const nlohmann::json& object_;
    std::string path_;
    std::set<std::string> seen_;
};

}  // namespace detail

// Reads a config file's JSON over `s`: keys left out keep their value in `s`; listing
// `spaces` or `agents` replaces the whole list. Throws std::runtime_error naming the key.
inline void read_json(const nlohmann::json& j, Scenario& s) {
    detail::ObjectReader r(j, "");
    r.seed("seed", s.seed);
    r.number("hours", s.hours);
    r.number("interval_minutes", s.interval_minutes);
    r.number("traffic", s.traffic);
    r.text("missed_offer_scope", s.missed_offer_scope);
    r.number("missed_offer_return_after", s.missed_offer_return_after);
    if (j.contains("spaces")) s.spaces.clear();
    r.objects("spaces", [&](const nlohmann::json& o, const std::string& path) {
        SpaceSpec sp;
        detail::ObjectReader sr(o, path);
        sr.text("name", sp.name);
        sr.number("offer_timeout", sp.offer_timeout);
        sr.number("accept_window", sp.accept_window);
        sr.number("inactivity_warning", sp.inactivity_warning);
        sr.number("inactivity_grace", sp.inactivity_grace);
        sr.number("max_duration", sp.max_duration);
        sr.text("fallback", sp.fallback);
        sr.number("rate_per_hour", sp.rate_per_hour);
        sr.numbers("hourly", sp.hourly);
        sr.number("handoff_share", sp.handoff_share);
        sr.text("strategy", sp.strategy);
        sr.objects("classes", [&](const nlohmann::json& co, const std::string& cpath) {
            ConversationClass k;
            detail::ObjectReader cr(co, cpath);
            cr.text("name", k.name);
            cr.number("share", k.share);
            cr.whole("priority", k.priority);
            cr.texts("skills", k.skills);
            cr.done();
            sp.classes.push_back(std::move(k));
        });
        sr.number("skills_relax_after", sp.skills_relax_after);
        sr.number("assignee_response_timeout", sp.assignee_response_timeout);
        sr.number("transfer_share", sp.transfer_share);
        sr.text("transfer_to", sp.transfer_to);
        sr.done();
        s.spaces.push_back(std::move(sp));
    });
    if (j.contains("agents")) s.agents.clear();
    r.objects("agents", [&](const nlohmann::json& o, const std::string& path) {
        AgentGroupSpec g;
        detail::ObjectReader gr(o, path);
        gr.text("name", g.name);
        gr.whole("count", g.count);
        gr.whole("limit", g.limit);
        gr.texts("spaces", g.spaces);
        gr.texts("skills", g.skills);
        gr.number("shift_start", g.shift_start);
        gr.number("shift_end", g.shift_end);
        gr.objects("breaks", [&](const nlohmann::json& bo, const std::string& bpath) {
            BreakSpec br;
            detail::ObjectReader brr(bo, bpath);
            brr.number("start_hour", br.start_hour);
            brr.number("minutes", br.minutes);
            brr.done();
            g.breaks.push_back(br);
        });
        gr.number("break_stagger_minutes", g.break_stagger_minutes);
        gr.done();
        s.agents.push_back(std::move(g));
    });
    r.object("behaviour", [&](const nlohmann::json& o, const std::string& path) {
        Behaviour& b = s.behaviour;
        detail::ObjectReader br(o, path);
        br.number("accept_time", b.accept_time);
        br.number("decline_probability", b.decline_probability);
        br.number("miss_probability", b.miss_probability);
        br.number("away_after_miss", b.away_after_miss);
        br.number("handle_time", b.handle_time);
        br.text("handle_time_distribution", b.handle_time_distribution);
        br.number("handle_time_cv", b.handle_time_cv);
        br.number("wrap_up_time", b.wrap_up_time);
        br.number("messages", b.messages);
        br.number("customer_end_share", b.customer_end_share);
        br.number("silent_probability", b.silent_probability);
        br.number("silent_agent_probability", b.silent_agent_probability);
        br.done();
    });
    r.object("customers", [&](const nlohmann::json& o, const std::string& path) {
        detail::ObjectReader cr(o, path);
        cr.number("patience", s.customers.patience);
        cr.done();
    });
    r.done();
}

}  // namespace chatroute::sim
