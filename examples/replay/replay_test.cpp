// The replay tool's snapshots: cut every golden scenario after every line, snapshot,
// restore into a fresh replayer, go on, and the output must be what one straight replay
// prints.

#include "replayer.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <algorithm>
#include <iterator>
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

// A replay snapshot file written by hand around an engine snapshot: the space and agent
// names (one list each) and the conversations' names and handles, sealed.
using Named = std::pair<const char*, chatroute::ConversationId>;
std::vector<std::byte> snapshot_file(const std::vector<std::byte>& engine, std::initializer_list<const char*> spaces,
                                   std::initializer_list<const char*> agents, std::initializer_list<Named> conversations) {
    chatroute::replay::detail::Writer file;
    file.put(chatroute::replay::Replayer::replay_magic);
    file.put(static_cast<std::uint32_t>(engine.size()));
    file.put_raw(engine);
    for (const auto& names : {spaces, agents}) {
        file.put(static_cast<std::uint32_t>(names.size()));
        for (const char* name : names) file.put(std::string_view{name});
    }
    file.put(static_cast<std::uint32_t>(conversations.size()));
    for (const auto& [name, id] : conversations) {
        file.put(std::string_view{name});
        chatroute::replay::detail::put_handle(file, id);
    }
    file.put(chatroute::replay::detail::fnv1a(file.bytes()));
    return std::move(file.bytes());
}

}  // namespace

TEST_CASE("a replay cut at any line and restored prints what a straight replay prints [R25]", "[replay][snapshot][R25]") {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(CHATROUTE_SCENARIOS)) files.push_back(entry.path());
#if CHATROUTE_REPLAY_V2
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(CHATROUTE_SCENARIOS) / "policies"))
        files.push_back(entry.path());
