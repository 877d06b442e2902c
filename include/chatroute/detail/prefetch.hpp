#pragma once
// A hint that memory will be read soon (issue 13: the time per command at scale).
//
// A command's conversation record, its timer node and its agent's record are found from
// the handles alone, before any of them is read. Asking for all of them first lets their
// cache misses overlap instead of waiting one after another. A hint changes no state and
// no result; where the compiler has no such builtin it does nothing.

namespace chatroute::detail {

inline void prefetch(const void* address) noexcept {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(address);
#else
    (void)address;
#endif
}

}  // namespace chatroute::detail
