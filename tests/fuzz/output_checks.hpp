#pragma once
// Checks on the replay tool's output that hold for any input (SPEC §10): every line is one
// JSON object, and the `at` values never decrease.

#include "../../examples/replay/line.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

namespace chatroute::fuzz {

[[noreturn]] inline void fail(const char* what, std::string_view line) {
    std::fprintf(stderr, "%s: %.*s\n", what, static_cast<int>(line.size()), line.data());
    std::abort();
}

// Checks the output written since `from`; `last` carries the latest `at` across calls.
inline void check_output(std::string_view out, std::optional<std::int64_t>& last) {
    std::size_t start = 0;
    while (start < out.size()) {
        const std::size_t end = out.find('\n', start);
        if (end == std::string_view::npos) fail("an output line without its newline", out.substr(start));
        const std::string_view line = out.substr(start, end - start);
        start = end + 1;
        const auto scan = replay::detail::scan(line);
        if (!scan.object || scan.repeated_key) fail("an output line that is not one JSON object", line);
        if (scan.at_count == 0) {
            if (line.rfind(R"({"error":)", 0) != 0) fail("an event without at", line);
            continue;
        }
        const auto at = scan.at();
        if (!at) fail("an output at that is not an instant", line);
        if (last && *at < *last) fail("output at went back in time (SPEC 10)", line);
        last = at;
    }
}

}  // namespace chatroute::fuzz
