#pragma once
// chatroute-node: serves chatroute sites from a replicated NATS JetStream log.
//
// Per site: a stream CR_SITE_<site> (subject chatroute.log.<site>) holds the site's
// commands as SPEC §10 lines, stamped with the owner's clock. The owner (lease in the
// key-value bucket cr_leases) answers requests on chatroute.cmd.<site>: it stamps the
// command, appends it with the expected last sequence (a deposed owner's append is
// refused), applies it with the replay tool's Replayer, publishes the output lines on
// chatroute.events.<site> (stream CR_EVENTS) with message id "<site>:<seq>", and replies.

#include "nats.hpp"

#include "../replay/replayer.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstring>
#include <thread>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace chatroute::node {

struct Config {
    std::string servers = "nats://127.0.0.1:4222";
    std::string node = "node-1";
    std::vector<std::string> sites;
    int replicas = 1;
    std::int64_t lease_ms = 3000;
    std::int64_t renew_ms = 1000;
    std::uint64_t snapshot_every = 1000;  // commands
    std::int64_t snapshot_ms = 30'000;    // and at least this often while commands arrive
    std::int64_t epoch_s = 1'767'225'600;  // site time 0: 2026-01-01T00:00:00Z
    bool rebalance = true;
};

// Seconds with six decimals, as the stream's lines carry them.
inline std::string seconds_text(std::int64_t us) { return fmt::format("{}.{:06}", us / 1'000'000, us % 1'000'000); }

// The `at` of a stamped line (`{"at":S.UUUUUU,...`), in microseconds.
inline std::optional<std::int64_t> stamped_at(std::string_view line) {
    constexpr std::string_view prefix = R"({"at":)";
    if (line.substr(0, prefix.size()) != prefix) return std::nullopt;
    line.remove_prefix(prefix.size());
    std::int64_t whole = 0, frac = 0;
    auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), whole);
    if (ec != std::errc{} || p == line.data() + line.size() || *p != '.') return std::nullopt;
    const char* start = p + 1;
    auto [q, ec2] = std::from_chars(start, line.data() + line.size(), frac);
    if (ec2 != std::errc{} || q - start != 6) return std::nullopt;
    return whole * 1'000'000 + frac;
}

// The replayer counts lines from its restore; the stream counts from 1. An error line is
// always the last line of a command's output: `...,"line":N}`.
inline std::string renumber_error(std::string out, std::uint64_t line) {
    if (out.size() < 2 || out.back() != '\n') return out;
    const std::size_t begin = out.rfind('\n', out.size() - 2) == std::string::npos ? 0 : out.rfind('\n', out.size() - 2) + 1;
    const std::string_view last(out.data() + begin, out.size() - begin);
    const std::size_t key = last.rfind(R"(,"line":)");
    if (last.substr(0, 1) != "{" || last.find(R"("error":)") == std::string_view::npos || key == std::string_view::npos)
        return out;
    out.resize(begin + key);
    out += fmt::format(R"(,"line":{}}})"
                       "\n",
                       line);
    return out;
}

inline std::uint64_t rendezvous_score(std::string_view node, std::string_view site) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    auto mix = [&h](std::string_view text) {
        for (unsigned char c : text) {
            h ^= c;
            h *= 0x100000001b3ULL;
        }
    };
    mix(node);
    mix("/");
    mix(site);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

class Node {
public:
    explicit Node(Config config) : config_(std::move(config)) {}

    static void on_ack(jsCtx*, natsMsg* msg, jsPubAck*, jsPubAckErr* err, void* closure) {
        if (err == nullptr || msg == nullptr) return;
        auto* self = static_cast<Node*>(closure);
        std::lock_guard lock(self->retry_mutex_);
        self->retries_.push_back({natsMsg_GetSubject(msg), std::string(data(msg)), header(msg, "Nats-Msg-Id")});
    }

