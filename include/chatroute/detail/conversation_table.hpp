#pragma once
// The conversation table: one record per live conversation, slots reused after close,
// and the handles that name them. A handle carries the conversation's serial (its start
// number + 1, 64 bits, never reused), so a closed conversation's handle reads as closed
// however many times its slot is reused (R23, R38).

#include <chatroute/detail/assert.hpp>
#include <chatroute/detail/chunked_vector.hpp>
#include <chatroute/detail/index.hpp>
#include <chatroute/detail/prefetch.hpp>
#include <chatroute/ids.hpp>
#include <chatroute/lifecycle.hpp>

#include <cstdint>
#include <vector>

namespace chatroute::detail {

/// A conversation and its work item. Hot routing fields first.
struct ConversationRecord {
    std::uint64_t serial = 0;    ///< start number + 1: age order (R10) and the handle's serial
    std::int64_t start_us = 0;   ///< when it started (R37's oldest start)
    SpaceIx space;               ///< where it is now (R32 moves it)
    AgentIx assignee;
    AgentIx offered_to;          ///< the one pending offer (R8), if any
    AgentIx preferred;           ///< R32 to_agent / R39 preferred agent, for this command's routing only
    ConvIx offer_prev;           ///< neighbours in its agent's pending offers in this space
    ConvIx offer_next;
    SkillSetIx skills = no_skills;  ///< required (R30); no_skills once relaxed
    std::uint16_t priority = 0;     ///< R29
    Status status = Status::closed;
    // Flags in one byte, so the record is 48 B (issue 13: bytes per live conversation).
    bool live : 1 = false;
    bool share_transcript : 1 = false;  ///< R11 handoff, or R32 transferred
    bool ended : 1 = false;             ///< the customer-facing conversation is over
    bool warned : 1 = false;            ///< R17: inactivity_warning sent, the grace runs
    bool awaiting_reply : 1 = false;    ///< R33: a customer message waits for the assignee
    bool queued : 1 = false;            ///< in the waiting line (waiting, no pending offer)

    /// R10, R29: highest priority first, then oldest; unique per conversation.
    [[nodiscard]] std::uint64_t wait_key() const {
        return (std::uint64_t(1000 - priority) << 53) | serial;
    }
};

static_assert(sizeof(ConversationRecord) <= 48, "a conversation record stays within 48 bytes (issue 13)");

class ConversationTable {
public:
    /// Where a handle leads: a live conversation, a closed one, or nowhere.
    enum class Lookup : std::uint8_t { live, closed, unknown };

    /// At most 2^28 slots, that is 268,435,456 conversations live at once (about 80 GB
    /// of engine): a slot's four timers take node ids below 2^30 (timer_queue.hpp).
    static constexpr std::uint32_t max_slots = std::uint32_t{1} << 28;
    /// At most 2^53 - 1 conversations over the site's life (285 years at a million a
    /// second): a serial must fit the 53 bits the waiting line's key leaves it (R10, R29).
    static constexpr std::uint64_t max_started = (std::uint64_t{1} << 53) - 1;
    /// A snapshot leaves room for 2^40 more starts (R38's count), so a restored engine
    /// never reaches max_started in any replay or test.
    static constexpr std::uint64_t max_restored_started = max_started - (std::uint64_t{1} << 40);

    [[nodiscard]] ConversationRecord& operator[](ConvIx c) { return records_[c.value]; }
    [[nodiscard]] const ConversationRecord& operator[](ConvIx c) const { return records_[c.value]; }
    [[nodiscard]] std::size_t slots() const { return records_.size(); }
    [[nodiscard]] std::size_t live() const { return live_; }
    [[nodiscard]] std::uint64_t started() const { return started_; }
    [[nodiscard]] const std::vector<std::uint32_t>& free_slots() const { return free_; }

    [[nodiscard]] Lookup find(ConversationId id, std::uint32_t site) const {
        if (id.site != site || id.serial == 0 || id.serial > started_) return Lookup::unknown;
        if (id.index >= records_.size()) return Lookup::unknown;
        const ConversationRecord& r = records_[id.index];
        return r.live && r.serial == id.serial ? Lookup::live : Lookup::closed;
    }

    /// Asks for the record a handle names before find() reads it (a hint; any handle).
    void prefetch(ConversationId id) const {
        if (id.index < records_.size()) detail::prefetch(&records_[id.index]);
    }

    [[nodiscard]] ConversationId handle(ConvIx c, std::uint32_t site) const {
        return ConversationId{c.value, site, records_[c.value].serial};
    }

    /// A fresh record in a free slot (the most recently freed first).
    ConvIx allocate() {
        ConvIx c;
        if (!free_.empty()) {
            c = ConvIx{free_.back()};
            free_.pop_back();
        } else {
            CHATROUTE_ASSERT(records_.size() < max_slots, "more live conversations than the engine holds");
            c = ConvIx{static_cast<std::uint32_t>(records_.size())};
            (void)records_.emplace_back();
        }
        CHATROUTE_ASSERT(started_ < max_started, "more conversations than serials");
        records_[c.value] = ConversationRecord{};
        records_[c.value].serial = ++started_;
        records_[c.value].live = true;
        ++live_;
        return c;
    }

    void release(ConvIx c) {
        ConversationRecord& r = records_[c.value];
        CHATROUTE_ASSERT(r.live && r.status == Status::closed && r.offered_to.none(), "release of an open conversation");
        r.live = false;
        free_.push_back(c.value);
        --live_;
    }

    void reserve(std::size_t count) {
        records_.reserve(count);
        free_.reserve(count);
    }
    [[nodiscard]] std::size_t memory_bytes() const {
        return records_.memory_bytes() + free_.capacity() * sizeof(std::uint32_t);
    }

    // ---- Snapshot: the table's own section ----
    template <class Writer>
    void write(Writer& out) const {
        out.put(started_);
        out.put(static_cast<std::uint32_t>(records_.size()));
        out.put(static_cast<std::uint32_t>(free_.size()));
        for (std::uint32_t slot : free_) out.put(slot);
    }
    /// Reads the section; the records themselves are filled by the engine.
    template <class Reader>
    bool read(Reader& in) {
        started_ = in.template get<std::uint64_t>();
        const auto slots = in.template get<std::uint32_t>();
        const auto frees = in.template get<std::uint32_t>();
        if (!in.ok() || started_ > max_restored_started || slots > in.remaining() || slots > max_slots || frees > slots)
            return false;
        records_.assign(slots, ConversationRecord{});
        free_.clear();
        std::vector<bool> seen(slots, false);
        for (std::uint32_t i = 0; i < frees; ++i) {
            const auto slot = in.template get<std::uint32_t>();
            if (!in.ok() || slot >= slots || seen[slot]) return false;
            seen[slot] = true;
            free_.push_back(slot);
        }
        live_ = slots - frees;
        return true;
    }

private:
    ChunkedVector<ConversationRecord> records_;  ///< grows by chunks: slack ≤ one chunk (issue 13)
    std::vector<std::uint32_t> free_;
    std::size_t live_ = 0;
    std::uint64_t started_ = 0;
};

}  // namespace chatroute::detail
