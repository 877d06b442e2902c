// libFuzzer: any text through the replay tool (SPEC §10). Seeds: tests/scenarios/*.jsonl.
// Every output line is one JSON object, output `at` never decreases, and the engine's
// invariants hold after every line.

#include "../../examples/replay/replayer.hpp"
#include "output_checks.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    fmt::memory_buffer out;
    chatroute::replay::Replayer replayer(out);
    std::optional<std::int64_t> last_at;
    std::size_t start = 0;
    for (int lines = 0; start <= text.size() && lines < 300; ++lines) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        replayer.apply(text.substr(start, end - start));
        if (auto broken = replayer.engine().check_invariants()) chatroute::fuzz::fail("an invariant broke", *broken);
        chatroute::fuzz::check_output({out.data(), out.size()}, last_at);
        out.clear();
        start = end + 1;
    }
    return 0;
}
