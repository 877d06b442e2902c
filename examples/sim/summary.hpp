#pragma once
// The numbers a run is judged by, computed once from its Results, and the text outputs:
// the summary table, the per-interval CSV and the JSON document.

#include "simulation.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace chatroute::sim {

struct Summary {
    double wait_mean = 0, wait_p50 = 0, wait_p90 = 0, wait_p99 = 0, wait_max = 0;
    double offers_per_conversation = 0;
    double occupancy_min = 0, occupancy_max = 0;
    std::size_t agents_staffed = 0;  // agents with any time on shift
    double requeue_wait_p50 = 0, requeue_wait_p90 = 0;  // from a transfer to the next accept
};

// Answered conversations of one class of one space (R29, R30): how long they waited.
struct ClassSummary {
    std::string label;  // "space/class"
    std::int64_t priority = 0;
    std::uint64_t started = 0, answered = 0;
    double wait_p50 = 0, wait_p90 = 0;
};

// The strategies of the spaces: "round_robin" when all alike, else "general=..., billing=...".
inline std::string strategies_text(const Scenario& sc) {
    bool alike = true;
    for (const SpaceSpec& sp : sc.spaces) alike &= sp.strategy == sc.spaces.front().strategy;
    if (alike) return sc.spaces.empty() ? std::string("round_robin") : sc.spaces.front().strategy;
    std::string out;
    for (const SpaceSpec& sp : sc.spaces) out += (out.empty() ? "" : ", ") + sp.name + "=" + sp.strategy;
    return out;
}

// Whether any of R30-R34's knobs is on: then the summary shows their section.
inline bool uses_control(const Results& r) {
    const Scenario& sc = r.scenario;
    bool on = sc.missed_offer_return_after > 0 || sc.behaviour.silent_agent_probability > 0;
    for (const SpaceSpec& sp : sc.spaces) on |= sp.assignee_response_timeout > 0 || sp.transfer_share > 0;
    return on || r.transfers > 0 || r.unresponsive_requeues > 0 || r.auto_returns > 0;
}

inline std::vector<ClassSummary> class_summaries(const Results& r) {
    std::vector<ClassSummary> out;
    std::vector<std::vector<double>> waits;
    std::vector<std::size_t> first;  // per space: its first class's row
    for (const SpaceSpec& sp : r.scenario.spaces) {
        first.push_back(out.size());
        for (std::size_t k = 0; k < sp.classes.size(); ++k) {
            const ConversationClass& c = sp.classes[k];
            out.push_back(ClassSummary{sp.name + "/" + (c.name.empty() ? "class" + std::to_string(k + 1) : c.name),
                                       c.priority});
            waits.emplace_back();
        }
    }
    for (const CustomerRecord& c : r.customers) {
        if (c.klass < 0) continue;
        const std::size_t row = first[c.space] + static_cast<std::size_t>(c.klass);
        ++out[row].started;
        if (c.answered()) ++out[row].answered, waits[row].push_back(c.wait_seconds());
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
        std::sort(waits[i].begin(), waits[i].end());
        out[i].wait_p50 = percentile(waits[i], 0.50);
        out[i].wait_p90 = percentile(waits[i], 0.90);
    }
    return out;
}

inline Summary summarize(const Results& r) {
    Summary s;
    std::vector<double> sorted = r.waits;
    std::sort(sorted.begin(), sorted.end());
    if (!sorted.empty()) {
        double sum = 0;
        for (double w : sorted) sum += w;
        s.wait_mean = sum / static_cast<double>(sorted.size());
        s.wait_p50 = percentile(sorted, 0.50);
        s.wait_p90 = percentile(sorted, 0.90);
        s.wait_p99 = percentile(sorted, 0.99);
        s.wait_max = sorted.back();
    }
    s.offers_per_conversation = r.started > 0 ? static_cast<double>(r.offers) / static_cast<double>(r.started) : 0.0;
    bool first = true;
    for (const AgentResult& a : r.agents) {
        if (a.staffed_slot_seconds <= 0) continue;
        ++s.agents_staffed;
        const double o = a.occupancy();
        s.occupancy_min = first ? o : std::min(s.occupancy_min, o);
        s.occupancy_max = first ? o : std::max(s.occupancy_max, o);
        first = false;
    }
    std::vector<double> requeue = r.requeue_waits;
    std::sort(requeue.begin(), requeue.end());
    s.requeue_wait_p50 = percentile(requeue, 0.50);
    s.requeue_wait_p90 = percentile(requeue, 0.90);
    return s;
}

