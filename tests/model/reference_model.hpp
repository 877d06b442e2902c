#pragma once
// A reference model of SPEC.md (and docs/decisions.md), written for clarity, not speed.
//
// It keeps plain vectors of spaces, agents and conversations, works everything out by
// linear scans (an agent's load is counted afresh each time it is needed) and keeps its
// deadlines in one flat list searched for the minimum (deadline, set order). It shares
// nothing with the engine but the public value types (handles, events, errors, settings),
// so that the differential test can run both on one command stream and compare.
//
// Handles: spaces and agents get indexes in creation order; conversations get their start
// order as index. Every stamp is `model_stamp`; a handle with another stamp (another
// engine's) or an index out of range is unknown.

#include <chatroute/clock.hpp>
#include <chatroute/config.hpp>
#include <chatroute/error.hpp>
#include <chatroute/events.hpp>
#include <chatroute/ids.hpp>
#include <chatroute/lifecycle.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace chatroute::model {

inline constexpr std::uint32_t model_stamp = 1;

class ReferenceModel {
public:
    ReferenceModel(ManualClock& clock, RecordingSink& sink) : clock_(clock), sink_(sink) {
        now_ = clock_.now();
    }

    // ---- Time (R25, R26) ----
    Result<std::size_t> advance() { return catch_up(); }

    [[nodiscard]] std::optional<time_point> next_deadline() const {
        const Timer* first = earliest_timer();
        if (first == nullptr) return std::nullopt;
        return first->at;
    }

    // ---- Site (R1, R13, R24) ----
    Result<> update_site(const SiteUpdate& update) {
        catch_up();
        if (update.default_limit && !limit_in_range(*update.default_limit))
            return tl::unexpected(Error::invalid_argument);
        Workflow next = workflow_;
        if (update.status_names) next.status_names = *update.status_names;
        if (update.resolutions) next.resolutions = *update.resolutions;
        if (update.unanswered_resolution) next.unanswered_resolution = *update.unanswered_resolution;
        const bool names_workflow = update.status_names || update.resolutions || update.unanswered_resolution;
        if (names_workflow && !workflow_is_valid(next)) return tl::unexpected(Error::invalid_argument);

        if (update.plan) plan_ = *update.plan;
        if (update.default_limit) default_limit_ = *update.default_limit;
        if (update.missed_offer_scope) scope_ = *update.missed_offer_scope;
        if (names_workflow) {
            workflow_ = next;
            emit(events::WorkflowChanged{now_});
        }
        return {};
    }

    // ---- Spaces (R1, R2, R3) ----
    Result<SpaceId> add_space(const SpaceSettings& settings = {}) {
        catch_up();
        const SpaceTimings& t = settings.timings;
        const duration zero{0};
        if (t.offer_timeout <= zero || t.accept_window <= zero || t.inactivity_warning <= zero ||
            t.inactivity_grace <= zero || t.max_duration <= zero)
            return tl::unexpected(Error::invalid_argument);
        Space space;
        space.chat_enabled = settings.is_new && (plan_ == Plan::premium || plan_ == Plan::enterprise);
        space.fallback = keep(settings.fallback_message);
        space.timings = t;
        spaces_.push_back(space);
        for (Agent& agent : agents_) agent.in.resize(spaces_.size());
        return space_id(static_cast<int>(spaces_.size() - 1));
    }

    Result<> enable_chat(SpaceId id) {
        catch_up();
        if (!known(id)) return tl::unexpected(Error::unknown_space);
        if (!(plan_ == Plan::premium || plan_ == Plan::enterprise))
            return tl::unexpected(Error::plan_not_eligible);
        spaces_[id.index].chat_enabled = true;
        return {};
    }

    Result<> disable_chat(SpaceId id) {
        catch_up();
        if (!known(id)) return tl::unexpected(Error::unknown_space);
        spaces_[id.index].chat_enabled = false;
        return {};
    }

