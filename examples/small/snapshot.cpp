// Snapshot and restore: the engine's whole state as bytes, and an engine rebuilt from
// them that goes on exactly as the first would have. Handles stay valid across it.
// Restoring bytes that are damaged or of another format version gives a SnapshotError
// and no engine.
#include <chatroute/chatroute.hpp>

#include <fmt/format.h>

#include <cstddef>
#include <vector>

int main() {
    using namespace std::chrono_literals;
    chatroute::ManualClock clock;
    chatroute::RecordingSink events;
    chatroute::Engine engine{clock, events};

    auto space = engine.add_space();
    auto ana = engine.add_agent();
    if (!space || !ana) return 1;
    if (!engine.grant_role(*ana, *space) || !engine.set_availability(*ana, *space, true)) return 1;
    auto chat = engine.start_conversation(*space);  // offered to ana, expires at 120 s
    if (!chat) return 1;
    clock.advance(60s);

    const std::vector<std::byte> bytes = engine.snapshot();  // write it anywhere: a file, a database

    // Later, maybe in another process: a new clock and sink, the same state.
    chatroute::ManualClock clock2{clock.now()};
    chatroute::RecordingSink events2;
    auto restored = decltype(engine)::restore(bytes, clock2, events2);
    if (!restored) return fmt::print(stderr, "restore: {}\n", chatroute::message(restored.error())), 1;
    chatroute::Engine<chatroute::ManualClock&, chatroute::RecordingSink&>& again = *restored;

    fmt::print("same bytes after restore: {}\n", again.snapshot() == bytes);
    if (auto r = again.accept(*chat, *ana); !r) return fmt::print(stderr, "accept: {}\n", r.error()), 1;
    for (const chatroute::Event& event : events2.events) fmt::print("{}\n", event);

    // A changed byte fails the checksum; a snapshot of format version 1 is refused.
    std::vector<std::byte> damaged = bytes;
    damaged.back() ^= std::byte{1};
    auto bad = decltype(engine)::restore(damaged, clock2, events2);
    fmt::print("damaged: {}\n", bad ? "restored?!" : chatroute::to_string(bad.error()));

    std::vector<std::byte> old = bytes;
    old[4] = std::byte{1};  // the version follows the 4-byte marker (docs/snapshot-format.md)
    old[5] = std::byte{0};
    auto refused = decltype(engine)::restore(old, clock2, events2);
    fmt::print("version 1: {}\n", refused ? "restored?!" : chatroute::to_string(refused.error()));
    return 0;
}
