#pragma once
// Random numbers the same on every standard library: std::mt19937_64 is specified bit for
// bit, std::*_distribution is not, so every distribution here is written out by hand.

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>

namespace chatroute::sim {

class Random {
public:
    explicit Random(std::uint64_t seed) : engine_(seed) {}

    // Uniform on [0, 1): the top 53 bits of one draw.
    double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

    // Uniform on (0, 1]: safe to take the logarithm of.
    double uniform_open() { return 1.0 - uniform(); }

    double uniform(double low, double high) { return low + (high - low) * uniform(); }

    bool chance(double probability) { return probability > 0 && uniform() < probability; }

    // Exponential with the given mean; 0 when the mean is 0.
    double exponential(double mean) { return mean > 0 ? -mean * std::log(uniform_open()) : 0.0; }

    // Standard normal, Box-Muller (one of the pair; simple beats fast here).
    double normal() {
        const double radius = std::sqrt(-2.0 * std::log(uniform_open()));
        return radius * std::cos(2.0 * std::numbers::pi * uniform());
    }

    // Log-normal with the given mean and coefficient of variation.
    double lognormal(double mean, double cv) {
        if (mean <= 0) return 0.0;
        const double sigma2 = std::log1p(cv * cv);
        const double mu = std::log(mean) - sigma2 / 2;
        return std::exp(mu + std::sqrt(sigma2) * normal());
    }

    // Poisson with the given mean (Knuth's product method; means up to a few hundred).
    std::uint32_t poisson(double mean) {
        if (mean <= 0) return 0;
        const double limit = std::exp(-mean);
        std::uint32_t count = 0;
        double product = uniform_open();
        while (product > limit) {
            ++count;
            product *= uniform_open();
        }
        return count;
    }

    // A fresh, independent-looking stream for one part of the model (arrivals of one
    // space, one agent's behaviour...), so adding a part does not shift the others.
    Random split(std::uint64_t salt) {
        std::uint64_t z = engine_() ^ (salt * 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return Random(z ^ (z >> 31));
    }

private:
    std::mt19937_64 engine_;
};

}  // namespace chatroute::sim
