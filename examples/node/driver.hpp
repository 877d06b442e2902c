#pragma once
// The load driver: a front end per site sending SPEC §10 commands (without `at`) as NATS
// requests, retrying a request with the same id until it is acknowledged. Each site's
// commands follow what the replies said (offers to accept, conversations to end...).

#include "nats.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace chatroute::node {

struct DriveConfig {
    std::string servers = "nats://127.0.0.1:4222";
    std::vector<std::string> sites;
    double seconds = 30;
    double rate = 20;  // commands per second per site; 0: as fast as replies come
    int threads = 16;
    std::int64_t request_timeout_ms = 1000;
    std::int64_t give_up_ms = 60'000;
    std::string acks_path;  // JSON Lines, one per acknowledged command
    std::string run = "run";
};

// What a front end knows of one site, from the replies it got.
class SiteScript {
public:
    SiteScript(std::string site, std::uint32_t seed) : site_(std::move(site)), random_(seed) {}

    std::string next() {
        using json = nlohmann::json;
        if (step_ < setup_.size()) return setup_[step_++];
        std::uniform_int_distribution<int> percent(0, 99);
        const int roll = percent(random_);
        std::vector<std::string> offered, active, wrapping;
        for (const auto& [c, s] : conversations_) {
            if (s.state == "offered") offered.push_back(c);
            if (s.state == "active") active.push_back(c);
            if (s.state == "wrapping") wrapping.push_back(c);
        }
        auto pick = [this](const std::vector<std::string>& from) {
            return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(random_)];
        };
        if (!unavailable_.empty() && roll < 10) {
            const std::string agent = *unavailable_.begin();
            unavailable_.erase(unavailable_.begin());
            return json{{"cmd", "set_availability"}, {"agent", agent}, {"space", "*"}, {"available", true}}.dump();
        }
        if (!offered.empty() && roll < 45) {
            const std::string c = pick(offered);
            const bool decline = percent(random_) < 10;
            return json{{"cmd", decline ? "decline" : "accept"}, {"agent", conversations_[c].agent}, {"conversation", c}}.dump();
        }
        if (!active.empty() && roll < 75) {
            const std::string c = pick(active);
            const int kind = percent(random_);
            if (kind < 15) return json{{"cmd", "end"}, {"conversation", c}, {"by", "agent"}, {"agent", conversations_[c].agent}}.dump();
            if (kind < 20) return json{{"cmd", "end"}, {"conversation", c}, {"by", "customer"}}.dump();
            if (kind < 30) return json{{"cmd", "note"}, {"conversation", c}, {"agent", conversations_[c].agent}}.dump();
            if (kind < 65) return json{{"cmd", "message"}, {"conversation", c}, {"from", "customer"}}.dump();
            return json{{"cmd", "message"}, {"conversation", c}, {"from", "agent"}, {"agent", conversations_[c].agent}}.dump();
        }
        if (!wrapping.empty() && roll < 85) {
            const std::string c = pick(wrapping);
            return json{{"cmd", "resolve"}, {"conversation", c}, {"agent", conversations_[c].agent}, {"resolution", "Done"}}.dump();
        }
        if (roll < 88) return json{{"cmd", "accept"}, {"agent", "a0"}, {"conversation", "nobody"}}.dump();  // an error line
        if (conversations_.size() < 12) {
            const std::string c = fmt::format("c{}", started_++);
            conversations_[c] = {"waiting", ""};
            return json{{"cmd", "start_conversation"}, {"conversation", c}, {"space", "help"}}.dump();
        }
        return json{{"cmd", "typing"}, {"conversation", conversations_.begin()->first}, {"from", "customer"}}.dump();
    }

    // Learns from the output lines of a command.
    void learn(const std::string& out) {
        std::size_t start = 0;
        while (start < out.size()) {
            std::size_t end = out.find('\n', start);
            if (end == std::string::npos) end = out.size();
            const auto e = nlohmann::json::parse(out.begin() + static_cast<std::ptrdiff_t>(start),
                                                 out.begin() + static_cast<std::ptrdiff_t>(end), nullptr, false);
            start = end + 1;
            if (!e.is_object() || !e.contains("event")) continue;
            const std::string event = e["event"].get<std::string>();
            const std::string c = e.value("conversation", "");
            if (event == "offered") conversations_[c] = {"offered", e.value("agent", "")};
            if (event == "accepted") conversations_[c].state = "active";
            if (event == "offer_declined" || event == "offer_timed_out" || event == "offer_withdrawn")
                if (conversations_.contains(c)) conversations_[c].state = "waiting";
            if (event == "status_changed" && e.value("to", "") == "wrapping_up") conversations_[c].state = "wrapping";
            if (event == "status_changed" && e.value("to", "") == "closed") conversations_.erase(c);
            if (event == "availability_changed" && !e.value("available", true))
                unavailable_.insert(e.value("agent", ""));
        }
    }

private:
    struct Conversation {
        std::string state, agent;
    };
    std::string site_;
    std::mt19937 random_;
    std::size_t step_ = 0;
    std::vector<std::string> setup_{
        R"({"cmd":"add_space","space":"help","offer_timeout":4,"accept_window":40,"inactivity_warning":20,"inactivity_grace":5})",
        R"({"cmd":"add_agent","agent":"a0","limit":2})", R"({"cmd":"add_agent","agent":"a1","limit":2})",
        R"({"cmd":"add_agent","agent":"a2","limit":3})", R"({"cmd":"grant_role","agent":"a0","space":"help"})",
        R"({"cmd":"grant_role","agent":"a1","space":"help"})", R"({"cmd":"grant_role","agent":"a2","space":"help"})",
        R"({"cmd":"set_availability","agent":"a0","space":"help","available":true})",
        R"({"cmd":"set_availability","agent":"a1","space":"help","available":true})",
        R"({"cmd":"set_availability","agent":"a2","space":"*","available":true})"};
    std::map<std::string, Conversation> conversations_;
    std::set<std::string> unavailable_;
    std::uint64_t started_ = 0;
};

