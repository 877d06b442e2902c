#pragma once
// The roster: agents, their roles and availability per space (R4, R5), and each space's
// ring (R9) of the agents that may be offered a conversation now.
//
// A membership is one (agent, space) pair, found by a binary search of the agent's own
// list of memberships, which is kept sorted by space (O(log k) for an agent with k). Ring
// positions are grant numbers (64 bits, never reused): the cursor is a position, an agent
// who leaves leaves a gap that costs nothing, and an agent granted the role later is
// appended after every position (R9 as clarified). Only eligible agents are in a ring,
// one ordered tree per distinct agent skill set in the space ("class"), each entry keyed
// by the space's routing key, so "best key, first from the cursor" is O(classes · log n).
// A ring entry's id is its membership.

#include <chatroute/detail/assert.hpp>
#include <chatroute/detail/chunked_vector.hpp>
#include <chatroute/detail/index.hpp>
#include <chatroute/detail/inline_vector.hpp>
#include <chatroute/detail/ordered_forest.hpp>
#include <chatroute/detail/prefetch.hpp>
#include <chatroute/detail/skill_sets.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace chatroute::detail {

inline constexpr std::int64_t never_offered = std::numeric_limits<std::int64_t>::min();

struct Membership {
    AgentIx agent;
    SpaceIx space;
    std::uint64_t ring_order = 0;  ///< the grant's position in the space's ring, while the role is held
    MemberIx active_prev;          ///< the agent's role-and-available memberships (any order)
    MemberIx active_next;
    MemberIx keyed_prev;           ///< the agent's in-ring memberships whose key reads its load or offers
    MemberIx keyed_next;
    std::uint32_t return_record = nil;  ///< R34: a pending return after a missed offer
    bool role = false;
    bool available = false;
    bool in_ring = false;  ///< eligible now (R8, R31): in its space's ring under the agent's skill set
    bool keyed = false;    ///< in the agent's keyed list
};

/// The rings' trees: a membership is in one ring tree at most, so its index is its node.
using RingForest = OrderedForest<ForestNodes::by_id>;

/// One of an agent's memberships, with its space beside it so a lookup reads no membership.
struct MemberRef {
    SpaceIx space;
    MemberIx member;
};

/// One cache line: finding an agent's membership in a space reads only this (issue 13),
/// unless the agent holds roles in more than three spaces.
struct alignas(64) AgentRecord {
    SkillSetIx skills = no_skills;
    std::int64_t last_offer_us = never_offered;  ///< R28 least_recent
    MemberIx active_head;
    MemberIx keyed_head;
    InlineVector<MemberRef, 3> members;  ///< every membership, by space index (the order spaces were added)
};
static_assert(sizeof(AgentRecord) == 64, "an agent record is one cache line (issue 13)");

/// The first of an agent's memberships (sorted by space) whose space is not before `s`.
template <class List>
auto lower_bound(List& list, SpaceIx s) -> decltype(list.begin()) {
    return std::lower_bound(list.begin(), list.end(), s,
                            [](const MemberRef& x, SpaceIx space) { return x.space < space; });
}

class Roster {
public:
    struct Choice {
        MemberIx member;
        AgentIx agent;
    };

    // ---- Agents and spaces ----
    AgentIx add_agent(SkillSetIx skills) {
        AgentRecord record;
        record.skills = skills;
        agents_.push_back(std::move(record));
        return AgentIx{static_cast<std::uint32_t>(agents_.size() - 1)};
    }
    SpaceIx add_space() {
        rings_.emplace_back();
        return SpaceIx{static_cast<std::uint32_t>(rings_.size() - 1)};
    }
    [[nodiscard]] std::size_t agent_count() const { return agents_.size(); }
    /// Asks for an agent's record (a hint; any index).
    void prefetch(std::uint32_t a) const {
        if (a < agents_.size()) detail::prefetch(&agents_[a]);
    }
    [[nodiscard]] std::size_t space_count() const { return rings_.size(); }
    [[nodiscard]] AgentRecord& agent(AgentIx a) { return agents_[a.value]; }
    [[nodiscard]] const AgentRecord& agent(AgentIx a) const { return agents_[a.value]; }
    [[nodiscard]] Membership& operator[](MemberIx m) { return members_[m.value]; }
    [[nodiscard]] const Membership& operator[](MemberIx m) const { return members_[m.value]; }
    [[nodiscard]] std::size_t member_slots() const { return members_.size(); }