// "42.5 s", "3 min 12 s", "1 h 05 min": for people; the JSON keeps plain seconds.
inline std::string human_duration(double seconds) {
    if (seconds < 60) return fmt::format("{:.1f} s", seconds);
    const auto whole = static_cast<long long>(std::llround(seconds));
    if (whole < 3600) return fmt::format("{} min {:02} s", whole / 60, whole % 60);
    return fmt::format("{} h {:02} min", whole / 3600, (whole % 3600) / 60);
}

inline std::string percent(double share) { return fmt::format("{:.1f} %", share * 100); }

inline std::string summary_text(const Results& r) {
    const Summary s = summarize(r);
    const Scenario& sc = r.scenario;
    std::string out;
    const auto line = [&](std::string_view label, const std::string& value, const std::string& note = {}) {
        out += fmt::format("  {:<36}{:>16}", label, value);
        if (!note.empty()) out += "   " + note;
        out += '\n';
    };
    const auto count = [](std::uint64_t n) { return fmt::format("{}", n); };
    const auto ended = [&](EndReason reason) { return r.ended[static_cast<std::size_t>(reason)]; };

    out += fmt::format("chatroute-sim: {} h, {} spaces, {} agents, seed {}, traffic x{}", sc.hours, sc.spaces.size(),
                       sc.agent_count(), sc.seed, sc.traffic);
    const std::string strategies = strategies_text(sc);
    out += strategies == "round_robin" ? "\n" : ", strategy " + strategies + "\n";
    out += "\nConversations\n";
    line("started", count(r.started), fmt::format("{} handed off from the AI agent", r.handoffs));
    line("accepted (answered)", count(r.accepted), percent(r.answered_share()) + " answered");
    line("ended by the agent", count(ended(EndReason::agent)));
    line("ended by the customer", count(ended(EndReason::customer)),
         fmt::format("{} of them left before an answer", r.abandoned));
    line("ended by inactivity", count(ended(EndReason::inactivity)),
         fmt::format("{} inactivity warnings", r.inactivity_warnings));
    line("ended at the maximum duration", count(ended(EndReason::max_duration)));
    line("ended with no agent (fallback sent)", count(ended(EndReason::no_agent)));
    out += "\nTime to accept (answered conversations)\n";
    line("mean", human_duration(s.wait_mean));
    line("p50", human_duration(s.wait_p50));
    line("p90", human_duration(s.wait_p90));
    line("p99", human_duration(s.wait_p99));
    line("max", human_duration(s.wait_max));
    out += "\nOffers\n";
    line("offers", count(r.offers), fmt::format("{:.2f} per conversation", s.offers_per_conversation));
    line("declined", count(r.declines));
    line("missed (timed out)", count(r.missed),
         fmt::format("set {} agents unavailable ({} agent-space changes)", r.missed_agents, r.missed_unavailable));
    line("withdrawn", count(r.withdrawn[0] + r.withdrawn[1] + r.withdrawn[2]),
         fmt::format("{} agent unavailable, {} conversation ended", r.withdrawn[0], r.withdrawn[2]));
    if (r.with_class > 0) {
        out += "\nPriority and skills (answered conversations of each class)\n";
        for (const ClassSummary& c : class_summaries(r))
            line(fmt::format("{} (priority {})", c.label, c.priority), fmt::format("{} / {}", c.answered, c.started),
                 fmt::format("p50 {}, p90 {}", human_duration(c.wait_p50), human_duration(c.wait_p90)));
        line("skills relaxed (R30)", count(r.skills_relaxed));
    }
    if (uses_control(r)) {
        out += "\nTransfers, requeues and returns\n";
        line("transferred by the assignee (R32)", count(r.transfers),
             fmt::format("{} of them requeued in their own space", r.transfers_own_space));
        line("requeued: assignee unresponsive (R33)", count(r.unresponsive_requeues),
             fmt::format("{} from silent agents; {} agent-space changes", r.unresponsive_silent,
                         r.unresponsive_unavailable));
        line("answered again after either", count(r.reaccepted),
             fmt::format("after p50 {}, p90 {}", human_duration(s.requeue_wait_p50), human_duration(s.requeue_wait_p90)));
        line("ended waiting again, unanswered", count(r.ended_after_transfer_unanswered));
        line("assignee went silent", count(r.silent_agent_conversations),
             fmt::format("{} ended by the customer, unanswered", r.silent_agent_customer_ends));
        line("auto-returns after a miss (R34)", count(r.auto_returns), "agent-space changes");
    }
    out += "\nQueue (conversations waiting for an agent)\n";
    line("peak", fmt::format("{:.0f}", r.peak_queue));
    line("mean", fmt::format("{:.2f}", r.mean_queue));
    out += "\nAgents\n";
    line("occupancy (slots used / available)", percent(r.occupancy()),
         fmt::format("per agent {} to {}", percent(s.occupancy_min), percent(s.occupancy_max)));
    line("mean available agents", fmt::format("{:.1f}", r.mean_available_agents));
    out += "\nRun\n";
    line("simulated span", human_duration(r.horizon_seconds),
         fmt::format("{} intervals of {} min", r.intervals.size(), sc.interval_minutes));
    line("engine events", count(r.engine_events));
    line("engine errors", count(r.engine_errors), r.first_engine_error);
    return out;
}