    // ---- Agents (R4–R7) ----
    Result<AgentId> add_agent(const AgentSettings& settings = {}) {
        catch_up();
        if (settings.limit && !limit_in_range(*settings.limit)) return tl::unexpected(Error::invalid_argument);
        Agent agent;
        agent.limit = settings.limit ? *settings.limit : default_limit_;
        agent.in.resize(spaces_.size());
        agents_.push_back(agent);
        return agent_id(static_cast<int>(agents_.size() - 1));
    }

    Result<> set_limit(AgentId id, std::int64_t limit) {
        catch_up();
        if (!limit_in_range(limit)) return tl::unexpected(Error::invalid_argument);
        if (!known(id)) return tl::unexpected(Error::unknown_agent);
        agents_[id.index].limit = limit;
        route(now_);
        return {};
    }

    Result<> grant_role(AgentId agent_id, SpaceId space_id) {
        catch_up();
        if (!known(agent_id)) return tl::unexpected(Error::unknown_agent);
        if (!known(space_id)) return tl::unexpected(Error::unknown_space);
        Membership& m = agents_[agent_id.index].in[space_id.index];
        if (m.role) return {};  // R4: already held, nothing happens
        m.role = true;
        m.available = false;  // R5: a space where the agent gains the role starts unavailable
        spaces_[space_id.index].ring.push_back(static_cast<int>(agent_id.index));  // R9: to the end
        route(now_);
        return {};
    }

    Result<> revoke_role(AgentId agent_id, SpaceId space_id) {
        catch_up();
        if (!known(agent_id)) return tl::unexpected(Error::unknown_agent);
        if (!known(space_id)) return tl::unexpected(Error::unknown_space);
        const int a = static_cast<int>(agent_id.index);
        const int s = static_cast<int>(space_id.index);
        Membership& m = agents_[agent_id.index].in[space_id.index];
        if (!m.role) return {};  // decisions #5
        if (m.available) turn_unavailable(a, s, AvailabilityReason::role_revoked, WithdrawReason::role_revoked, now_);
        m.role = false;
        // The agent leaves the ring; its position stays empty so the cursor keeps its place (R9).
        for (int& slot : spaces_[space_id.index].ring)
            if (slot == a) slot = -1;
        route(now_);
        return {};
    }

    Result<> set_availability(AgentId agent_id, SpaceId space_id, bool available) {
        catch_up();
        if (!known(agent_id)) return tl::unexpected(Error::unknown_agent);
        if (!known(space_id)) return tl::unexpected(Error::unknown_space);
        const Membership& m = agents_[agent_id.index].in[space_id.index];
        if (!m.role) return tl::unexpected(Error::not_an_agent_in_space);
        set_one(static_cast<int>(agent_id.index), static_cast<int>(space_id.index), available);
        route(now_);
        return {};
    }

    Result<> set_availability(AgentId agent_id, AllSpaces, bool available) {
        catch_up();
        if (!known(agent_id)) return tl::unexpected(Error::unknown_agent);
        const int a = static_cast<int>(agent_id.index);
        for (int s = 0; s < static_cast<int>(spaces_.size()); ++s)  // decisions #4: in the order added
            if (agents_[agent_id.index].in[static_cast<std::size_t>(s)].role) set_one(a, s, available);
        route(now_);
        return {};
    }

    // ---- Conversations ----
    Result<ConversationId> start_conversation(SpaceId space_id, bool handoff = false) {
        catch_up();
        if (!known(space_id)) return tl::unexpected(Error::unknown_space);
        const Space& space = spaces_[space_id.index];
        if (!space.chat_enabled) return tl::unexpected(Error::chat_disabled);
        Conversation conv;
        conv.space = static_cast<int>(space_id.index);
        conv.handoff = handoff;
        conv.started = now_;
        conversations_.push_back(conv);
        const int c = static_cast<int>(conversations_.size() - 1);
        open_.push_back(c);
        // decisions #12: the accept window is set before the maximum duration.
        schedule(c, Kind::accept_window, now_ + space.timings.accept_window);
        schedule(c, Kind::max_duration, now_ + space.timings.max_duration);
        emit(events::ConversationStarted{now_, conv_id(c), space_id, handoff});
        route(now_);
        return conv_id(c);
    }

