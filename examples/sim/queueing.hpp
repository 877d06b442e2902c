#pragma once
// Queueing theory to check the simulator against: Erlang C for M/M/c, and batch means
// for a confidence interval from one long run.

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <vector>

namespace chatroute::sim::queueing {

// Probability that an arrival waits in an M/M/c queue with offered load a = λ/μ (Erlang C).
inline double erlang_c(int servers, double load) {
    if (servers < 1 || load < 0 || load >= servers) throw std::domain_error("erlang_c needs 0 <= load < servers");
    // Erlang B by its stable recurrence, then C from B.
    double b = 1.0;
    for (int k = 1; k <= servers; ++k) b = load * b / (k + load * b);
    const double rho = load / servers;
    return b / (1 - rho + rho * b);
}

struct MMc {
    double arrival_rate;  // λ, per second
    double service_time;  // 1/μ, seconds
    int servers;          // c

    [[nodiscard]] double load() const { return arrival_rate * service_time; }
    [[nodiscard]] double utilisation() const { return load() / servers; }
    [[nodiscard]] double probability_of_waiting() const { return erlang_c(servers, load()); }
    // Mean time in the queue, every arrival counted (those served at once wait 0).
    [[nodiscard]] double mean_wait() const {
        return probability_of_waiting() * service_time / (servers - load());
    }
};

// Student's t quantile for a two-sided 99.9 % interval, by degrees of freedom (≥ 1).
inline double t_999(std::size_t dof) {
    static constexpr double table[] = {0,     636.62, 31.599, 12.924, 8.610, 6.869, 5.959, 5.408, 5.041, 4.781, 4.587,
                                       4.437, 4.318,  4.221,  4.140,  4.073, 4.015, 3.965, 3.922, 3.883, 3.850, 3.819,
                                       3.792, 3.768,  3.745,  3.725,  3.707, 3.690, 3.674, 3.659, 3.646};
    if (dof < 1) throw std::domain_error("t_999 needs 1 degree of freedom or more");
    if (dof < std::size(table)) return table[dof];
    return 3.291;  // the normal's, near enough past 30
}

struct Estimate {
    double mean = 0;
    double half_width = 0;  // of the 99.9 % confidence interval
    [[nodiscard]] bool covers(double value) const { return std::fabs(value - mean) <= half_width; }
};

// Batch means: split the observations (in time order) into `batches` consecutive groups;
// their means are nearly independent, so their spread gives the interval.
inline Estimate batch_means(const std::vector<double>& values, std::size_t batches) {
    if (batches < 2 || values.size() < batches) throw std::domain_error("batch_means needs 2+ batches, 1+ value each");
    const std::size_t size = values.size() / batches;
    std::vector<double> means;
    for (std::size_t b = 0; b < batches; ++b) {
        double sum = 0;
        for (std::size_t i = b * size; i < (b + 1) * size; ++i) sum += values[i];
        means.push_back(sum / static_cast<double>(size));
    }
    double mean = 0;
    for (double m : means) mean += m;
    mean /= static_cast<double>(batches);
    double squares = 0;
    for (double m : means) squares += (m - mean) * (m - mean);
    const double sd = std::sqrt(squares / static_cast<double>(batches - 1));
    return {mean, t_999(batches - 1) * sd / std::sqrt(static_cast<double>(batches))};
}

}  // namespace chatroute::sim::queueing
