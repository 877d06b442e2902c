#pragma once
// `--report FILE.html`: one self-contained page (inline CSS and SVG, no scripts, nothing
// fetched) with the summary and four charts.

#include "summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

namespace chatroute::sim {

namespace svg {

inline std::string escape(std::string_view text) {
    std::string out;
    for (char ch : text) {
        switch (ch) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += ch;
        }
    }
    return out;
}

// A "nice" step (1, 2 or 5 × 10^k) giving about `count` ticks up to `top`.
inline double nice_step(double top, int count) {
    if (top <= 0) return 1;
    const double raw = top / count;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (raw <= m * magnitude) return m * magnitude;
    return 10 * magnitude;
}

inline std::string number_label(double v) {
    if (std::fabs(v - std::round(v)) < 1e-9) return fmt::format("{:.0f}", v);
    return fmt::format("{:.1f}", v);
}

struct Frame {
    double width = 860, height = 300;
    double left = 56, right = 20, top = 46, bottom = 46;
    double plot_w() const { return width - left - right; }
    double plot_h() const { return height - top - bottom; }
};

inline std::string open(const Frame& f, std::string_view title) {
    return fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
        "role=\"img\" aria-label=\"{2}\">\n<text x=\"{3}\" y=\"20\" class=\"title\">{2}</text>\n",
        f.width, f.height, escape(title), f.left);
}

// Horizontal grid lines and y labels from 0 to y_top.
inline std::string y_axis(const Frame& f, double y_top, double step, std::string_view label, bool as_percent = false) {
    std::string out;
    for (double v = 0; v <= y_top + step * 1e-9; v += step) {
        const double y = f.top + f.plot_h() * (1 - v / y_top);
        out += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" class=\"grid\"/>\n", f.left, y,
                           f.left + f.plot_w(), y);
        out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"tick\" text-anchor=\"end\">{}</text>\n", f.left - 6,
                           y + 4, as_percent ? number_label(v * 100) + "%" : number_label(v));
    }
    out += fmt::format(
        "<text transform=\"translate(14 {:.1f}) rotate(-90)\" class=\"axis\" text-anchor=\"middle\">{}</text>\n",
        f.top + f.plot_h() / 2, escape(label));
    return out;
}

struct Series {
    std::string name;
    std::string color;
    std::vector<double> values;
    bool dashed = false;
};

// Lines over time: x in hours, one point per interval (at its middle).
inline std::string line_chart(std::string_view title, const std::vector<double>& hours, double x_end,
                              const std::vector<Series>& series, std::string_view y_label) {
    Frame f;
    double y_max = 1;
    for (const Series& s : series)
        for (double v : s.values) y_max = std::max(y_max, v);
    const double step = nice_step(y_max, 5);
    const double y_top = std::ceil(y_max / step) * step;
    std::string out = open(f, title) + y_axis(f, y_top, step, y_label);
    const double x_step = nice_step(x_end, 12);
    for (double h = 0; h <= x_end + 1e-9; h += x_step) {
        const double x = f.left + f.plot_w() * h / x_end;
        out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"tick\" text-anchor=\"middle\">{}</text>\n", x,
                           f.top + f.plot_h() + 16, number_label(h));
    }
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"axis\" text-anchor=\"middle\">hours since start</text>\n",
                       f.left + f.plot_w() / 2, f.height - 8);
    double legend_x = f.left;
    for (const Series& s : series) {
        out += fmt::format(
            "<line x1=\"{0:.1f}\" y1=\"32\" x2=\"{1:.1f}\" y2=\"32\" stroke=\"{2}\" stroke-width=\"3\"{3}/>"
            "<text x=\"{4:.1f}\" y=\"36\" class=\"legend\">{5}</text>\n",
            legend_x, legend_x + 18, s.color, s.dashed ? " stroke-dasharray=\"5 3\"" : "", legend_x + 22,
            escape(s.name));
        legend_x += 22 + 7.0 * static_cast<double>(s.name.size()) + 24;
    }
    for (const Series& s : series) {
        std::string points;
        for (std::size_t i = 0; i < s.values.size() && i < hours.size(); ++i)
            points += fmt::format("{:.1f},{:.1f} ", f.left + f.plot_w() * hours[i] / x_end,
                                  f.top + f.plot_h() * (1 - s.values[i] / y_top));
        out += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{}/>\n", points,
                           s.color, s.dashed ? " stroke-dasharray=\"5 3\"" : "");
    }
    out += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" class=\"frame\"/>\n", f.left,
                       f.top, f.plot_w(), f.plot_h());
    return out + "</svg>\n";
}

