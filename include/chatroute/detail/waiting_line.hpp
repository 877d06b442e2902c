#pragma once
// The waiting line (R10, R29, R37): conversations waiting for an agent with no pending
// offer, per space and per required skill set ("group": its members have the same
// eligible agents), each group ordered by priority then age. Routing takes groups that
// may have become routable ("dirty": a conversation joined, or an agent who covers its
// skills became eligible) and serves them across spaces in one order.

#include <chatroute/detail/assert.hpp>
#include <chatroute/detail/index.hpp>
#include <chatroute/detail/ordered_forest.hpp>
#include <chatroute/detail/skill_sets.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

namespace chatroute::detail {

class WaitingLine {
public:
    struct Head {
        std::uint64_t key;  ///< ConversationRecord::wait_key()
        SpaceIx space;
        SkillSetIx skills;
        ConvIx conversation;
    };

    /// A space's line, with room for its first group: a space's first waiting
    /// conversation, like every later one, allocates nothing (issue 13).
    void add_space() {
        spaces_.emplace_back();
        spaces_.back().groups.reserve(1);
        reserve_marks();
    }

    void enqueue(SpaceIx s, SkillSetIx skills, std::uint64_t key, std::int64_t start_us, ConvIx c) {
        Group& g = group_of(s, skills);
        forest_.insert(g.tree, key, start_us, c.value);
        ++spaces_[s.value].waiting;
        mark(s, g);
    }

    void dequeue(SpaceIx s, SkillSetIx skills, std::uint64_t key) {
        Line& line = spaces_[s.value];
        auto it = find_group(line, skills);
        CHATROUTE_ASSERT(it != line.groups.end(), "dequeue from a missing group");
        forest_.erase(it->tree, key);
        --line.waiting;
        if (forest_.size(it->tree) == 0) {
            *it = line.groups.back();
            line.groups.pop_back();  // keeps the capacity: the group's return allocates nothing
            --groups_;
        }
    }

    /// An agent holding `held` became eligible in the space: the groups it covers may route.
    void agent_arrived(SpaceIx s, SkillSetIx held, const SkillSets& skills) {
        for (Group& g : spaces_[s.value].groups)
            if (skills.covers(held, g.skills)) mark(s, g);
    }

    /// The heads of the groups marked since the last call; clears the marks.
    /// `out` is sized for every group at once (a no-op after the high-water mark), so the
    /// caller may push one head per group back into it without allocating.
    void take_dirty(std::vector<Head>& out) {
        out.clear();
        out.reserve(dirty_.capacity());
        for (const auto& [s, skills] : dirty_) {
            Line& line = spaces_[s.value];
            auto it = find_group(line, skills);
            if (it == line.groups.end() || !it->dirty) continue;
            it->dirty = false;
            if (auto h = head(s, *it)) out.push_back(*h);
        }
        dirty_.clear();
    }

    /// The group's best conversation, if any.
    [[nodiscard]] std::optional<Head> head(SpaceIx s, SkillSetIx skills) {
        Line& line = spaces_[s.value];
        auto it = find_group(line, skills);
        if (it == line.groups.end()) return std::nullopt;
        return head(s, *it);
    }

    // ---- R37 ----
    [[nodiscard]] std::size_t waiting(SpaceIx s) const { return spaces_[s.value].waiting; }
    /// 1 + the waiting conversations of the space that R29's order serves before `key`.
    [[nodiscard]] std::size_t position(SpaceIx s, std::uint64_t key) const {
        std::size_t ahead = 0;
        for (const Group& g : spaces_[s.value].groups) ahead += forest_.count_less(g.tree, key);
        return ahead + 1;
    }
    [[nodiscard]] std::optional<std::int64_t> oldest_start_us(SpaceIx s) const {
        std::optional<std::int64_t> oldest;
        for (const Group& g : spaces_[s.value].groups)
            if (auto m = forest_.min_value(g.tree); m && (!oldest || *m < *oldest)) oldest = m;
        return oldest;
    }

    void reserve(std::size_t conversations) {
        forest_.reserve(conversations);
    }
    [[nodiscard]] std::size_t memory_bytes() const {
        std::size_t bytes = spaces_.capacity() * sizeof(Line) + forest_.memory_bytes() +
                            dirty_.capacity() * sizeof(dirty_.front());
        for (const Line& l : spaces_) bytes += l.groups.capacity() * sizeof(Group);
        return bytes;
    }

private:
    struct Group {
        SkillSetIx skills;
        OrderedForest<>::Tree tree;  ///< order: wait key; value: start instant; id: conversation
        bool dirty = false;
    };
    struct Line {
        std::vector<Group> groups;  ///< one per required skill set waiting here
        std::uint32_t waiting = 0;
    };

    static std::vector<Group>::iterator find_group(Line& line, SkillSetIx skills) {
        return std::find_if(line.groups.begin(), line.groups.end(), [&](const Group& g) { return g.skills == skills; });
    }
    Group& group_of(SpaceIx s, SkillSetIx skills) {
        Line& line = spaces_[s.value];
        auto it = find_group(line, skills);
        if (it != line.groups.end()) return *it;
        line.groups.push_back(Group{skills, {}, false});
        ++groups_;
        reserve_marks();
        return line.groups.back();
    }
    // Each group is marked at most once between two take_dirty() calls, so the marks never
    // outnumber the groups: reserving for the most groups ever live keeps marking free of
    // allocation once that high-water mark is reached (a new (space, skill set) pair).
    void reserve_marks() {
        const std::size_t bound = std::max(groups_, spaces_.size());
        if (dirty_.capacity() < bound) dirty_.reserve(std::max(bound, 2 * dirty_.capacity()));
    }
    void mark(SpaceIx s, Group& g) {
        if (g.dirty) return;
        g.dirty = true;
        dirty_.emplace_back(s, g.skills);
    }
    std::optional<Head> head(SpaceIx s, const Group& g) const {
        auto first = forest_.first(g.tree);
        if (!first) return std::nullopt;
        return Head{first->order, s, g.skills, ConvIx{first->id}};
    }

    std::vector<Line> spaces_;
    OrderedForest<> forest_;
    std::vector<std::pair<SpaceIx, SkillSetIx>> dirty_;
    std::size_t groups_ = 0;  ///< groups live in every space
};

}  // namespace chatroute::detail