    bool start() {
        if (!conn_.connect(config_.servers, "chatroute-node " + config_.node, &Node::on_ack, this)) {
            log("cannot connect to {}", config_.servers);
            return false;
        }
        for (int attempt = 0; attempt < 100; ++attempt) {
            leases_ = conn_.bucket(Names::leases, config_.replicas, config_.lease_ms);
            nodes_ = conn_.bucket(Names::nodes, config_.replicas, config_.lease_ms);
            snapshots_ = conn_.bucket(Names::snapshots, config_.replicas, 0);
            auto events = conn_.ensure_stream(Names::events_stream, Names::events_subjects, config_.replicas,
                                              120'000'000'000LL);
            if (leases_ && nodes_ && snapshots_ && !events) break;
            leases_.reset();
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        if (!leases_) {
            log("cannot open the JetStream buckets and the events stream");
            return false;
        }
        natsSubscription* raw = nullptr;
        if (natsConnection_SubscribeSync(&raw, conn_.nc(), Names::requests) != NATS_OK) return false;
        requests_.reset(raw);
        natsSubscription_SetPendingLimits(raw, 1 << 20, 1 << 30);
        log("started: {} sites, replicas {}, lease {} ms, renew every {} ms, snapshot every {} commands", config_.sites.size(),
            config_.replicas, config_.lease_ms, config_.renew_ms, config_.snapshot_every);
        return true;
    }

    void run(const std::atomic<bool>& stop) {
        while (!stop.load()) {
            natsMsg* raw = nullptr;
            const natsStatus s = natsSubscription_NextMsg(&raw, requests_.get(), 5);
            if (s == NATS_OK) {
                Msg msg(raw);
                handle_request(msg.get());
                continue_with_timers_every(64);
                continue;
            }
            timers();
        }
        shutdown();
    }

    // Statistics for the log and for tests.
    std::uint64_t fenced() const { return fenced_; }

private:
    struct Site {
        // User-provided: Clang does not count a nested class with member initializers as
        // default-constructible before its enclosing class is complete (optional::emplace).
        Site() {}  // NOLINT(modernize-use-equals-default)
        std::string name;
        std::unique_ptr<fmt::memory_buffer> out = std::make_unique<fmt::memory_buffer>();
        std::unique_ptr<replay::Replayer> replayer = std::make_unique<replay::Replayer>(*out);
        std::uint64_t lease_revision = 0;
        std::uint64_t epoch = 0;  // the lease revision when this node took the site
        std::uint64_t applied = 0;  // stream sequence applied
        std::uint64_t line_offset = 0;
        std::int64_t last_at_us = 0;
        std::uint64_t snapshot_seq = 0;
        std::int64_t snapshot_mono_ms = 0;
        bool wrote = false;  // appended at least once in this term
        std::deque<std::pair<std::uint64_t, std::string>> recent;  // seq -> output, for retried requests
    };
    struct Retry {
        std::string subject, data, id;
    };

    template <class... Args>
    void log(fmt::format_string<Args...> format, Args&&... args) {
        const std::string text = fmt::format(format, std::forward<Args>(args)...);
        fmt::print(stderr, "{} {} {}\n", wall_ms(), config_.node, text);
        std::fflush(stderr);
    }

    void continue_with_timers_every(int n) {
        if (++since_timers_ >= n) timers();
    }

    void timers() {
        since_timers_ = 0;
        drain_retries();
        fire_deadlines();
        const std::int64_t now = mono_ms();
        if (now >= next_lease_round_) {
            next_lease_round_ = now + config_.renew_ms;
            lease_round();
        }
        for (auto& [name, site] : owned_)
            if (site.applied > site.snapshot_seq && now - site.snapshot_mono_ms >= config_.snapshot_ms) snapshot(site);
    }

    // ---- Commands ----

    std::int64_t site_now_us(const Site& site) const {
        return std::max(site.last_at_us, wall_us() - config_.epoch_s * 1'000'000);
    }

    void reply(natsMsg* request, const std::string& body) {
        if (const char* to = natsMsg_GetReply(request); to != nullptr && *to != 0)
            natsConnection_Publish(conn_.nc(), to, body.data(), static_cast<int>(body.size()));
    }

    void handle_request(natsMsg* request) {
        const std::string subject = natsMsg_GetSubject(request);
        const std::string name = subject.substr(subject.rfind('.') + 1);
        auto it = owned_.find(name);
        if (it == owned_.end()) return;  // the owner answers
        Site& site = it->second;
        const std::string_view body = data(request);
        const auto parsed = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
        if (!parsed.is_object() || parsed.contains("at")) {
            reply(request, R"({"ok":false,"error":"a command is a JSON object without at"})");
            return;
        }
        std::size_t open = body.find('{');
        std::string_view rest = body.substr(open + 1);
        const std::int64_t at = site_now_us(site);
        const bool empty = rest.find_first_not_of(" \t\r\n") == std::string_view::npos || rest[rest.find_first_not_of(" \t\r\n")] == '}';
        std::string line = empty ? fmt::format(R"({{"at":{}}})", seconds_text(at))
                                 : fmt::format(R"({{"at":{},{})", seconds_text(at), rest);
        std::erase(line, '\n');
        const std::string id = header(request, "Chatroute-Id");
        auto result = append(site, line, id);
        if (!result) return;  // stepped down or the log is unavailable: the front end retries
        reply(request, fmt::format(R"({{"ok":true,"node":"{}","seq":{},"out":{}}})", config_.node, result->first,
                                   nlohmann::json(result->second).dump()));
    }

    // Appends a line with the expected last sequence, applies it and publishes its events.
    // Returns (sequence, output); empty when the append did not happen here.
    std::optional<std::pair<std::uint64_t, std::string>> append(Site& site, const std::string& line,
                                                                 const std::string& id) {
        natsMsg* raw = nullptr;
        const std::string subject = Names::log_subject(site.name);
        natsMsg_Create(&raw, subject.c_str(), nullptr, line.data(), static_cast<int>(line.size()));
        Msg msg(raw);
        const std::string epoch = std::to_string(site.epoch);
        natsMsgHeader_Set(raw, "Chatroute-Owner", config_.node.c_str());
        natsMsgHeader_Set(raw, "Chatroute-Epoch", epoch.c_str());
        jsPubOptions po;
        jsPubOptions_Init(&po);
        // The stream-wide expectation: in a cluster the leader checks it against the
        // sequence that counts the appends still in flight (the per-subject one, in
        // nats-server 2.9.10, did not: a test saw it accept a stale append). An empty
        // stream can only be expected per subject.
        if (site.applied == 0)
            po.ExpectNoMessage = true;
        else
            po.ExpectLastSeq = site.applied;
        if (!id.empty()) po.MsgId = id.c_str();
        po.MaxWait = 2000;
        jsPubAck* ack_raw = nullptr;
        jsErrCode code = static_cast<jsErrCode>(0);
        const natsStatus s = js_PublishMsg(&ack_raw, conn_.js(), raw, &po, &code);
        PubAck ack(ack_raw);
        if (s != NATS_OK) {
            if (code == JSStreamWrongLastSequenceErr) {
                fenced(site.name, fmt::format("fenced: append refused, expected last sequence {} is stale", site.applied));
            } else {
                log("append to {} failed: {}", site.name, Failure{s, code}.text());
            }
            return std::nullopt;
        }
        if (ack->Duplicate) {
            if (ack->Sequence <= site.applied) {
                for (const auto& [seq, out] : site.recent)
                    if (seq == ack->Sequence) return std::pair{seq, out};
                return std::pair{ack->Sequence, std::string{}};
            }
            fenced(site.name, fmt::format("fenced: request {} was appended at {} by another owner", id, ack->Sequence));
            return std::nullopt;
        }
        if (ack->Sequence != site.applied + 1) {
            fenced(site.name, fmt::format("fenced: appended at {} after {}", ack->Sequence, site.applied));
            return std::nullopt;
        }
        site.wrote = true;
        std::string out = apply(site, ack->Sequence, line);
        publish_events(site, ack->Sequence, out);
        if (site.applied - site.snapshot_seq >= config_.snapshot_every) snapshot(site);
        return std::pair{ack->Sequence, std::move(out)};
    }

    std::string apply(Site& site, std::uint64_t seq, std::string_view line) {
        site.replayer->apply(line);
        std::string out = renumber_error(std::string(site.out->data(), site.out->size()), seq);
        site.out->clear();
        site.applied = seq;
        if (auto at = stamped_at(line)) site.last_at_us = std::max(site.last_at_us, *at);
        site.recent.emplace_back(seq, out);
        if (site.recent.size() > 256) site.recent.pop_front();
        return out;
    }

    void publish_events(const Site& site, std::uint64_t seq, const std::string& out) {
        if (out.empty()) return;
        const std::string subject = Names::events_subject(site.name);
        const std::string id = fmt::format("{}:{}", site.name, seq);
        natsMsg* raw = nullptr;
        natsMsg_Create(&raw, subject.c_str(), nullptr, out.data(), static_cast<int>(out.size()));
        const std::string seq_text = std::to_string(seq);
        natsMsgHeader_Set(raw, "Chatroute-Seq", seq_text.c_str());
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MsgId = id.c_str();
        if (js_PublishMsgAsync(conn_.js(), &raw, &po) != NATS_OK) {
            if (raw != nullptr) natsMsg_Destroy(raw);
            std::lock_guard lock(retry_mutex_);
            retries_.push_back({subject, out, id});
        }
    }

    // Publishes again, synchronously, the events whose asynchronous publication failed.
    void drain_retries() {
        std::vector<Retry> retries;
        {
            std::lock_guard lock(retry_mutex_);
            retries.swap(retries_);
        }
        for (std::size_t i = 0; i < retries.size(); ++i) {
            const Retry& r = retries[i];
            natsMsg* raw = nullptr;
            natsMsg_Create(&raw, r.subject.c_str(), nullptr, r.data.data(), static_cast<int>(r.data.size()));
            Msg msg(raw);
            natsMsgHeader_Set(raw, "Chatroute-Seq", r.id.substr(r.id.rfind(':') + 1).c_str());
            jsPubOptions po;
            jsPubOptions_Init(&po);
            po.MsgId = r.id.c_str();
            jsPubAck* ack = nullptr;
            if (js_PublishMsg(&ack, conn_.js(), raw, &po, nullptr) == NATS_OK) {
                jsPubAck_Destroy(ack);
                continue;
            }
            std::lock_guard lock(retry_mutex_);
            retries_.insert(retries_.end(), retries.begin() + static_cast<std::ptrdiff_t>(i), retries.end());
            return;
        }
    }

    bool events_settled() {
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = 5000;
        if (js_PublishAsyncComplete(conn_.js(), &po) != NATS_OK) return false;
        drain_retries();
        std::lock_guard lock(retry_mutex_);
        return retries_.empty();
    }

    void fire_deadlines() {
        std::vector<std::string> due;
        for (auto& [name, site] : owned_) {
            const auto deadline = site.replayer->engine().next_deadline();
            if (deadline && deadline->time_since_epoch().count() <= site_now_us(site)) due.push_back(name);
        }
        for (const std::string& name : due) {
            auto it = owned_.find(name);
            if (it == owned_.end()) continue;
            (void)append(it->second, fmt::format(R"({{"at":{},"cmd":"tick"}})", seconds_text(site_now_us(it->second))), {});
        }
    }

    // ---- Snapshots: cr_snapshots holds <site>.meta (JSON) and the chunks <site>.<seq>.<i> ----

    void snapshot(Site& site) {
        site.snapshot_mono_ms = mono_ms();
        if (!events_settled()) return;  // a snapshot promises that the events before it were published
        const std::vector<std::byte> bytes = site.replayer->snapshot();
        constexpr std::size_t chunk = 512 * 1024;
        const std::size_t chunks = (bytes.size() + chunk - 1) / chunk;
        for (std::size_t i = 0; i < chunks; ++i) {
            const std::string key = fmt::format("{}.{}.{}", site.name, site.applied, i);
            const std::size_t size = std::min(chunk, bytes.size() - i * chunk);
            std::uint64_t rev = 0;
            if (kvStore_Put(&rev, snapshots_.get(), key.c_str(), bytes.data() + i * chunk, static_cast<int>(size)) != NATS_OK)
                return;
        }
        nlohmann::json meta{{"seq", site.applied}, {"chunks", chunks}, {"bytes", bytes.size()},
                            {"at_us", site.last_at_us}, {"node", config_.node}};
        const std::string text = meta.dump();
        std::uint64_t rev = 0;
        const std::string meta_key = site.name + ".meta";
        if (kvStore_Put(&rev, snapshots_.get(), meta_key.c_str(), text.data(), static_cast<int>(text.size())) != NATS_OK)
            return;
        const std::uint64_t old = site.snapshot_seq;
        const std::size_t old_chunks = snapshot_chunks_[site.name];
        site.snapshot_seq = site.applied;
        snapshot_chunks_[site.name] = chunks;
        for (std::size_t i = 0; i < old_chunks; ++i) {
            const std::string key = fmt::format("{}.{}.{}", site.name, old, i);
            kvStore_Purge(snapshots_.get(), key.c_str(), nullptr);
        }
    }

    // Restores the latest snapshot of the site; returns its sequence (0: none).
    std::uint64_t restore(Site& site, std::size_t& bytes_read) {
        kvEntry* raw = nullptr;
        const std::string meta_key = site.name + ".meta";
        if (kvStore_Get(&raw, snapshots_.get(), meta_key.c_str()) != NATS_OK) return 0;
        KvEntry entry(raw);
        const auto meta = nlohmann::json::parse(kvEntry_ValueString(raw), nullptr, false);
        if (!meta.is_object()) return 0;
        const auto seq = meta.value("seq", std::uint64_t{0});
        const auto chunks = meta.value("chunks", std::size_t{0});
        std::vector<std::byte> bytes;
        for (std::size_t i = 0; i < chunks; ++i) {
            const std::string key = fmt::format("{}.{}.{}", site.name, seq, i);
            kvEntry* c = nullptr;
            if (kvStore_Get(&c, snapshots_.get(), key.c_str()) != NATS_OK) return 0;
            KvEntry chunk(c);
            const auto* p = static_cast<const std::byte*>(kvEntry_Value(c));
            bytes.insert(bytes.end(), p, p + kvEntry_ValueLen(c));
        }
        if (auto why = site.replayer->restore(bytes)) {
            log("snapshot of {} at {} not usable: {}", site.name, seq, *why);
            site.out->clear();
            site.replayer = std::make_unique<replay::Replayer>(*site.out);
            return 0;
        }
        bytes_read = bytes.size();
        site.last_at_us = meta.value("at_us", std::int64_t{0});
        snapshot_chunks_[site.name] = chunks;
        return seq;
    }

    // Applies what the stream holds past what the site has applied; republishes events.
    bool catch_up(Site& site, std::size_t& replayed, bool& newer_epoch) {
        const auto last = conn_.last_sequence(Names::commands_stream(site.name));
        if (!last) return false;
        std::int64_t renew_at = mono_ms() + config_.renew_ms;
        auto failure = conn_.read(Names::commands_stream(site.name), Names::log_subject(site.name), site.applied + 1, *last,
                                  [&](natsMsg* m, std::uint64_t seq) {
                                      if (seq != site.applied + 1) return false;
                                      // A writer with a newer lease has written: this node is not the owner.
                                      if (std::stoull("0" + header(m, "Chatroute-Epoch")) > site.epoch) {
                                          newer_epoch = true;
                                          return false;
                                      }
                                      const std::string out = apply(site, seq, data(m));
                                      publish_events(site, seq, out);
                                      ++replayed;
                                      if (mono_ms() >= renew_at) {  // a long replay keeps its lease
                                          renew(site);
                                          renew_at = mono_ms() + config_.renew_ms;
                                      }
                                      return true;
                                  });
        return !failure && site.applied == *last;
    }

    // ---- Leases ----

    // This node and the others whose heartbeat has not expired; empty when unknown.
    std::optional<std::vector<std::string>> live_nodes() {
        std::vector<std::string> live{config_.node};
        kvKeysList list{};
        const natsStatus s = kvStore_Keys(&list, nodes_.get(), nullptr);
        if (s == NATS_NOT_FOUND) return live;
        if (s != NATS_OK) return std::nullopt;
        for (int i = 0; i < list.Count; ++i)
            if (config_.node != list.Keys[i]) live.emplace_back(list.Keys[i]);
        kvKeysList_Destroy(&list);
        return live;
    }

    std::string preferred(const std::string& site, const std::vector<std::string>& live) const {
        return *std::max_element(live.begin(), live.end(), [&](const std::string& a, const std::string& b) {
            return rendezvous_score(a, site) < rendezvous_score(b, site);
        });
    }

    static constexpr const char* released_marker = "released";

    std::string lease_value() const { return fmt::format(R"({{"node":"{}","since":{}}})", config_.node, wall_ms()); }

    bool renew(Site& site) {
        const std::string value = lease_value();
        std::uint64_t rev = 0;
        jsErrCode code{};
        (void)code;
        const natsStatus s =
            kvStore_Update(&rev, leases_.get(), site.name.c_str(), value.data(), static_cast<int>(value.size()), site.lease_revision);
        if (s == NATS_OK) {
            site.lease_revision = rev;
            return true;
        }
        if (s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS || s == NATS_CONNECTION_CLOSED || s == NATS_CONNECTION_DISCONNECTED)
            return true;  // the log is unreachable for now: fencing still protects the stream
        lost_.push_back(site.name);
        return false;
    }

    void lease_round() {
        const bool first_round = !heartbeat_sent_;
        heartbeat_sent_ = true;
        const std::string heartbeat = lease_value();
        std::uint64_t rev = 0;
        kvStore_Put(&rev, nodes_.get(), config_.node.c_str(), heartbeat.data(), static_cast<int>(heartbeat.size()));
        if (first_round) return;  // let the other nodes see this one before taking sites
        for (auto& [name, site] : owned_) renew(site);
        for (const std::string& name : lost_)
            if (owned_.contains(name)) step_down(name, "lease lost: renewal refused (it expired and another node took it)");
        lost_.clear();
        const auto known = live_nodes();
        if (!known) return;  // without the list of live nodes, take nothing and give nothing away
        const std::vector<std::string>& live = *known;
        bool released = false;
        const std::int64_t now = mono_ms();
        for (const std::string& name : config_.sites) {
            const std::string want = preferred(name, live);
            if (auto it = owned_.find(name); it != owned_.end()) {
                if (config_.rebalance && !released && want != config_.node) {
                    released = true;
                    release(it->second, fmt::format("rebalance: {} is the site's rendezvous choice among {} live nodes", want,
                                                    live.size()));
                }
                continue;
            }
            kvEntry* raw = nullptr;
            const natsStatus s = kvStore_Get(&raw, leases_.get(), name.c_str());
            std::uint64_t released_revision = 0;
            if (s == NATS_OK) {
                KvEntry entry(raw);
                if (std::string_view(kvEntry_ValueString(raw)) != released_marker) {
                    free_since_.erase(name);
                    continue;
                }
                released_revision = kvEntry_Revision(raw);
            } else if (s != NATS_NOT_FOUND) {
                continue;
            }
            const auto [it, fresh] = free_since_.try_emplace(name, now);
            const bool mine = want == config_.node;
            if (!mine && now - it->second < 3 * config_.renew_ms) continue;
            take(name, mine ? fmt::format("lease free, this node is its rendezvous choice among {} live nodes", live.size())
                            : fmt::format("lease free for {} ms and its rendezvous choice {} has not taken it",
                                          now - it->second, want),
                 released_revision);
        }
    }

    // Takes a free lease (create, or compare-and-set over a released one), restores the
    // latest snapshot, replays the stream after it, then fences the previous owner.
    void take(const std::string& name, const std::string& why, std::uint64_t released_revision) {
        const std::string value = lease_value();
        std::uint64_t rev = 0;
        const natsStatus s = released_revision != 0
                                 ? kvStore_Update(&rev, leases_.get(), name.c_str(), value.data(),
                                                  static_cast<int>(value.size()), released_revision)
                                 : kvStore_Create(&rev, leases_.get(), name.c_str(), value.data(),
                                                  static_cast<int>(value.size()));
        if (s != NATS_OK) return;
        free_since_.erase(name);
        const std::int64_t started = mono_ms();
        if (auto failure = conn_.ensure_stream(Names::commands_stream(name), Names::log_subject(name), config_.replicas,
                                               120'000'000'000LL)) {
            log("cannot create the stream of {}: {}", name, failure->text());
            return;  // the lease expires by itself
        }
        taking_.emplace();
        Site& site = *taking_;
        site.name = name;
        site.lease_revision = rev;
        site.epoch = rev;
        std::size_t snapshot_bytes = 0;
        site.applied = restore(site, snapshot_bytes);
        site.snapshot_seq = site.applied;
        site.snapshot_mono_ms = mono_ms();
        const std::uint64_t restored = site.applied;
        const std::int64_t restored_ms = mono_ms() - started;
        std::size_t replayed = 0;
        // The first write of a term is a tick: it fences the previous owner even when no
        // front end writes. A previous owner's late append makes it fail: read on, retry.
        // Epochs (lease revisions) never go back in a stream: a node appends only after it
        // has read the whole stream, and never after a newer epoch's line.
        bool serving = false, newer_epoch = false;
        for (int attempt = 0; attempt < 5 && !serving && !newer_epoch; ++attempt) {
            if (!catch_up(site, replayed, newer_epoch)) continue;
            serving = append(site, fmt::format(R"({{"at":{},"cmd":"tick"}})", seconds_text(site_now_us(site))), {})
                          .has_value();
        }
        if (!serving) {
            log("could not take {}: {}", name,
                newer_epoch ? "a node with a newer lease has written to its stream"
                            : "the stream did not settle; the lease will expire");
            taking_.reset();
            return;
        }
        log("took {}: {}; snapshot at {} ({} bytes) restored in {} ms, {} commands replayed, serving from {} after {} ms "
            "(epoch {})",
            name, why, restored, snapshot_bytes, restored_ms, replayed, site.applied, mono_ms() - started, site.epoch);
        owned_.insert_or_assign(name, std::move(site));
        taking_.reset();
        log_owned();
    }

    // Hands a site over: snapshot, events settled, then the lease marked released (compare-and-set).
    void release(Site& site, const std::string& why) {
        const std::string name = site.name;
        snapshot(site);
        (void)events_settled();
        std::uint64_t rev = 0;
        kvStore_Update(&rev, leases_.get(), name.c_str(), released_marker, static_cast<int>(std::strlen(released_marker)),
                       site.lease_revision);
        owned_.erase(name);
        log("released {}: {}", name, why);
        log_owned();
    }

    // An append was refused: another node wrote to the stream.
    void fenced(const std::string& name, const std::string& why) {
        if (taking_ && taking_->name == name) {
            log("taking {}: {}; reading on", name, why);
            return;
        }
        ++fenced_;
        step_down(name, why);
    }

    void step_down(const std::string& name, const std::string& why) {
        owned_.erase(name);
        log("lost {}: {} (fencing refusals so far: {})", name, why, fenced_);
        log_owned();
    }

    void log_owned() {
        std::string names;
        for (const auto& [name, site] : owned_) names += (names.empty() ? "" : ",") + name;
        log("owns {} sites: {}", owned_.size(), names);
    }

    void shutdown() {
        std::vector<std::string> names;
        for (const auto& [name, site] : owned_) names.push_back(name);
        for (const std::string& name : names) release(owned_.at(name), "shutting down");
        kvStore_Purge(nodes_.get(), config_.node.c_str(), nullptr);
        log("stopped: fencing refusals {}", fenced_);
    }

    Config config_;
    Connection conn_;
    Kv leases_, nodes_, snapshots_;
    Sub requests_;
    std::map<std::string, Site> owned_;
    std::optional<Site> taking_;
    std::map<std::string, std::int64_t> free_since_;
    std::map<std::string, std::size_t> snapshot_chunks_;
    std::vector<std::string> lost_;
    std::mutex retry_mutex_;
    std::vector<Retry> retries_;
    std::int64_t next_lease_round_ = 0;
    int since_timers_ = 0;
    bool heartbeat_sent_ = false;
    std::uint64_t fenced_ = 0;
};

}  // namespace chatroute::node
