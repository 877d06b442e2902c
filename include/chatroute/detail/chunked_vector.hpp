#pragma once
// A vector that grows by fixed chunks instead of doubling (issue 13, R38): capacity is
// at most one chunk above the size, and growth past the first chunk never copies an
// element. The first chunk grows by doubling, as a std::vector does, until it reaches the
// chunk length, so a small table stays small. Indexing costs one more load than a
// std::vector (the chunk table, a few pointers, stays in cache).
//
// Every slot below capacity() holds a valid T (chunks are value-initialized when made);
// emplace_back() and resize() reset the slots they bring into the size to T{}.
//
// Chunks start on a cache line (64 B), so records whose size divides into lines, or into
// a fixed pattern of them, always fall the same way across lines: malloc's 16 B alignment
// made every other 32 B timer node straddle two lines.

#include <chatroute/detail/assert.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

// Indexing is two loads and a mask; the assertion made GCC stop inlining it at some call
// sites (+4% instructions per command in the live series), so it is forced.
#if defined(__GNUC__) || defined(__clang__)
#define CHATROUTE_DETAIL_ALWAYS_INLINE [[gnu::always_inline]] inline
#else
#define CHATROUTE_DETAIL_ALWAYS_INLINE inline
#endif

namespace chatroute::detail {

/// `T` must be default-constructible and move-assignable (copy-assignable for assign()
/// and push_back(const T&)). `ChunkBits` sets the chunk's
/// length: 2^ChunkBits elements.
template <class T, unsigned ChunkBits = 12>
class ChunkedVector {
public:
    static constexpr std::size_t chunk_length = std::size_t{1} << ChunkBits;

    [[nodiscard]] CHATROUTE_DETAIL_ALWAYS_INLINE T& operator[](std::size_t i) {
        CHATROUTE_ASSERT(i < size_);
        return slot(i);
    }
    [[nodiscard]] CHATROUTE_DETAIL_ALWAYS_INLINE const T& operator[](std::size_t i) const {
        CHATROUTE_ASSERT(i < size_);
        return slot(i);
    }
    [[nodiscard]] std::size_t size() const { return size_; }
    [[nodiscard]] bool empty() const { return size_ == 0; }
    [[nodiscard]] std::size_t capacity() const {
        return chunks_.size() == 1 ? first_capacity_ : chunks_.size() * chunk_length;
    }

    /// Appends a value-initialized element and returns it. Allocates one chunk when full.
    T& emplace_back() {
        reserve(size_ + 1);
        T& added = slot(size_++);
        added = T{};
        return added;
    }
    void push_back(const T& value) { emplace_back() = value; }
    void push_back(T&& value) { emplace_back() = std::move(value); }

    /// Makes room for `count` elements (whole chunks); never shrinks.
    void reserve(std::size_t count) {
        if (capacity() >= count) return;
        if (chunks_.size() <= 1 && count <= chunk_length) return grow_first(count);
        if (chunks_.size() <= 1 && first_capacity_ < chunk_length) grow_first(chunk_length);
        while (capacity() < count) chunks_.push_back(make_chunk(chunk_length));
    }

    /// Grows (value-initialized elements) or shrinks the size; capacity never shrinks.
    void resize(std::size_t count) {
        reserve(count);
        for (std::size_t i = size_; i < count; ++i) slot(i) = T{};
        size_ = count;
    }

    /// `count` copies of `value`, as std::vector::assign.
    void assign(std::size_t count, const T& value) {
        reserve(count);
        for (std::size_t i = 0; i < count; ++i) slot(i) = value;
        size_ = count;
    }

    void clear() { size_ = 0; }

    [[nodiscard]] std::size_t memory_bytes() const {
        return capacity() * sizeof(T) + chunks_.capacity() * sizeof(Chunk);
    }

private:
    static constexpr std::size_t mask = chunk_length - 1;

    // Element i of the capacity, in or past the size.
    CHATROUTE_DETAIL_ALWAYS_INLINE T& slot(std::size_t i) { return chunks_[i >> ChunkBits].get()[i & mask]; }
    CHATROUTE_DETAIL_ALWAYS_INLINE const T& slot(std::size_t i) const { return chunks_[i >> ChunkBits].get()[i & mask]; }
    static constexpr std::align_val_t line{alignof(T) > 64 ? alignof(T) : 64};

    struct Release {
        std::size_t length;
        void operator()(T* chunk) const {
            std::destroy_n(chunk, length);
            ::operator delete(chunk, line);
        }
    };
    using Chunk = std::unique_ptr<T, Release>;

    // `length` value-initialized elements on a fresh cache line.
    static Chunk make_chunk(std::size_t length) {
        T* chunk = static_cast<T*>(::operator new(length * sizeof(T), line));
        try {
            std::uninitialized_value_construct_n(chunk, length);
        } catch (...) {
            ::operator delete(chunk, line);
            throw;
        }
        return Chunk{chunk, Release{length}};
    }

    // The first chunk, while shorter than a chunk: doubled (at least to `count`), copied.
    void grow_first(std::size_t count) {
        std::size_t length = first_capacity_ == 0 ? 8 : 2 * first_capacity_;
        while (length < count) length *= 2;
        if (length > chunk_length) length = chunk_length;
        Chunk bigger = make_chunk(length);
        for (std::size_t i = 0; i < size_; ++i) bigger.get()[i] = std::move(slot(i));
        if (chunks_.empty())
            chunks_.push_back(std::move(bigger));
        else
            chunks_[0] = std::move(bigger);
        first_capacity_ = length;
    }

    std::vector<Chunk> chunks_;
    std::size_t size_ = 0;
    std::size_t first_capacity_ = 0;  ///< the first chunk's length while it is the only one
};

}  // namespace chatroute::detail
