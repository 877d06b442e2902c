// chatroute-node: chatroute sites served from a replicated NATS JetStream log.
// See docs/scale-out.md for the design and `chatroute-node --help` for the commands.

#include "driver.hpp"
#include "nats.hpp"
#include "node.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace chatroute::node;

constexpr const char* help = R"(usage: chatroute-node COMMAND [options]

Commands:
  run        serve sites: take free leases, restore, replay, answer requests
  export     print a site's stream as SPEC §10 lines (input for chatroute-replay)
  events     print the events published for a site, duplicates removed by message id
  drive      a load driver: front ends sending commands to every site
  fill       append generated commands straight to a site's stream (measurements)
  bench-restore  time what taking a site costs: snapshot restore and stream replay

Options (all commands):
  --config FILE        JSON object with any of the options below (flags win)
  --servers URLS       comma-separated NATS URLs (default nats://127.0.0.1:4222)
  --sites N|A,B,...    N sites named site-000..., or a list of names
run:
  --node NAME          this node's name (unique in the cluster)
  --replicas N         JetStream replicas of every stream and bucket (1 or 3)
  --lease-ms MS        lease time to live (default 3000)
  --renew-ms MS        lease renewal period (default 1000)
  --snapshot-every N   snapshot a site every N commands (default 1000)
  --snapshot-ms MS     and at least this often while it changes (default 30000)
  --epoch SECONDS      Unix time of site time 0 (default 1767225600, 2026-01-01)
  --no-rebalance       keep sites even when another live node is their rendezvous choice
export / events:
  --site NAME          one site to standard output; or --dir DIR for every site of --sites
  --ids                export: one JSON line per message (seq, id, owner, epoch) instead
drive:
  --seconds S          how long (default 30)     --rate R   commands/s per site (default 20; 0: no pause)
  --threads N          concurrent front ends (default 16)   --acks FILE   one JSON line per acknowledged command
  --run ID             prefix of request ids (default "run")
fill / bench-restore:
  --site NAME          the site    --commands N   how many commands to append (fill)
Logs go to standard error, one line each: wall time (ms), node, what happened and why.
)";

std::vector<std::string> site_names(const std::string& spec) {
    std::vector<std::string> out;
    if (!spec.empty() && spec.find_first_not_of("0123456789") == std::string::npos) {
        for (int i = 0; i < std::stoi(spec); ++i) out.push_back(fmt::format("site-{:03}", i));
        return out;
    }
    std::size_t start = 0;
    while (start < spec.size()) {
        std::size_t comma = spec.find(',', start);
        if (comma == std::string::npos) comma = spec.size();
        if (comma > start) out.push_back(spec.substr(start, comma - start));
        start = comma + 1;
    }
    return out;
}

bool valid_site(const std::string& name) {
    return !name.empty() && name.size() <= 64 &&
           name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == std::string::npos;
}

struct Args {
    std::map<std::string, std::string> values;
    std::string get(const std::string& key, const std::string& fallback = "") const {
        auto it = values.find(key);
        return it == values.end() ? fallback : it->second;
    }
    bool has(const std::string& key) const { return values.contains(key); }
};

std::optional<Args> parse(int argc, char** argv) {
    Args args;
    const std::vector<std::string> flags{"--ids", "--no-rebalance"};
    for (int i = 2; i < argc; ++i) {
        std::string key = argv[i];
        if (key.rfind("--", 0) != 0) return std::nullopt;
        key = key.substr(2);
        if (std::find(flags.begin(), flags.end(), argv[i]) != flags.end()) {
            args.values[key] = "true";
            continue;
        }
        if (i + 1 >= argc) return std::nullopt;
        args.values[key] = argv[++i];
    }
    if (args.has("config")) {
        std::ifstream file(args.get("config"));
        const auto config = nlohmann::json::parse(file, nullptr, false);
        if (!config.is_object()) {
            fmt::print(stderr, "chatroute-node: {} is not a JSON object\n", args.get("config"));
            return std::nullopt;
        }
        for (const auto& [key, value] : config.items()) {
            std::string flag = key;
            std::replace(flag.begin(), flag.end(), '_', '-');
            if (args.has(flag)) continue;
            args.values[flag] = value.is_string() ? value.get<std::string>() : value.is_boolean() ? (value.get<bool>() ? "true" : "") : value.dump();
        }
    }
    return args;
}

std::atomic<bool> stop{false};
extern "C" void on_signal(int) { stop.store(true); }

