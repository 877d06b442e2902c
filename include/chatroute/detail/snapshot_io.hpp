#pragma once
// Engine::snapshot() and Engine::restore(): the format is described in
// docs/snapshot-format.md. Only what cannot be derived is written; eligibility indexes,
// waiting lines, slot counts and offer lists are rebuilt, then every invariant is checked.

#include <chatroute/engine.hpp>

#include <algorithm>
#include <limits>
#include <vector>

namespace chatroute {

#define CHATROUTE_ENGINE_TEMPLATE                                                          \
    template <class C, class S>                                                            \
        requires Clock<std::remove_reference_t<C>> && EventSink<std::remove_reference_t<S>>

CHATROUTE_ENGINE_TEMPLATE
std::vector<std::byte> Engine<C, S>::snapshot() const {
    detail::ByteWriter out;
    out.put(snapshot_magic);
    out.put(snapshot_version);
    write_state(out);
    const std::uint64_t checksum = detail::fnv1a(out.bytes());
    out.put(checksum);
    return std::move(out.bytes());
}

CHATROUTE_ENGINE_TEMPLATE
tl::expected<Engine<C, S>, SnapshotError> Engine<C, S>::restore(std::span<const std::byte> bytes, C clock, S sink) {
    constexpr std::size_t header = sizeof(std::uint32_t) + sizeof(std::uint16_t);
    constexpr std::size_t trailer = sizeof(std::uint64_t);
    detail::ByteReader head(bytes);
    if (bytes.size() < sizeof(std::uint32_t)) return tl::unexpected(SnapshotError::truncated);
    if (head.get<std::uint32_t>() != snapshot_magic) return tl::unexpected(SnapshotError::not_a_snapshot);
    if (bytes.size() < header) return tl::unexpected(SnapshotError::truncated);
    if (head.get<std::uint16_t>() != snapshot_version) return tl::unexpected(SnapshotError::unsupported_version);
    if (bytes.size() < header + trailer) return tl::unexpected(SnapshotError::truncated);
    const auto body = bytes.first(bytes.size() - trailer);
    detail::ByteReader tail(bytes.last(trailer));
    if (tail.get<std::uint64_t>() != detail::fnv1a(body)) return tl::unexpected(SnapshotError::checksum_mismatch);

    Engine engine(std::forward<C>(clock), std::forward<S>(sink));
    detail::ByteReader in(body.subspan(header));
    if (!engine.read_state(in)) return tl::unexpected(in.ok() ? SnapshotError::inconsistent : SnapshotError::truncated);
    if (!in.at_end() || engine.check_invariants()) return tl::unexpected(SnapshotError::inconsistent);
    return engine;
}

CHATROUTE_ENGINE_TEMPLATE
void Engine<C, S>::write_state(detail::ByteWriter& out) const {
    out.put(tag_);
    out.put(plan_);
    out.put(default_limit_);
    out.put(missed_offer_scope_);
    for (const std::string& name : workflow_.status_names) out.put(std::string_view{name});
    out.put(static_cast<std::uint32_t>(workflow_.resolutions.size()));
    for (const std::string& name : workflow_.resolutions) out.put(std::string_view{name});
    out.put(std::string_view{workflow_.unanswered_resolution});
    out.put(last_now_.time_since_epoch().count());
    out.put(next_start_sequence_);
    out.put(timers_.next_sequence());

    out.put(static_cast<std::uint32_t>(timers_.list_count()));
    for (std::size_t list = 0; list < timers_.list_count(); ++list)
        out.put(timers_.list_length(static_cast<detail::TimerQueue::ListId>(list)).count());

    out.put(static_cast<std::uint32_t>(spaces_.size()));
    for (const detail::SpaceState& space : spaces_) {
        const detail::SpaceTimers& t = space.timers;
        for (auto list : {t.offer_timeout, t.accept_window, t.inactivity_warning, t.inactivity_grace, t.max_duration})
            out.put(list);
        out.put(space.offer_timeout.count());
        out.put(space.fallback_message);
        out.put(space.chat_enabled);
        out.put(space.cursor);
        out.put(static_cast<std::uint32_t>(space.ring.size()));
        for (std::uint32_t agent : space.ring) out.put(agent);
    }

    out.put(static_cast<std::uint32_t>(agents_.size()));
    for (const detail::AgentState& agent : agents_) {
        out.put(agent.limit);
        out.put(static_cast<std::uint32_t>(agent.memberships.size()));
        for (const detail::Membership& m : agent.memberships) {
            out.put(m.space);
            out.put(m.ring_position);
            out.put(m.role);
            out.put(m.available);
        }
        out.put(agent.pending);
        for (std::uint32_t c = agent.offers_head; c != detail::nil; c = conversations_[c].offer_next) out.put(c);
    }

    out.put(static_cast<std::uint32_t>(conversations_.size()));
    for (const detail::ConversationState& conv : conversations_) {
        out.put(conv.live);
        out.put(conv.generation);
        if (!conv.live) continue;
        out.put(conv.start_sequence);
        out.put(conv.space);
        out.put(conv.assignee);
        out.put(conv.offered_to);
        out.put(conv.status);
        out.put(conv.handoff);
        out.put(conv.ended);
        out.put(conv.warned);
        out.put(conv.waiting_position != detail::IndexedHeap<std::uint64_t>::npos);
    }
    out.put(static_cast<std::uint32_t>(free_conversations_.size()));
    for (std::uint32_t c : free_conversations_) out.put(c);

    // Timers in the order they were set, so restoring re-creates every list's order.
    std::vector<detail::TimerQueue::NodeId> nodes;
    for (detail::TimerQueue::NodeId node = 0; node < timers_.node_count(); ++node)
        if (timers_.scheduled(node)) nodes.push_back(node);
    std::sort(nodes.begin(), nodes.end(), [this](auto x, auto y) {
        return timers_.node(x).sequence < timers_.node(y).sequence;
    });
    out.put(static_cast<std::uint32_t>(nodes.size()));
    for (auto node : nodes) {
        out.put(node);
        out.put(timers_.node(node).list);
        out.put(timers_.node(node).deadline);
        out.put(timers_.node(node).sequence);
    }
}

CHATROUTE_ENGINE_TEMPLATE
bool Engine<C, S>::read_state(detail::ByteReader& in) {
    using detail::nil;
    const auto below = [&](std::uint32_t value, std::size_t bound) {
        if (value >= bound) in.fail();
        return in.ok();
    };
    const auto below_or_nil = [&](std::uint32_t value, std::size_t bound) { return value == nil || below(value, bound); };

    tag_ = in.get<std::uint32_t>();
    plan_ = in.get<Plan>();
    default_limit_ = in.get<std::uint32_t>();
    missed_offer_scope_ = in.get<MissedOfferScope>();
    if (!in.ok() || tag_ == 0 || tag_ > 255 || plan_ > Plan::enterprise ||
        missed_offer_scope_ > MissedOfferScope::offer_space || default_limit_ > max_conversation_limit)
        return false;
    Workflow workflow;
    for (std::string& name : workflow.status_names) name = in.get_string();
    workflow.resolutions.resize(in.get_count(sizeof(std::uint32_t)));
    for (std::string& name : workflow.resolutions) name = in.get_string();
    workflow.unanswered_resolution = in.get_string();
    if (!in.ok() || !validate(workflow)) return false;
    set_workflow(std::move(workflow));
    last_now_ = instant_ = time_point{duration{in.get<std::int64_t>()}};
    next_start_sequence_ = in.get<std::uint64_t>();
    const auto timer_sequence = in.get<std::uint64_t>();

    const std::uint32_t lists = in.get_count(sizeof(std::int64_t));
    for (std::uint32_t list = 0; list < lists && in.ok(); ++list) {
        const duration length{in.get<std::int64_t>()};
        if (length <= duration::zero() || timers_.list_for(length) != list) in.fail();
    }

    spaces_.resize(in.get_count(5 * sizeof(detail::TimerQueue::ListId) + 8 + 4 + 1 + 4 + 4));
    for (detail::SpaceState& space : spaces_) {
        for (auto* list : {&space.timers.offer_timeout, &space.timers.accept_window, &space.timers.inactivity_warning,
                           &space.timers.inactivity_grace, &space.timers.max_duration}) {
            *list = in.get<detail::TimerQueue::ListId>();
            below(*list, lists);
        }
        space.offer_timeout = duration{in.get<std::int64_t>()};
        if (in.ok() && space.offer_timeout != timers_.list_length(space.timers.offer_timeout)) in.fail();
        space.fallback_message = intern(in.get_string());
        space.chat_enabled = in.get_bool();
        space.cursor = in.get<std::uint32_t>();
        space.ring.resize(in.get_count(sizeof(std::uint32_t)));
        for (std::uint32_t& agent : space.ring) agent = in.get<std::uint32_t>();
        if (!in.ok()) return false;
    }

    agents_.resize(in.get_count(4 + 4 + 4));
    std::vector<std::vector<std::uint32_t>> offers(agents_.size());
    for (std::uint32_t a = 0; a < agents_.size(); ++a) {
        detail::AgentState& agent = agents_[a];
        agent.limit = in.get<std::uint32_t>();
        agent.memberships.resize(in.get_count(4 + 4 + 1 + 1));
        for (detail::Membership& m : agent.memberships) {
            m.space = in.get<std::uint32_t>();
            m.ring_position = in.get<std::uint32_t>();
            m.role = in.get_bool();
            m.available = in.get_bool();
            if (!below(m.space, spaces_.size())) return false;
            if (m.role ? !below(m.ring_position, spaces_[m.space].ring.size()) : m.ring_position != nil) return false;
        }
        offers[a].resize(in.get_count(sizeof(std::uint32_t)));
        for (std::uint32_t& c : offers[a]) c = in.get<std::uint32_t>();
        if (!in.ok() || agent.limit > max_conversation_limit) return false;
    }
    for (const detail::SpaceState& space : spaces_)
        for (std::uint32_t agent : space.ring)
            if (!below_or_nil(agent, agents_.size())) return false;

    conversations_.resize(in.get_count(1 + 4));
    std::vector<bool> waiting(conversations_.size(), false);
    for (std::uint32_t c = 0; c < conversations_.size(); ++c) {
        detail::ConversationState& conv = conversations_[c];
        conv.live = in.get_bool();
        conv.generation = in.get<std::uint32_t>();
        if (conv.generation > 0xFF'FFFFU) in.fail();
        if (!conv.live) continue;
        conv.start_sequence = in.get<std::uint64_t>();
        conv.space = in.get<std::uint32_t>();
        conv.assignee = in.get<std::uint32_t>();
        conv.offered_to = in.get<std::uint32_t>();
        conv.status = in.get<Status>();
        conv.handoff = in.get_bool();
        conv.ended = in.get_bool();
        conv.warned = in.get_bool();
        waiting[c] = in.get_bool();
        if (!below(conv.space, spaces_.size()) || !below_or_nil(conv.assignee, agents_.size()) ||
            !below_or_nil(conv.offered_to, agents_.size()) || conv.status >= Status::closed ||
            conv.start_sequence >= next_start_sequence_)
            return false;
        ++live_conversations_;
    }
    std::vector<bool> freed(conversations_.size(), false);
    free_conversations_.resize(in.get_count(sizeof(std::uint32_t)));
    for (std::uint32_t& c : free_conversations_) {
        c = in.get<std::uint32_t>();
        if (!below(c, conversations_.size()) || conversations_[c].live || freed[c]) return false;
        freed[c] = true;
    }
    if (free_conversations_.size() + live_conversations_ != conversations_.size()) return false;

    // Derived state: slots, offer lists, waiting lines, eligibility.
    for (std::uint32_t a = 0; a < agents_.size(); ++a) {
        for (std::uint32_t c : offers[a]) {
            if (!below(c, conversations_.size()) || !conversations_[c].live || conversations_[c].offered_to != a ||
                conversations_[c].offer_prev != nil || agents_[a].offers_tail == c)
                return false;
            link_offer(c, a);
            ++agents_[a].pending;
        }
    }
    for (std::uint32_t c = 0; c < conversations_.size(); ++c) {
        const detail::ConversationState& conv = conversations_[c];
        if (!conv.live) continue;
        if (conv.offered_to != nil && agents_[conv.offered_to].offers_head != c && conv.offer_prev == nil)
            return false;  // offered, but missing from its agent's list
        if (conv.assignee != nil) ++agents_[conv.assignee].assigned;
        if (waiting[c]) enqueue_waiting(c);
    }
    for (std::uint32_t a = 0; a < agents_.size(); ++a) {
        const detail::AgentState& agent = agents_[a];
        for (const detail::Membership& m : agent.memberships)
            if (m.role && m.available && agent.has_free_slot()) spaces_[m.space].eligible.insert(m.ring_position);
    }
    for (std::uint32_t space : dirty_spaces_) spaces_[space].dirty = false;
    dirty_spaces_.clear();

    timers_.resize(conversations_.size() * detail::timer_slots);
    const std::uint32_t timers = in.get_count(4 + sizeof(detail::TimerQueue::ListId) + 8 + 8);
    std::vector<std::int64_t> list_tail(lists, std::numeric_limits<std::int64_t>::min());
    std::uint64_t last_sequence = 0;
    for (std::uint32_t i = 0; i < timers; ++i) {
        const auto node = in.get<std::uint32_t>();
        const auto list = in.get<detail::TimerQueue::ListId>();
        const auto deadline = in.get<std::int64_t>();
        const auto sequence = in.get<std::uint64_t>();
        if (!below(node, timers_.node_count()) || !below(list, lists) || timers_.scheduled(node) ||
            !conversations_[node / detail::timer_slots].live || deadline < list_tail[list] ||
            (i > 0 && sequence <= last_sequence) || sequence >= timer_sequence)
            return false;
        list_tail[list] = deadline;
        last_sequence = sequence;
        timers_.schedule_exact(node, list, deadline, sequence);
    }
    timers_.set_next_sequence(timer_sequence);
    return in.ok();
}

#undef CHATROUTE_ENGINE_TEMPLATE

}  // namespace chatroute
