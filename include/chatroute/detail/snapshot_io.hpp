#pragma once
// Engine::snapshot() and Engine::restore(): the format is described in
// docs/snapshot-format.md. Each part's state is written in its own section; only what
// cannot be derived is written. Rings, waiting lines, slot counts and offer lists are
// rebuilt on restore, then every invariant is checked. Nothing process-specific (no
// pointer, no interned id, no hash order) reaches the bytes: equal states, equal bytes.

#include <chatroute/engine.hpp>

#include <algorithm>
#include <limits>
#include <optional>
#include <vector>

namespace chatroute {

#define CHATROUTE_ENGINE_TEMPLATE                                                                         \
    template <class C, class S, class P>                                                                  \
        requires Clock<std::remove_reference_t<C>> && EventSink<std::remove_reference_t<S>> && RoutingPolicy<P>

CHATROUTE_ENGINE_TEMPLATE
std::vector<std::byte> Engine<C, S, P>::snapshot() const {
    detail::ByteWriter out;
    out.put(snapshot_magic);
    out.put(snapshot_version);
    write_state(out);
    const std::uint64_t checksum = detail::fnv1a(out.bytes());
    out.put(checksum);
    return std::move(out.bytes());
}

CHATROUTE_ENGINE_TEMPLATE
tl::expected<Engine<C, S, P>, SnapshotError> Engine<C, S, P>::restore(std::span<const std::byte> bytes, C clock,
                                                                      S sink) {
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
    if (const std::optional<SnapshotError> fault = engine.read_state(in)) return tl::unexpected(*fault);
    if (!in.at_end() || engine.check_invariants()) return tl::unexpected(SnapshotError::inconsistent);
    // One state, one encoding: bytes that describe a valid state in a way the engine would
    // not have written (an unset option with a value, unsorted names, …) are refused, so a
    // restorable snapshot always writes back the same bytes.
    if (engine.snapshot() != std::vector<std::byte>(bytes.begin(), bytes.end()))
        return tl::unexpected(SnapshotError::inconsistent);
    return engine;
}

namespace detail {
inline void put_duration(ByteWriter& out, std::optional<duration> span) {
    out.put(span.has_value());
    out.put(span ? span->count() : std::int64_t{0});
}
inline std::optional<duration> get_duration(ByteReader& in) {
    const bool some = in.get_bool();
    const auto count = in.get<std::int64_t>();
    if (some ? !valid_timing(duration{count}) : count != 0) in.fail();  // one way to write each value: canonical bytes
    return some ? std::optional<duration>{duration{count}} : std::nullopt;
}
inline void put_names(ByteWriter& out, const std::vector<std::string>& names) {
    out.put(static_cast<std::uint32_t>(names.size()));
    for (const std::string& name : names) out.put(std::string_view{name});
}
inline std::vector<std::string> get_strings(ByteReader& in) {
    std::vector<std::string> strings(in.get_count(4));
    for (std::string& text : strings) text = in.get_string();
    return strings;
}
/// Names as written: strictly ascending (anything else would not write back the same bytes).
inline std::vector<std::string> get_names(ByteReader& in) {
    std::vector<std::string> names = get_strings(in);
    for (std::size_t i = 1; i < names.size(); ++i)
        if (!(names[i - 1] < names[i])) in.fail();
    return names;
}
}  // namespace detail

CHATROUTE_ENGINE_TEMPLATE
void Engine<C, S, P>::write_state(detail::ByteWriter& out) const {
    // Site (R1, R13, R24, R34, R36)
    out.put(site_);
    out.put(plan_);
    out.put(default_limit_);
    out.put(missed_offer_scope_);
    detail::put_duration(out, return_after_);
    for (const std::string& name : workflow_.status_names) out.put(std::string_view{name});
    detail::put_names(out, workflow_.resolutions);
    out.put(std::string_view{workflow_.unanswered_resolution});
    out.put(workflow_.wrap_up_resolution.has_value());
    out.put(std::string_view{workflow_.wrap_up_resolution.value_or("")});
    out.put(last_now_.time_since_epoch().count());

    // Spaces and their rings' positions (R9)
    out.put(static_cast<std::uint32_t>(spaces_.size()));
    for (std::uint32_t s = 0; s < spaces_.size(); ++s) {
        const SpaceRecord& space = spaces_[s];
        const SpaceTimings& t = space.timings;
        for (duration d : {t.offer_timeout, t.accept_window, t.inactivity_warning, t.inactivity_grace, t.max_duration})
            out.put(d.count());
        for (auto d : {t.skills_relax_after, t.assignee_response_timeout, t.wrap_up_timeout}) detail::put_duration(out, d);
        out.put(std::string_view{space.fallback});
        out.put(space.strategy);
        out.put(space.no_agent_action);
        out.put(space.chat_enabled);
        out.put(roster_.cursor(SpaceIx{s}));
        out.put(roster_.next_order(SpaceIx{s}));
    }

    // Agents: roster and ledger (memberships in space order)
    out.put(static_cast<std::uint32_t>(roster_.agent_count()));
    for (std::uint32_t a = 0; a < roster_.agent_count(); ++a) {
        const detail::AgentRecord& agent = roster_.agent(AgentIx{a});
        out.put(ledger_.load(AgentIx{a}).limit);
        detail::put_names(out, skills_.names(agent.skills));
        out.put(agent.last_offer_us);
        out.put(static_cast<std::uint32_t>(agent.members.size()));
        for (const detail::MemberRef& ref : agent.members) {
            const MemberIx m = ref.member;
            const detail::Membership& x = roster_[m];
            out.put(x.space.value);
            out.put(x.role);
            out.put(x.available);
            out.put(x.role ? x.ring_order : std::uint64_t{0});  // a revoked grant's place is no state
            out.put(ledger_.slots(m).limit);
        }
    }

    // Conversations
    conversations_.write(out);
    for (std::uint32_t i = 0; i < conversations_.slots(); ++i) {
        const detail::ConversationRecord& conv = conversations_[ConvIx{i}];
        if (!conv.live) continue;
        out.put(i);
        out.put(conv.serial);
        out.put(conv.start_us);
        out.put(conv.space.value);
        out.put(conv.assignee.value);
        out.put(conv.offered_to.value);
        out.put(conv.priority);
        out.put(conv.status);
        out.put(conv.share_transcript);
        out.put(conv.ended);
        out.put(conv.warned);
        out.put(conv.awaiting_reply);
        detail::put_names(out, skills_.names(conv.skills));
    }

    // R34's pending returns, in the order their timers fire (record ids are not written)
    const auto timers = timers_.in_firing_order();
    std::vector<std::uint32_t> place(returns_.size(), detail::nil);  // record -> place in this section
    std::uint32_t returns = 0;
    for (const auto& t : timers)
        if (t.due.is_return) place[t.due.record] = returns++;
    out.put(returns);
    for (const auto& t : timers) {
        if (!t.due.is_return) continue;
        const std::uint32_t r = t.due.record;
        out.put(returns_[r].agent.value);
        std::vector<std::uint32_t> spaces;
        for (MemberIx m : returns_[r].members)
            if (roster_[m].return_record == r) spaces.push_back(roster_[m].space.value);
        out.put(static_cast<std::uint32_t>(spaces.size()));
        for (std::uint32_t s : spaces) out.put(s);
    }

    // Every timer, in the order it fires (R25)
    out.put(static_cast<std::uint32_t>(timers.size()));
    for (const auto& [due, length] : timers) {
        out.put(static_cast<std::uint8_t>(due.is_return ? detail::timer_slots : static_cast<std::uint32_t>(due.slot)));
        out.put(due.is_return ? place[due.record] : due.conversation.value);
        out.put(due.deadline.time_since_epoch().count());
        out.put(length.count());
    }

    // Pending offers, each agent's in the order made (R14), agents and spaces ascending
    std::vector<std::uint32_t> offers;
    for (std::uint32_t a = 0; a < roster_.agent_count(); ++a)
        for (const detail::MemberRef& ref : roster_.agent(AgentIx{a}).members)
            for (ConvIx c = ledger_.slots(ref.member).offers_head; c.some(); c = conversations_[c].offer_next)
                offers.push_back(c.value);
    out.put(static_cast<std::uint32_t>(offers.size()));
    for (std::uint32_t c : offers) out.put(c);
}

CHATROUTE_ENGINE_TEMPLATE
std::optional<SnapshotError> Engine<C, S, P>::read_state(detail::ByteReader& in) {
    using detail::nil;
    // Bytes that end early are truncated; a value out of its range is inconsistent.
    const auto bad = [&] { return in.cut_short() ? SnapshotError::truncated : SnapshotError::inconsistent; };

    // Site
    site_ = in.get<std::uint32_t>();
    plan_ = in.get<Plan>();
    default_limit_ = in.get<std::uint32_t>();
    missed_offer_scope_ = in.get<MissedOfferScope>();
    const auto return_after = detail::get_duration(in);
    for (std::string& name : workflow_.status_names) name = in.get_string();
    workflow_.resolutions = detail::get_strings(in);
    workflow_.unanswered_resolution = in.get_string();
    const bool wrap_up = in.get_bool();
    std::string wrap_up_name = in.get_string();
    if (!wrap_up && !wrap_up_name.empty()) return bad();
    if (wrap_up) workflow_.wrap_up_resolution = std::move(wrap_up_name);
    last_now_ = instant_ = time_point{duration{in.get<std::int64_t>()}};
    if (!in.ok() || plan_ > Plan::enterprise || missed_offer_scope_ > MissedOfferScope::offer_space ||
        default_limit_ > max_conversation_limit || !validate(workflow_) || last_now_ > latest_instant)
        return bad();
    if (return_after) set_return_after(*return_after);

    // Spaces
    const std::uint32_t space_count = in.get_count(40);
    std::vector<std::pair<std::uint64_t, std::uint64_t>> positions(space_count);
    for (std::uint32_t s = 0; s < space_count && in.ok(); ++s) {
        SpaceSettings settings;
        SpaceTimings& t = settings.timings;
        for (duration* d : {&t.offer_timeout, &t.accept_window, &t.inactivity_warning, &t.inactivity_grace,
                            &t.max_duration})
            *d = duration{in.get<std::int64_t>()};
        for (auto* d : {&t.skills_relax_after, &t.assignee_response_timeout, &t.wrap_up_timeout})
            *d = detail::get_duration(in);
        settings.fallback_message = in.get_string();
        settings.strategy = in.get<Strategy>();
        settings.no_agent_action = in.get<NoAgentAction>();
        const bool chat = in.get_bool();
        positions[s] = {in.get<std::uint64_t>(), in.get<std::uint64_t>()};
        if (!in.ok() || !validate(settings) || settings.strategy > Strategy::least_recent ||
            settings.no_agent_action > NoAgentAction::fallback)
            return bad();
        add_space_record(settings);
        spaces_.back().chat_enabled = chat;
        roster_.set_ring_position(SpaceIx{s}, positions[s].first, positions[s].second);
    }

    // Agents
    std::vector<std::pair<std::uint32_t, std::uint64_t>> ring_positions;  // (space, ring order) of each role
    const std::uint32_t agent_count = in.get_count(20);
    for (std::uint32_t a = 0; a < agent_count && in.ok(); ++a) {
        const auto limit = in.get<std::uint32_t>();
        const std::vector<std::string> names = detail::get_names(in);
        const auto last_offer = in.get<std::int64_t>();
        if (!in.ok() || limit > max_conversation_limit || !validate_skills(names)) return bad();
        const AgentIx agent = roster_.add_agent(skills_.acquire(names));
        ledger_.add_agent(limit);
        roster_.agent(agent).last_offer_us = last_offer;
        const std::uint32_t members = in.get_count(23);
        std::uint32_t previous = nil;
        for (std::uint32_t i = 0; i < members && in.ok(); ++i) {
            const auto space = in.get<std::uint32_t>();
            const bool role = in.get_bool(), available = in.get_bool();
            const auto ring_order = in.get<std::uint64_t>();
            const auto space_limit = in.get<std::uint32_t>();
            if (!in.ok() || space >= space_count || (previous != nil && space <= previous) || (available && !role) ||
                (role && ring_order >= positions[space].second) ||
                (space_limit != nil && space_limit > max_conversation_limit))
                return bad();
            previous = space;
            const MemberIx m = ensure_member(agent, SpaceIx{space});
            if (role) roster_.restore_role(m, ring_order);
            if (role) ring_positions.emplace_back(space, ring_order);
            if (available) roster_.set_available(m, true);
            ledger_.slots(m).limit = space_limit;
        }
    }
    if (!in.ok()) return bad();
    // Each grant has its own place in its space's ring (R9): two roles at one place are no
    // state the engine can reach.
    std::sort(ring_positions.begin(), ring_positions.end());
    if (std::adjacent_find(ring_positions.begin(), ring_positions.end()) != ring_positions.end()) return bad();

    // Conversations: the table's section, then each live record
    if (!conversations_.read(in)) return bad();
    timers_.grow_conversations(conversations_.slots());
    timer_nodes_ = conversations_.slots() * detail::timer_slots;
    std::vector<bool> free(conversations_.slots(), false);
    for (std::uint32_t slot : conversations_.free_slots()) free[slot] = true;
    std::size_t offered = 0;
    std::vector<std::uint64_t> serials;  // each conversation's start number is its own (R10's age order)
    for (std::uint32_t i = 0; i < conversations_.slots() && in.ok(); ++i) {
        if (free[i]) continue;
        if (in.get<std::uint32_t>() != i) return bad();
        detail::ConversationRecord& conv = conversations_[ConvIx{i}];
        conv.live = true;
        conv.serial = in.get<std::uint64_t>();
        serials.push_back(conv.serial);
        conv.start_us = in.get<std::int64_t>();
        conv.space = SpaceIx{in.get<std::uint32_t>()};
        conv.assignee = AgentIx{in.get<std::uint32_t>()};
        conv.offered_to = AgentIx{in.get<std::uint32_t>()};
        const auto priority = in.get<std::uint16_t>();
        conv.status = in.get<Status>();
        conv.share_transcript = in.get_bool();
        conv.ended = in.get_bool();
        conv.warned = in.get_bool();
        conv.awaiting_reply = in.get_bool();
        const std::vector<std::string> names = detail::get_names(in);
        if (!in.ok() || conv.serial == 0 || conv.serial > conversations_.started() || conv.space.value >= space_count ||
            priority > max_priority || conv.status >= Status::closed || !validate_skills(names) ||
            (conv.assignee.some() && conv.assignee.value >= agent_count) ||
            (conv.offered_to.some() && conv.offered_to.value >= agent_count))
            return bad();
        conv.priority = priority;
        conv.skills = skills_.acquire(names);
        if (conv.offered_to.some()) ++offered;
        const MemberIx m = conv.assignee.some() ? roster_.find(conv.assignee, conv.space) : MemberIx{};
        if (conv.assignee.some()) ledger_.restore_assigned(conv.assignee, m.some() ? m : ensure_member(conv.assignee, conv.space));
    }
    if (!in.ok()) return bad();
    std::sort(serials.begin(), serials.end());
    if (std::adjacent_find(serials.begin(), serials.end()) != serials.end()) return bad();  // two with one start

    // R34's pending returns
    const std::uint32_t record_count = in.get_count(8);
    for (std::uint32_t r = 0; r < record_count && in.ok(); ++r) {
        const auto agent = in.get<std::uint32_t>();
        const std::uint32_t spaces = in.get_count(4);
        if (!in.ok() || agent >= agent_count || spaces == 0) return bad();
        returns_.emplace_back();
        returns_.back().agent = AgentIx{agent};
        for (std::uint32_t i = 0; i < spaces && in.ok(); ++i) {
            const auto space = in.get<std::uint32_t>();
            if (i > 0 && space <= roster_[returns_.back().members.back()].space.value) return bad();
            const MemberIx m = space < space_count ? roster_.find(AgentIx{agent}, SpaceIx{space}) : MemberIx{};
            if (m.none() || !roster_[m].role || roster_[m].available || roster_[m].return_record != nil) return bad();
            roster_[m].return_record = r;
            returns_.back().members.push_back(m);
            ++returns_.back().pending;
        }
    }
    if (!in.ok()) return bad();
    timers_.grow_returns(returns_.size());

    // Timers in the order they fire; each reachable from the snapshot's instant (R25)
    // A space's timings never change, so a conversation's timer has the duration its
    // space gives its kind; its max duration (R18) was set when it started, in the space
    // it started in, which a transfer may since have changed.
    std::vector<std::int64_t> max_durations;
    for (const SpaceRecord& space : spaces_) max_durations.push_back(space.timings.max_duration.count());
    std::sort(max_durations.begin(), max_durations.end());
    const auto set_as_its_kind = [&](std::uint32_t index, detail::TimerSlot slot, std::int64_t deadline,
                                     duration length) {
        const detail::ConversationRecord& conv = conversations_[ConvIx{index}];
        const TimerKind kind = detail::kind_of(slot, conv.status, conv.warned);
        if (!timer_rule(kind, conv.status)) return false;  // a deadline that cannot run in its status
        if (kind == TimerKind::skills_relax && conv.skills == detail::no_skills) return false;  // R30
        if (kind == TimerKind::max_duration)
            return std::binary_search(max_durations.begin(), max_durations.end(), length.count()) &&
                   deadline >= std::numeric_limits<std::int64_t>::min() + length.count() &&
                   deadline - length.count() == conv.start_us;
        const ListId list = spaces_[conv.space.value].list(kind);
        return list != no_list && timers_.length(list) == length;
    };
    const std::uint32_t timer_count = in.get_count(21);
    const std::int64_t now = last_now_.time_since_epoch().count();
    detail::DeadlineKey previous{std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::min()};
    std::uint32_t return_timers = 0;
    std::vector<std::uint32_t> answer_fires(conversations_.slots(), nil);  // slot -> its answer timer's place
    for (std::uint32_t i = 0; i < timer_count && in.ok(); ++i) {
        const auto what = in.get<std::uint8_t>();
        const auto index = in.get<std::uint32_t>();
        const auto deadline = in.get<std::int64_t>();
        const duration length{in.get<std::int64_t>()};
        const bool is_return = what == detail::timer_slots;
        if (!in.ok() || what > detail::timer_slots || length <= duration::zero() || length > max_timing ||
            (is_return ? index >= record_count || timers_.return_scheduled(index)
                       : index >= conversations_.slots() || free[index] ||
                             timers_.scheduled(ConvIx{index}, static_cast<detail::TimerSlot>(what))))
            return bad();
        if (deadline <= now || deadline > now + length.count()) return SnapshotError::unreachable_deadline;
        if (!is_return && !set_as_its_kind(index, static_cast<detail::TimerSlot>(what), deadline, length))
            return SnapshotError::inconsistent;
        // The order of firing is the order of the keys (timer_queue.hpp): bytes out of it
        // describe the same timers in an order the engine never writes.
        const detail::DeadlineKey key{deadline, -length.count()};
        if (key < previous) return bad();
        previous = key;
        const ListId list = timers_.acquire(length);
        const bool fits = is_return ? timers_.restore_return(index, list, deadline)
                                    : timers_.restore(ConvIx{index}, static_cast<detail::TimerSlot>(what), list, deadline);
        timers_.release(list);
        if (!fits) return bad();
        if (is_return) ++return_timers;
        if (!is_return && what == static_cast<std::uint8_t>(detail::TimerSlot::answer)) answer_fires[index] = i;
    }
    if (!in.ok()) return bad();
    if (return_timers != record_count) return SnapshotError::inconsistent;  // a return without its timer

    // Pending offers, each agent's in the order made; every offered conversation once
    const std::uint32_t offer_count = in.get_count(4);
    if (!in.ok() || offer_count != offered) return bad();
    std::vector<bool> named(conversations_.slots(), false);
    // One agent's offers in one space were made in the order their timeouts were set, and
    // those all have the space's one offer timeout, so they fire in the order made (R14).
    std::vector<std::uint32_t> last_fires(roster_.member_slots(), nil);
    for (std::uint32_t i = 0; i < offer_count && in.ok(); ++i) {
        const auto index = in.get<std::uint32_t>();
        if (!in.ok() || index >= conversations_.slots() || free[index]) return bad();
        const ConvIx c{index};
        detail::ConversationRecord& conv = conversations_[c];
        if (conv.offered_to.none() || named[index]) return bad();
        named[index] = true;
        const AgentIx a = conv.offered_to;
        const MemberIx m = roster_.find(a, conv.space);
        if (m.none() || !timers_.scheduled(c, detail::TimerSlot::answer) || conv.status != Status::waiting_for_agent)
            return SnapshotError::inconsistent;
        if (last_fires[m.value] != nil && answer_fires[index] < last_fires[m.value]) return SnapshotError::inconsistent;
        last_fires[m.value] = answer_fires[index];
        conv.offered_to = AgentIx{};
        ledger_.add_offer(conversations_, c, a, m);
    }
    if (!in.ok()) return bad();

    // Derived: the waiting line, the rings
    for (std::uint32_t i = 0; i < conversations_.slots(); ++i) {
        const detail::ConversationRecord& conv = conversations_[ConvIx{i}];
        if (conv.live && conv.status == Status::waiting_for_agent && conv.offered_to.none() && !conv.ended)
            enqueue(ConvIx{i});
    }
    for (std::uint32_t m = 0; m < roster_.member_slots(); ++m)
        if (roster_[MemberIx{m}].agent.some()) refresh(MemberIx{m}, false);
    waiting_.take_dirty(heads_);  // nothing may route: check_invariants() says so
    heads_.clear();
    return std::nullopt;  // read without fault
}

}  // namespace chatroute