int run(const Args& args) {
    Config config;
    config.servers = args.get("servers", config.servers);
    config.node = args.get("node", config.node);
    config.sites = site_names(args.get("sites", "1"));
    config.replicas = std::stoi(args.get("replicas", "1"));
    config.lease_ms = std::stoll(args.get("lease-ms", "3000"));
    config.renew_ms = std::stoll(args.get("renew-ms", "1000"));
    config.snapshot_every = std::stoull(args.get("snapshot-every", "1000"));
    config.snapshot_ms = std::stoll(args.get("snapshot-ms", "30000"));
    config.epoch_s = std::stoll(args.get("epoch", "1767225600"));
    config.rebalance = args.get("no-rebalance") != "true";
    if (config.renew_ms * 2 > config.lease_ms || config.lease_ms < 200) {
        fmt::print(stderr, "chatroute-node: the lease must last at least two renewals and 200 ms\n");
        return 2;
    }
    Node node(config);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    if (!node.start()) return 1;
    node.run(stop);
    return 0;
}

// Reads a whole site stream; `each` gets the message and its sequence.
int read_stream(Connection& conn, const std::string& site, const std::function<void(natsMsg*, std::uint64_t)>& each) {
    const auto last = conn.last_sequence(Names::commands_stream(site));
    if (!last) {
        fmt::print(stderr, "chatroute-node: no stream for site {}\n", site);
        return 1;
    }
    auto failure = conn.read(Names::commands_stream(site), Names::log_subject(site), 1, *last,
                             [&](natsMsg* m, std::uint64_t seq) {
                                 each(m, seq);
                                 return true;
                             });
    if (failure) {
        fmt::print(stderr, "chatroute-node: reading {}: {}\n", site, failure->text());
        return 1;
    }
    return 0;
}

int export_site(Connection& conn, const std::string& site, std::ostream& lines, std::ostream* ids) {
    return read_stream(conn, site, [&](natsMsg* m, std::uint64_t seq) {
        lines << data(m) << '\n';
        if (ids != nullptr)
            *ids << nlohmann::json{{"seq", seq}, {"id", header(m, "Nats-Msg-Id")}, {"owner", header(m, "Chatroute-Owner")},
                                   {"epoch", std::stoull("0" + header(m, "Chatroute-Epoch"))}}
                        .dump()
                 << '\n';
    });
}

int events_site(Connection& conn, const std::string& site, std::ostream& out) {
    const auto last = conn.last_sequence(Names::events_stream);
    if (!last) return 1;
    std::map<std::uint64_t, std::string> by_command;
    std::size_t duplicates = 0;
    std::set<std::string> seen;
    auto failure = conn.read(Names::events_stream, Names::events_subject(site), 1, *last, [&](natsMsg* m, std::uint64_t) {
        const std::string id = header(m, "Nats-Msg-Id");
        if (!seen.insert(id).second) {
            ++duplicates;
            return true;
        }
        by_command.emplace(std::stoull(header(m, "Chatroute-Seq")), std::string(data(m)));
        return true;
    }, 1000);
    // An idle timeout only means the site has no more messages in the shared stream.
    if (failure && failure->status != NATS_TIMEOUT) {
        fmt::print(stderr, "chatroute-node: reading events of {}: {}\n", site, failure->text());
        return 1;
    }
    for (const auto& [seq, text] : by_command) out << text;
    if (duplicates > 0) fmt::print(stderr, "{}: {} duplicate event messages dropped\n", site, duplicates);
    return 0;
}

int export_or_events(const Args& args, bool events) {
    Connection conn;
    if (!conn.connect(args.get("servers", "nats://127.0.0.1:4222"), "chatroute-node export")) return 1;
    if (args.has("site")) {
        if (events) return events_site(conn, args.get("site"), std::cout);
        return export_site(conn, args.get("site"), std::cout, args.has("ids") ? &std::cout : nullptr);
    }
    if (!args.has("dir")) return 2;
    const std::filesystem::path dir = args.get("dir");
    std::filesystem::create_directories(dir);
    int status = 0;
    for (const std::string& site : site_names(args.get("sites", "1"))) {
        if (events) {
            std::ofstream out(dir / (site + ".events"));
            status |= events_site(conn, site, out);
        } else {
            std::ofstream lines(dir / (site + ".jsonl")), ids(dir / (site + ".ids.jsonl"));
            status |= export_site(conn, site, lines, &ids);
        }
    }
    return status;
}

