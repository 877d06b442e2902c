// chatroute-sim: a help-desk day through the chatroute engine. See --help and docs/simulation.md.

#include "cli.hpp"
#include "report.hpp"
#include "simulation.hpp"
#include "summary.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// A progress bar on stderr, only on a terminal and only once the run has taken a second.
// Wall time is read here for the bar alone; the simulation never sees it.
class ProgressBar {
public:
    explicit ProgressBar(bool enabled) : enabled_(enabled && isatty(STDERR_FILENO) == 1) {}
    void operator()(double done) {
        if (!enabled_) return;
        const auto now = std::chrono::steady_clock::now();
        if (now - started_ < std::chrono::seconds(1) || now - drawn_ < std::chrono::milliseconds(100)) return;
        drawn_ = now;
        const int width = 40;
        const int filled = static_cast<int>(done * width);
        std::fprintf(stderr, "\r[%s%s] %3d%%", std::string(static_cast<std::size_t>(filled), '#').c_str(),
                     std::string(static_cast<std::size_t>(width - filled), ' ').c_str(), static_cast<int>(done * 100));
        shown_ = true;
    }
    ~ProgressBar() {
        if (shown_) std::fprintf(stderr, "\r%*s\r", 48, "");
    }

private:
    bool enabled_;
    bool shown_ = false;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point drawn_{};
};

bool write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    out.close();
    if (!out) {
        std::fprintf(stderr, "chatroute-sim: cannot write '%s'\n", path.c_str());
        return false;
    }
    return true;
}

// Runs what the options ask for; returns the exit status.
int run_day(const chatroute::sim::Options& options) {
    using namespace chatroute::sim;
    if (options.compare_strategies) {
        std::vector<StrategyRun> runs;
        {
            ProgressBar bar(options.progress);
            runs = compare_strategies(options.scenario, [&bar](double done) { bar(done); });
        }
        bool ok = true;
        if (!options.csv_path.empty()) ok &= write_file(options.csv_path, comparison_csv(runs));
        if (!options.report_path.empty()) ok &= write_file(options.report_path, comparison_html(runs));
        if (options.json)
            std::puts(comparison_json(runs).dump(2).c_str());
        else
            std::fputs(comparison_text(runs).c_str(), stdout);
        for (const StrategyRun& run : runs) {
            if (run.results.engine_errors == 0) continue;
            std::fprintf(stderr, "chatroute-sim: under %s the engine refused %llu commands; first: %s\n",
                         run.strategy.c_str(), static_cast<unsigned long long>(run.results.engine_errors),
                         run.results.first_engine_error.c_str());
            return 3;
        }
        return ok ? 0 : 1;
    }

    Results results;
    {
        ProgressBar bar(options.progress);
        results = simulate(options.scenario, [&bar](double done) { bar(done); });
    }

    bool ok = true;
    if (!options.csv_path.empty()) ok &= write_file(options.csv_path, intervals_csv(results));
    if (!options.report_path.empty()) ok &= write_file(options.report_path, report_html(results));
    if (options.json)
        std::puts(results_json(results).dump(2).c_str());
    else
        std::fputs(summary_text(results).c_str(), stdout);
    if (results.engine_errors > 0) {
        std::fprintf(stderr, "chatroute-sim: the engine refused %llu commands; first: %s\n",
                     static_cast<unsigned long long>(results.engine_errors), results.first_engine_error.c_str());
        return 3;
    }
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace chatroute::sim;
    Options options;
    try {
        options = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "chatroute-sim: %s\n", e.what());
        return 2;
    }
    if (options.help) {
        std::fputs(usage_text.data(), stdout);
        return 0;
    }
    if (options.print_config) {
        std::puts(to_json(options.scenario).dump(2).c_str());
        return 0;
    }
    // parse_command_line() validated the scenario, so building the simulation should not
    // throw; if it does (an engine refusal validate() missed, no memory), say so and fail
    // rather than abort: a refused scenario is bad input (2), anything else exits 1.
    try {
        return run_day(options);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "chatroute-sim: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "chatroute-sim: %s\n", e.what());
        return 1;
    }
}