    // ---- Memberships ----
    /// O(log k) for an agent with k memberships.
    [[nodiscard]] MemberIx find(AgentIx a, SpaceIx s) const {
        const auto& list = agents_[a.value].members;
        const auto at = detail::lower_bound(list, s);
        return at != list.end() && at->space == s ? at->member : MemberIx{};
    }
    [[nodiscard]] bool has_role(AgentIx a, SpaceIx s) const {
        const MemberIx m = find(a, s);
        return m.some() && members_[m.value].role;
    }

    /// The pair's membership, made (without the role) if it has none.
    MemberIx ensure(AgentIx a, SpaceIx s) {
        auto& list = agents_[a.value].members;
        const auto at = detail::lower_bound(list, s);
        if (at != list.end() && at->space == s) return at->member;
        const auto position = at - list.begin();
        MemberIx m;
        if (!free_members_.empty()) {
            m = free_members_.back();
            free_members_.pop_back();
        } else {
            m = MemberIx{static_cast<std::uint32_t>(members_.size())};
            (void)members_.emplace_back();
        }
        members_[m.value] = Membership{};
        members_[m.value].agent = a;
        members_[m.value].space = s;
        list.insert(list.begin() + position, MemberRef{s, m});
        return m;
    }

    /// Forgets a membership that holds nothing any more (the caller checks its slots too).
    void drop(MemberIx m) {
        Membership& x = members_[m.value];
        CHATROUTE_ASSERT(!x.role && !x.available && !x.in_ring && x.return_record == nil, "drop of a held membership");
        auto& list = agents_[x.agent.value].members;
        const auto at = detail::lower_bound(list, x.space);
        CHATROUTE_ASSERT(at != list.end() && at->member == m, "membership missing from its agent's list");
        list.erase(at);
        x = Membership{};
        free_members_.push_back(m);
    }

    /// R9: the role puts the agent at the end of the space's ring, unavailable (R5).
    void grant(MemberIx m) {
        Membership& x = members_[m.value];
        x.role = true;
        x.ring_order = rings_[x.space.value].next_order++;
    }
    void revoke(MemberIx m) {
        Membership& x = members_[m.value];
        CHATROUTE_ASSERT(x.role && !x.available && !x.in_ring, "revoke of an available membership");
        x.role = false;
    }

    void set_available(MemberIx m, bool available) {
        Membership& x = members_[m.value];
        CHATROUTE_ASSERT(x.role && x.available != available, "availability change without a change");
        x.available = available;
        Ring& ring = rings_[x.space.value];
        available ? ++ring.available : --ring.available;
        relink(active_list, m, available);
    }

    /// Calls f(MemberIx) for each membership where the agent has the role and is available.
    template <class F>
    void for_each_active(AgentIx a, F&& f) {
        for_each_in(active_list, a, f);
    }

    /// Calls f(MemberIx) for each in-ring membership whose space keys agents by load or
    /// offers: a load change re-keys only these, so it costs the keys it changes (R38).
    template <class F>
    void for_each_keyed(AgentIx a, F&& f) {
        for_each_in(keyed_list, a, f);
    }

    void set_keyed(MemberIx m, bool keyed) {
        Membership& x = members_[m.value];
        if (x.keyed == keyed) return;
        x.keyed = keyed;
        relink(keyed_list, m, keyed);
    }