    Result<> accept(AgentId agent_id, ConversationId id) {
        catch_up();
        if (auto bad = check_offer_command(agent_id, id)) return tl::unexpected(*bad);
        const int a = static_cast<int>(agent_id.index);
        const int c = static_cast<int>(id.index);
        Conversation& conv = conversations_[id.index];
        cancel(c, Kind::offer_timeout);
        cancel(c, Kind::accept_window);
        conv.offered_to = -1;
        conv.assignee = a;
        conv.status = Status::active;
        emit(events::Accepted{now_, id, agent_id});
        emit(events::StatusChanged{now_, id, Status::waiting_for_agent, Status::active});
        if (conv.handoff) emit(events::TranscriptShared{now_, id, agent_id});
        schedule(c, Kind::inactivity_warning, now_ + timings_of(c).inactivity_warning);
        route(now_);
        return {};
    }

    Result<> decline(AgentId agent_id, ConversationId id) {
        catch_up();
        if (auto bad = check_offer_command(agent_id, id)) return tl::unexpected(*bad);
        const int a = static_cast<int>(agent_id.index);
        const int c = static_cast<int>(id.index);
        Conversation& conv = conversations_[id.index];
        cancel(c, Kind::offer_timeout);
        conv.offered_to = -1;
        emit(events::OfferDeclined{now_, id, agent_id});
        // R12: the next eligible agent other than the decliner; else the decliner; else it waits.
        const std::vector<std::int64_t> used = slots_in_use();
        int position = find_eligible(conv.space, a, used);
        if (position < 0 && eligible(a, conv.space, used)) position = ring_position(conv.space, a);
        if (position >= 0) make_offer(c, position, now_);
        route(now_);
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
        if (auto bad = check_team_command(id, agent_id)) return tl::unexpected(*bad);
        emit(events::Note{now_, id, agent_id, ref});
        return {};
    }

    Result<> follow_up(ConversationId id, AgentId agent_id) {
        catch_up();
        if (auto bad = check_team_command(id, agent_id)) return tl::unexpected(*bad);
        emit(events::FollowUpCreated{now_, id, agent_id});
        return {};
    }

    Result<> end_by_customer(ConversationId id) {
        catch_up();
        if (!known(id)) return tl::unexpected(Error::unknown_conversation);
        const Conversation& conv = conversations_[id.index];
        if (conv.status == Status::closed) return tl::unexpected(Error::work_item_closed);
        if (conv.status == Status::wrapping_up) return tl::unexpected(Error::conversation_ended);
        end_conversation(static_cast<int>(id.index), EndReason::customer, now_);
        route(now_);
        return {};
    }

    Result<> end_by_agent(ConversationId id, AgentId agent_id) {
        catch_up();
        if (auto bad = check_team_command(id, agent_id)) return tl::unexpected(*bad);
        const Conversation& conv = conversations_[id.index];
        if (conv.status == Status::wrapping_up) return tl::unexpected(Error::conversation_ended);
        if (conv.assignee != static_cast<int>(agent_id.index)) return tl::unexpected(Error::not_assignee);
        end_conversation(static_cast<int>(id.index), EndReason::agent, now_);
        route(now_);
        return {};
    }

    Result<> resolve(ConversationId id, AgentId agent_id, std::string_view resolution) {
        catch_up();
        if (auto bad = check_team_command(id, agent_id)) return tl::unexpected(*bad);
        Conversation& conv = conversations_[id.index];
        if (conv.assignee != static_cast<int>(agent_id.index)) return tl::unexpected(Error::not_assignee);
        if (conv.status == Status::active) return tl::unexpected(Error::conversation_active);
        const auto& list = workflow_.resolutions;
        if (std::find(list.begin(), list.end(), resolution) == list.end())
            return tl::unexpected(Error::unknown_resolution);
        emit(events::Resolved{now_, id, keep(std::string(resolution))});
        emit(events::StatusChanged{now_, id, Status::wrapping_up, Status::closed});
        emit(events::SlotReleased{now_, id, agent_id});
        close(static_cast<int>(id.index));  // the assignee's slot is free: it counts only until closed
        route(now_);
        return {};
    }

