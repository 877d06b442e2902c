#pragma once
// The slot ledger: every agent's slots (R8) and per-space slots (R31), and each agent's
// pending offers per space, oldest first (R14's withdrawal order). A pending offer holds
// a slot (R8 D); an assigned conversation holds one until it is closed.

#include <chatroute/detail/assert.hpp>
#include <chatroute/detail/chunked_vector.hpp>
#include <chatroute/detail/conversation_table.hpp>
#include <chatroute/detail/index.hpp>

#include <cstdint>
#include <vector>

namespace chatroute::detail {

/// An agent's load across all spaces.
struct AgentLoad {
    std::uint32_t limit = 0;
    std::uint32_t assigned = 0;  ///< accepted and not yet closed (wrapping_up still counts)
    std::uint32_t pending = 0;   ///< offers waiting for an answer
    [[nodiscard]] std::uint32_t used() const { return assigned + pending; }
    [[nodiscard]] bool has_room() const { return used() < limit; }
    /// R28 most_available: free slots against the overall limit (negative after lowering).
    [[nodiscard]] std::int64_t free() const { return std::int64_t{limit} - std::int64_t{used()}; }
};

/// An agent's load in one space (R31), and its pending offers there.
struct SpaceSlots {
    std::uint32_t count = 0;      ///< conversations in the space assigned or offered to the agent
    std::uint32_t limit = nil;    ///< R31; nil: none
    ConvIx offers_head;           ///< pending offers in the space, oldest first
    ConvIx offers_tail;
    [[nodiscard]] bool has_room() const { return limit == nil || count < limit; }
    [[nodiscard]] bool empty() const { return count == 0 && limit == nil; }
};

class SlotLedger {
public:
    void add_agent(std::uint32_t limit) { loads_.push_back(AgentLoad{limit}); }
    [[nodiscard]] AgentLoad& load(AgentIx a) { return loads_[a.value]; }
    [[nodiscard]] const AgentLoad& load(AgentIx a) const { return loads_[a.value]; }
    [[nodiscard]] SpaceSlots& slots(MemberIx m) {
        if (m.value >= slots_.size()) slots_.resize(m.value + 1);
        return slots_[m.value];
    }
    [[nodiscard]] const SpaceSlots& slots(MemberIx m) const { return slots_[m.value]; }
    [[nodiscard]] bool has_room(AgentIx a, MemberIx m) const {
        return loads_[a.value].has_room() && slots_[m.value].has_room();
    }

    /// R8: an offer takes a pending slot and joins the agent's list in that space.
    void add_offer(ConversationTable& table, ConvIx c, AgentIx a, MemberIx m) {
        ++loads_[a.value].pending;
        SpaceSlots& s = slots(m);
        ++s.count;
        ConversationRecord& r = table[c];
        r.offered_to = a;
        r.offer_prev = s.offers_tail;
        r.offer_next = ConvIx{};
        (s.offers_tail.some() ? table[s.offers_tail].offer_next : s.offers_head) = c;
        s.offers_tail = c;
    }

    /// The offer leaves the list; with `keep_slot` its slot becomes an assigned one (R11).
    void remove_offer(ConversationTable& table, ConvIx c, MemberIx m, bool keep_slot) {
        ConversationRecord& r = table[c];
        SpaceSlots& s = slots_[m.value];
        (r.offer_prev.some() ? table[r.offer_prev].offer_next : s.offers_head) = r.offer_next;
        (r.offer_next.some() ? table[r.offer_next].offer_prev : s.offers_tail) = r.offer_prev;
        AgentLoad& load = loads_[r.offered_to.value];
        CHATROUTE_ASSERT(load.pending > 0, "offer removed from an agent with none pending");
        --load.pending;
        if (keep_slot)
            ++load.assigned;
        else
            --s.count;
        r.offered_to = AgentIx{};
        r.offer_prev = r.offer_next = ConvIx{};
    }

    /// R22, R32: an assigned slot is given back.
    void release_assigned(AgentIx a, MemberIx m) {
        CHATROUTE_ASSERT(loads_[a.value].assigned > 0 && slots_[m.value].count > 0, "release of a slot not held");
        --loads_[a.value].assigned;
        --slots_[m.value].count;
    }

    /// Restoring a snapshot: an assigned conversation's slot.
    void restore_assigned(AgentIx a, MemberIx m) {
        ++loads_[a.value].assigned;
        ++slots(m).count;
    }

    void reserve_agents(std::size_t n) { loads_.reserve(n); }
    [[nodiscard]] std::size_t memory_bytes() const {
        return loads_.capacity() * sizeof(AgentLoad) + slots_.memory_bytes();
    }

private:
    std::vector<AgentLoad> loads_;
    ChunkedVector<SpaceSlots> slots_;  ///< by membership index; grows by chunks
};

}  // namespace chatroute::detail