    // ---- Rings (R9, R28) ----
    void enter_ring(MemberIx m, std::int64_t key, bool keyed) {
        Membership& x = members_[m.value];
        CHATROUTE_ASSERT(!x.in_ring && x.role && x.available, "ring entry of an ineligible agent");
        x.in_ring = true;
        Ring& ring = rings_[x.space.value];
        ++ring.eligible;
        forest_.insert(class_of(ring, agents_[x.agent.value].skills), x.ring_order, key, m.value);
        set_keyed(m, keyed);
    }
    void leave_ring(MemberIx m) {
        Membership& x = members_[m.value];
        CHATROUTE_ASSERT(x.in_ring, "ring exit of an agent not in the ring");
        x.in_ring = false;
        set_keyed(m, false);
        Ring& ring = rings_[x.space.value];
        --ring.eligible;
        const SkillSetIx skills = agents_[x.agent.value].skills;
        auto it = find_class(ring, skills);
        forest_.erase(it->tree, x.ring_order);
        if (forest_.empty(it->tree)) {
            *it = ring.classes.back();
            ring.classes.pop_back();
        }
    }
    void rekey(MemberIx m, std::int64_t key) {
        const Membership& x = members_[m.value];
        Ring& ring = rings_[x.space.value];
        forest_.set_value(find_class(ring, agents_[x.agent.value].skills)->tree, x.ring_order, key);
    }

    /// R28: among the ring's agents that hold every skill of `required`, the one with the
    /// smallest key, ties broken by ring order from the cursor; `except`, if in the ring,
    /// is skipped (R12) without leaving its tree.
    [[nodiscard]] std::optional<Choice> choose(SpaceIx s, SkillSetIx required, const SkillSets& skills,
                                               MemberIx except = {}) const {
        const Ring& ring = rings_[s.value];
        std::optional<RingForest::Entry> best;
        const auto before = [&](const RingForest::Entry& x, const RingForest::Entry& y) {
            if (x.value != y.value) return x.value < y.value;
            const bool x_wraps = x.order < ring.cursor, y_wraps = y.order < ring.cursor;
            return x_wraps != y_wraps ? !x_wraps : x.order < y.order;
        };
        const Membership* skipped = except.some() && members_[except.value].in_ring ? &members_[except.value] : nullptr;
        const SkillSetIx skipped_class = skipped ? agents_[skipped->agent.value].skills : no_skills;
        for (const AgentClass& c : ring.classes) {
            if (!skills.covers(c.skills, required)) continue;
            auto entry = skipped && c.skills == skipped_class
                             ? forest_.min_from_except(c.tree, ring.cursor, skipped->ring_order)
                             : forest_.min_from(c.tree, ring.cursor);
            if (entry && (!best || before(*entry, *best))) best = entry;
        }
        if (!best) return std::nullopt;
        const MemberIx m{best->id};
        return Choice{m, members_[m.value].agent};
    }

    /// R9, R28: the cursor moves just past the agent a strategy chose.
    void move_cursor_past(MemberIx m) {
        const Membership& x = members_[m.value];
        rings_[x.space.value].cursor = x.ring_order + 1;
    }

    /// Re-keys every agent in the space's ring (a strategy change): O(eligible there · log n).
    template <class Key>
    void rekey_space(SpaceIx s, Key&& key_of_agent, bool keyed) {
        for (AgentClass& c : rings_[s.value].classes) {
            scratch_.clear();
            forest_.for_each(c.tree, [&](const RingForest::Entry& e) { scratch_.push_back(e); });
            for (const RingForest::Entry& e : scratch_) {
                forest_.set_value(c.tree, e.order, key_of_agent(members_[e.id].agent));
                set_keyed(MemberIx{e.id}, keyed);
            }
        }
    }

    [[nodiscard]] std::uint32_t available_count(SpaceIx s) const { return rings_[s.value].available; }
    [[nodiscard]] std::uint32_t eligible_count(SpaceIx s) const { return rings_[s.value].eligible; }
    [[nodiscard]] std::uint64_t cursor(SpaceIx s) const { return rings_[s.value].cursor; }
    [[nodiscard]] std::uint64_t next_order(SpaceIx s) const { return rings_[s.value].next_order; }
    void set_ring_position(SpaceIx s, std::uint64_t cursor, std::uint64_t next_order) {
        rings_[s.value].cursor = cursor;
        rings_[s.value].next_order = next_order;
    }
    /// Restoring a snapshot: a membership exactly as it was.
    void restore_role(MemberIx m, std::uint64_t ring_order) {
        members_[m.value].role = true;
        members_[m.value].ring_order = ring_order;
    }

