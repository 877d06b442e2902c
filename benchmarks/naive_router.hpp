#pragma once
// The router a first attempt would write: the same routing semantics as chatroute's
// engine (R8-R15, R17, R18, R20, R22, R25) for the paths the benchmarks measure, built
// from the obvious containers:
//   - every record in a std::map keyed by id (agents, spaces, conversations),
//   - the next eligible agent found by a linear scan of the space's ring from the cursor,
//   - every deadline in one std::multimap (ties keep insertion order, as R25 wants),
//   - waiting conversations in a std::map keyed by (priority, age) (R10, R29), routed by
//     one pass over it,
//   - R28's strategies by the obvious scan: every agent of the ring, from the cursor, its
//     key computed on the spot; the smallest key wins, ties going to the first from the
//     cursor; R30's skills by comparing sorted lists of names.
// It emits the same event types to the same sink. Not covered (never measured): revoking
// roles, limits, site and workflow updates; a closed conversation's id is simply unknown.

#include <chatroute/chatroute.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chatroute::bench {

template <class C, class S>
class NaiveRouter {
public:
    NaiveRouter(C clock, S sink) : clock_(std::move(clock)), sink_(std::move(sink)) {
        last_now_ = instant_ = clock_.now();
    }

    [[nodiscard]] auto& clock() { return clock_; }
    [[nodiscard]] auto& sink() { return sink_; }

    Result<std::size_t> advance() { return catch_up(); }

    Result<SpaceId> add_space(const SpaceSettings& settings = {}) {
        catch_up();
        if (auto ok = validate(settings); !ok) return tl::unexpected(ok.error());
        Space space;
        space.timings = settings.timings;
        space.fallback = settings.fallback_message;
        space.chat_enabled = settings.is_new;
        space.strategy = settings.strategy;
        const std::uint32_t id = next_space_++;
        spaces_.emplace(id, std::move(space));
        return SpaceId{id, 0};
    }

    Result<AgentId> add_agent(const AgentSettings& settings = {}) {
        catch_up();
        if (auto ok = validate(settings); !ok) return tl::unexpected(ok.error());
        Agent agent;
        agent.limit = settings.limit ? static_cast<std::uint32_t>(*settings.limit) : 3;
        agent.skills = settings.skills;
        std::sort(agent.skills.begin(), agent.skills.end());
        const std::uint32_t id = next_agent_++;
        agents_.emplace(id, std::move(agent));
        return AgentId{id, 0};
    }

    Result<> grant_role(AgentId agent_id, SpaceId space_id) {
        catch_up();
        auto agent = agents_.find(agent_id.index);
        if (agent == agents_.end()) return tl::unexpected(Error::unknown_agent);
        auto space = spaces_.find(space_id.index);
        if (space == spaces_.end()) return tl::unexpected(Error::unknown_space);
        Membership& m = agent->second.spaces[space_id.index];
        if (m.role) return {};
        m = Membership{true, false};
        space->second.ring.push_back(agent_id.index);
        return {};
    }

    Result<> set_availability(AgentId agent_id, SpaceId space_id, bool available) {
        catch_up();
        auto agent = agents_.find(agent_id.index);
        if (agent == agents_.end()) return tl::unexpected(Error::unknown_agent);
        if (spaces_.find(space_id.index) == spaces_.end()) return tl::unexpected(Error::unknown_space);
        auto m = agent->second.spaces.find(space_id.index);
        if (m == agent->second.spaces.end() || !m->second.role) return tl::unexpected(Error::not_an_agent_in_space);
        if (m->second.available != available) change_availability(agent_id.index, space_id.index, available);
        route();
        return {};
    }

    Result<> set_availability(AgentId agent_id, AllSpaces, bool available) {
        catch_up();
        auto agent = agents_.find(agent_id.index);
        if (agent == agents_.end()) return tl::unexpected(Error::unknown_agent);
        for (auto& [space, m] : agent->second.spaces)
            if (m.role && m.available != available) change_availability(agent_id.index, space, available);
        route();
        return {};
    }