// Vertical bars with a label under each.
inline std::string bar_chart(std::string_view title, const std::vector<std::string>& labels,
                             const std::vector<double>& values, std::string_view y_label, std::string_view color,
                             bool as_percent, bool rotate_labels) {
    Frame f;
    f.bottom = rotate_labels ? 84 : 46;
    f.height = 300 + (rotate_labels ? 38 : 0);
    double y_max = as_percent ? 0.01 : 1;
    for (double v : values) y_max = std::max(y_max, v);
    const double step = nice_step(y_max, 5);
    const double y_top = std::ceil(y_max / step) * step;
    std::string out = open(f, title) + y_axis(f, y_top, step, y_label, as_percent);
    const double slot = f.plot_w() / static_cast<double>(std::max<std::size_t>(1, values.size()));
    for (std::size_t i = 0; i < values.size(); ++i) {
        const double h = f.plot_h() * values[i] / y_top;
        const double x = f.left + slot * static_cast<double>(i);
        out += fmt::format(
            "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"><title>{}: {}</title></rect>\n",
            x + slot * 0.12, f.top + f.plot_h() - h, slot * 0.76, h, color, escape(labels[i]),
            as_percent ? fmt::format("{:.1f}%", values[i] * 100) : number_label(values[i]));
        const double lx = x + slot / 2;
        const double ly = f.top + f.plot_h() + 14;
        // Past about 60 bars, label every k-th so the labels stay readable.
        const std::size_t every = (values.size() + 59) / 60;
        if (i % every != 0) continue;
        if (rotate_labels)
            out += fmt::format(
                "<text transform=\"translate({:.1f} {:.1f}) rotate(-60)\" class=\"tick\" text-anchor=\"end\">{}</text>\n",
                lx + 3, ly - 4, escape(labels[i]));
        else
            out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"tick\" text-anchor=\"middle\">{}</text>\n", lx,
                               ly, escape(labels[i]));
    }
    out += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" class=\"frame\"/>\n", f.left,
                       f.top, f.plot_w(), f.plot_h());
    return out + "</svg>\n";
}

// Bars in groups: one group per label, one bar per series in each (values[series][group]).
inline std::string grouped_bar_chart(std::string_view title, const std::vector<std::string>& groups,
                                     const std::vector<Series>& series, std::string_view y_label) {
    Frame f;
    double y_max = 1;
    for (const Series& s : series)
        for (double v : s.values) y_max = std::max(y_max, v);
    const double step = nice_step(y_max, 5);
    const double y_top = std::ceil(y_max / step) * step;
    std::string out = open(f, title) + y_axis(f, y_top, step, y_label);
    double legend_x = f.left;
    for (const Series& s : series) {
        out += fmt::format("<rect x=\"{:.1f}\" y=\"26\" width=\"12\" height=\"12\" fill=\"{}\"/>"
                           "<text x=\"{:.1f}\" y=\"36\" class=\"legend\">{}</text>\n",
                           legend_x, s.color, legend_x + 16, escape(s.name));
        legend_x += 16 + 7.0 * static_cast<double>(s.name.size()) + 24;
    }
    const double slot = f.plot_w() / static_cast<double>(std::max<std::size_t>(1, groups.size()));
    const double bar = slot * 0.8 / static_cast<double>(std::max<std::size_t>(1, series.size()));
    for (std::size_t g = 0; g < groups.size(); ++g) {
        const double x0 = f.left + slot * static_cast<double>(g) + slot * 0.1;
        for (std::size_t k = 0; k < series.size(); ++k) {
            const double v = g < series[k].values.size() ? series[k].values[g] : 0.0;
            const double h = f.plot_h() * v / y_top;
            out += fmt::format(
                "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"><title>{} {}: {}</title></rect>\n",
                x0 + bar * static_cast<double>(k), f.top + f.plot_h() - h, bar * 0.92, h, series[k].color,
                escape(groups[g]), escape(series[k].name), number_label(v));
            out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"tick\" text-anchor=\"middle\">{}</text>\n",
                               x0 + bar * (static_cast<double>(k) + 0.46), f.top + f.plot_h() - h - 3,
                               number_label(std::round(v)));
        }
        out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"tick\" text-anchor=\"middle\">{}</text>\n",
                           f.left + slot * (static_cast<double>(g) + 0.5), f.top + f.plot_h() + 16, escape(groups[g]));
    }
    out += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" class=\"frame\"/>\n", f.left,
                       f.top, f.plot_w(), f.plot_h());
    return out + "</svg>\n";
}

}  // namespace svg

