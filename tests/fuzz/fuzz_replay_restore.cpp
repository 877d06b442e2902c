// libFuzzer: a replay snapshot, then a scenario, through the replay tool (`--restore`).
// Input: a flags byte, the snapshot's length (4 bytes, little-endian), the snapshot, and
// the scenario's lines. Flags bit 0 re-seals the engine's and the file's checksums, so the
// fuzzer reaches the parsers behind them. A snapshot the tool accepts must never make it
// abort: after every line the invariants hold and the output stays well-formed and in
// time order. Seeds: golden scenarios cut at several lines (fuzz_make_seeds).

#include "../../examples/replay/replayer.hpp"
#include "output_checks.hpp"

#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

namespace {

void seal(std::span<std::byte> bytes) {
    if (bytes.size() < 8) return;
    const std::uint64_t sum = chatroute::replay::detail::fnv1a(bytes.first(bytes.size() - 8));
    for (std::size_t i = 0; i < 8; ++i) bytes[bytes.size() - 8 + i] = static_cast<std::byte>(sum >> (8 * i));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 5) return 0;
    const std::uint8_t flags = data[0];
    std::size_t length = 0;
    for (std::size_t i = 0; i < 4; ++i) length |= std::size_t{data[1 + i]} << (8 * i);
    length = std::min(length, size - 5);
    std::vector<std::byte> snapshot(length);
    for (std::size_t i = 0; i < length; ++i) snapshot[i] = static_cast<std::byte>(data[5 + i]);
    if ((flags & 1) && snapshot.size() >= 16) {
        std::size_t engine = 0;  // the envelope: magic, engine size, engine bytes, names, checksum
        for (std::size_t i = 0; i < 4; ++i) engine |= std::size_t{std::to_integer<std::uint8_t>(snapshot[4 + i])} << (8 * i);
        if (engine <= snapshot.size() - 16) seal(std::span(snapshot).subspan(8, engine));
        seal(snapshot);
    }
    const std::string_view text(reinterpret_cast<const char*>(data) + 5 + length, size - 5 - length);

    fmt::memory_buffer out;
    chatroute::replay::Replayer replayer(out);
    if (replayer.restore(snapshot)) return 0;  // refused, with a reason: fine
    if (auto broken = replayer.engine().check_invariants()) chatroute::fuzz::fail("a restored invariant broke", *broken);
    std::optional<std::int64_t> last_at = replayer.engine().now().time_since_epoch().count();
    std::size_t start = 0;
    for (int lines = 0; start < text.size() && lines < 300; ++lines) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        replayer.apply(text.substr(start, end - start));
        if (auto broken = replayer.engine().check_invariants()) chatroute::fuzz::fail("an invariant broke", *broken);
        chatroute::fuzz::check_output({out.data(), out.size()}, last_at);
        out.clear();
        start = end + 1;
    }
    (void)replayer.snapshot();  // and it can be saved again
    return 0;
}