    void reserve_agents(std::size_t n) { agents_.reserve(n); }
    [[nodiscard]] std::size_t memory_bytes() const {
        std::size_t bytes = agents_.capacity() * sizeof(AgentRecord) + members_.memory_bytes() +
                            free_members_.capacity() * sizeof(MemberIx) +
                            rings_.capacity() * sizeof(Ring) + forest_.memory_bytes();
        for (const AgentRecord& a : agents_) bytes += a.members.heap_bytes();
        for (const Ring& r : rings_) bytes += r.classes.capacity() * sizeof(AgentClass);
        return bytes;
    }

private:
    struct AgentClass {
        SkillSetIx skills;
        RingForest::Tree tree;
    };
    struct Ring {
        std::uint64_t next_order = 0;  ///< the next grant's position
        std::uint64_t cursor = 0;      ///< just past the agent a strategy chose last
        std::uint32_t available = 0;   ///< role and available (R35)
        std::uint32_t eligible = 0;    ///< in a class tree (R37)
        std::vector<AgentClass> classes;
    };


    // An agent's intrusive list of memberships: its head in the agent, links in each membership.
    struct MemberList {
        MemberIx AgentRecord::*head;
        MemberIx Membership::*prev;
        MemberIx Membership::*next;
    };
    static constexpr MemberList active_list{&AgentRecord::active_head, &Membership::active_prev,
                                            &Membership::active_next};
    static constexpr MemberList keyed_list{&AgentRecord::keyed_head, &Membership::keyed_prev, &Membership::keyed_next};

    /// Puts the membership at the front of its agent's list, or takes it out. O(1).
    void relink(const MemberList& list, MemberIx m, bool in) {
        Membership& x = members_[m.value];
        MemberIx& head = agents_[x.agent.value].*list.head;
        if (in) {
            x.*list.prev = MemberIx{};
            x.*list.next = head;
            if (head.some()) members_[head.value].*list.prev = m;
            head = m;
        } else {
            ((x.*list.prev).some() ? members_[(x.*list.prev).value].*list.next : head) = x.*list.next;
            if ((x.*list.next).some()) members_[(x.*list.next).value].*list.prev = x.*list.prev;
            x.*list.prev = x.*list.next = MemberIx{};
        }
    }

    /// Calls f(MemberIx) for each membership in the agent's list; f may unlink the one it gets.
    template <class F>
    void for_each_in(const MemberList& list, AgentIx a, F& f) {
        for (MemberIx m = agents_[a.value].*list.head; m.some();) {
            const MemberIx next = members_[m.value].*list.next;
            f(m);
            m = next;
        }
    }

    static std::vector<AgentClass>::iterator find_class(Ring& ring, SkillSetIx skills) {
        auto it = std::find_if(ring.classes.begin(), ring.classes.end(),
                               [&](const AgentClass& c) { return c.skills == skills; });
        CHATROUTE_ASSERT(it != ring.classes.end(), "agent class missing from its ring");
        return it;
    }
    RingForest::Tree& class_of(Ring& ring, SkillSetIx skills) {
        for (AgentClass& c : ring.classes)
            if (c.skills == skills) return c.tree;
        ring.classes.push_back(AgentClass{skills, {}});
        return ring.classes.back().tree;
    }

    std::vector<AgentRecord> agents_;
    ChunkedVector<Membership> members_;  ///< grows by chunks: slack ≤ one chunk
    std::vector<MemberIx> free_members_;
    std::vector<Ring> rings_;
    RingForest forest_;  ///< node i is membership i's ring entry
    std::vector<RingForest::Entry> scratch_;
};

}  // namespace chatroute::detail