// Appends generated commands straight to a site's stream, as an owner would, with the
// replies computed by a local Replayer. For measurements only: it takes no lease.
int fill(const Args& args) {
    Connection conn;
    if (!conn.connect(args.get("servers", "nats://127.0.0.1:4222"), "chatroute-node fill")) return 1;
    const std::string site = args.get("site", "site-000");
    const int replicas = std::stoi(args.get("replicas", "1"));
    if (auto failure = conn.ensure_stream(Names::commands_stream(site), Names::log_subject(site), replicas, 120'000'000'000LL)) {
        fmt::print(stderr, "fill: {}\n", failure->text());
        return 1;
    }
    const std::uint64_t commands = std::stoull(args.get("commands", "1000"));
    fmt::memory_buffer out;
    chatroute::replay::Replayer replayer(out);
    SiteScript script(site, 1);
    const std::string subject = Names::log_subject(site);
    std::int64_t at = 0;
    const std::int64_t started = mono_ms();
    for (std::uint64_t i = 0; i < commands; ++i) {
        at += 250'000;  // four commands a second of site time
        std::string body = script.next();
        const std::string line = fmt::format(R"({{"at":{},{})", seconds_text(at), std::string_view(body).substr(1));
        replayer.apply(line);
        script.learn(std::string(out.data(), out.size()));
        out.clear();
        if (js_PublishAsync(conn.js(), subject.c_str(), line.data(), static_cast<int>(line.size()), nullptr) != NATS_OK) {
            fmt::print(stderr, "fill: publish failed at {}\n", i);
            return 1;
        }
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 60'000;
    if (js_PublishAsyncComplete(conn.js(), &po) != NATS_OK) return 1;
    fmt::print("{}\n", nlohmann::json{{"site", site}, {"commands", commands}, {"ms", mono_ms() - started}}.dump());
    return 0;
}

// Times what a node taking the site does: replay of the whole stream into a Replayer, its
// snapshot's size, and restore from that snapshot.
int bench_restore(const Args& args) {
    Connection conn;
    if (!conn.connect(args.get("servers", "nats://127.0.0.1:4222"), "chatroute-node bench")) return 1;
    const std::string site = args.get("site", "site-000");
    fmt::memory_buffer out;
    chatroute::replay::Replayer replayer(out);
    std::uint64_t lines = 0;
    std::size_t out_bytes = 0;
    const std::int64_t started = mono_ms();
    if (int status = read_stream(conn, site, [&](natsMsg* m, std::uint64_t) {
            replayer.apply(data(m));
            out_bytes += out.size();
            out.clear();
            ++lines;
        }))
        return status;
    const std::int64_t replay_ms = mono_ms() - started;
    const std::int64_t snap_start = mono_ms();
    const auto bytes = replayer.snapshot();
    const std::int64_t snapshot_ms = mono_ms() - snap_start;
    fmt::memory_buffer out2;
    chatroute::replay::Replayer restored(out2);
    const std::int64_t restore_start = mono_ms();
    const auto why = restored.restore(bytes);
    const std::int64_t restore_ms = mono_ms() - restore_start;
    fmt::print("{}\n", nlohmann::json{{"site", site},
                                      {"commands", lines},
                                      {"event_bytes", out_bytes},
                                      {"read_and_replay_ms", replay_ms},
                                      {"snapshot_bytes", bytes.size()},
                                      {"snapshot_ms", snapshot_ms},
                                      {"restore_ms", restore_ms},
                                      {"restore_ok", !why.has_value()}}
                           .dump());
    return why ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
        std::fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const std::string command = argv[1];
    const auto args = parse(argc, argv);
    if (!args || args->has("help")) {
        std::fputs(help, stderr);
        return 2;
    }
    for (const std::string& site : site_names(args->get("sites", "1")))
        if (!valid_site(site)) {
            fmt::print(stderr, "chatroute-node: a site name is letters, digits, - and _: {}\n", site);
            return 2;
        }
    int status = 2;
    if (command == "run") status = run(*args);
    else if (command == "export") status = export_or_events(*args, false);
    else if (command == "events") status = export_or_events(*args, true);
    else if (command == "fill") status = fill(*args);
    else if (command == "bench-restore") status = bench_restore(*args);
    else if (command == "drive") {
        DriveConfig config;
        config.servers = args->get("servers", config.servers);
        config.sites = site_names(args->get("sites", "1"));
        config.seconds = std::stod(args->get("seconds", "30"));
        config.rate = std::stod(args->get("rate", "20"));
        config.threads = std::stoi(args->get("threads", "16"));
        config.acks_path = args->get("acks");
        config.run = args->get("run", "run");
        status = drive(config);
    } else {
        std::fputs(help, stderr);
    }
    nats_Close();
    return status;
}
