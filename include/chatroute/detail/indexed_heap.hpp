#pragma once
// A binary min-heap whose entries know where they are, so any one can be removed or
// re-keyed in O(log n). The owner keeps each entry's position: `moved(id, position)` is
// called whenever an entry lands somewhere new.

#include <cassert>
#include <cstdint>
#include <utility>
#include <vector>

namespace chatroute::detail {

template <class Key>
class IndexedHeap {
public:
    struct Entry {
        Key key;
        std::uint32_t id;
    };
    static constexpr std::uint32_t npos = 0xFFFF'FFFF;

    [[nodiscard]] bool empty() const { return entries_.empty(); }
    [[nodiscard]] std::size_t size() const { return entries_.size(); }
    [[nodiscard]] const Entry& top() const { return entries_.front(); }
    [[nodiscard]] const std::vector<Entry>& entries() const { return entries_; }
    void reserve(std::size_t n) { entries_.reserve(n); }

    template <class Moved>
    void push(Key key, std::uint32_t id, Moved&& moved) {
        entries_.push_back({key, id});
        sift_up(entries_.size() - 1, moved);
    }

    template <class Moved>
    void erase(std::uint32_t position, Moved&& moved) {
        assert(position < entries_.size());
        moved(entries_[position].id, npos);
        const std::size_t last = entries_.size() - 1;
        if (position != last) {
            entries_[position] = entries_[last];
            entries_.pop_back();
            moved(entries_[position].id, position);
            restore(position, moved);
        } else {
            entries_.pop_back();
        }
    }

    template <class Moved>
    void rekey(std::uint32_t position, Key key, Moved&& moved) {
        entries_[position].key = key;
        restore(position, moved);
    }

private:
    template <class Moved>
    void restore(std::size_t position, Moved& moved) {
        if (position > 0 && entries_[position].key < entries_[(position - 1) / 2].key)
            sift_up(position, moved);
        else
            sift_down(position, moved);
    }

    template <class Moved>
    void sift_up(std::size_t position, Moved& moved) {
        const Entry entry = entries_[position];
        while (position > 0) {
            const std::size_t parent = (position - 1) / 2;
            if (!(entry.key < entries_[parent].key)) break;
            place(position, entries_[parent], moved);
            position = parent;
        }
        place(position, entry, moved);
    }

    template <class Moved>
    void sift_down(std::size_t position, Moved& moved) {
        const Entry entry = entries_[position];
        const std::size_t count = entries_.size();
        for (;;) {
            std::size_t child = 2 * position + 1;
            if (child >= count) break;
            if (child + 1 < count && entries_[child + 1].key < entries_[child].key) ++child;
            if (!(entries_[child].key < entry.key)) break;
            place(position, entries_[child], moved);
            position = child;
        }
        place(position, entry, moved);
    }

    template <class Moved>
    void place(std::size_t position, const Entry& entry, Moved& moved) {
        entries_[position] = entry;
        moved(entry.id, static_cast<std::uint32_t>(position));
    }

    std::vector<Entry> entries_;
};

}  // namespace chatroute::detail
