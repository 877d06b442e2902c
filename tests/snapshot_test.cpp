// Snapshots: a restored engine goes on exactly as the original would have; bad bytes give
// a clear error and no engine.

#include "support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

using namespace chatroute;
using namespace chatroute::test;

namespace {

// A busy desk: two spaces, three agents, conversations in every status, timers running.
struct BusyDesk : Desk {
    SpaceId sales, support;
    AgentId ana, ben, chi;
    std::vector<ConversationId> chats;

    BusyDesk() {
        REQUIRE(engine.update_site({.missed_offer_scope = MissedOfferScope::offer_space}));
        sales = space({.fallback_message = "later"});
        support = space({.timings = {.offer_timeout = 30s}});
        ana = ready_agent(sales, 2);
        ben = ready_agent(support, 1);
        chi = agent(3);
        REQUIRE(engine.grant_role(chi, sales));
        REQUIRE(engine.grant_role(chi, support));
        REQUIRE(engine.set_availability(chi, all_spaces, true));
        for (int i = 0; i < 8; ++i) {
            clock.advance(7s);
            chats.push_back(engine.start_conversation(i % 2 ? support : sales, {.handoff = i % 3 == 0}).value());
        }
        REQUIRE(engine.accept(chats[0], ana));
        REQUIRE(engine.customer_message(chats[0]));
        REQUIRE(engine.end_by_customer(chats[0]));  // wrapping_up
        REQUIRE(engine.decline(chats[2], chi));
        REQUIRE(engine.end_by_customer(chats[4]));  // closed unanswered: its slot is free for reuse
        take();
    }

    // What the desk does next: commands, deadlines, a reused conversation slot.
    static void go_on(Engine<ManualClock&, RecordingSink&>& engine, ManualClock& clock, const BusyDesk& ids) {
        clock.advance(25s);
        (void)engine.advance();
        (void)engine.start_conversation(ids.sales);
        (void)engine.resolve(ids.chats[0], ids.ana, "Done");
        (void)engine.set_availability(ids.ben, ids.support, true);
        for (int i = 0; i < 40; ++i) {
            clock.advance(50s);
            (void)engine.advance();
            (void)engine.set_availability(ids.chi, all_spaces, true);
            (void)engine.set_availability(ids.ana, ids.sales, true);
        }
    }
};

std::vector<std::string> formatted(const std::vector<Event>& events) {
    std::vector<std::string> out;
    for (const Event& e : events) out.push_back(fmt::format("{}", e));
    return out;
}

}  // namespace

TEST_CASE("a restored engine emits exactly what the original would have [R25] [R10]", "[snapshot][R25][R10]") {
    BusyDesk original;
    const std::vector<std::byte> bytes = original.engine.snapshot();

    ManualClock clock = original.clock;
    RecordingSink sink;
    auto restored = Engine<ManualClock&, RecordingSink&>::restore(bytes, clock, sink);
    REQUIRE(restored.has_value());
    CHECK(restored->snapshot() == bytes);
    CHECK_FALSE(restored->check_invariants());

    BusyDesk::go_on(original.engine, original.clock, original);
    BusyDesk::go_on(*restored, clock, original);  // the original's handles work in the copy
    CHECK(formatted(sink.events) == formatted(original.sink.events));
    CHECK(original.sink.events.size() > 20);
    CHECK(restored->snapshot() == original.engine.snapshot());
}

TEST_CASE("a snapshot cut short at any length is refused as truncated [R27]", "[snapshot][R27]") {
    BusyDesk desk;
    const std::vector<std::byte> bytes = desk.engine.snapshot();
    ManualClock clock;
    RecordingSink sink;
    for (std::size_t size = 0; size < bytes.size(); ++size) {
        auto restored = Engine<ManualClock&, RecordingSink&>::restore(std::span(bytes).first(size), clock, sink);
        REQUIRE_FALSE(restored.has_value());
        // The checksum covers the body, so a cut body reads as changed bytes; a cut header as short.
        CHECK((restored.error() == SnapshotError::truncated || restored.error() == SnapshotError::checksum_mismatch));
    }
    CHECK(sink.events.empty());
}