inline std::string intervals_csv(const Results& r) {
    std::string out =
        "start_s,started,accepted,abandoned,no_agent,mean_queue,peak_queue,mean_available_agents,"
        "mean_busy_slots,mean_staffed_slots,occupancy,mean_time_to_accept_s\n";
    for (const IntervalRow& row : r.intervals)
        out += fmt::format("{:.0f},{},{},{},{},{:.3f},{:.0f},{:.3f},{:.3f},{:.3f},{:.4f},{:.2f}\n", row.start_seconds,
                           row.started, row.accepted, row.abandoned, row.no_agent, row.mean_queue, row.peak_queue,
                           row.mean_available_agents, row.mean_busy_slots, row.mean_staffed_slots, row.occupancy,
                           row.mean_time_to_accept);
    return out;
}

// Rounded so the JSON reads well and stays byte-stable.
inline double rounded(double value, int decimals = 4) {
    const double scale = std::pow(10.0, decimals);
    return std::round(value * scale) / scale;
}

inline nlohmann::ordered_json results_json(const Results& r, bool with_intervals = true) {
    const Summary s = summarize(r);
    using J = nlohmann::ordered_json;
    J j;
    j["scenario"] = to_json(r.scenario);
    J ended;
    for (std::size_t i = 0; i < r.ended.size(); ++i) ended[std::string(to_string(static_cast<EndReason>(i)))] = r.ended[i];
    J withdrawn;
    for (std::size_t i = 0; i < r.withdrawn.size(); ++i)
        withdrawn[std::string(to_string(static_cast<WithdrawReason>(i)))] = r.withdrawn[i];
    j["conversations"] = J{{"started", r.started},     {"handoffs", r.handoffs},
                           {"accepted", r.accepted},   {"answered_share", rounded(r.answered_share(), 6)},
                           {"ended", ended},           {"abandoned_before_answer", r.abandoned},
                           {"inactivity_warnings", r.inactivity_warnings}, {"transcripts_shared", r.transcripts}};
    j["time_to_accept_s"] = J{{"mean", rounded(s.wait_mean)}, {"p50", rounded(s.wait_p50)}, {"p90", rounded(s.wait_p90)},
                              {"p99", rounded(s.wait_p99)},   {"max", rounded(s.wait_max)}};
    j["offers"] = J{{"offers", r.offers},
                    {"per_conversation", rounded(s.offers_per_conversation)},
                    {"declined", r.declines},
                    {"missed", r.missed},
                    {"agents_set_unavailable_by_misses", r.missed_agents},
                    {"agent_space_changes_by_misses", r.missed_unavailable},
                    {"withdrawn", withdrawn},
                    {"stale_answers", r.stale_answers}};
    J classes = J::array();
    for (const ClassSummary& c : class_summaries(r))
        classes.push_back(J{{"class", c.label}, {"priority", c.priority}, {"started", c.started},
                            {"answered", c.answered}, {"wait_p50_s", rounded(c.wait_p50)},
                            {"wait_p90_s", rounded(c.wait_p90)}});
    j["routing"] = J{{"strategy", strategies_text(r.scenario)},
                     {"started_with_class", r.with_class},
                     {"skills_relaxed", r.skills_relaxed},
                     {"classes", classes}};
    j["control"] = J{{"transfers", r.transfers},
                     {"transfers_own_space", r.transfers_own_space},
                     {"unresponsive_requeues", r.unresponsive_requeues},
                     {"unresponsive_from_silent_agents", r.unresponsive_silent},
                     {"agent_space_changes_by_unresponsive", r.unresponsive_unavailable},
                     {"answered_again", r.reaccepted},
                     {"answered_again_after_p50_s", rounded(s.requeue_wait_p50)},
                     {"answered_again_after_p90_s", rounded(s.requeue_wait_p90)},
                     {"ended_waiting_after_transfer", r.ended_after_transfer_unanswered},
                     {"silent_agent_conversations", r.silent_agent_conversations},
                     {"silent_agent_customer_ends", r.silent_agent_customer_ends},
                     {"auto_returns", r.auto_returns}};
    j["queue"] = J{{"peak", r.peak_queue}, {"mean", rounded(r.mean_queue)}};
    J agents = J::array();
    for (const AgentResult& a : r.agents)
        agents.push_back(J{{"name", a.name},
                           {"limit", a.limit},
                           {"accepted", a.accepted},
                           {"missed", a.missed},
                           {"unresponsive", a.unresponsive},
                           {"occupancy", rounded(a.occupancy())},
                           {"used_slot_hours", rounded(a.used_slot_seconds / 3600)},
                           {"staffed_slot_hours", rounded(a.staffed_slot_seconds / 3600)}});
    j["agents"] = J{{"occupancy", rounded(r.occupancy())},
                    {"occupancy_min", rounded(s.occupancy_min)},
                    {"occupancy_max", rounded(s.occupancy_max)},
                    {"mean_available", rounded(r.mean_available_agents)},
                    {"per_agent", agents}};
    j["run"] = J{{"horizon_s", r.horizon_seconds},
                 {"engine_events", r.engine_events},
                 {"steps", r.steps},
                 {"engine_errors", r.engine_errors},
                 {"first_engine_error", r.first_engine_error}};
    if (with_intervals) {
        J rows = J::array();
        for (const IntervalRow& row : r.intervals)
            rows.push_back(J{{"start_s", row.start_seconds},
                             {"started", row.started},
                             {"accepted", row.accepted},
                             {"abandoned", row.abandoned},
                             {"no_agent", row.no_agent},
                             {"mean_queue", rounded(row.mean_queue)},
                             {"peak_queue", row.peak_queue},
                             {"mean_available_agents", rounded(row.mean_available_agents)},
                             {"mean_busy_slots", rounded(row.mean_busy_slots)},
                             {"mean_staffed_slots", rounded(row.mean_staffed_slots)},
                             {"occupancy", rounded(row.occupancy)},
                             {"mean_time_to_accept_s", rounded(row.mean_time_to_accept)}});
        j["intervals"] = rows;
    }
    return j;
}

