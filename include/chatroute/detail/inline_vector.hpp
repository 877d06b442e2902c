#pragma once
// A vector that keeps up to N elements inside itself and moves them all to the heap past
// that (issue 13: an agent's memberships sit in the agent's own record, so finding one
// reads one cache line instead of two). For trivially copyable T only: elements are
// copied, never constructed in place, so the class stays short.
//
// Iterators are pointers; insert() and erase() invalidate them, as std::vector's do.

#include <chatroute/detail/assert.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <type_traits>

namespace chatroute::detail {

template <class T, std::uint32_t N>
class InlineVector {
    static_assert(std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T>);
    static_assert(N > 0);

public:
    InlineVector() = default;
    InlineVector(const InlineVector& other) { *this = other; }
    InlineVector& operator=(const InlineVector& other) {
        if (this == &other) return *this;
        size_ = 0;
        reserve(other.size_);
        std::copy(other.begin(), other.end(), data());
        size_ = other.size_;
        return *this;
    }
    InlineVector(InlineVector&& other) noexcept { *this = std::move(other); }
    InlineVector& operator=(InlineVector&& other) noexcept {
        if (this == &other) return *this;
        local_ = other.local_;
        heap_ = std::move(other.heap_);
        size_ = other.size_;
        capacity_ = other.capacity_;
        other.size_ = 0;
        other.capacity_ = N;
        return *this;
    }
    ~InlineVector() = default;

    [[nodiscard]] T* begin() { return data(); }
    [[nodiscard]] T* end() { return data() + size_; }
    [[nodiscard]] const T* begin() const { return data(); }
    [[nodiscard]] const T* end() const { return data() + size_; }
    [[nodiscard]] std::uint32_t size() const { return size_; }
    [[nodiscard]] bool empty() const { return size_ == 0; }
    /// Elements it holds without growing: N while inline.
    [[nodiscard]] std::uint32_t capacity() const { return capacity_; }
    /// Whether the elements live on the heap (more than N were ever held at once).
    [[nodiscard]] bool on_heap() const { return heap_ != nullptr; }
    [[nodiscard]] T& operator[](std::uint32_t i) {
        CHATROUTE_ASSERT(i < size_);
        return data()[i];
    }
    [[nodiscard]] const T& operator[](std::uint32_t i) const {
        CHATROUTE_ASSERT(i < size_);
        return data()[i];
    }

    /// Inserts `value` before `at` and returns where it went. O(size).
    T* insert(const T* at, const T& value) {
        const T copy = value;  // `value` may be one of ours, and reserve() may move them
        const auto offset = static_cast<std::uint32_t>(at - begin());
        CHATROUTE_ASSERT(offset <= size_);
        reserve(size_ + 1);
        T* base = data();
        std::copy_backward(base + offset, base + size_, base + size_ + 1);
        base[offset] = copy;
        ++size_;
        return base + offset;
    }
    void push_back(const T& value) { (void)insert(end(), value); }

    /// Removes the element at `at` and returns what follows it. O(size).
    T* erase(const T* at) {
        const auto offset = static_cast<std::uint32_t>(at - begin());
        CHATROUTE_ASSERT(offset < size_);
        T* base = data();
        std::copy(base + offset + 1, base + size_, base + offset);
        --size_;
        return base + offset;
    }
    void clear() { size_ = 0; }

    /// Room for `count` elements; past N, the heap (doubling). Never shrinks.
    void reserve(std::uint32_t count) {
        if (count <= capacity_) return;
        std::uint32_t grown = std::max(count, 2 * capacity_);
        auto bigger = std::make_unique<T[]>(grown);
        std::copy(begin(), end(), bigger.get());
        heap_ = std::move(bigger);
        capacity_ = grown;
    }

    /// Heap bytes held (0 while inline).
    [[nodiscard]] std::size_t heap_bytes() const { return heap_ ? std::size_t{capacity_} * sizeof(T) : 0; }

private:
    [[nodiscard]] T* data() { return heap_ ? heap_.get() : local_.data(); }
    [[nodiscard]] const T* data() const { return heap_ ? heap_.get() : local_.data(); }

    std::uint32_t size_ = 0;
    std::uint32_t capacity_ = N;
    std::array<T, N> local_{};
    std::unique_ptr<T[]> heap_;
};

}  // namespace chatroute::detail
