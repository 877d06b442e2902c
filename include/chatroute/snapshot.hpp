#pragma once
/// \file
/// Why a snapshot could not be restored. A snapshot is the engine's whole state in a
/// versioned byte format (docs/snapshot-format.md); restoring one that is truncated,
/// corrupted or of another version gives one of these and no engine.

#include <array>
#include <cstdint>
#include <string_view>

namespace chatroute {

enum class SnapshotError : std::uint8_t {
    truncated,            ///< the bytes end before the snapshot does
    not_a_snapshot,       ///< the first bytes are not chatroute's snapshot marker
    unsupported_version,  ///< written by a format version this build does not read
    checksum_mismatch,    ///< bytes changed after the snapshot was written
    inconsistent,         ///< well-formed bytes describing a state the engine cannot be in
    unreachable_deadline, ///< a deadline later than the snapshot's instant plus its duration, or already due
};

inline constexpr std::uint32_t snapshot_magic = 0x4E53'5243;  ///< "CRSN", little-endian
inline constexpr std::uint16_t snapshot_version = 3;

[[nodiscard]] constexpr std::string_view to_string(SnapshotError error) {
    constexpr std::array<std::string_view, 6> names{"truncated", "not_a_snapshot", "unsupported_version",
                                                    "checksum_mismatch", "inconsistent", "unreachable_deadline"};
    return names[static_cast<std::size_t>(error)];
}

[[nodiscard]] constexpr std::string_view message(SnapshotError error) {
    constexpr std::array<std::string_view, 6> texts{
        "the snapshot is cut short", "these bytes are not a chatroute snapshot",
        "the snapshot was written by a format version this build cannot read",
        "the snapshot's checksum does not match: its bytes were changed",
        "the snapshot describes a state the engine cannot be in",
        "the snapshot holds a deadline that could not have been set by its instant, or one already due"};
    return texts[static_cast<std::size_t>(error)];
}

}  // namespace chatroute