    // ---- Queries ----
    [[nodiscard]] Result<Status> status(ConversationId id) const {
        if (!known(id)) return tl::unexpected(Error::unknown_conversation);
        return conversations_[id.index].status;
    }
    [[nodiscard]] Result<std::optional<AgentId>> assignee(ConversationId id) const {
        if (!known(id)) return tl::unexpected(Error::unknown_conversation);
        return agent_or_none(conversations_[id.index].assignee);
    }
    [[nodiscard]] Result<std::optional<AgentId>> offered_to(ConversationId id) const {
        if (!known(id)) return tl::unexpected(Error::unknown_conversation);
        return agent_or_none(conversations_[id.index].offered_to);
    }
    [[nodiscard]] Result<bool> has_role(AgentId agent, SpaceId space) const {
        if (!known(agent)) return tl::unexpected(Error::unknown_agent);
        if (!known(space)) return tl::unexpected(Error::unknown_space);
        return agents_[agent.index].in[space.index].role;
    }
    [[nodiscard]] Result<bool> available(AgentId agent, SpaceId space) const {
        if (!known(agent)) return tl::unexpected(Error::unknown_agent);
        if (!known(space)) return tl::unexpected(Error::unknown_space);
        return agents_[agent.index].in[space.index].available;
    }
    // Assigned, pending and limit, as in the engine's Load.
    struct ModelLoad {
        std::int64_t assigned = 0;
        std::int64_t pending = 0;
        std::int64_t limit = 0;
    };
    [[nodiscard]] Result<ModelLoad> load(AgentId id) const {
        if (!known(id)) return tl::unexpected(Error::unknown_agent);
        const int a = static_cast<int>(id.index);
        return ModelLoad{assigned_count(a), pending_count(a), agents_[id.index].limit};
    }
    [[nodiscard]] Result<bool> chat_enabled(SpaceId id) const {
        if (!known(id)) return tl::unexpected(Error::unknown_space);
        return spaces_[id.index].chat_enabled;
    }
    [[nodiscard]] Plan plan() const { return plan_; }
    [[nodiscard]] MissedOfferScope missed_offer_scope() const { return scope_; }
    [[nodiscard]] std::int64_t default_limit() const { return default_limit_; }
    [[nodiscard]] const Workflow& workflow() const { return workflow_; }
    [[nodiscard]] std::size_t agent_count() const { return agents_.size(); }
    [[nodiscard]] std::size_t space_count() const { return spaces_.size(); }
    [[nodiscard]] std::size_t conversation_count() const { return conversations_.size(); }
    [[nodiscard]] std::size_t live_conversations() const {
        return open_.size();
    }
    [[nodiscard]] std::size_t pending_deadlines() const { return timers_.size(); }
    [[nodiscard]] time_point now() const { return now_; }
    // For the generator: a conversation's space index.
    [[nodiscard]] int space_of(ConversationId id) const {
        return known(id) ? conversations_[id.index].space : -1;
    }

private:
    struct Membership {
        bool role = false;
        bool available = false;
    };
    struct Agent {
        std::int64_t limit = 0;
        std::vector<Membership> in;  // one per space, by space index
    };
    struct Space {
        bool chat_enabled = false;
        std::string_view fallback;
        SpaceTimings timings;
        std::vector<int> ring;  // agent indexes in the order they gained the role; -1 where one left
        std::size_t cursor = 0;  // the position just past the agent offered to last
    };
    struct Conversation {
        int space = 0;
        bool handoff = false;
        time_point started;
        Status status = Status::waiting_for_agent;
        int offered_to = -1;
        std::uint64_t offer_order = 0;  // when the pending offer was made (for "oldest offer first")
        int assignee = -1;
    };
    enum class Kind { offer_timeout, accept_window, inactivity_warning, inactivity_grace, max_duration };
    struct Timer {
        time_point at;
        std::uint64_t order = 0;  // set order: ties fire in the order they were set (R25)
        int conversation = 0;
        Kind kind = Kind::offer_timeout;
    };