// Time-to-accept buckets for the histogram, in seconds: [edge[i], edge[i + 1]).
struct Histogram {
    std::vector<std::string> labels;
    std::vector<double> counts;
};

inline Histogram time_to_accept_histogram(const std::vector<double>& waits) {
    static constexpr double edges[] = {0, 1e-6, 5, 10, 20, 30, 60, 120, 300, 600, 1200};
    static constexpr const char* names[] = {"0 s",       "<5 s",     "5-10 s",    "10-20 s",    "20-30 s",   "30-60 s",
                                            "1-2 min",   "2-5 min",  "5-10 min", "10-20 min", "20+ min"};
    Histogram h;
    for (const char* name : names) h.labels.emplace_back(name);
    h.counts.assign(std::size(names), 0);
    for (double w : waits) {
        std::size_t bucket = std::size(edges) - 1;
        for (std::size_t i = 1; i < std::size(edges); ++i)
            if (w < edges[i]) {
                bucket = i - 1;
                break;
            }
        h.counts[bucket] += 1;
    }
    return h;
}

inline std::string report_head(std::string_view title = "chatroute-sim report") {
    return fmt::format(R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{}</title>
<style>
body{{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:24px auto;max-width:900px;color:#1d2733;background:#fff}}
h1{{font-size:22px;margin:0 0 4px}}h2{{font-size:16px;margin:26px 0 8px}}
p.sub{{color:#566;margin:0 0 16px}}
table{{border-collapse:collapse;font-size:13px}}td,th{{padding:3px 14px 3px 0;text-align:left}}td.n{{text-align:right;font-variant-numeric:tabular-nums}}
.cards{{display:flex;gap:8px;margin:12px 0}}
.card{{flex:1;border:1px solid #d8dee6;border-radius:6px;padding:8px 10px}}
.card b{{display:block;font-size:20px}}.card span{{font-size:12px;color:#566}}
svg{{display:block;margin:6px 0 4px}}svg .title{{font-size:14px;font-weight:600;fill:#1d2733}}
svg .tick{{font-size:11px;fill:#566}}svg .axis{{font-size:12px;fill:#334}}svg .legend{{font-size:12px;fill:#334}}
svg .grid{{stroke:#e6eaef;stroke-width:1}}svg .frame{{fill:none;stroke:#b8c2cc;stroke-width:1}}
</style></head>)",
                       svg::escape(title));
}

inline std::string report_html(const Results& r) {
    const Summary s = summarize(r);
    const Scenario& sc = r.scenario;
    std::vector<double> hours, queue, peak_queue, available, busy, staffed;
    for (const IntervalRow& row : r.intervals) {
        hours.push_back((row.start_seconds + sc.interval_minutes * 30) / 3600);
        queue.push_back(row.mean_queue);
        peak_queue.push_back(row.peak_queue);
        available.push_back(row.mean_available_agents);
        busy.push_back(row.mean_busy_slots);
        staffed.push_back(row.mean_staffed_slots);
    }
    const double x_end = std::max(1.0, r.horizon_seconds / 3600);
    std::vector<double> started, answered;
    for (const IntervalRow& row : r.intervals) {
        started.push_back(row.started);
        answered.push_back(row.accepted);
    }
    const Histogram histogram = time_to_accept_histogram(r.waits);
    std::vector<std::string> agent_names;
    std::vector<double> occupancy;
    for (const AgentResult& a : r.agents) {
        agent_names.push_back(a.name);
        occupancy.push_back(a.occupancy());
    }

    std::string html = report_head() + "<body>\n";
    html += "<h1>chatroute-sim: a simulated help-desk day</h1>\n";
    html += fmt::format("<p class=\"sub\">{} h, {} spaces, {} agents, seed {}, traffic ×{}. Every chart comes from the "
                        "engine's own events.</p>\n",
                        sc.hours, sc.spaces.size(), sc.agent_count(), sc.seed, sc.traffic);
    const auto card = [](const std::string& value, std::string_view label) {
        return fmt::format("<div class=\"card\"><b>{}</b><span>{}</span></div>", value, label);
    };
    html += "<div class=\"cards\">";
    html += card(fmt::format("{}", r.started), "conversations started");
    html += card(percent(r.answered_share()), "answered");
    html += card(human_duration(s.wait_p50), "time to accept, p50");
    html += card(human_duration(s.wait_p90), "time to accept, p90");
    html += card(fmt::format("{:.0f}", r.peak_queue), "peak queue");
    html += card(percent(r.occupancy()), "agent occupancy");
    html += "</div>\n";

    html += "<h2>Queue and agents over time</h2>\n";
    html += svg::line_chart("Queue length: conversations waiting for an agent", hours, x_end,
                            {{"mean per interval", "#d9534f", queue}, {"peak in interval", "#e8a09e", peak_queue, true}},
                            "conversations");
    html += svg::line_chart("Available agents (available in at least one space)", hours, x_end,
                            {{"mean per interval", "#2f7ed8", available}}, "agents");
    html += svg::line_chart("Conversations started and answered per interval", hours, x_end,
                            {{"started", "#7a5cc2", started}, {"answered", "#3a9d5d", answered}}, "conversations");
    html += svg::line_chart("Agent slots: staffed and in use (mean per interval)", hours, x_end,
                            {{"staffed slots", "#8c9aa8", staffed}, {"slots in use", "#e08a1e", busy}}, "slots");
    html += "<h2>Time to accept</h2>\n";
    html += svg::bar_chart("Time to accept, answered conversations", histogram.labels, histogram.counts, "conversations",
                           "#2f7ed8", false, false);
    html += "<h2>Occupancy per agent</h2>\n";
    html += svg::bar_chart("Occupancy per agent (slot time used / slot time staffed)", agent_names, occupancy,
                           "occupancy", "#e08a1e", true, true);
    if (uses_control(r)) {
        html += "<h2>Transfers, requeues and returns</h2>\n";
        html += svg::bar_chart("Transfers, requeues and returns over the run",
                               {"transferred by the assignee", "requeued: assignee unresponsive",
                                "answered again", "ended waiting again", "assignee went silent",
                                "silent: customer ended", "auto-returns (agent-space)"},
                               {static_cast<double>(r.transfers), static_cast<double>(r.unresponsive_requeues),
                                static_cast<double>(r.reaccepted),
                                static_cast<double>(r.ended_after_transfer_unanswered),
                                static_cast<double>(r.silent_agent_conversations),
                                static_cast<double>(r.silent_agent_customer_ends), static_cast<double>(r.auto_returns)},
                               "count", "#7a5cc2", false, true);
    }
    html += "<h2>Summary</h2>\n<pre>" + svg::escape(summary_text(r)) + "</pre>\n";
    html += "</body></html>\n";
    return html;
}

// `--compare-strategies --report FILE.html`: the same day under each strategy, side by side.
inline std::string comparison_html(const std::vector<StrategyRun>& runs) {
    std::string html = report_head("chatroute-sim: strategies compared") + "<body>\n";
    if (runs.empty()) return html + "</body></html>\n";
    const Scenario& sc = runs.front().results.scenario;
    html += "<h1>chatroute-sim: one day under each routing strategy</h1>\n";
    html += fmt::format("<p class=\"sub\">{} h, {} spaces, {} agents, seed {}, traffic ×{}. The same arrivals in every "
                        "run (same seed); every space on the strategy of its run (SPEC R28).</p>\n",
                        sc.hours, sc.spaces.size(), sc.agent_count(), sc.seed, sc.traffic);
    std::vector<std::string> names;
    svg::Series mean{"mean", "#8c9aa8", {}}, p50{"p50", "#2f7ed8", {}}, p90{"p90", "#e08a1e", {}},
        p99{"p99", "#d9534f", {}};
    svg::Series occ_min{"lowest agent", "#8c9aa8", {}}, occ_all{"all agents", "#e08a1e", {}},
        occ_max{"highest agent", "#d9534f", {}};
    std::vector<svg::Series> queues;
    static constexpr const char* colors[] = {"#2f7ed8", "#3a9d5d", "#e08a1e", "#7a5cc2"};
    std::vector<double> hours;
    for (const IntervalRow& row : runs.front().results.intervals)
        hours.push_back((row.start_seconds + sc.interval_minutes * 30) / 3600);
    double x_end = 1;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        const Results& r = runs[i].results;
        const Summary s = summarize(r);
        names.push_back(runs[i].strategy);
        mean.values.push_back(s.wait_mean);
        p50.values.push_back(s.wait_p50);
        p90.values.push_back(s.wait_p90);
        p99.values.push_back(s.wait_p99);
        occ_min.values.push_back(s.occupancy_min * 100);
        occ_all.values.push_back(r.occupancy() * 100);
        occ_max.values.push_back(s.occupancy_max * 100);
        svg::Series q{runs[i].strategy, colors[i % std::size(colors)], {}};
        for (const IntervalRow& row : r.intervals) q.values.push_back(row.mean_queue);
        queues.push_back(std::move(q));
        x_end = std::max(x_end, r.horizon_seconds / 3600);
    }
    html += "<h2>Time to accept per strategy</h2>\n";
    html += svg::grouped_bar_chart("Time to accept, answered conversations (seconds)", names, {mean, p50, p90, p99},
                                   "seconds");
    html += "<table><tr><th>strategy</th><th>started</th><th>answered</th><th>wait mean</th><th>p50</th><th>p90</th>"
            "<th>p99</th><th>left before an answer</th><th>peak queue</th><th>occupancy</th><th>per agent</th></tr>\n";
    for (const StrategyRun& run : runs) {
        const Results& r = run.results;
        const Summary s = summarize(r);
        html += fmt::format(
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.1f} s</td>"
            "<td class=\"n\">{:.1f} s</td><td class=\"n\">{:.1f} s</td><td class=\"n\">{:.1f} s</td><td class=\"n\">{}</td>"
            "<td class=\"n\">{:.0f}</td><td class=\"n\">{}</td><td class=\"n\">{:.0f}-{:.0f} %</td></tr>\n",
            run.strategy, r.started, percent(r.answered_share()), s.wait_mean, s.wait_p50, s.wait_p90, s.wait_p99,
            r.abandoned, r.peak_queue, percent(r.occupancy()), s.occupancy_min * 100, s.occupancy_max * 100);
    }
    html += "</table>\n";
    html += "<h2>How the load is spread</h2>\n";
    html += svg::grouped_bar_chart("Agent occupancy: the lowest agent, all agents, the highest agent (%)", names,
                                   {occ_min, occ_all, occ_max}, "occupancy %");
    html += "<h2>Queue over the day</h2>\n";
    html += svg::line_chart("Queue length, mean per interval, per strategy", hours, x_end, queues, "conversations");
    html += "<h2>Summary</h2>\n<pre>" + svg::escape(comparison_text(runs)) + "</pre>\n";
    html += "</body></html>\n";
    return html;
}

}  // namespace chatroute::sim