// ---- --compare-strategies: the same day under each strategy ----

struct StrategyRun {
    std::string strategy;
    Results results;
};

// The scenario with every space on one strategy (R28).
inline Scenario with_strategy(Scenario s, std::string_view strategy) {
    for (SpaceSpec& sp : s.spaces) sp.strategy = std::string(strategy);
    return s;
}

inline std::vector<StrategyRun> compare_strategies(const Scenario& scenario,
                                                   const std::function<void(double)>& progress = {}) {
    std::vector<StrategyRun> runs;
    const double n = static_cast<double>(std::size(strategy_names));
    for (std::size_t i = 0; i < std::size(strategy_names); ++i) {
        const auto part = [&](double done) {
            if (progress) progress((static_cast<double>(i) + done) / n);
        };
        runs.push_back(StrategyRun{std::string(strategy_names[i]),
                                   simulate(with_strategy(scenario, strategy_names[i]), part)});
    }
    return runs;
}

inline std::string comparison_text(const std::vector<StrategyRun>& runs) {
    std::string out;
    if (runs.empty()) return out;
    const Scenario& sc = runs.front().results.scenario;
    out += fmt::format("chatroute-sim: {} h, {} spaces, {} agents, seed {}, traffic x{}: one day under each strategy\n",
                       sc.hours, sc.spaces.size(), sc.agent_count(), sc.seed, sc.traffic);
    out += "(same seed, same arrivals; every space on the strategy of its row)\n\n";
    out += fmt::format("  {:<15}{:>8}{:>10}{:>10}{:>10}{:>10}{:>10}{:>8}{:>8}{:>11}{:>16}\n", "strategy", "started",
                       "answered", "wait mean", "p50", "p90", "p99", "left", "peak q", "occupancy", "per agent");
    for (const StrategyRun& run : runs) {
        const Results& r = run.results;
        const Summary s = summarize(r);
        out += fmt::format("  {:<15}{:>8}{:>10}{:>10}{:>10}{:>10}{:>10}{:>8}{:>8}{:>11}{:>16}\n", run.strategy, r.started,
                           percent(r.answered_share()), fmt::format("{:.1f} s", s.wait_mean),
                           fmt::format("{:.1f} s", s.wait_p50), fmt::format("{:.1f} s", s.wait_p90),
                           fmt::format("{:.1f} s", s.wait_p99), r.abandoned, fmt::format("{:.0f}", r.peak_queue),
                           percent(r.occupancy()),
                           fmt::format("{:.0f}-{:.0f} %", s.occupancy_min * 100, s.occupancy_max * 100));
    }
    std::uint64_t errors = 0;
    for (const StrategyRun& run : runs) errors += run.results.engine_errors;
    out += fmt::format("\n  wait: time to accept of answered conversations; left: before an answer; per agent:\n"
                       "  the lowest and highest agent occupancy. Engine errors: {}\n",
                       errors);
    return out;
}

