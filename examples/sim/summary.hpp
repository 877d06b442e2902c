#pragma once
// The numbers a run is judged by, computed once from its Results, and the text outputs:
// the summary table, the per-interval CSV and the JSON document.

#include "simulation.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace chatroute::sim {

struct Summary {
    double wait_mean = 0, wait_p50 = 0, wait_p90 = 0, wait_p99 = 0, wait_max = 0;
    double offers_per_conversation = 0;
    double occupancy_min = 0, occupancy_max = 0;
    std::size_t agents_staffed = 0;  // agents with any time on shift
};

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

    out += fmt::format("chatroute-sim: {} h, {} spaces, {} agents, seed {}, traffic x{}\n", sc.hours, sc.spaces.size(),
                       sc.agent_count(), sc.seed, sc.traffic);
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
    j["queue"] = J{{"peak", r.peak_queue}, {"mean", rounded(r.mean_queue)}};
    J agents = J::array();
    for (const AgentResult& a : r.agents)
        agents.push_back(J{{"name", a.name},
                           {"limit", a.limit},
                           {"accepted", a.accepted},
                           {"missed", a.missed},
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

}  // namespace chatroute::sim