    Result<ConversationId> start_conversation(SpaceId space_id, const StartOptions& options = {}) {
        const bool handoff = options.handoff;
        catch_up();
        auto space = spaces_.find(space_id.index);
        if (space == spaces_.end()) return tl::unexpected(Error::unknown_space);
        if (!space->second.chat_enabled) return tl::unexpected(Error::chat_disabled);
        const std::uint32_t id = next_conversation_++;
        Conversation& conv = conversations_.emplace(id, Conversation{}).first->second;
        conv.age = next_age_++;
        conv.space = space_id.index;
        conv.status = Status::waiting_for_agent;
        conv.handoff = handoff;
        conv.priority = static_cast<std::uint16_t>(options.priority);
        conv.skills = options.skills;
        std::sort(conv.skills.begin(), conv.skills.end());
        conv.offer = conv.window = conv.limit = timers_.end();
        conv.window = schedule(id, Slot::window, space->second.timings.accept_window);
        conv.limit = schedule(id, Slot::limit, space->second.timings.max_duration);
        const ConversationId handle{id, 0};
        emit(events::ConversationStarted{instant_, handle, space_id, handoff});
        waiting_.emplace(conv.wait_key(), id);
        route();
        return handle;
    }

    Result<> accept(ConversationId id, AgentId agent_id) {
        catch_up();
        auto target = offer_target(agent_id, id);
        if (!target) return tl::unexpected(target.error());
        Conversation& conv = **target;
        Agent& agent = agents_.find(agent_id.index)->second;
        unlink_offer(id.index, conv);
        --agent.pending;
        ++agent.assigned;
        conv.assignee = agent_id.index;
        emit(events::Accepted{instant_, id, agent_id});
        move_status(id, conv, Status::active);
        if (conv.handoff) emit(events::TranscriptShared{instant_, id, agent_id});
        restart_inactivity(id.index, conv);
        route();
        return {};
    }

    Result<> decline(ConversationId id, AgentId agent_id) {
        catch_up();
        auto target = offer_target(agent_id, id);
        if (!target) return tl::unexpected(target.error());
        Conversation& conv = **target;
        Agent& agent = agents_.find(agent_id.index)->second;
        unlink_offer(id.index, conv);
        --agent.pending;
        emit(events::OfferDeclined{instant_, id, agent_id});
        // R12, R28: the strategy's choice other than the decliner; else the decliner.
        Space& space = spaces_.find(conv.space)->second;
        std::size_t position = next_eligible(space, conv, agent_id.index);
        if (position == npos && eligible(agent_id.index, conv)) {
            position = std::find(space.ring.begin(), space.ring.end(), agent_id.index) - space.ring.begin();
        }
        if (position != npos)
            offer(id.index, conv, space, position);
        else
            waiting_.emplace(conv.wait_key(), id.index);
        route();
        return {};
    }

    Result<> customer_message(ConversationId id, MessageRef ref = {}) {
        return customer_says<events::Message>(id, Audience::conversation, ref);
    }
    Result<> customer_typing(ConversationId id) { return customer_says<events::Typing>(id, Audience::agent, {}); }
    Result<> agent_message(ConversationId id, AgentId agent, MessageRef ref = {}) {
        return agent_says<events::Message>(id, agent, Audience::conversation, ref);
    }
    Result<> agent_typing(ConversationId id, AgentId agent) {
        return agent_says<events::Typing>(id, agent, Audience::customer, {});
    }

    Result<> note(ConversationId id, AgentId agent_id, MessageRef ref = {}) {
        catch_up();
        auto target = team_target(id, agent_id);
        if (!target) return tl::unexpected(target.error());
        emit(events::Note{instant_, id, agent_id, ref});
        return {};
    }

    Result<> end_by_customer(ConversationId id) {
        catch_up();
        auto conv = conversations_.find(id.index);
        if (conv == conversations_.end()) return tl::unexpected(Error::unknown_conversation);
        if (conv->second.ended) return tl::unexpected(Error::conversation_ended);
        end_conversation(id.index, EndReason::customer, false);
        route();
        return {};
    }

    Result<> end_by_agent(ConversationId id, AgentId agent_id) {
        catch_up();
        auto target = team_target(id, agent_id);
        if (!target) return tl::unexpected(target.error());
        if ((*target)->ended) return tl::unexpected(Error::conversation_ended);
        if ((*target)->assignee != agent_id.index) return tl::unexpected(Error::not_assignee);
        end_conversation(id.index, EndReason::agent, false);
        route();
        return {};
    }

