#pragma once
// R30: skill names and sets of them, interned so that a set is one small index and
// "has every required skill" is a merge of two short sorted lists (<= 32 names each).
// Reference counted: memory stays proportional to the names and sets in use (R38).
// Names are numbered in first-seen order (ids reused after release), so the numbering is
// the same in every process for the same commands; nothing here reaches events.

#include <chatroute/detail/assert.hpp>
#include <chatroute/detail/hash_index.hpp>
#include <chatroute/detail/index.hpp>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chatroute::detail {

class SkillSets {
public:
    SkillSets() { sets_.push_back(Set{{}, 1, 0, nil}); }  // no_skills: held forever

    /// The set of these names (validated by the caller), holding one reference to it.
    [[nodiscard]] SkillSetIx acquire(std::span<const std::string> names) {
        if (names.empty()) return no_skills;
        scratch_.clear();
        for (const std::string& name : names) scratch_.push_back(acquire_name(name));
        std::sort(scratch_.begin(), scratch_.end());
        const std::uint64_t hash = hash_ids(scratch_);
        for (std::uint32_t s = first_with(set_index_, hash); s != nil; s = sets_[s].chain)
            if (sets_[s].names == scratch_) {
                for (std::uint32_t n : scratch_) release_name(n);
                ++sets_[s].refs;
                return SkillSetIx{s};
            }
        return SkillSetIx{make_set(hash)};
    }

    void retain(SkillSetIx set) { ++sets_[set.value].refs; }

    void release(SkillSetIx set) {
        if (set == no_skills) return;
        Set& s = sets_[set.value];
        CHATROUTE_ASSERT(s.refs > 0, "skill set released more often than acquired");
        if (--s.refs > 0) return;
        unlink(set_index_, sets_, s.hash, set.value);
        for (std::uint32_t n : s.names) release_name(n);
        s.names.clear();
        free_sets_.push_back(set.value);
    }

    /// R30: every name of `required` is in `held`.
    [[nodiscard]] bool covers(SkillSetIx held, SkillSetIx required) const {
        if (required == no_skills || held == required) return true;
        const auto& have = sets_[held.value].names;
        const auto& need = sets_[required.value].names;
        return std::includes(have.begin(), have.end(), need.begin(), need.end());
    }

    /// The set's names, sorted by name (for snapshots and the host's queries).
    [[nodiscard]] std::vector<std::string> names(SkillSetIx set) const {
        std::vector<std::string> out;
        for (std::uint32_t n : sets_[set.value].names) out.push_back(names_[n].text);
        std::sort(out.begin(), out.end());
        return out;
    }
    [[nodiscard]] std::size_t size(SkillSetIx set) const { return sets_[set.value].names.size(); }

    [[nodiscard]] std::size_t memory_bytes() const {
        std::size_t bytes = sets_.capacity() * sizeof(Set) + names_.capacity() * sizeof(Name) +
                            name_index_.memory_bytes() + set_index_.memory_bytes();
        for (const Set& s : sets_) bytes += s.names.capacity() * sizeof(std::uint32_t);
        for (const Name& n : names_) bytes += n.text.capacity();
        return bytes;
    }

private:
    struct Name {
        std::string text;
        std::uint32_t refs = 0;
        std::uint64_t hash = 0;
        std::uint32_t chain = nil;  // next name with the same hash
    };
    struct Set {
        std::vector<std::uint32_t> names;  // name ids, ascending
        std::uint32_t refs = 0;
        std::uint64_t hash = 0;
        std::uint32_t chain = nil;
    };

    static std::uint64_t hash_ids(const std::vector<std::uint32_t>& ids) {
        std::uint64_t h = 0x9E3779B97F4A7C15ULL;
        for (std::uint32_t id : ids) h = (h ^ id) * 0x100000001B3ULL;
        return h;
    }

    static std::uint32_t first_with(const HashIndex& index, std::uint64_t hash) {
        auto found = index.find(hash);
        return found ? *found : nil;
    }

    template <class Table>
    static void link(HashIndex& index, Table& table, std::uint64_t hash, std::uint32_t id) {
        table[id].hash = hash;
        table[id].chain = first_with(index, hash);
        index.assign(hash, id);
    }

    template <class Table>
    static void unlink(HashIndex& index, Table& table, std::uint64_t hash, std::uint32_t id) {
        const std::uint32_t first = first_with(index, hash);
        if (first == id) {
            if (table[id].chain == nil)
                index.erase(hash);
            else
                index.assign(hash, table[id].chain);
            return;
        }
        std::uint32_t at = first;
        while (table[at].chain != id) at = table[at].chain;
        table[at].chain = table[id].chain;
    }

    std::uint32_t acquire_name(std::string_view text) {
        const std::uint64_t hash = hash_bytes(text);
        for (std::uint32_t n = first_with(name_index_, hash); n != nil; n = names_[n].chain)
            if (names_[n].text == text) {
                ++names_[n].refs;
                return n;
            }
        std::uint32_t id;
        if (!free_names_.empty()) {
            id = free_names_.back();
            free_names_.pop_back();
        } else {
            id = static_cast<std::uint32_t>(names_.size());
            names_.emplace_back();
        }
        names_[id].text.assign(text);
        names_[id].refs = 1;
        link(name_index_, names_, hash, id);
        return id;
    }

    void release_name(std::uint32_t id) {
        Name& n = names_[id];
        if (--n.refs > 0) return;
        unlink(name_index_, names_, n.hash, id);
        n.text.clear();
        n.text.shrink_to_fit();
        free_names_.push_back(id);
    }

    std::uint32_t make_set(std::uint64_t hash) {
        std::uint32_t id;
        if (!free_sets_.empty()) {
            id = free_sets_.back();
            free_sets_.pop_back();
        } else {
            id = static_cast<std::uint32_t>(sets_.size());
            sets_.emplace_back();
        }
        sets_[id].names = scratch_;
        sets_[id].refs = 1;
        link(set_index_, sets_, hash, id);
        return id;
    }

    std::vector<Name> names_;
    std::vector<std::uint32_t> free_names_;
    HashIndex name_index_;
    std::vector<Set> sets_;
    std::vector<std::uint32_t> free_sets_;
    HashIndex set_index_;
    std::vector<std::uint32_t> scratch_;
};

}  // namespace chatroute::detail
