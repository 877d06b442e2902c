#pragma once
// Little-endian fixed-width encoding for snapshots, with a reader that never reads past
// the end: a short or malformed input makes it fail, never misbehave.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace chatroute::detail {

// FNV-1a, 64 bits: cheap, and enough to catch a flipped or truncated byte.
[[nodiscard]] constexpr std::uint64_t fnv1a(std::span<const std::byte> bytes) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (std::byte b : bytes) hash = (hash ^ static_cast<std::uint64_t>(b)) * 0x100000001b3ULL;
    return hash;
}

template <class T>
struct unsigned_of : std::make_unsigned<T> {};
template <class T>
    requires std::is_enum_v<T>
struct unsigned_of<T> : std::make_unsigned<std::underlying_type_t<T>> {};

class ByteWriter {
public:
    template <class T>
        requires std::is_integral_v<T> || std::is_enum_v<T>
    void put(T value) {
        using U = typename unsigned_of<T>::type;
        auto bits = static_cast<std::uint64_t>(static_cast<U>(value));
        for (std::size_t i = 0; i < sizeof(T); ++i) bytes_.push_back(static_cast<std::byte>(bits >> (8 * i)));
    }
    void put(bool value) { put(static_cast<std::uint8_t>(value)); }
    void put(std::string_view text) {
        put(static_cast<std::uint32_t>(text.size()));
        for (char c : text) bytes_.push_back(static_cast<std::byte>(c));
    }
    void put_raw(std::span<const std::byte> bytes) { bytes_.insert(bytes_.end(), bytes.begin(), bytes.end()); }

    [[nodiscard]] std::vector<std::byte>& bytes() { return bytes_; }

private:
    std::vector<std::byte> bytes_;
};

class ByteReader {
public:
    explicit ByteReader(std::span<const std::byte> bytes) : bytes_(bytes) {}

    [[nodiscard]] bool ok() const { return ok_; }
    /// Whether reading failed because the bytes ended (else, if !ok(), a value was invalid).
    [[nodiscard]] bool cut_short() const { return cut_short_; }
    [[nodiscard]] bool at_end() const { return position_ == bytes_.size(); }
    [[nodiscard]] std::size_t remaining() const { return bytes_.size() - position_; }
    /// A value read was well-formed but invalid: reading stops, not cut short.
    void fail() { ok_ = false; }

    template <class T>
        requires std::is_integral_v<T> || std::is_enum_v<T>
    T get() {
        using U = typename unsigned_of<T>::type;
        if (!ok_ || remaining() < sizeof(T)) {
            end_early();
            return T{};
        }
        std::uint64_t bits = 0;
        for (std::size_t i = 0; i < sizeof(T); ++i)
            bits |= static_cast<std::uint64_t>(bytes_[position_ + i]) << (8 * i);
        position_ += sizeof(T);
        return static_cast<T>(static_cast<U>(bits));
    }

    bool get_bool() {
        const auto value = get<std::uint8_t>();
        if (value > 1) ok_ = false;
        return value == 1;
    }

    std::string get_string() {
        const auto size = get<std::uint32_t>();
        if (!ok_ || remaining() < size) {
            end_early();
            return {};
        }
        std::string text(size, '\0');
        std::memcpy(text.data(), bytes_.data() + position_, size);
        position_ += size;
        return text;
    }

    // A count of records, each at least `record_bytes` long: bounded by what is left, so a
    // corrupted count cannot make the reader allocate without limit.
    std::uint32_t get_count(std::size_t record_bytes) {
        const auto count = get<std::uint32_t>();
        if (record_bytes > 0 && count > remaining() / record_bytes) end_early();
        return ok_ ? count : 0;
    }

private:
    // Out of bytes, unless reading had already stopped for an invalid value.
    void end_early() {
        if (ok_) cut_short_ = true;
        ok_ = false;
    }

    std::span<const std::byte> bytes_;
    std::size_t position_ = 0;
    bool ok_ = true;
    bool cut_short_ = false;
};

}  // namespace chatroute::detail