    Result<> resolve(ConversationId id, AgentId agent_id, std::string_view resolution) {
        catch_up();
        auto target = team_target(id, agent_id);
        if (!target) return tl::unexpected(target.error());
        Conversation& conv = **target;
        if (conv.assignee != agent_id.index) return tl::unexpected(Error::not_assignee);
        if (conv.status == Status::active) return tl::unexpected(Error::conversation_active);
        const auto named = std::find(resolutions_.begin(), resolutions_.end(), resolution);
        if (named == resolutions_.end()) return tl::unexpected(Error::unknown_resolution);
        emit(events::Resolved{instant_, id, *named});
        move_status(id, conv, Status::closed);
        emit(events::SlotReleased{instant_, id, agent_id});
        --agents_.find(agent_id.index)->second.assigned;
        erase_conversation(id.index);
        route();
        return {};
    }

    [[nodiscard]] Result<std::optional<AgentId>> offered_to(ConversationId id) const {
        return conversation_agent(id, &Conversation::offered_to);
    }
    [[nodiscard]] Result<std::optional<AgentId>> assignee(ConversationId id) const {
        return conversation_agent(id, &Conversation::assignee);
    }
    [[nodiscard]] Result<Status> status(ConversationId id) const {
        auto conv = conversations_.find(id.index);
        if (conv == conversations_.end()) return Status::closed;
        return conv->second.status;
    }
    [[nodiscard]] std::size_t live_conversations() const { return conversations_.size(); }

private:
    static constexpr std::uint32_t nil = 0xFFFF'FFFF;
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    static constexpr std::int64_t never = std::numeric_limits<std::int64_t>::min();
    enum class Slot : std::uint8_t { offer, window, limit };

    struct Membership {
        bool role = false;
        bool available = false;
    };
    struct Agent {
        std::uint32_t limit = 3;
        std::uint32_t assigned = 0;
        std::uint32_t pending = 0;
        std::int64_t last_offer = never;  // R28 least_recent
        std::vector<std::string> skills;  // sorted
        std::map<std::uint32_t, Membership> spaces;
        std::vector<std::uint32_t> offers;  // pending offers, oldest first
    };
    struct Space {
        SpaceTimings timings;
        std::string fallback;
        bool chat_enabled = true;
        Strategy strategy = Strategy::round_robin;
        std::vector<std::uint32_t> ring;  // agents in the order they gained the role
        std::size_t cursor = 0;
        std::uint64_t exhausted_in_pass = 0;  // nobody eligible, found in this routing pass
    };
    using Timers = std::multimap<std::int64_t, std::pair<std::uint32_t, Slot>>;
    using TimerIt = typename Timers::iterator;
    struct Conversation {
        std::uint64_t age = 0;
        std::uint32_t space = nil;
        std::uint32_t assignee = nil;
        std::uint32_t offered_to = nil;
        Status status = Status::waiting_for_agent;
        bool handoff = false;
        bool ended = false;
        bool warned = false;
        std::uint16_t priority = 0;       // R29
        std::vector<std::string> skills;  // R30, sorted
        TimerIt offer, window, limit;
        [[nodiscard]] std::uint64_t wait_key() const { return (std::uint64_t(1000 - priority) << 53) | age; }
    };

    // ---- Checks ----

    Result<Conversation*> team_target(ConversationId id, AgentId agent_id) {
        auto conv = conversations_.find(id.index);
        if (conv == conversations_.end()) return tl::unexpected(Error::unknown_conversation);
        auto agent = agents_.find(agent_id.index);
        if (agent == agents_.end()) return tl::unexpected(Error::unknown_agent);
        if (!acts_in(agent->second, agent_id.index, conv->second)) return tl::unexpected(Error::not_an_agent_in_space);
        return &conv->second;
    }