TEST_CASE("a changed byte anywhere is refused, never misread [R27]", "[snapshot][R27]") {
    BusyDesk desk;
    const std::vector<std::byte> bytes = desk.engine.snapshot();
    ManualClock clock;
    RecordingSink sink;
    for (std::size_t at = 0; at < bytes.size(); ++at) {
        std::vector<std::byte> changed = bytes;
        changed[at] ^= std::byte{0x5A};
        auto restored = Engine<ManualClock&, RecordingSink&>::restore(changed, clock, sink);
        REQUIRE_FALSE(restored.has_value());
        if (at < 4) CHECK(restored.error() == SnapshotError::not_a_snapshot);
        else if (at < 6) CHECK(restored.error() == SnapshotError::unsupported_version);
        else CHECK(restored.error() == SnapshotError::checksum_mismatch);
    }
}

TEST_CASE("well-formed bytes of an impossible state are refused as inconsistent [R27]", "[snapshot][R27]") {
    BusyDesk desk;
    std::vector<std::byte> bytes = desk.engine.snapshot();
    // Give an agent a limit far beyond the maximum, then re-seal the checksum.
    const std::size_t body_end = bytes.size() - 8;
    std::vector<std::byte> body(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(body_end));
    std::vector<std::byte> tampered = body;
    // The site's default limit sits right after the tag (4 bytes) and plan (1 byte).
    tampered[6 + 4 + 1 + 3] = std::byte{0x7F};
    detail::ByteWriter out;
    out.put_raw(tampered);
    out.put(detail::fnv1a(tampered));
    ManualClock clock;
    RecordingSink sink;
    auto restored = Engine<ManualClock&, RecordingSink&>::restore(out.bytes(), clock, sink);
    REQUIRE_FALSE(restored.has_value());
    CHECK(restored.error() == SnapshotError::inconsistent);
    CHECK(message(SnapshotError::inconsistent) == "the snapshot describes a state the engine cannot be in");
}

namespace {
// The snapshot with its checksum made right again after an edit.
std::vector<std::byte> sealed(std::vector<std::byte> bytes) {
    const auto body = std::span(bytes).first(bytes.size() - 8);
    const std::uint64_t sum = detail::fnv1a(body);
    for (std::size_t i = 0; i < 8; ++i) bytes[bytes.size() - 8 + i] = static_cast<std::byte>(sum >> (8 * i));
    return bytes;
}
// The snapshot with `value` (8 bytes, little-endian) written at `at` of its body, re-sealed.
std::vector<std::byte> with_u64_at(std::vector<std::byte> bytes, std::size_t at, std::uint64_t value) {
    for (std::size_t i = 0; i < 8; ++i) bytes[at + i] = static_cast<std::byte>(value >> (8 * i));
    return sealed(std::move(bytes));
}
// Where `pattern` first appears in the snapshot's body, past its 6-byte header.
std::size_t find_bytes(const std::vector<std::byte>& bytes, const std::vector<std::uint8_t>& pattern) {
    std::vector<std::byte> p;
    for (auto b : pattern) p.push_back(static_cast<std::byte>(b));
    const auto at = std::search(bytes.begin() + 6, bytes.end() - 8, p.begin(), p.end());
    REQUIRE(at != bytes.end() - 8);
    return static_cast<std::size_t>(at - bytes.begin());
}
// Why restore refuses the edited bytes (re-sealed first, so the edit itself is judged);
// a test fails if they restore.
SnapshotError refusal(const std::vector<std::byte>& edited, ManualClock& clock, RecordingSink& sink) {
    auto restored = Engine<ManualClock&, RecordingSink&>::restore(sealed(edited), clock, sink);
    REQUIRE_FALSE(restored.has_value());
    return restored.error();
}
std::vector<std::uint8_t> le64(std::uint64_t value) {
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
    return out;
}
}  // namespace

