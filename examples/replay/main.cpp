// chatroute-replay: applies a scenario (SPEC §10) and prints every event and every failed
// line as JSON Lines on standard output. With snapshots, it picks an incident up from a
// production snapshot and replays only the commands that came after it.

#include "replayer.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace {

int usage() {
    fmt::print(stderr,
               "usage: chatroute-replay [--restore SNAPSHOT] [--snapshot-at N SNAPSHOT] FILE\n"
               "  FILE                     the scenario (JSON Lines, SPEC §10); - reads standard input\n"
               "  --restore SNAPSHOT       start from a snapshot instead of an empty site\n"
               "  --snapshot-at N SNAPSHOT after line N, write a snapshot (engine and ids) to SNAPSHOT\n"
               "Prints one JSON object per line for every event and every line that fails.\n");
    return 2;
}

void drain(fmt::memory_buffer& out) {
    std::fwrite(out.data(), 1, out.size(), stdout);
    out.clear();
}

// Why a path cannot be read as a file, or empty when it can be opened.
std::optional<std::string> unreadable(const std::string& path) {
    std::error_code error;
    const auto status = std::filesystem::status(path, error);
    if (error) return error.message();
    if (std::filesystem::is_directory(status)) return std::string("it is a directory");
    return std::nullopt;
}

std::optional<std::vector<std::byte>> read_bytes(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) return std::nullopt;
    std::vector<char> chars((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    if (file.bad()) return std::nullopt;
    std::vector<std::byte> bytes(chars.size());
    std::transform(chars.begin(), chars.end(), bytes.begin(), [](char c) { return static_cast<std::byte>(c); });
    return bytes;
}

bool write_bytes(const std::string& path, const std::vector<std::byte>& bytes) {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return static_cast<bool>(file.flush());
}

struct Options {
    std::string scenario;
    std::optional<std::string> restore;
    std::optional<std::size_t> snapshot_line;
    std::string snapshot_path;
};

std::optional<Options> parse(int argc, char** argv) {
    Options options;
    std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--restore" && i + 1 < args.size()) {
            options.restore = args[++i];
        } else if (args[i] == "--snapshot-at" && i + 2 < args.size()) {
            std::size_t line = 0;
            const std::string& n = args[++i];
            if (std::from_chars(n.data(), n.data() + n.size(), line).ec != std::errc{} || line == 0) return std::nullopt;
            options.snapshot_line = line;
            options.snapshot_path = args[++i];
        } else if (options.scenario.empty() && (args[i] == "-" || args[i].rfind("-", 0) != 0)) {
            options.scenario = args[i];
        } else {
            return std::nullopt;
        }
    }
    if (options.scenario.empty()) return std::nullopt;
    return options;
}

int run(const Options& options) {
    std::ifstream file;
    if (options.scenario != "-") {
        if (auto why = unreadable(options.scenario)) {
            fmt::print(stderr, "chatroute-replay: cannot read the scenario {}: {}\n", options.scenario, *why);
            return 1;
        }
        file.open(options.scenario, std::ios::binary);
        if (!file) {
            fmt::print(stderr, "chatroute-replay: cannot open the scenario {}\n", options.scenario);
            return 1;
        }
    }
    std::istream& in = options.scenario == "-" ? std::cin : file;

    fmt::memory_buffer out;
    chatroute::replay::Replayer replayer(out);
    if (options.restore) {
        std::optional<std::vector<std::byte>> bytes;
        if (auto why = unreadable(*options.restore)) {
            fmt::print(stderr, "chatroute-replay: cannot read the snapshot {}: {}\n", *options.restore, *why);
            return 1;
        }
        bytes = read_bytes(*options.restore);
        if (!bytes) {
            fmt::print(stderr, "chatroute-replay: cannot read the snapshot {}\n", *options.restore);
            return 1;
        }
        if (auto why = replayer.restore(*bytes)) {
            fmt::print(stderr, "chatroute-replay: cannot restore {}: {}\n", *options.restore, *why);
            return 1;
        }
    }
    std::string line;
    for (;;) {
        const auto read = chatroute::replay::read_line(in, line);
        if (read == chatroute::replay::LineRead::end) break;
        if (read == chatroute::replay::LineRead::too_long) {
            replayer.reject_unread_line();
        } else {
            replayer.apply(line);
        }
        if (options.snapshot_line == replayer.lines() && !write_bytes(options.snapshot_path, replayer.snapshot())) {
            drain(out);
            fmt::print(stderr, "chatroute-replay: cannot write the snapshot {}\n", options.snapshot_path);
            return 1;
        }
        if (out.size() > (1 << 16)) drain(out);
    }
    drain(out);
    if (in.bad()) {
        fmt::print(stderr, "chatroute-replay: reading {} failed after line {}\n", options.scenario, replayer.lines());
        return 1;
    }
    if (options.snapshot_line && *options.snapshot_line > replayer.lines()) {
        fmt::print(stderr, "chatroute-replay: --snapshot-at {}: the scenario has only {} line(s); no snapshot written\n",
                   *options.snapshot_line, replayer.lines());
        return 1;
    }
    return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const auto options = parse(argc, argv);
    if (!options) return usage();
    try {
        return run(*options);
    } catch (const std::exception& error) {
        std::fflush(stdout);
        fmt::print(stderr, "chatroute-replay: stopped: {}\n", error.what());
        return 1;
    }
}
