#pragma once
// One assertion macro for the whole library, on in every build (the way FMT_ASSERT is):
// the checks it guards are cheap, and a broken one must stop the engine before it can
// reach undefined behaviour. A host may define CHATROUTE_ASSERT before including
// chatroute to route failures elsewhere (a test can make it throw).

#include <cstdio>
#include <cstdlib>

namespace chatroute::detail {
[[noreturn]] inline void assert_failed(const char* file, int line, const char* condition, const char* message) {
    std::fprintf(stderr, "%s:%d: chatroute assertion failed: %s %s\n", file, line, condition, message);
    std::abort();
}
}  // namespace chatroute::detail

#ifndef CHATROUTE_ASSERT
/// CHATROUTE_ASSERT(condition) or CHATROUTE_ASSERT(condition, "why it must hold").
#define CHATROUTE_ASSERT(condition, ...) \
    ((condition) ? (void)0 : ::chatroute::detail::assert_failed(__FILE__, __LINE__, #condition, "" __VA_ARGS__))
#endif