TEST_CASE("a value out of its range is inconsistent, not truncated; counters left without room are refused [R27][R38]",
          "[snapshot][R27][R38]") {
    // Review findings (2026-12-07): an invalid duration in complete bytes read as "cut
    // short", and counters at their limits were accepted, after which start order (R10)
    // and same-instant order (R25) broke.
    BusyDesk desk;
    const std::vector<std::byte> bytes = desk.engine.snapshot();
    ManualClock clock;
    RecordingSink sink;
    const auto refused_as = [&](const std::vector<std::byte>& edited) { return refusal(edited, clock, sink); };
    SECTION("the site's return-after-a-missed-offer set to -5 us") {
        // Header 6, site 4, plan 1, default limit 4, scope 1: then the duration's flag and count.
        std::vector<std::byte> edited = bytes;
        edited[16] = std::byte{1};
        CHECK(refused_as(with_u64_at(edited, 17, static_cast<std::uint64_t>(std::int64_t{-5}))) ==
              SnapshotError::inconsistent);
    }
    SECTION("conversations started past 2^53 - 2^40: too little room left for R38's 2^40 more") {
        // 8 started, 8 slots, 1 free: the conversation table's section begins so.
        std::vector<std::uint8_t> head = le64(8);
        for (std::uint8_t b : {8, 0, 0, 0, 1, 0, 0, 0}) head.push_back(b);
        const std::size_t at = find_bytes(bytes, head);
        constexpr std::uint64_t most = detail::ConversationTable::max_restored_started;
        CHECK(most == (std::uint64_t{1} << 53) - 1 - (std::uint64_t{1} << 40));
        CHECK(refused_as(with_u64_at(bytes, at, most + 1)) == SnapshotError::inconsistent);
        RecordingSink its_sink;  // this engine's events are not the refused restores' (none)
        auto fine = Engine<ManualClock&, RecordingSink&>::restore(with_u64_at(bytes, at, most), clock, its_sink);
        REQUIRE(fine.has_value());
        // The next conversation's serial follows the count, and its handle reads as live.
        const ConversationId next = fine->start_conversation(desk.sales).value();
        CHECK(next.serial == most + 1);
        CHECK(fine->status(next).value() == Status::waiting_for_agent);
    }
    CHECK(sink.events.empty());
}

TEST_CASE("the snapshot lists every timer once, in the order it fires; bytes in another order are refused [R25][R27]",
          "[snapshot][R25][R27]") {
    // One waiting conversation: its accept window (15 s) and its max duration (24 h). The
    // snapshot ends with: no returns, the two timers (u8 slot, u32 conversation, i64
    // deadline, i64 duration each), no offers, the checksum (docs/snapshot-format.md).
    Desk desk;
    const SpaceId s = desk.space();
    desk.clock.advance(1s);
    REQUIRE(desk.engine.start_conversation(s));
    const std::vector<std::byte> bytes = desk.engine.snapshot();
    constexpr std::size_t entry = 1 + 4 + 8 + 8;
    const std::size_t second = bytes.size() - 8 - 4 - entry;
    const std::size_t first = second - entry;
    REQUIRE(bytes[first - 4] == std::byte{2});             // two timers
    REQUIRE(bytes[first] == std::byte{1});                 // the window slot first: it fires first
    REQUIRE(bytes[second] == std::byte{2});                // then the limit slot
    REQUIRE(bytes[first - 8] == std::byte{0});             // no returns
    ManualClock clock = desk.clock;
    RecordingSink sink;
    const auto refused_as = [&](const std::vector<std::byte>& edited) { return refusal(edited, clock, sink); };
    REQUIRE(Engine<ManualClock&, RecordingSink&>::restore(bytes, clock, sink).has_value());

    SECTION("the two timers swapped: the same state, in an order the engine never writes") {
        std::vector<std::byte> edited = bytes;
        std::swap_ranges(edited.begin() + static_cast<std::ptrdiff_t>(first),
                         edited.begin() + static_cast<std::ptrdiff_t>(second), edited.begin() + static_cast<std::ptrdiff_t>(second));
        CHECK(refused_as(edited) == SnapshotError::inconsistent);
    }
    SECTION("one slot's timer named twice") {
        std::vector<std::byte> edited = bytes;
        edited[second] = std::byte{1};
        CHECK(refused_as(edited) == SnapshotError::inconsistent);
    }
    SECTION("a timer of a conversation slot that is not live") {
        std::vector<std::byte> edited = bytes;
        edited[second + 1] = std::byte{7};
        CHECK(refused_as(edited) == SnapshotError::inconsistent);
    }
    SECTION("a duration longer than any timing the engine takes") {
        const auto longest = static_cast<std::uint64_t>(max_timing.count());
        CHECK(refused_as(with_u64_at(bytes, second + 13, longest + 1)) == SnapshotError::inconsistent);
    }
    SECTION("a return the returns section does not list") {
        std::vector<std::byte> edited = bytes;
        edited[second] = std::byte{4};
        CHECK(refused_as(edited) == SnapshotError::inconsistent);
    }
    CHECK(sink.events.empty());
}