#endif
    std::size_t scenarios = 0;
    for (const auto& path : files) {
        const std::filesystem::directory_entry entry(path);
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

// ---- The failing inputs of 2026-11-29 (cases/README.md) and the bounds of §10 ----

namespace {

std::string replay_file(const std::filesystem::path& path) {
    fmt::memory_buffer out;
    chatroute::replay::Replayer replayer(out);
    return replay(replayer, out, lines_of(path), 0, lines_of(path).size());
}

std::string read_text(const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

std::vector<std::byte> read_binary(const std::filesystem::path& path) {
    const std::string text = read_text(path);
    std::vector<std::byte> bytes(text.size());
    std::transform(text.begin(), text.end(), bytes.begin(), [](char c) { return static_cast<std::byte>(c); });
    return bytes;
}

const std::filesystem::path cases = CHATROUTE_REPLAY_CASES;

}  // namespace

TEST_CASE("case invalid_line_moves_time: a line that then fails still moves time first [R25]", "[replay][case][R25]") {
    CHECK(replay_file(cases / "invalid_line_moves_time.jsonl") == read_text(cases / "invalid_line_moves_time.expected"));
}

TEST_CASE("case restore_unknown_conversation: a snapshot whose live conversations have no names is refused [R27]",
          "[replay][case][snapshot][R27]") {
    fmt::memory_buffer out;
    chatroute::replay::Replayer replayer(out);
    SECTION("the case file") {
        const auto why = replayer.restore(read_binary(cases / "restore_unknown_conversation.snap"));
        REQUIRE(why.has_value());
        CHECK_FALSE(why->empty());
    }
    SECTION("a snapshot of this build's engine with the conversation's name left out") {
        fmt::memory_buffer first_out;
        chatroute::replay::Replayer first(first_out);
        for (const char* line : {R"({"at":0,"cmd":"add_space","space":"desk"})", R"({"at":0,"cmd":"add_agent","agent":"ann"})",
                                 R"({"at":0,"cmd":"grant_role","agent":"ann","space":"desk"})",
                                 R"({"at":0,"cmd":"set_availability","agent":"ann","space":"desk","available":true})",
                                 R"({"at":1,"cmd":"start_conversation","conversation":"c1","space":"desk"})"})
            first.apply(line);
        // No conversation names.
        const auto why = replayer.restore(snapshot_file(first.engine().snapshot(), {"desk"}, {"ann"}, {}));
        REQUIRE(why.has_value());
        CHECK(*why == "the engine runs 1 conversation(s) that the replay snapshot does not name");
        // The refused restore left the replayer as it was: an empty site that works.
        replayer.apply(R"({"at":200,"cmd":"add_space","space":"desk"})");
        CHECK(std::string(out.data(), out.size()).empty());
    }
}

TEST_CASE("seconds round to the microsecond from their decimal text, halves away from zero [R25]", "[replay][R25]") {
    using chatroute::replay::detail::micros_of;
    CHECK(micros_of("0") == 0);
    CHECK(micros_of("120") == 120'000'000);
    CHECK(micros_of("0.0000005") == 1);
    CHECK(micros_of("-0.0000005") == -1);
    CHECK(micros_of("0.0000004999") == 0);
    CHECK(micros_of("1.0000015") == 1'000'002);
    CHECK(micros_of("1.069999") == 1'069'999);
    CHECK(micros_of("5e-7") == 1);
    CHECK(micros_of("1.5E+2") == 150'000'000);
    CHECK(micros_of("0.000000000000000000000000000001") == 0);
    CHECK(micros_of("1e12") == 1'000'000'000'000'000'000);
    CHECK_FALSE(micros_of("1.0000000000001e12").has_value());
    CHECK_FALSE(micros_of("1e400").has_value());
    CHECK_FALSE(micros_of("99999999999999999999999").has_value());
}

TEST_CASE("lines past 1 MiB or nested past 64 are invalid_line and move no time [R27]", "[replay][R27]") {
    using chatroute::replay::max_line_bytes;
    fmt::memory_buffer out;
    chatroute::replay::Replayer replayer(out);
    const std::string tick = R"({"at":5,"cmd":"tick"})";
    SECTION("length") {
        std::string longest = tick + std::string(max_line_bytes - tick.size(), ' ');
        replayer.apply(longest);  // exactly the bound: read, and time moves to 5
        replayer.apply(longest + " ");
        replayer.apply(R"({"at":4,"cmd":"tick"})");  // 4 is earlier than 5: it did move
        CHECK(std::string(out.data(), out.size()) ==
              "{\"error\":\"invalid_line\",\"line\":2}\n{\"error\":\"invalid_line\",\"line\":3}\n");
    }
    SECTION("depth") {
        auto nested = [](std::size_t arrays) {
            return R"({"at":5,"cmd":"tick","x":)" + std::string(arrays, '[') + std::string(arrays, ']') + "}";
        };
        replayer.apply(nested(63));  // the object and 63 arrays: depth 64
        replayer.apply(nested(64));
        replayer.apply(nested(500'000));  // within the length bound, far past the depth
        CHECK(std::string(out.data(), out.size()) ==
              "{\"error\":\"invalid_line\",\"line\":2}\n{\"error\":\"invalid_line\",\"line\":3}\n");
    }
    SECTION("the tool's reader keeps at most the bound of a line") {
        std::istringstream in(std::string(3 * max_line_bytes, 'x') + "\n" + tick + "\n");
        std::string line;
        CHECK(chatroute::replay::read_line(in, line) == chatroute::replay::LineRead::too_long);
        CHECK(line.capacity() <= 2 * max_line_bytes);
        CHECK(chatroute::replay::read_line(in, line) == chatroute::replay::LineRead::line);
        CHECK(line == tick);
        CHECK(chatroute::replay::read_line(in, line) == chatroute::replay::LineRead::end);
    }
}

TEST_CASE("a repeated key anywhere is invalid_line; a repeated at moves no time [R27]", "[replay][R27]") {
    fmt::memory_buffer out;
    chatroute::replay::Replayer replayer(out);
    replayer.apply(R"({"at":5,"cmd":"add_space","space":"s","x":{"y":[{"k":1,"k":1}]}})");
    replayer.apply(R"({"at":6,"at":6,"cmd":"tick"})");
    replayer.apply(R"({"at":5,"cmd":"add_space","space":"s"})");
    CHECK(std::string(out.data(), out.size()) ==
          "{\"at\":5,\"error\":\"invalid_line\",\"line\":1}\n{\"error\":\"invalid_line\",\"line\":2}\n");
}

TEST_CASE("case many_timings: 70,000 distinct offer timeouts, and the offer expires when it says [R25][R38]",
          "[replay][case][R25][R38]") {
    // The scenario cases/many_timings.py writes, for N = 70,000 (past any 16-bit list id).
    constexpr int n = 70'000;
    fmt::memory_buffer out;
    chatroute::replay::Replayer replayer(out);
    replayer.apply(R"({"at":0,"cmd":"add_agent","agent":"a"})");
    for (int k = 0; k < n; ++k)
        replayer.apply(fmt::format(R"({{"at":0,"cmd":"add_space","space":"s{}","offer_timeout":{:.6f}}})", k, 1 + k / 1e6));
    replayer.apply(R"({"at":0,"cmd":"grant_role","agent":"a","space":"s69999"})");
    replayer.apply(R"({"at":0,"cmd":"set_availability","agent":"a","space":"s69999","available":true})");
    replayer.apply(R"({"at":5,"cmd":"start_conversation","conversation":"c1","space":"s69999"})");
    replayer.apply(R"({"at":100,"cmd":"tick"})");
    CHECK(std::string(out.data(), out.size()) ==
          R"({"event":"availability_changed","at":0,"agent":"a","space":"s69999","available":true,"reason":"agent"}
{"event":"conversation_started","at":5,"conversation":"c1","space":"s69999","handoff":false}
{"event":"offered","at":5,"conversation":"c1","agent":"a","space":"s69999","expires_at":6.069999}
{"event":"offer_timed_out","at":6.069999,"conversation":"c1","agent":"a"}
{"event":"availability_changed","at":6.069999,"agent":"a","space":"s69999","available":false,"reason":"offer_timeout"}
)");
}

#if CHATROUTE_REPLAY_V2
TEST_CASE("a replay snapshot naming a conversation its engine never started is refused [R38]",
          "[replay][snapshot][R38]") {
    // Review finding (2026-12-07): a name for a handle not yet given out was accepted, and
    // the next conversation started got that handle, so it printed under the planted name.
    fmt::memory_buffer first_out;
    chatroute::replay::Replayer first(first_out);
    for (const char* line : {R"({"at":0,"cmd":"add_space","space":"desk"})",
                             R"({"at":1,"cmd":"start_conversation","conversation":"c1","space":"desk"})"})
        first.apply(line);
    const auto engine = first.engine().snapshot();
    // c1 is the site's first conversation: slot 0, serial 1 (a serial is start number + 1).
    const chatroute::ConversationId c1{0, first.engine().site(), 1};
    REQUIRE(first.engine().status(c1) == chatroute::Result<chatroute::Status>{chatroute::Status::waiting_for_agent});
    const auto with_names = [&](std::initializer_list<Named> conversations) {
        return snapshot_file(engine, {"desk"}, {}, conversations);  // no agents
    };
    fmt::memory_buffer out;
    chatroute::replay::Replayer replayer(out);
    REQUIRE_FALSE(replayer.restore(with_names({{"c1", c1}})).has_value());  // as written: accepted

    chatroute::ConversationId next = c1;  // the next start's serial, at the next slot
    next.index = 1;
    next.serial = 2;
    const auto why = replayer.restore(with_names({{"c1", c1}, {"ghost", next}}));
    REQUIRE(why.has_value());
    CHECK(*why == "the replay snapshot names a conversation its engine never started: ghost");
    chatroute::ConversationId foreign = c1;
    foreign.site += 1;
    CHECK(replayer.restore(with_names({{"c1", c1}, {"abroad", foreign}})).value() ==
          "the replay snapshot names a conversation its engine never started: abroad");
}

TEST_CASE("case restore_future_timer: a snapshot with an unreachable deadline is refused, not replayed [R25][R38]",
          "[replay][case][snapshot][R25][R38]") {
    // The case file is in the 0.1 formats; this is the same state in this build's: bob's
    // offer of c2 at 2 s expires at 122 s, and the snapshot is edited so that it expires
    // at 10^6 s, later than its instant plus the offer timeout could make it.
    fmt::memory_buffer first_out;
    chatroute::replay::Replayer first(first_out);
    for (const char* line : {R"({"at":0,"cmd":"add_space","space":"desk"})", R"({"at":0,"cmd":"add_agent","agent":"bob"})",
                             R"({"at":0,"cmd":"grant_role","agent":"bob","space":"desk"})",
                             R"({"at":2,"cmd":"set_availability","agent":"bob","space":"desk","available":true})",
                             R"({"at":2,"cmd":"start_conversation","conversation":"c2","space":"desk"})"})
        first.apply(line);
    std::vector<std::byte> engine = first.engine().snapshot();
    const auto le = [](std::int64_t value) {
        std::array<std::byte, 8> bytes{};
        for (std::size_t i = 0; i < 8; ++i) bytes[i] = static_cast<std::byte>(static_cast<std::uint64_t>(value) >> (8 * i));
        return bytes;
    };
    const auto expires = le(122'000'000), later = le(1'000'000'000'000);
    const auto body_end = engine.end() - 8;
    const auto at = std::search(engine.begin(), body_end, expires.begin(), expires.end());
    REQUIRE(at != body_end);  // the offer's deadline is in the engine's bytes
    std::copy(later.begin(), later.end(), at);
    const auto sum = le(static_cast<std::int64_t>(chatroute::replay::detail::fnv1a(std::span(engine).first(engine.size() - 8))));
    std::copy(sum.begin(), sum.end(), engine.end() - 8);

    // The engine refuses before the names matter.
    const auto file = snapshot_file(engine, {"desk"}, {"bob"}, {{"c2", chatroute::ConversationId{}}});

    fmt::memory_buffer out;
    chatroute::replay::Replayer replayer(out);
    const auto why = replayer.restore(file);
    REQUIRE(why.has_value());
    CHECK(*why == fmt::format("the engine refused its snapshot: {}", message(chatroute::SnapshotError::unreachable_deadline)));
}
#endif

// ---- Numbers judged from their decimal text (review findings 4 and 5, 2026-12) ----

namespace {

std::string replay_lines(std::initializer_list<std::string_view> lines) {
    fmt::memory_buffer out;
    chatroute::replay::Replayer replayer(out);
    for (std::string_view line : lines) replayer.apply(line);
    return {out.data(), out.size()};
}

}  // namespace

TEST_CASE("a number past a double's range is well typed: the line moves time, then fails with invalid_argument "
          "[§10][R27]",
          "[replay][R27]") {
    // SPEC §10: 1e400 is a JSON number (RFC 8259's grammar has no range), so the line is one
    // complete JSON object with a usable `at` (decision 45): the offer's 120 s deadline
    // fires, the error has its `at`, and the next line, earlier, goes back in time.
    SECTION("as a limit, after the offer's deadline") {
        const std::vector<std::string_view> before{
            R"({"at":0,"cmd":"add_space","space":"s"})", R"({"at":0,"cmd":"add_agent","agent":"a"})",
            R"({"at":0,"cmd":"grant_role","agent":"a","space":"s"})",
            R"({"at":0,"cmd":"set_availability","agent":"a","space":"s","available":true})",
            R"({"at":0,"cmd":"start_conversation","conversation":"c1","space":"s"})"};
        const std::string expected = R"({"event":"availability_changed","at":0,"agent":"a","space":"s","available":true,"reason":"agent"}
{"event":"conversation_started","at":0,"conversation":"c1","space":"s","handoff":false}
{"event":"offered","at":0,"conversation":"c1","agent":"a","space":"s","expires_at":120}
{"event":"offer_timed_out","at":120,"conversation":"c1","agent":"a"}
{"event":"availability_changed","at":120,"agent":"a","space":"s","available":false,"reason":"offer_timeout"}
{"at":130,"error":"invalid_argument","line":6}
{"error":"invalid_line","line":7}
)";
        for (const std::string& huge : {std::string("1e400"), std::string("-1e400"), std::string("1E+400"),
                                        std::string("123456789e999999999"), std::string("1.8e308"), "1" + std::string(400, '0')}) {
            INFO(huge);
            std::vector<std::string> lines(before.begin(), before.end());
            lines.push_back(fmt::format(R"({{"at":130,"cmd":"set_limit","agent":"a","limit":{}}})", huge));
            lines.emplace_back(R"({"at":110,"cmd":"accept","agent":"a","conversation":"c1"})");
            fmt::memory_buffer out;
            chatroute::replay::Replayer replayer(out);
            for (const std::string& line : lines) replayer.apply(line);
            CHECK(std::string(out.data(), out.size()) == expected);
        }
    }
    SECTION("as a duration, a priority, or nested where no field reads it") {
        CHECK(replay_lines({R"({"at":1,"cmd":"add_space","space":"s","offer_timeout":1e400})",
                            R"({"at":2,"cmd":"add_space","space":"s","x":[1e400,{"y":-2e999}],"z":"1e400"})",
                            R"({"at":3,"cmd":"start_conversation","conversation":"c1","space":"s","priority":1e400})"}) ==
              "{\"at\":1,\"error\":\"invalid_argument\",\"line\":1}\n"
              "{\"at\":3,\"error\":\"invalid_argument\",\"line\":3}\n");
    }
    SECTION("a huge `at` is out of range: no usable `at`, nothing moves") {
        CHECK(replay_lines({R"({"at":1e400,"cmd":"tick"})", R"({"at":0,"cmd":"tick"})"}) ==
              "{\"error\":\"invalid_line\",\"line\":1}\n");
    }
    SECTION("text that is not JSON stays invalid_line, huge number or not") {
        for (const char* line : {R"({"at":5,"cmd":"tick","x":+1e400})", R"({"at":5,"cmd":"tick","x":1e400e1})",
                                 R"({"at":5,"cmd":"tick","x":01e400})", R"({"at":5,"cmd":"tick","x":1e400,})",
                                 R"({"at":5,"cmd":"tick","x":.1e400})", R"({"at":5,"cmd":"tick" 1e400})"}) {
            INFO(line);
            CHECK(replay_lines({line, R"({"at":4,"cmd":"tick"})"}) == "{\"error\":\"invalid_line\",\"line\":1}\n");
        }
    }
    SECTION("a line full of them costs in proportion to its length (R38)") {
        std::string line = R"({"at":7,"cmd":"add_space","space":"s","x":[)";
        while (line.size() < chatroute::replay::max_line_bytes - 64) line += "1e400,";
        line += "1],\"offer_timeout\":-1e999}";
        CHECK(replay_lines({line}) == "{\"at\":7,\"error\":\"invalid_argument\",\"line\":1}\n");
    }
    SECTION("a huge number's look-alike inside a string is text") {
        CHECK(replay_lines({R"({"at":5,"cmd":"add_space","space":"1e400 \" 1e400"})", R"({"at":5,"cmd":"add_agent","agent":"a"})",
                            R"({"at":5,"cmd":"grant_role","agent":"a","space":"1e400 \" 1e400"})",
                            R"({"at":6,"cmd":"set_limit","agent":"a","limit":2,"space":"1e400 \" 1e400","x":1e400})"})
                  .empty());
    }
}