struct DriveResult {
    std::uint64_t acked = 0, retried = 0, failed = 0;
    std::vector<std::int64_t> latencies_us;
};

inline int drive(const DriveConfig& config) {
    Connection conn;
    if (!conn.connect(config.servers, "chatroute-node drive")) {
        fmt::print(stderr, "drive: cannot connect to {}\n", config.servers);
        return 1;
    }
    std::FILE* acks = config.acks_path.empty() ? nullptr : std::fopen(config.acks_path.c_str(), "w");
    std::mutex mutex;
    DriveResult total;
    const std::int64_t start_ms = mono_ms();
    const std::int64_t end_ms = start_ms + static_cast<std::int64_t>(config.seconds * 1000);
    std::atomic<bool> stop{false};
    std::vector<std::thread> workers;
    const int threads = std::max(1, std::min<int>(config.threads, static_cast<int>(config.sites.size())));
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            struct State {
                std::string name;
                SiteScript script;
                std::uint64_t n = 0;
                std::int64_t due_ms = 0;
            };
            std::vector<State> mine;
            for (std::size_t i = static_cast<std::size_t>(t); i < config.sites.size(); i += static_cast<std::size_t>(threads))
                mine.push_back({config.sites[i], SiteScript(config.sites[i], static_cast<std::uint32_t>(i * 7919 + 1)), 0, 0});
            DriveResult local;
            std::string lines;
            const std::int64_t interval_us = config.rate > 0 ? static_cast<std::int64_t>(1e6 / config.rate) : 0;
            while (mono_ms() < end_ms && !stop.load()) {
                bool sent = false;
                for (State& s : mine) {
                    if (mono_ms() >= end_ms) break;
                    if (interval_us > 0 && wall_us() < s.due_ms) continue;
                    s.due_ms = wall_us() + interval_us;
                    sent = true;
                    const std::string body = s.script.next();
                    const std::string id = fmt::format("{}-{}-{}", config.run, s.name, s.n++);
                    const std::string subject = Names::request_subject(s.name);
                    const std::int64_t sent_ms = wall_ms();
                    const std::int64_t sent_us = wall_us();
                    int tries = 0;
                    bool done = false;
                    while (!done && wall_ms() - sent_ms < config.give_up_ms) {
                        ++tries;
                        natsMsg* req = nullptr;
                        natsMsg_Create(&req, subject.c_str(), nullptr, body.data(), static_cast<int>(body.size()));
                        Msg request(req);
                        natsMsgHeader_Set(req, "Chatroute-Id", id.c_str());
                        natsMsg* rep = nullptr;
                        const natsStatus st = natsConnection_RequestMsg(&rep, conn.nc(), req, config.request_timeout_ms);
                        if (st != NATS_OK) {
                            if (st == NATS_NO_RESPONDERS) std::this_thread::sleep_for(std::chrono::milliseconds(50));
                            continue;
                        }
                        Msg reply(rep);
                        const auto r = nlohmann::json::parse(data(rep).begin(), data(rep).end(), nullptr, false);
                        if (!r.is_object() || !r.value("ok", false)) break;  // refused: not a command
                        const std::int64_t acked_us = wall_us();
                        local.latencies_us.push_back(acked_us - sent_us);
                        ++local.acked;
                        if (tries > 1) ++local.retried;
                        const std::string out = r.value("out", "");
                        s.script.learn(out);
                        lines += nlohmann::json{{"site", s.name}, {"id", id}, {"seq", r.value("seq", 0)},
                                                {"node", r.value("node", "")}, {"sent_ms", sent_ms},
                                                {"acked_ms", acked_us / 1000}, {"tries", tries}}
                                     .dump();
                        lines += '\n';
                        done = true;
                    }
                    if (!done) ++local.failed;
                }
                if (acks != nullptr && lines.size() > 4096) {
                    std::lock_guard lock(mutex);
                    std::fwrite(lines.data(), 1, lines.size(), acks);
                    std::fflush(acks);
                    lines.clear();
                }
                if (!sent) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
            std::lock_guard lock(mutex);
            if (acks != nullptr) std::fwrite(lines.data(), 1, lines.size(), acks);
            total.acked += local.acked;
            total.retried += local.retried;
            total.failed += local.failed;
            total.latencies_us.insert(total.latencies_us.end(), local.latencies_us.begin(), local.latencies_us.end());
        });
    }
    for (auto& w : workers) w.join();
    if (acks != nullptr) std::fclose(acks);
    const double elapsed = static_cast<double>(mono_ms() - start_ms) / 1000.0;
    auto& l = total.latencies_us;
    std::sort(l.begin(), l.end());
    auto pct = [&l](double p) { return l.empty() ? 0 : l[std::min(l.size() - 1, static_cast<std::size_t>(p * static_cast<double>(l.size())))]; };
    fmt::print("{}\n", nlohmann::json{{"acked", total.acked},
                                      {"retried", total.retried},
                                      {"failed", total.failed},
                                      {"seconds", elapsed},
                                      {"commands_per_second", static_cast<double>(total.acked) / elapsed},
                                      {"per_site_per_second", static_cast<double>(total.acked) / elapsed /
                                                                  static_cast<double>(config.sites.size())},
                                      {"latency_us_p50", pct(0.5)},
                                      {"latency_us_p99", pct(0.99)},
                                      {"latency_us_max", l.empty() ? 0 : l.back()}}
                           .dump());
    return total.failed == 0 ? 0 : 1;
}

}  // namespace chatroute::node