TEST_CASE("a role revoked while its agent still holds a conversation there snapshots and restores [R5][R27]",
          "[snapshot][R5][R27]") {
    // The model test's snapshot round trip found it: the revoked grant's old ring place was
    // written, restore (rightly) does not keep one, so the engine refused its own bytes.
    Desk desk;
    const SpaceId s = desk.space();
    (void)desk.agent();
    REQUIRE(desk.engine.grant_role(desk.engine.agent_at(0).value(), s));  // ring place 0
    const AgentId ana = desk.ready_agent(s);                               // ring place 1
    const ConversationId chat = desk.engine.start_conversation(s).value();
    REQUIRE(desk.engine.offered_to(chat).value() == ana);
    REQUIRE(desk.engine.accept(chat, ana));
    REQUIRE(desk.engine.revoke_role(ana, s));
    REQUIRE(desk.engine.assignee(chat).value() == ana);  // the membership stays while the chat does
    const std::vector<std::byte> bytes = desk.engine.snapshot();
    ManualClock clock = desk.clock;
    RecordingSink sink;
    auto restored = Engine<ManualClock&, RecordingSink&>::restore(bytes, clock, sink);
    REQUIRE(restored.has_value());
    CHECK(restored->snapshot() == bytes);
    CHECK(restored->has_role(ana, s).value() == false);
}