TEST_CASE("whole-number fields are judged from their decimal text: any fraction is invalid_argument [§10][R29]",
          "[replay][R27][R29]") {
    // Decision 25. A double rounds 2.0000000000000001 to 2 and 1e-400 to 0; the text does not.
    const std::string space = R"({"at":0,"cmd":"add_space","space":"s"})";
    SECTION("fractions, however small, in every whole-number field") {
        CHECK(replay_lines({space, R"({"at":0,"cmd":"add_agent","agent":"a","limit":2.0000000000000001})",
                            R"({"at":0,"cmd":"add_agent","agent":"b","limit":1e-400})",
                            R"({"at":0,"cmd":"add_agent","agent":"c","limit":1000000.00000000001})",
                            R"({"at":0,"cmd":"add_agent","agent":"d","limit":-1e-400})",
                            R"({"at":0,"cmd":"start_conversation","conversation":"c1","space":"s","priority":999.99999999999999999})",
                            R"({"at":0,"cmd":"site","default_limit":3.00000000000000001})",
                            R"({"at":0,"cmd":"add_agent","agent":"e"})",
                            R"({"at":0,"cmd":"set_limit","agent":"e","limit":2.0000000000000001})",
                            R"({"at":0,"cmd":"set_limit","agent":"e","limit":2.0000000000000001,"space":"s"})",
                            R"({"at":0,"cmd":"start_conversation","conversation":"c2","space":"s"})",
                            R"({"at":0,"cmd":"set_priority","conversation":"c2","priority":5.00000000000000001})"}) ==
              R"({"at":0,"error":"invalid_argument","line":2}
{"at":0,"error":"invalid_argument","line":3}
{"at":0,"error":"invalid_argument","line":4}
{"at":0,"error":"invalid_argument","line":5}
{"at":0,"error":"invalid_argument","line":6}
{"at":0,"error":"invalid_argument","line":7}
{"at":0,"error":"invalid_argument","line":9}
{"at":0,"error":"invalid_argument","line":10}
{"event":"conversation_started","at":0,"conversation":"c2","space":"s","handoff":false}
{"at":0,"error":"invalid_argument","line":12}
)");
    }
    SECTION("whole numbers however written are accepted") {
        CHECK(replay_lines({space, R"({"at":0,"cmd":"add_agent","agent":"a","limit":2.0})",
                            R"({"at":0,"cmd":"add_agent","agent":"b","limit":2e0})",
                            R"({"at":0,"cmd":"add_agent","agent":"c","limit":0.25e1})",  // 2.5: refused
                            R"({"at":0,"cmd":"add_agent","agent":"d","limit":25e-1})",   // 2.5: refused
                            R"({"at":0,"cmd":"add_agent","agent":"e","limit":250e-2})",  // 2.5: refused
                            R"({"at":0,"cmd":"add_agent","agent":"f","limit":300e-2})",
                            R"({"at":0,"cmd":"add_agent","agent":"g","limit":-0})",
                            R"({"at":0,"cmd":"add_agent","agent":"h","limit":-0.0e-400})",
                            R"({"at":0,"cmd":"add_agent","agent":"i","limit":1e6})",
                            R"({"at":0,"cmd":"add_agent","agent":"j","limit":1000001})",
                            R"({"at":0,"cmd":"start_conversation","conversation":"c1","space":"s","priority":1.0e3})",
                            R"({"at":0,"cmd":"set_priority","conversation":"c1","priority":0.0})",
                            R"({"at":0,"cmd":"set_priority","conversation":"c1","priority":1001})",
                            R"({"at":0,"cmd":"site","default_limit":4.000})"}) ==
              R"({"at":0,"error":"invalid_argument","line":4}
{"at":0,"error":"invalid_argument","line":5}
{"at":0,"error":"invalid_argument","line":6}
{"at":0,"error":"invalid_argument","line":11}
{"event":"conversation_started","at":0,"conversation":"c1","space":"s","handoff":false}
{"event":"priority_changed","at":0,"conversation":"c1","priority":0}
{"at":0,"error":"invalid_argument","line":14}
)");
    }
    SECTION("the reader itself") {
        using chatroute::replay::detail::whole_of;
        CHECK(whole_of("2") == 2);
        CHECK(whole_of("2.0") == 2);
        CHECK(whole_of("2e0") == 2);
        CHECK(whole_of("0.02e2") == 2);
        CHECK(whole_of("-0") == 0);
        CHECK(whole_of("0e-400") == 0);
        CHECK(whole_of("1e15") == 1'000'000'000'000'000);
        CHECK_FALSE(whole_of("1000000000000001").has_value());
        CHECK_FALSE(whole_of("1e400").has_value());
        CHECK_FALSE(whole_of("2.0000000000000001").has_value());
        CHECK_FALSE(whole_of("1e-400").has_value());
        CHECK_FALSE(whole_of("-1").has_value());
        CHECK_FALSE(whole_of("99999999999999999999999").has_value());
    }
}
