// The replay tool's snapshots: cut every golden scenario after every line, snapshot,
// restore into a fresh replayer, go on, and the output must be what one straight replay
// prints.

#include "replayer.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace {

std::vector<std::string> lines_of(const std::filesystem::path& path) {
    std::ifstream file(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(file, line);) lines.push_back(line);
    return lines;
}

std::string replay(chatroute::replay::Replayer& replayer, fmt::memory_buffer& out,
                   const std::vector<std::string>& lines, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) replayer.apply(lines[i]);
    std::string text(out.data(), out.size());
    out.clear();
    return text;
}

// A restored replay counts its lines from 1 again; shift them back to the whole file's.
std::string shift_lines(const std::string& text, std::size_t by) {
    std::string shifted;
    const std::regex line_field(R"("line":(\d+)\})");
    auto begin = std::sregex_iterator(text.begin(), text.end(), line_field);
    std::size_t last = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
        shifted += text.substr(last, static_cast<std::size_t>(it->position()) - last);
        shifted += fmt::format(R"("line":{}}})", std::stoul((*it)[1]) + by);
        last = static_cast<std::size_t>(it->position() + it->length());
    }
    return shifted + text.substr(last);
}

}  // namespace

TEST_CASE("a replay cut at any line and restored prints what a straight replay prints [R25]", "[replay][snapshot][R25]") {
    const std::filesystem::path folder = CHATROUTE_SCENARIOS;
    std::size_t scenarios = 0;
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
        if (entry.path().extension() != ".jsonl") continue;
        ++scenarios;
        const auto lines = lines_of(entry.path());
        fmt::memory_buffer whole_out;
        chatroute::replay::Replayer whole(whole_out);
        const std::string expected = replay(whole, whole_out, lines, 0, lines.size());
        for (std::size_t cut = 0; cut <= lines.size(); ++cut) {
            INFO(entry.path().filename().string() << " cut after line " << cut);
            fmt::memory_buffer first_out, second_out;
            chatroute::replay::Replayer first(first_out);
            const std::string before = replay(first, first_out, lines, 0, cut);
            chatroute::replay::Replayer second(second_out);
            REQUIRE_FALSE(second.restore(first.snapshot()).has_value());
            const std::string after = replay(second, second_out, lines, cut, lines.size());
            REQUIRE(before + shift_lines(after, cut) == expected);
        }
    }
    CHECK(scenarios >= 10);
}

TEST_CASE("a damaged replay snapshot is refused with a reason [R27]", "[replay][snapshot][R27]") {
    fmt::memory_buffer out;
    chatroute::replay::Replayer replayer(out);
    replayer.apply(R"({"at":0,"cmd":"add_space","space":"s"})");
    std::vector<std::byte> bytes = replayer.snapshot();
    bytes[bytes.size() / 2] ^= std::byte{1};
    chatroute::replay::Replayer other(out);
    const auto why = other.restore(bytes);
    REQUIRE(why.has_value());
    CHECK(*why == "the replay snapshot's checksum does not match");
    CHECK(other.restore(std::vector<std::byte>(4)).value() == "the file is too short to be a replay snapshot");
}

TEST_CASE("the same scenario replays to the same bytes [R25]", "[replay][R25]") {
    const auto lines = lines_of(std::filesystem::path(CHATROUTE_SCENARIOS) / "missed_offer.jsonl");
    fmt::memory_buffer a_out, b_out;
    chatroute::replay::Replayer a(a_out), b(b_out);
    CHECK(replay(a, a_out, lines, 0, lines.size()) == replay(b, b_out, lines, 0, lines.size()));
}