    Result<Conversation*> offer_target(AgentId agent_id, ConversationId id) {
        auto agent = agents_.find(agent_id.index);
        if (agent == agents_.end()) return tl::unexpected(Error::unknown_agent);
        auto conv = conversations_.find(id.index);
        if (conv == conversations_.end()) return tl::unexpected(Error::unknown_conversation);
        if (!acts_in(agent->second, agent_id.index, conv->second)) return tl::unexpected(Error::not_an_agent_in_space);
        if (conv->second.ended) return tl::unexpected(Error::conversation_ended);
        if (conv->second.offered_to != agent_id.index) return tl::unexpected(Error::no_offer);
        return &conv->second;
    }

    static bool acts_in(const Agent& agent, std::uint32_t agent_id, const Conversation& conv) {
        if (conv.assignee == agent_id) return true;
        auto m = agent.spaces.find(conv.space);
        return m != agent.spaces.end() && m->second.role;
    }

    // ---- Talking ----

    template <class E>
    Result<> customer_says(ConversationId id, Audience audience, MessageRef ref) {
        catch_up();
        auto conv = conversations_.find(id.index);
        if (conv == conversations_.end()) return tl::unexpected(Error::unknown_conversation);
        if (conv->second.ended) return tl::unexpected(Error::conversation_ended);
        emit(E{instant_, id, Party::customer, audience, AgentId{}, ref});
        if constexpr (std::is_same_v<E, events::Message>)
            if (conv->second.status == Status::active) restart_inactivity(id.index, conv->second);
        return {};
    }

    template <class E>
    Result<> agent_says(ConversationId id, AgentId agent_id, Audience audience, MessageRef ref) {
        catch_up();
        auto target = team_target(id, agent_id);
        if (!target) return tl::unexpected(target.error());
        Conversation& conv = **target;
        if (conv.ended) return tl::unexpected(Error::conversation_ended);
        if (conv.assignee != agent_id.index) return tl::unexpected(Error::not_assignee);
        emit(E{instant_, id, Party::agent, audience, agent_id, ref});
        if constexpr (std::is_same_v<E, events::Message>)
            if (conv.status == Status::active) restart_inactivity(id.index, conv);
        return {};
    }

    void restart_inactivity(std::uint32_t c, Conversation& conv) {
        cancel(conv.window);
        conv.warned = false;
        conv.window = schedule(c, Slot::window, spaces_.find(conv.space)->second.timings.inactivity_warning);
    }

    // ---- Availability ----

    void change_availability(std::uint32_t agent_id, std::uint32_t space, bool available,
                             AvailabilityReason reason = AvailabilityReason::agent) {
        Agent& agent = agents_.find(agent_id)->second;
        agent.spaces.find(space)->second.available = available;
        emit(events::AvailabilityChanged{instant_, AgentId{agent_id, 0}, SpaceId{space, 0}, available, reason});
        if (available) return;
        // R14: withdraw the agent's pending offers in that space, oldest first.
        const std::vector<std::uint32_t> offers = agent.offers;
        for (std::uint32_t c : offers) {
            Conversation& conv = conversations_.find(c)->second;
            if (conv.space == space) withdraw_offer(c, conv, WithdrawReason::agent_unavailable);
        }
    }

    // ---- Offers ----

    [[nodiscard]] bool eligible(std::uint32_t agent_id, std::uint32_t space) const {
        auto agent = agents_.find(agent_id);
        if (agent == agents_.end()) return false;
        const Agent& a = agent->second;
        auto m = a.spaces.find(space);
        return m != a.spaces.end() && m->second.role && m->second.available && a.assigned + a.pending < a.limit;
    }
    // R30: and the agent holds every skill the conversation requires.
    [[nodiscard]] bool eligible(std::uint32_t agent_id, const Conversation& conv) const {
        if (!eligible(agent_id, conv.space)) return false;
        const Agent& a = agents_.find(agent_id)->second;
        return std::includes(a.skills.begin(), a.skills.end(), conv.skills.begin(), conv.skills.end());
    }

    // R28: smaller is offered first (StandardPolicy's keys).
    [[nodiscard]] std::int64_t key(Strategy strategy, std::uint32_t agent_id) const {
        const Agent& a = agents_.find(agent_id)->second;
        switch (strategy) {
            case Strategy::round_robin: return 0;
            case Strategy::least_active: return std::int64_t{a.assigned} + a.pending;
            case Strategy::most_available:
                return -(std::int64_t{a.limit} - std::int64_t{a.assigned} - std::int64_t{a.pending});
            case Strategy::least_recent: return a.last_offer;
        }
        return 0;
    }