    // ---- Helpers: handles ----
    [[nodiscard]] static Result<std::optional<AgentId>> agent_or_none(int a) {
        Result<std::optional<AgentId>> out;  // holds an empty optional
        if (a >= 0) out->emplace(agent_id(a));
        return out;
    }
    [[nodiscard]] bool known(SpaceId id) const { return id.index < spaces_.size() && id.stamp == model_stamp; }
    [[nodiscard]] bool known(AgentId id) const { return id.index < agents_.size() && id.stamp == model_stamp; }
    [[nodiscard]] bool known(ConversationId id) const {
        return id.index < conversations_.size() && id.stamp == model_stamp;
    }
    [[nodiscard]] static ConversationId conv_id(int c) { return {static_cast<std::uint32_t>(c), model_stamp}; }
    [[nodiscard]] static AgentId agent_id(int a) { return {static_cast<std::uint32_t>(a), model_stamp}; }
    [[nodiscard]] static SpaceId space_id(int s) { return {static_cast<std::uint32_t>(s), model_stamp}; }

    [[nodiscard]] static bool limit_in_range(std::int64_t limit) { return limit >= 0 && limit <= 1'000'000; }

    [[nodiscard]] static bool workflow_is_valid(const Workflow& w) {
        const auto has_bad_name = [](const auto& names) {
            for (std::size_t i = 0; i < names.size(); ++i) {
                if (names[i].empty()) return true;
                for (std::size_t j = i + 1; j < names.size(); ++j)
                    if (names[i] == names[j]) return true;
            }
            return false;
        };
        if (has_bad_name(w.status_names) || has_bad_name(w.resolutions)) return false;
        return std::find(w.resolutions.begin(), w.resolutions.end(), w.unanswered_resolution) !=
               w.resolutions.end();
    }

    // Strings that events point at live as long as the model.
    std::string_view keep(std::string text) {
        strings_.push_back(std::move(text));
        return strings_.back();
    }

    template <class E>
    void emit(const E& event) {
        sink_(event);
    }

    [[nodiscard]] const SpaceTimings& timings_of(int c) const {
        return spaces_[static_cast<std::size_t>(conversations_[static_cast<std::size_t>(c)].space)].timings;
    }

    void close(int c) {
        conversations_[static_cast<std::size_t>(c)].status = Status::closed;
        std::erase(open_, c);
    }

    // ---- Slots (R8) ----
    // Closed conversations hold no slot, so only the open ones are counted.
    [[nodiscard]] std::int64_t assigned_count(int a) const {
        std::int64_t n = 0;
        for (int c : open_)
            if (conversations_[static_cast<std::size_t>(c)].assignee == a) ++n;
        return n;
    }
    [[nodiscard]] std::int64_t pending_count(int a) const {
        std::int64_t n = 0;
        for (int c : open_)
            if (conversations_[static_cast<std::size_t>(c)].offered_to == a) ++n;
        return n;
    }
    // Slots in use per agent: assigned (accepted, not closed) plus pending offers. Routing
    // takes this once and counts its own offers in as it makes them.
    [[nodiscard]] std::vector<std::int64_t> slots_in_use() const {
        std::vector<std::int64_t> used(agents_.size(), 0);
        for (int c : open_) {
            const Conversation& conv = conversations_[static_cast<std::size_t>(c)];
            if (conv.assignee >= 0) ++used[static_cast<std::size_t>(conv.assignee)];
            if (conv.offered_to >= 0) ++used[static_cast<std::size_t>(conv.offered_to)];
        }
        return used;
    }
    [[nodiscard]] bool eligible(int a, int s, const std::vector<std::int64_t>& used) const {
        const Agent& agent = agents_[static_cast<std::size_t>(a)];
        const Membership& m = agent.in[static_cast<std::size_t>(s)];
        return m.role && m.available && used[static_cast<std::size_t>(a)] < agent.limit;
    }