inline nlohmann::ordered_json comparison_json(const std::vector<StrategyRun>& runs) {
    nlohmann::ordered_json j;
    j["scenario"] = runs.empty() ? nlohmann::ordered_json{} : to_json(runs.front().results.scenario);
    j["strategies"] = nlohmann::ordered_json::array();
    for (const StrategyRun& run : runs) {
        nlohmann::ordered_json one = results_json(run.results, false);
        one.erase("scenario");
        nlohmann::ordered_json row;
        row["strategy"] = run.strategy;
        for (auto& [key, value] : one.items()) row[key] = value;
        j["strategies"].push_back(std::move(row));
    }
    return j;
}

// The intervals of every run, with the strategy in the first column.
inline std::string comparison_csv(const std::vector<StrategyRun>& runs) {
    std::string out;
    for (const StrategyRun& run : runs) {
        const std::string csv = intervals_csv(run.results);
        std::size_t at = 0;
        bool header = true;
        while (at < csv.size()) {
            const std::size_t end = csv.find('\n', at);
            const std::string line = csv.substr(at, end - at);
            if (!header) out += run.strategy + "," + line + "\n";
            else if (out.empty()) out += "strategy," + line + "\n";
            header = false;
            at = end + 1;
        }
    }
    return out;
}

}  // namespace chatroute::sim