    // R9, R28: the ring position of the eligible agent with the smallest key, the first
    // from the cursor among equals (wrapping). Round robin stops at the first eligible
    // agent; the other strategies look at every agent of the ring.
    [[nodiscard]] std::size_t next_eligible(const Space& s, const Conversation& conv,
                                            std::uint32_t skip = nil) const {
        const std::size_t n = s.ring.size();
        std::size_t best = npos;
        std::int64_t best_key = 0;
        for (std::size_t step = 0; step < n; ++step) {
            const std::size_t position = (s.cursor + step) % n;
            const std::uint32_t agent = s.ring[position];
            if (agent == skip || !eligible(agent, conv)) continue;
            if (s.strategy == Strategy::round_robin) return position;
            const std::int64_t k = key(s.strategy, agent);
            if (best == npos || k < best_key) {
                best = position;
                best_key = k;
            }
        }
        return best;
    }

    void offer(std::uint32_t c, Conversation& conv, Space& space, std::size_t position) {
        const std::uint32_t agent_id = space.ring[position];
        Agent& agent = agents_.find(agent_id)->second;
        conv.offered_to = agent_id;
        ++agent.pending;
        agent.offers.push_back(c);
        space.cursor = position + 1;
        agent.last_offer = instant_.time_since_epoch().count();
        conv.offer = schedule(c, Slot::offer, space.timings.offer_timeout);
        emit(events::Offered{instant_, ConversationId{c, 0}, AgentId{agent_id, 0}, SpaceId{conv.space, 0},
                             instant_ + space.timings.offer_timeout});
    }

    // Takes the offer from its agent and gives the slot back.
    void unlink_offer(std::uint32_t c, Conversation& conv) {
        Agent& agent = agents_.find(conv.offered_to)->second;
        agent.offers.erase(std::find(agent.offers.begin(), agent.offers.end(), c));
        cancel(conv.offer);
        conv.offered_to = nil;
    }

    void withdraw_offer(std::uint32_t c, Conversation& conv, WithdrawReason why) {
        const std::uint32_t agent_id = conv.offered_to;
        unlink_offer(c, conv);
        --agents_.find(agent_id)->second.pending;
        emit(events::OfferWithdrawn{instant_, ConversationId{c, 0}, AgentId{agent_id, 0}, why});
        if (why != WithdrawReason::conversation_ended) waiting_.emplace(conv.wait_key(), c);
    }

    // R10, R29: one pass over the waiting conversations, highest priority then oldest first.
    // Offering only takes eligibility away, so a space found with nobody eligible stays so
    // for the pass.
    void route() {
        ++pass_;
        for (auto it = waiting_.begin(); it != waiting_.end();) {
            const std::uint32_t c = it->second;
            Conversation& conv = conversations_.find(c)->second;
            Space& space = spaces_.find(conv.space)->second;
            if (space.exhausted_in_pass == pass_) {
                ++it;
                continue;
            }
            const std::size_t position = next_eligible(space, conv);
            if (position == npos) {
                if (conv.skills.empty()) space.exhausted_in_pass = pass_;  // else only its skills are lacking
                ++it;
                continue;
            }
            it = waiting_.erase(it);
            offer(c, conv, space, position);
        }
    }

    // ---- Lifecycle ----

    void move_status(ConversationId id, Conversation& conv, Status to) {
        const Status from = conv.status;
        conv.status = to;
        emit(events::StatusChanged{instant_, id, from, to});
    }

    void end_conversation(std::uint32_t c, EndReason reason, bool fallback) {
        Conversation& conv = conversations_.find(c)->second;
        const ConversationId id{c, 0};
        cancel(conv.window);
        cancel(conv.limit);
        conv.ended = true;
        if (conv.status == Status::active) {
            emit(events::ConversationEnded{instant_, id, reason});
            move_status(id, conv, Status::wrapping_up);
            return;
        }
        if (conv.offered_to != nil) withdraw_offer(c, conv, WithdrawReason::conversation_ended);
        waiting_.erase(conv.wait_key());
        if (fallback) emit(events::FallbackMessage{instant_, id, spaces_.find(conv.space)->second.fallback});
        emit(events::ConversationEnded{instant_, id, reason});
        emit(events::Resolved{instant_, id, resolutions_.back()});
        move_status(id, conv, Status::closed);
        erase_conversation(c);
    }

