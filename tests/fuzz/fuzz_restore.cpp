// libFuzzer: restore() on arbitrary bytes must give an engine or an error, never a crash.
// Inputs whose first byte is odd get their checksum sealed, so the fuzzer reaches the
// parser behind it. A restored engine must pass its invariants and keep working.

#include <chatroute/chatroute.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::vector<std::byte> bytes(size - 1);
    for (std::size_t i = 1; i < size; ++i) bytes[i - 1] = static_cast<std::byte>(data[i]);
    if ((data[0] & 1) && bytes.size() >= 8) {
        const std::uint64_t sum = chatroute::detail::fnv1a(std::span(bytes).first(bytes.size() - 8));
        for (std::size_t i = 0; i < 8; ++i) bytes[bytes.size() - 8 + i] = static_cast<std::byte>(sum >> (8 * i));
    }
    chatroute::ManualClock clock;
    chatroute::NullSink sink;
    auto engine = chatroute::Engine<chatroute::ManualClock&, chatroute::NullSink>::restore(bytes, clock, sink);
    if (!engine) return 0;
    if (engine->check_invariants()) std::abort();
    if (engine->snapshot() != bytes) std::abort();  // a restorable snapshot is canonical
    clock.set(engine->now() + std::chrono::hours{48});
    (void)engine->advance();
    if (engine->check_invariants()) std::abort();
    return 0;
}