    // ---- Round robin (R9) ----
    // The first position from the cursor on, wrapping, whose agent is eligible and not `skip`.
    [[nodiscard]] int find_eligible(int s, int skip, const std::vector<std::int64_t>& used) const {
        const Space& space = spaces_[static_cast<std::size_t>(s)];
        const std::size_t n = space.ring.size();
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t position = (space.cursor + k) % n;
            const int a = space.ring[position];
            if (a >= 0 && a != skip && eligible(a, s, used)) return static_cast<int>(position);
        }
        return -1;
    }
    [[nodiscard]] int ring_position(int s, int a) const {
        const auto& ring = spaces_[static_cast<std::size_t>(s)].ring;
        for (std::size_t i = 0; i < ring.size(); ++i)
            if (ring[i] == a) return static_cast<int>(i);
        return -1;
    }

    int make_offer(int c, int position, time_point at) {
        Conversation& conv = conversations_[static_cast<std::size_t>(c)];
        Space& space = spaces_[static_cast<std::size_t>(conv.space)];
        const int a = space.ring[static_cast<std::size_t>(position)];
        space.cursor = static_cast<std::size_t>(position) + 1;
        conv.offered_to = a;
        conv.offer_order = ++offers_made_;
        const time_point expires = at + space.timings.offer_timeout;
        schedule(c, Kind::offer_timeout, expires);
        emit(events::Offered{at, conv_id(c), agent_id(a), space_id(conv.space), expires});
        return a;
    }

    // R10: offer waiting conversations, oldest first, until none can be offered.
    void route(time_point at) {
        std::vector<int> waiting;
        for (int c : open_) {
            const Conversation& conv = conversations_[static_cast<std::size_t>(c)];
            if (conv.status == Status::waiting_for_agent && conv.offered_to < 0) waiting.push_back(c);
        }
        std::stable_sort(waiting.begin(), waiting.end(), [&](int x, int y) {
            return conversations_[static_cast<std::size_t>(x)].started < conversations_[static_cast<std::size_t>(y)].started;
        });
        // Offering only ever uses up slots, so one pass oldest first reaches the fixed point.
        std::vector<std::int64_t> used = slots_in_use();
        for (int c : waiting) {
            const int position = find_eligible(conversations_[static_cast<std::size_t>(c)].space, -1, used);
            if (position >= 0) ++used[static_cast<std::size_t>(make_offer(c, position, at))];
        }
    }

    // ---- Availability (R5–R7, R14) ----
    void set_one(int a, int s, bool available) {
        Membership& m = agents_[static_cast<std::size_t>(a)].in[static_cast<std::size_t>(s)];
        if (m.available == available) return;
        if (available) {
            m.available = true;
            emit(events::AvailabilityChanged{now_, agent_id(a), space_id(s), true, AvailabilityReason::agent});
        } else {
            turn_unavailable(a, s, AvailabilityReason::agent, WithdrawReason::agent_unavailable, now_);
        }
    }

    void turn_unavailable(int a, int s, AvailabilityReason why, WithdrawReason withdraw_why, time_point at) {
        agents_[static_cast<std::size_t>(a)].in[static_cast<std::size_t>(s)].available = false;
        emit(events::AvailabilityChanged{at, agent_id(a), space_id(s), false, why});
        // R14: its pending offers in that space are withdrawn, oldest offer first.
        std::vector<int> offers;
        for (int c : open_) {
            const Conversation& conv = conversations_[static_cast<std::size_t>(c)];
            if (conv.offered_to == a && conv.space == s) offers.push_back(c);
        }
        std::sort(offers.begin(), offers.end(), [&](int x, int y) {
            return conversations_[static_cast<std::size_t>(x)].offer_order <
                   conversations_[static_cast<std::size_t>(y)].offer_order;
        });
        for (int c : offers) withdraw_offer(c, withdraw_why, at);
    }

    void withdraw_offer(int c, WithdrawReason why, time_point at) {
        Conversation& conv = conversations_[static_cast<std::size_t>(c)];
        const int a = conv.offered_to;
        conv.offered_to = -1;
        cancel(c, Kind::offer_timeout);
        emit(events::OfferWithdrawn{at, conv_id(c), agent_id(a), why});
    }

    // ---- Ending (R15, R17, R18, R20) ----
    void end_conversation(int c, EndReason why, time_point at) {
        Conversation& conv = conversations_[static_cast<std::size_t>(c)];
        if (conv.status == Status::active) {
            emit(events::ConversationEnded{at, conv_id(c), why});
            emit(events::StatusChanged{at, conv_id(c), Status::active, Status::wrapping_up});
            conv.status = Status::wrapping_up;
            cancel(c, Kind::inactivity_warning);
            cancel(c, Kind::inactivity_grace);
            cancel(c, Kind::max_duration);
            return;
        }
        // Not accepted: straight to closed, unanswered (decisions #9).
        if (conv.offered_to >= 0) withdraw_offer(c, WithdrawReason::conversation_ended, at);
        if (why == EndReason::no_agent) {
            const Space& space = spaces_[static_cast<std::size_t>(conv.space)];
            emit(events::FallbackMessage{at, conv_id(c), space.fallback});
        }
        emit(events::ConversationEnded{at, conv_id(c), why});
        emit(events::Resolved{at, conv_id(c), keep(workflow_.unanswered_resolution)});
        emit(events::StatusChanged{at, conv_id(c), Status::waiting_for_agent, Status::closed});
        close(c);
        cancel(c, Kind::accept_window);
        cancel(c, Kind::max_duration);
    }

    // ---- Talking (R16, R17, R21) ----
    template <class E>
    Result<> customer_says(ConversationId id, Audience audience, MessageRef ref) {
        catch_up();
        if (!known(id)) return tl::unexpected(Error::unknown_conversation);
        const Conversation& conv = conversations_[id.index];
        if (conv.status == Status::closed) return tl::unexpected(Error::work_item_closed);
        if (conv.status == Status::wrapping_up) return tl::unexpected(Error::conversation_ended);
        E event{};
        event.at = now_;
        event.conversation = id;
        event.from = Party::customer;
        event.audience = audience;
        event.ref = ref;
        emit(event);
        if constexpr (std::is_same_v<E, events::Message>)
            if (conv.status == Status::active)
            restart_inactivity(static_cast<int>(id.index));
        return {};
    }

    template <class E>
    Result<> agent_says(ConversationId id, AgentId agent, Audience audience, MessageRef ref) {
        catch_up();
        if (auto bad = check_team_command(id, agent)) return tl::unexpected(*bad);
        const Conversation& conv = conversations_[id.index];
        if (conv.status == Status::wrapping_up) return tl::unexpected(Error::conversation_ended);
        if (conv.assignee != static_cast<int>(agent.index)) return tl::unexpected(Error::not_assignee);
        E event{};
        event.at = now_;
        event.conversation = id;
        event.from = Party::agent;
        event.audience = audience;
        event.agent = agent;
        event.ref = ref;
        emit(event);
        if constexpr (std::is_same_v<E, events::Message>) restart_inactivity(static_cast<int>(id.index));
        return {};
    }

    void restart_inactivity(int c) {
        cancel(c, Kind::inactivity_warning);
        cancel(c, Kind::inactivity_grace);
        schedule(c, Kind::inactivity_warning, now_ + timings_of(c).inactivity_warning);
    }

    // ---- Preconditions, in R27's order ----
    // Fields conversation, agent: unknown ids, closed, role (the assignee needs none).
    [[nodiscard]] std::optional<Error> check_team_command(ConversationId id, AgentId agent) const {
        if (!known(id)) return Error::unknown_conversation;
        if (!known(agent)) return Error::unknown_agent;
        const Conversation& conv = conversations_[id.index];
        if (conv.status == Status::closed) return Error::work_item_closed;
        const bool is_assignee = conv.assignee == static_cast<int>(agent.index);
        if (!is_assignee && !agents_[agent.index].in[static_cast<std::size_t>(conv.space)].role)
            return Error::not_an_agent_in_space;
        return std::nullopt;
    }

    // accept / decline: fields agent, conversation.
    [[nodiscard]] std::optional<Error> check_offer_command(AgentId agent, ConversationId id) const {
        if (!known(agent)) return Error::unknown_agent;
        if (!known(id)) return Error::unknown_conversation;
        const Conversation& conv = conversations_[id.index];
        if (conv.status == Status::closed) return Error::work_item_closed;
        const bool is_assignee = conv.assignee == static_cast<int>(agent.index);
        if (!is_assignee && !agents_[agent.index].in[static_cast<std::size_t>(conv.space)].role)
            return Error::not_an_agent_in_space;
        if (conv.status == Status::wrapping_up) return Error::conversation_ended;
        if (conv.offered_to != static_cast<int>(agent.index)) return Error::no_offer;
        return std::nullopt;
    }

    // ---- Deadlines (R25, R26) ----
    void schedule(int c, Kind kind, time_point at) { timers_.push_back(Timer{at, ++timers_set_, c, kind}); }

    void cancel(int c, Kind kind) {
        std::erase_if(timers_, [&](const Timer& t) { return t.conversation == c && t.kind == kind; });
    }

    [[nodiscard]] const Timer* earliest_timer() const {
        const Timer* best = nullptr;
        for (const Timer& t : timers_)
            if (best == nullptr || t.at < best->at || (t.at == best->at && t.order < best->order)) best = &t;
        return best;
    }

    std::size_t catch_up() {
        now_ = std::max(now_, clock_.now());  // R26: a clock going back is clamped
        std::size_t fired = 0;
        while (const Timer* first = earliest_timer()) {
            if (first->at > now_) break;
            const Timer due = *first;
            timers_.erase(timers_.begin() + (first - timers_.data()));
            fire(due);
            route(due.at);  // R10: after every deadline
            ++fired;
        }
        return fired;
    }

    void fire(const Timer& t) {
        const int c = t.conversation;
        Conversation& conv = conversations_[static_cast<std::size_t>(c)];
        switch (t.kind) {
        case Kind::offer_timeout: {  // R13, decisions #6
            const int a = conv.offered_to;
            conv.offered_to = -1;
            emit(events::OfferTimedOut{t.at, conv_id(c), agent_id(a)});
            const Agent& agent = agents_[static_cast<std::size_t>(a)];
            for (int s = 0; s < static_cast<int>(spaces_.size()); ++s) {
                const bool in_scope = scope_ == MissedOfferScope::all_spaces || s == conv.space;
                const Membership& m = agent.in[static_cast<std::size_t>(s)];
                if (in_scope && m.role && m.available)
                    turn_unavailable(a, s, AvailabilityReason::offer_timeout, WithdrawReason::agent_unavailable, t.at);
            }
            break;
        }
        case Kind::accept_window:  // R15
            end_conversation(c, EndReason::no_agent, t.at);
            break;
        case Kind::inactivity_warning:  // R17
            emit(events::InactivityWarning{t.at, conv_id(c)});
            schedule(c, Kind::inactivity_grace, t.at + timings_of(c).inactivity_grace);
            break;
        case Kind::inactivity_grace:
            end_conversation(c, EndReason::inactivity, t.at);
            break;
        case Kind::max_duration:  // R18
            end_conversation(c, EndReason::max_duration, t.at);
            break;
        }
    }

    ManualClock& clock_;
    RecordingSink& sink_;
    time_point now_{};
    Plan plan_ = Plan::premium;
    std::int64_t default_limit_ = 3;
    MissedOfferScope scope_ = MissedOfferScope::all_spaces;
    Workflow workflow_;
    std::vector<Space> spaces_;
    std::vector<Agent> agents_;
    std::vector<Conversation> conversations_;
    std::vector<int> open_;  // conversations not closed, in start order
    std::vector<Timer> timers_;
    std::uint64_t timers_set_ = 0;
    std::uint64_t offers_made_ = 0;
    std::deque<std::string> strings_;
};

}  // namespace chatroute::model