    void erase_conversation(std::uint32_t c) {
        auto it = conversations_.find(c);
        cancel(it->second.offer);
        cancel(it->second.window);
        cancel(it->second.limit);
        conversations_.erase(it);
    }

    // ---- Deadlines ----

    TimerIt schedule(std::uint32_t c, Slot slot, duration after) {
        return timers_.emplace((instant_ + after).time_since_epoch().count(), std::pair{c, slot});
    }

    void cancel(TimerIt& timer) {
        if (timer == timers_.end()) return;
        timers_.erase(timer);
        timer = timers_.end();
    }

    Result<std::size_t> catch_up() {
        time_point now = clock_.now();
        if (now < last_now_) now = last_now_;
        last_now_ = now;
        std::size_t fired = 0;
        while (!timers_.empty() && timers_.begin()->first <= now.time_since_epoch().count()) {
            const auto due = timers_.begin();
            instant_ = time_point{duration{due->first}};
            const auto [c, slot] = due->second;
            Conversation& conv = conversations_.find(c)->second;
            (slot == Slot::offer ? conv.offer : slot == Slot::window ? conv.window : conv.limit) = timers_.end();
            timers_.erase(due);
            fire(c, conv, slot);
            route();
            ++fired;
        }
        instant_ = now;
        return fired;
    }

    void fire(std::uint32_t c, Conversation& conv, Slot slot) {
        switch (slot) {
            case Slot::offer: return offer_timed_out(c, conv);
            case Slot::limit: return end_conversation(c, EndReason::max_duration, false);
            case Slot::window:
                if (conv.status == Status::waiting_for_agent) return end_conversation(c, EndReason::no_agent, true);
                if (conv.warned) return end_conversation(c, EndReason::inactivity, false);
                conv.warned = true;
                emit(events::InactivityWarning{instant_, ConversationId{c, 0}});
                conv.window = schedule(c, Slot::window, spaces_.find(conv.space)->second.timings.inactivity_grace);
                return;
        }
    }

    // R13 (missed_offer_scope all_spaces): unavailable everywhere, the conversation waits again.
    void offer_timed_out(std::uint32_t c, Conversation& conv) {
        const std::uint32_t agent_id = conv.offered_to;
        unlink_offer(c, conv);
        Agent& agent = agents_.find(agent_id)->second;
        --agent.pending;
        emit(events::OfferTimedOut{instant_, ConversationId{c, 0}, AgentId{agent_id, 0}});
        for (auto& [space, m] : agent.spaces)
            if (m.role && m.available) change_availability(agent_id, space, false, AvailabilityReason::offer_timeout);
        waiting_.emplace(conv.wait_key(), c);
    }

    // ---- Queries ----

    Result<std::optional<AgentId>> conversation_agent(ConversationId id, std::uint32_t Conversation::*field) const {
        auto conv = conversations_.find(id.index);
        // Built engaged, then emptied, as the engine does: keeps GCC's -Wmaybe-uninitialized quiet.
        std::optional<AgentId> agent{AgentId{}};
        if (conv == conversations_.end() || conv->second.*field == nil)
            agent.reset();
        else
            agent = AgentId{conv->second.*field, 0};
        return agent;
    }

    template <class E>
    void emit(const E& event) {
        sink_(event);
    }

    C clock_;
    S sink_;
    time_point last_now_{};
    time_point instant_{};
    std::vector<std::string_view> resolutions_{"Done", "Won't do", "Duplicate", "Unanswered"};

    std::map<std::uint32_t, Agent> agents_;
    std::map<std::uint32_t, Space> spaces_;
    std::map<std::uint32_t, Conversation> conversations_;
    std::map<std::uint64_t, std::uint32_t> waiting_;  // age -> conversation
    Timers timers_;
    std::uint32_t next_agent_ = 0;
    std::uint32_t next_space_ = 0;
    std::uint32_t next_conversation_ = 0;
    std::uint64_t next_age_ = 0;
    std::uint64_t pass_ = 0;
};

}  // namespace chatroute::bench