TEST_CASE("a conversation's timers are those its status and space give it; bytes with others are refused [R18][R25][R27]",
          "[snapshot][R18][R25][R27]") {
    // Review findings (2026-12-07): restore kept any timer a slot could hold, of any
    // duration. An active conversation relabelled wrapping_up (ended unset) restored, and
    // its 24 h limit then fired in a status with no rule for it: CHATROUTE_ASSERT aborted
    // the engine in advance(). A timer of a duration its space never gives, or a limit not
    // set when the conversation started, restored as well: states no command reaches.
    Desk desk;
    const SpaceId s = desk.space({.timings = {.max_duration = 10min}});  // the limit fires before the warning
    const SpaceId other = desk.space({.timings = {.max_duration = 1h}});
    const AgentId ana = desk.ready_agent(s);
    REQUIRE(desk.engine.grant_role(ana, other));
    desk.clock.set(time_point{100s});
    const ConversationId chat = desk.engine.start_conversation(s).value();
    desk.clock.advance(5s);
    REQUIRE(desk.engine.accept(chat, ana));
    const std::vector<std::byte> bytes = desk.engine.snapshot();
    ManualClock clock = desk.clock;
    RecordingSink sink;
    const auto refused_as = [&](const std::vector<std::byte>& edited) { return refusal(edited, clock, sink); };
    REQUIRE(Engine<ManualClock&, RecordingSink&>::restore(bytes, clock, sink).has_value());
    // The record of slot 0: u32 slot, u64 serial 1, i64 start; its status 34 bytes in.
    std::vector<std::uint8_t> record{0, 0, 0, 0};
    for (auto v : {le64(1), le64(100'000'000)}) record.insert(record.end(), v.begin(), v.end());
    const std::size_t status = find_bytes(bytes, record) + 4 + 8 + 8 + 4 + 4 + 4 + 2;
    REQUIRE(bytes[status] == std::byte{1});  // active
    const std::int64_t start = 100'000'000, accepted = 105'000'000;
    const std::int64_t warning = std::chrono::microseconds{20min}.count(), limit = std::chrono::microseconds{10min}.count();

    SECTION("wrapping_up without having ended") {
        std::vector<std::byte> edited = bytes;
        edited[status] = std::byte{2};
        CHECK(refused_as(edited) == SnapshotError::inconsistent);
    }
    SECTION("an inactivity timer of a duration the space does not give") {
        std::vector<std::uint8_t> entry = le64(static_cast<std::uint64_t>(accepted + warning));
        const auto length = le64(static_cast<std::uint64_t>(warning));
        entry.insert(entry.end(), length.begin(), length.end());
        const std::size_t at = find_bytes(bytes, entry);
        // The same timer made 40 min long, due 40 min after the accept: still last to fire.
        const auto longer = with_u64_at(with_u64_at(bytes, at, static_cast<std::uint64_t>(accepted + 2 * warning)),
                                        at + 8, static_cast<std::uint64_t>(2 * warning));
        CHECK(refused_as(longer) == SnapshotError::inconsistent);
    }
    SECTION("a limit not set when the conversation started") {
        std::vector<std::uint8_t> entry = le64(static_cast<std::uint64_t>(start + limit));
        const auto length = le64(static_cast<std::uint64_t>(limit));
        entry.insert(entry.end(), length.begin(), length.end());
        const std::size_t at = find_bytes(bytes, entry);
        CHECK(refused_as(with_u64_at(bytes, at, static_cast<std::uint64_t>(start + 1'000'000 + limit))) ==
              SnapshotError::inconsistent);
    }
    SECTION("a limit set in the space it started in, after a transfer elsewhere, is kept") {
        REQUIRE(desk.engine.transfer(chat, ana, other));
        const std::vector<std::byte> moved = desk.engine.snapshot();
        auto restored = Engine<ManualClock&, RecordingSink&>::restore(moved, clock, sink);
        REQUIRE(restored.has_value());
        CHECK(restored->snapshot() == moved);
    }
    CHECK(sink.events.empty());
}

TEST_CASE("one agent's offers in a space are listed in the order their timeouts fire; bytes in another are refused [R14][R27]",
          "[snapshot][R14][R27]") {
    // Review finding (2026-12-07): the offers section's order was taken as given, so the
    // two offers below, swapped, restored, and a later withdrawal (R14: oldest first)
    // would have taken them newest first, though their timeouts still fire oldest first.
    Desk desk;
    const SpaceId s = desk.space();
    (void)desk.ready_agent(s);
    REQUIRE(desk.engine.start_conversation(s));
    desk.clock.advance(1s);
    REQUIRE(desk.engine.start_conversation(s));
    const std::vector<std::byte> bytes = desk.engine.snapshot();
    // The snapshot ends with the offers (u32 2, u32 slot 0, u32 slot 1) and the checksum.
    const std::size_t offers = bytes.size() - 8 - 4 - 4;
    REQUIRE(bytes[offers - 4] == std::byte{2});
    REQUIRE(bytes[offers] == std::byte{0});
    REQUIRE(bytes[offers + 4] == std::byte{1});
    ManualClock clock = desk.clock;
    RecordingSink sink;
    REQUIRE(Engine<ManualClock&, RecordingSink&>::restore(bytes, clock, sink).has_value());
    std::vector<std::byte> swapped = bytes;
    std::swap(swapped[offers], swapped[offers + 4]);
    auto restored = Engine<ManualClock&, RecordingSink&>::restore(sealed(swapped), clock, sink);
    REQUIRE_FALSE(restored.has_value());
    CHECK(restored.error() == SnapshotError::inconsistent);
    CHECK(sink.events.empty());
}

TEST_CASE("every input that once crashed fuzz_restore gives an engine or an error [R27][R25]", "[snapshot][R27][R25]") {
    // The fuzzer's own reading of an input: the first byte says whether to seal the checksum.
    // timers_out_of_order: two timers of one duration whose deadlines run against the order
    // they were set (no reachable state), which once reached an assertion: now `inconsistent`.
    // (The inputs were found in format version 2 and rewritten in version 3 with their
    // faults kept: version 3 lists timers in firing order, so these two are out of it.)
    // two_roles_one_ring_place: two agents' roles at one place of a space's ring (R9).
    // two_conversations_one_serial: two live conversations with one start number (R10).
    // wrapping_up_not_ended: an active conversation relabelled wrapping_up with `ended`
    // unset; its max duration fired in a status with no rule for it (decision 73).
    // fault_in_the_last_bytes: a conversation record with a bad status as the body's last
    // bytes. read_state() reported a fault as `inconsistent`, which restore() took for
    // "read fine"; nothing was left unread, so check_invariants() ran on the half-read
    // record and indexed by its assignee out of range (UB). Faults are now never "fine".
    std::size_t inputs = 0;
    for (const auto& entry : std::filesystem::directory_iterator(CHATROUTE_FUZZ_REGRESSIONS "/fuzz_restore")) {
        std::ifstream file(entry.path(), std::ios::binary);
        const std::vector<char> data{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
        REQUIRE(data.size() > 8);
        std::vector<std::byte> bytes;
        for (std::size_t i = 1; i < data.size(); ++i) bytes.push_back(static_cast<std::byte>(data[i]));
        if (static_cast<unsigned char>(data[0]) & 1) {
            const std::vector<std::byte> body(bytes.begin(), bytes.end() - 8);
            detail::ByteWriter out;
            out.put_raw(body);
            out.put(detail::fnv1a(body));
            bytes = out.bytes();
        }
        ManualClock clock;
        RecordingSink sink;
        auto restored = Engine<ManualClock&, RecordingSink&>::restore(bytes, clock, sink);
        const auto name = entry.path().filename();
        if (name == "timers_out_of_order" || name == "two_roles_one_ring_place" ||
            name == "two_conversations_one_serial" || name == "wrapping_up_not_ended" ||
            name == "fault_in_the_last_bytes") {
            REQUIRE_FALSE(restored.has_value());
            CHECK(restored.error() == SnapshotError::inconsistent);
        } else if (restored) {
            CHECK_FALSE(restored->check_invariants());
        }
        ++inputs;
    }
    CHECK(inputs >= 1);
}

TEST_CASE("equal states give equal snapshot bytes; a failed command leaves them equal [R27]", "[snapshot][R27]") {
    BusyDesk desk;
    const auto before = desk.engine.snapshot();
    CHECK(desk.engine.accept(desk.chats[0], desk.ben).error() == Error::not_an_agent_in_space);
    CHECK(desk.engine.resolve(desk.chats[0], desk.ana, "Nope").error() == Error::unknown_resolution);
    CHECK(desk.engine.set_limit(desk.ana, -1).error() == Error::invalid_argument);
    CHECK(desk.engine.snapshot() == before);
    CHECK(desk.sink.events.empty());
}

TEST_CASE("reserving conversations up front leaves behaviour unchanged [R10]", "[memory][R10]") {
    Desk plain, reserved;
    reserved.engine.reserve_conversations(1000);
    const auto before = reserved.engine.memory_usage().conversations;
    for (Desk* desk : {&plain, &reserved}) {
        SpaceId s = desk->space();
        desk->ready_agent(s, 2);
        for (int i = 0; i < 500; ++i) REQUIRE(desk->engine.start_conversation(s));
    }
    // Only the small heap over timer lists (one entry per distinct duration) may grow.
    CHECK(reserved.engine.memory_usage().conversations <= before + 1024);
    CHECK(reserved.take() == plain.take());
}
