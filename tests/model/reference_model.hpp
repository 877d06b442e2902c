#pragma once
// A reference model of SPEC.md (and docs/decisions.md), written for clarity, not speed.
//
// It keeps plain vectors of spaces, agents and conversations, works everything out by
// linear scans (an agent's load is counted afresh each time it is needed, eligible agents
// are found by scanning the ring) and keeps its deadlines in one flat list searched for the
// minimum (deadline, set order). It shares nothing with the engine but the public value
// types (handles, events, errors, settings), so that the differential test can run both on
// one command stream and compare.
//
// Handles: spaces and agents get indexes in creation order (serial 0); a conversation's
// index is its start order and its serial start order + 1. Every handle carries the site
// of EngineOptions; a handle of another site, an index out of range or a wrong serial is
// unknown.

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
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace chatroute::model {

class ReferenceModel {
public:
    ReferenceModel(ManualClock& clock, RecordingSink& sink, EngineOptions options = {})
        : clock_(clock), sink_(sink), site_(options.site) {
        now_ = clock_.now();
        at_ = now_;
    }

    // ---- Time (R25, R26) ----
    Result<std::size_t> advance() { return catch_up(); }

    [[nodiscard]] std::optional<time_point> next_deadline() const {
        const Timer* first = earliest_timer();
        if (first == nullptr) return std::nullopt;
        return first->at;
    }

    // ---- Site (R1, R13, R24, R34, R36) ----
    Result<> update_site(const SiteUpdate& update) {
        catch_up();
        if (update.default_limit && !limit_in_range(*update.default_limit))
            return tl::unexpected(Error::invalid_argument);
        if (update.missed_offer_return_after && *update.missed_offer_return_after <= duration{0})
            return tl::unexpected(Error::invalid_argument);
        Workflow next = workflow_;
        if (update.status_names) next.status_names = *update.status_names;
        if (update.resolutions) next.resolutions = *update.resolutions;
        if (update.unanswered_resolution) next.unanswered_resolution = *update.unanswered_resolution;
        if (update.wrap_up_resolution) next.wrap_up_resolution = *update.wrap_up_resolution;
        const bool names_workflow = update.status_names || update.resolutions || update.unanswered_resolution ||
                                    update.wrap_up_resolution;
        if (names_workflow && !workflow_is_valid(next)) return tl::unexpected(Error::invalid_argument);

        if (update.plan) plan_ = *update.plan;
        if (update.default_limit) default_limit_ = *update.default_limit;
        if (update.missed_offer_scope) scope_ = *update.missed_offer_scope;
        if (update.missed_offer_return_after) return_after_ = *update.missed_offer_return_after;
        if (names_workflow) {
            workflow_ = next;
            emit(events::WorkflowChanged{at_});
        }
        return {};
    }

    // ---- Spaces (R1, R2, R3, R28, R35) ----
    Result<SpaceId> add_space(const SpaceSettings& settings = {}) {
        catch_up();
        const SpaceTimings& t = settings.timings;
        const duration zero{0};
        const auto bad_optional = [&](const std::optional<duration>& d) { return d && *d <= zero; };
        if (t.offer_timeout <= zero || t.accept_window <= zero || t.inactivity_warning <= zero ||
            t.inactivity_grace <= zero || t.max_duration <= zero || bad_optional(t.skills_relax_after) ||
            bad_optional(t.assignee_response_timeout) || bad_optional(t.wrap_up_timeout))
            return tl::unexpected(Error::invalid_argument);
        Space space;
        space.chat_enabled = settings.is_new && (plan_ == Plan::premium || plan_ == Plan::enterprise);
        space.fallback = settings.fallback_message;
        space.timings = t;
        space.strategy = settings.strategy;
        space.no_agent_action = settings.no_agent_action;
        spaces_.push_back(space);
        for (Agent& agent : agents_) agent.in.resize(spaces_.size());
        return space_id(static_cast<int>(spaces_.size() - 1));
    }

    Result<> update_space(SpaceId id, const SpaceUpdate& update) {
        catch_up();
        if (!known(id)) return tl::unexpected(Error::unknown_space);
        Space& space = spaces_[id.index];
        if (update.strategy) space.strategy = *update.strategy;
        if (update.fallback_message) space.fallback = *update.fallback_message;
        if (update.no_agent_action) space.no_agent_action = *update.no_agent_action;
        route();
        return {};
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

    // ---- Agents (R4–R7, R30, R31) ----
    Result<AgentId> add_agent(const AgentSettings& settings = {}) {
        catch_up();
        if (settings.limit && !limit_in_range(*settings.limit)) return tl::unexpected(Error::invalid_argument);
        if (!skills_valid(settings.skills)) return tl::unexpected(Error::invalid_argument);
        Agent agent;
        agent.limit = settings.limit ? *settings.limit : default_limit_;
        agent.skills = settings.skills;
        agent.in.resize(spaces_.size());
        agents_.push_back(agent);
        return agent_id(static_cast<int>(agents_.size() - 1));
    }

    Result<> set_limit(AgentId id, std::int64_t limit) {
        catch_up();
        if (!limit_in_range(limit)) return tl::unexpected(Error::invalid_argument);
        if (!known(id)) return tl::unexpected(Error::unknown_agent);
        agents_[id.index].limit = limit;
        route();
        return {};
    }

    // R31: fields agent, limit, space.
    Result<> set_space_limit(AgentId agent, SpaceId space, std::optional<std::int64_t> limit) {
        catch_up();
        if (limit && !limit_in_range(*limit)) return tl::unexpected(Error::invalid_argument);
        if (!known(agent)) return tl::unexpected(Error::unknown_agent);
        if (!known(space)) return tl::unexpected(Error::unknown_space);
        agents_[agent.index].in[space.index].limit = limit;
        route();
        return {};
    }

    Result<> set_skills(AgentId id, std::span<const std::string> skills) {
        catch_up();
        const std::vector<std::string> list(skills.begin(), skills.end());
        if (!skills_valid(list)) return tl::unexpected(Error::invalid_argument);
        if (!known(id)) return tl::unexpected(Error::unknown_agent);
        agents_[id.index].skills = list;  // pending offers stay (R30)
        route();
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
        route();
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
        if (m.available) turn_unavailable(a, s, AvailabilityReason::role_revoked, WithdrawReason::role_revoked);
        m.role = false;
        cancel_return(a, s);  // R34: lost the role there
        // The agent leaves the ring; its position stays empty so the cursor keeps its place (R9).
        for (int& slot : spaces_[space_id.index].ring)
            if (slot == a) slot = -1;
        route();
        return {};
    }

    Result<> set_availability(AgentId agent_id, SpaceId space_id, bool available) {
        catch_up();
        if (!known(agent_id)) return tl::unexpected(Error::unknown_agent);
        if (!known(space_id)) return tl::unexpected(Error::unknown_space);
        const Membership& m = agents_[agent_id.index].in[space_id.index];
        if (!m.role) return tl::unexpected(Error::not_an_agent_in_space);
        set_one(static_cast<int>(agent_id.index), static_cast<int>(space_id.index), available);
        route();
        return {};
    }

    Result<> set_availability(AgentId agent_id, AllSpaces, bool available) {
        catch_up();
        if (!known(agent_id)) return tl::unexpected(Error::unknown_agent);
        const int a = static_cast<int>(agent_id.index);
        for (int s = 0; s < static_cast<int>(spaces_.size()); ++s)  // decisions #4: in the order added
            if (agents_[agent_id.index].in[static_cast<std::size_t>(s)].role) set_one(a, s, available);
        route();
        return {};
    }

    // ---- Conversations ----
    // Fields: conversation, space, handoff, priority, skills, preferred_agent.
    Result<ConversationId> start_conversation(SpaceId space_id, const StartOptions& options = {}) {
        catch_up();
        if (!priority_in_range(options.priority) || !skills_valid(options.skills))
            return tl::unexpected(Error::invalid_argument);
        if (!known(space_id)) return tl::unexpected(Error::unknown_space);
        if (options.preferred_agent && !known(*options.preferred_agent)) return tl::unexpected(Error::unknown_agent);
        const Space& space = spaces_[space_id.index];
        if (!space.chat_enabled) return tl::unexpected(Error::chat_disabled);
        Conversation conv;
        conv.space = static_cast<int>(space_id.index);
        conv.handoff = options.handoff;
        conv.started = at_;
        conv.priority = options.priority;
        conv.skills = options.skills;
        if (options.preferred_agent) conv.prefer = static_cast<int>(options.preferred_agent->index);
        conversations_.push_back(conv);
        const int c = static_cast<int>(conversations_.size() - 1);
        open_.push_back(c);
        emit(events::ConversationStarted{at_, conv_id(c), space_id, options.handoff});
        // R35: nobody with the role is available there, whatever their load.
        if (space.no_agent_action == NoAgentAction::fallback && !anyone_available(conv.space)) {
            emit(events::FallbackMessage{at_, conv_id(c), keep(space.fallback)});
            emit(events::ConversationEnded{at_, conv_id(c), EndReason::no_agent});
            emit(events::Resolved{at_, conv_id(c), keep(workflow_.unanswered_resolution)});
            emit(events::StatusChanged{at_, conv_id(c), Status::waiting_for_agent, Status::closed});
            close(c);
            route();
            return conv_id(c);
        }
        // §10: the accept window, the maximum duration, then the skills relax deadline.
        schedule(c, Kind::accept_window, at_ + space.timings.accept_window);
        schedule(c, Kind::max_duration, at_ + space.timings.max_duration);
        schedule_relax(c);
        route();
        return conv_id(c);
    }

    Result<> set_priority(ConversationId id, std::int64_t priority) {
        catch_up();
        if (!priority_in_range(priority)) return tl::unexpected(Error::invalid_argument);
        if (!known(id)) return tl::unexpected(Error::unknown_conversation);
        Conversation& conv = conversations_[id.index];
        if (conv.status == Status::closed) return tl::unexpected(Error::work_item_closed);
        if (conv.priority == priority) return {};
        conv.priority = priority;
        emit(events::PriorityChanged{at_, id, priority});
        route();
        return {};
    }

    Result<> accept(ConversationId id, AgentId agent_id) {
        catch_up();
        if (auto bad = check_offer_command(agent_id, id)) return tl::unexpected(*bad);
        const int a = static_cast<int>(agent_id.index);
        const int c = static_cast<int>(id.index);
        Conversation& conv = conversations_[id.index];
        cancel(c, Kind::offer_timeout);
        cancel(c, Kind::accept_window);
        cancel(c, Kind::skills_relax);  // R30: an accept cancels the relax deadline
        conv.offered_to = -1;
        conv.assignee = a;
        conv.status = Status::active;
        emit(events::Accepted{at_, id, agent_id});
        emit(events::StatusChanged{at_, id, Status::waiting_for_agent, Status::active});
        if (conv.handoff || conv.transferred) emit(events::TranscriptShared{at_, id, agent_id});
        conv.transferred = false;
        schedule(c, Kind::inactivity_warning, at_ + timings_of(c).inactivity_warning);
        route();
        return {};
    }

    Result<> decline(ConversationId id, AgentId agent_id) {
        catch_up();
        if (auto bad = check_offer_command(agent_id, id)) return tl::unexpected(*bad);
        const int a = static_cast<int>(agent_id.index);
        const int c = static_cast<int>(id.index);
        Conversation& conv = conversations_[id.index];
        cancel(c, Kind::offer_timeout);
        conv.offered_to = -1;
        emit(events::OfferDeclined{at_, id, agent_id});
        // R12 + R28: the space's strategy among the eligible agents other than the decliner;
        // else the decliner, if eligible; else it waits.
        int position = choose(c, a);
        if (position < 0 && eligible(a, c)) position = ring_position(conv.space, a);
        if (position >= 0) make_offer(c, position, true);
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
        if (auto bad = check_team_command(id, agent_id)) return tl::unexpected(*bad);
        emit(events::Note{at_, id, agent_id, ref});
        return {};
    }

    Result<> follow_up(ConversationId id, AgentId agent_id) {
        catch_up();
        if (auto bad = check_team_command(id, agent_id)) return tl::unexpected(*bad);
        emit(events::FollowUpCreated{at_, id, agent_id});
        return {};
    }

    // R32. Fields: conversation, agent, space, to_agent.
    Result<> transfer(ConversationId id, AgentId agent_id, SpaceId target, std::optional<AgentId> to_agent = {}) {
        catch_up();
        if (!known(id)) return tl::unexpected(Error::unknown_conversation);
        if (!known(agent_id)) return tl::unexpected(Error::unknown_agent);
        if (!known(target)) return tl::unexpected(Error::unknown_space);
        if (to_agent && !known(*to_agent)) return tl::unexpected(Error::unknown_agent);
        if (auto bad = check_team_command(id, agent_id)) return tl::unexpected(*bad);
        if (to_agent && !agents_[to_agent->index].in[target.index].role)
            return tl::unexpected(Error::not_an_agent_in_space);
        if (!spaces_[target.index].chat_enabled) return tl::unexpected(Error::chat_disabled);
        const Conversation& conv = conversations_[id.index];
        if (conv.status == Status::wrapping_up) return tl::unexpected(Error::conversation_ended);
        if (conv.assignee != static_cast<int>(agent_id.index)) return tl::unexpected(Error::not_assignee);
        const int c = static_cast<int>(id.index);
        move_conversation(c, static_cast<int>(target.index), TransferReason::agent);
        if (to_agent) conversations_[id.index].prefer = static_cast<int>(to_agent->index);
        route();
        return {};
    }

    Result<> end_by_customer(ConversationId id) {
        catch_up();
        if (!known(id)) return tl::unexpected(Error::unknown_conversation);
        const Conversation& conv = conversations_[id.index];
        if (conv.status == Status::closed) return tl::unexpected(Error::work_item_closed);
        if (conv.status == Status::wrapping_up) return tl::unexpected(Error::conversation_ended);
        end_conversation(static_cast<int>(id.index), EndReason::customer);
        route();
        return {};
    }

    Result<> end_by_agent(ConversationId id, AgentId agent_id) {
        catch_up();
        if (auto bad = check_team_command(id, agent_id)) return tl::unexpected(*bad);
        const Conversation& conv = conversations_[id.index];
        if (conv.status == Status::wrapping_up) return tl::unexpected(Error::conversation_ended);
        if (conv.assignee != static_cast<int>(agent_id.index)) return tl::unexpected(Error::not_assignee);
        end_conversation(static_cast<int>(id.index), EndReason::agent);
        route();
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
        close_resolved(static_cast<int>(id.index), std::string(resolution));
        route();
        return {};
    }

    // ---- Queries ----
    [[nodiscard]] Result<Status> status(ConversationId id) const {
        if (!known(id)) return tl::unexpected(Error::unknown_conversation);
        return conversations_[id.index].status;
    }
    [[nodiscard]] Result<std::optional<AgentId>> assignee(ConversationId id) const {
        if (!known(id)) return tl::unexpected(Error::unknown_conversation);
        const Conversation& conv = conversations_[id.index];
        return agent_or_none(conv.status == Status::closed ? -1 : conv.assignee);
    }
    [[nodiscard]] Result<std::optional<AgentId>> offered_to(ConversationId id) const {
        if (!known(id)) return tl::unexpected(Error::unknown_conversation);
        return agent_or_none(conversations_[id.index].offered_to);
    }
    [[nodiscard]] Result<std::int64_t> priority(ConversationId id) const {
        if (!known(id)) return tl::unexpected(Error::unknown_conversation);
        return conversations_[id.index].priority;
    }
    // R37: 1 + the waiting conversations of its space that R29's order serves first.
    [[nodiscard]] Result<std::optional<std::size_t>> queue_position(ConversationId id) const {
        if (!known(id)) return tl::unexpected(Error::unknown_conversation);
        const int c = static_cast<int>(id.index);
        Result<std::optional<std::size_t>> out;
        if (!waiting(c)) return out;
        std::size_t ahead = 0;
        for (int other : open_)
            if (other != c && waiting(other) && conv(other).space == conv(c).space && served_before(other, c)) ++ahead;
        out->emplace(ahead + 1);
        return out;
    }
    struct ModelQueue {
        std::size_t waiting = 0;
        std::optional<time_point> oldest_start;
        std::size_t available_agents = 0;
    };
    [[nodiscard]] Result<ModelQueue> queue(SpaceId id) const {
        if (!known(id)) return tl::unexpected(Error::unknown_space);
        const int s = static_cast<int>(id.index);
        ModelQueue q;
        for (int c : open_) {
            if (!waiting(c) || conv(c).space != s) continue;
            ++q.waiting;
            if (!q.oldest_start || conv(c).started < *q.oldest_start) q.oldest_start = conv(c).started;
        }
        // Available there, with a free slot under both limits (R8, R31; docs/decisions.md).
        for (std::size_t a = 0; a < agents_.size(); ++a) {
            const Membership& m = agents_[a].in[static_cast<std::size_t>(s)];
            const int agent = static_cast<int>(a);
            if (m.role && m.available && used(agent) < agents_[a].limit &&
                (!m.limit || count_in_space(agent, s) < *m.limit))
                ++q.available_agents;
        }
        return q;
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
    struct ModelSpaceLoad {
        std::int64_t count = 0;
        std::optional<std::int64_t> limit;
    };
    [[nodiscard]] Result<ModelSpaceLoad> space_load(AgentId agent, SpaceId space) const {
        if (!known(agent)) return tl::unexpected(Error::unknown_agent);
        if (!known(space)) return tl::unexpected(Error::unknown_space);
        const int a = static_cast<int>(agent.index);
        const int s = static_cast<int>(space.index);
        return ModelSpaceLoad{count_in_space(a, s), agents_[agent.index].in[space.index].limit};
    }
    [[nodiscard]] Result<bool> chat_enabled(SpaceId id) const {
        if (!known(id)) return tl::unexpected(Error::unknown_space);
        return spaces_[id.index].chat_enabled;
    }
    [[nodiscard]] Plan plan() const { return plan_; }
    [[nodiscard]] MissedOfferScope missed_offer_scope() const { return scope_; }
    [[nodiscard]] std::optional<duration> missed_offer_return_after() const { return return_after_; }
    [[nodiscard]] std::int64_t default_limit() const { return default_limit_; }
    [[nodiscard]] const Workflow& workflow() const { return workflow_; }
    [[nodiscard]] std::size_t agent_count() const { return agents_.size(); }
    [[nodiscard]] std::size_t space_count() const { return spaces_.size(); }
    [[nodiscard]] std::size_t conversation_count() const { return conversations_.size(); }
    [[nodiscard]] std::size_t live_conversations() const { return open_.size(); }
    [[nodiscard]] std::size_t pending_deadlines() const { return timers_.size(); }
    [[nodiscard]] time_point now() const { return now_; }
    // For the generator.
    [[nodiscard]] int space_of(ConversationId id) const { return known(id) ? conversations_[id.index].space : -1; }
    [[nodiscard]] ConversationId conversation_at(std::size_t i) const { return conv_id(static_cast<int>(i)); }
    [[nodiscard]] AgentId agent_at(std::size_t i) const { return agent_id(static_cast<int>(i)); }
    [[nodiscard]] SpaceId space_at(std::size_t i) const { return space_id(static_cast<int>(i)); }
    [[nodiscard]] const std::vector<std::string>& skills_of(AgentId id) const { return agents_[id.index].skills; }

private:
    struct Membership {
        bool role = false;
        bool available = false;
        std::optional<std::int64_t> limit;  // R31: the per-space limit; needs no role
    };
    struct Agent {
        std::int64_t limit = 0;
        std::vector<std::string> skills;
        std::vector<Membership> in;  // one per space, by space index
        std::optional<time_point> last_offered;  // R28 least_recent: the instant of its latest offer
    };
    struct Space {
        bool chat_enabled = false;
        std::string fallback;
        SpaceTimings timings;
        Strategy strategy = Strategy::round_robin;
        NoAgentAction no_agent_action = NoAgentAction::wait;
        std::vector<int> ring;  // agent indexes in the order they gained the role; -1 where one left
        std::size_t cursor = 0;  // the position just past the agent offered to last
    };
    struct Conversation {
        int space = 0;  // the space it belongs to now (R32 moves it)
        bool handoff = false;
        time_point started;
        Status status = Status::waiting_for_agent;
        int offered_to = -1;
        std::uint64_t offer_order = 0;  // when the pending offer was made (for "oldest offer first")
        int assignee = -1;
        std::int64_t priority = 0;
        std::vector<std::string> skills;  // required; emptied when relaxed (R30)
        int prefer = -1;           // R39 preferred agent / R32 to_agent: tried once, by the next routing
        bool transferred = false;  // R32: whoever accepts next gets the transcript
    };
    enum class Kind {
        offer_timeout,
        accept_window,
        inactivity_warning,
        inactivity_grace,
        max_duration,
        skills_relax,
        response_timeout,
        wrap_up_timeout,
        auto_return,
    };
    struct Timer {
        time_point at;
        std::uint64_t order = 0;  // set order: ties fire in the order they were set (R25)
        int conversation = -1;    // -1 for auto_return
        Kind kind = Kind::offer_timeout;
        int agent = -1;           // auto_return: whom
        std::vector<int> spaces;  // auto_return: the spaces the miss set unavailable, still due
    };

    // ---- Helpers: handles ----
    [[nodiscard]] Result<std::optional<AgentId>> agent_or_none(int a) const {
        Result<std::optional<AgentId>> out;  // holds an empty optional
        if (a >= 0) out->emplace(agent_id(a));
        return out;
    }
    [[nodiscard]] bool known(SpaceId id) const {
        return id.index < spaces_.size() && id.site == site_ && id.serial == 0;
    }
    [[nodiscard]] bool known(AgentId id) const {
        return id.index < agents_.size() && id.site == site_ && id.serial == 0;
    }
    [[nodiscard]] bool known(ConversationId id) const {
        return id.index < conversations_.size() && id.site == site_ && id.serial == std::uint64_t{id.index} + 1;
    }
    [[nodiscard]] ConversationId conv_id(int c) const {
        return {static_cast<std::uint32_t>(c), site_, static_cast<std::uint64_t>(c) + 1};
    }
    [[nodiscard]] AgentId agent_id(int a) const { return {static_cast<std::uint32_t>(a), site_, 0}; }
    [[nodiscard]] SpaceId space_id(int s) const { return {static_cast<std::uint32_t>(s), site_, 0}; }

    [[nodiscard]] Conversation& conv(int c) { return conversations_[static_cast<std::size_t>(c)]; }
    [[nodiscard]] const Conversation& conv(int c) const { return conversations_[static_cast<std::size_t>(c)]; }

    [[nodiscard]] static bool limit_in_range(std::int64_t limit) { return limit >= 0 && limit <= 1'000'000; }
    [[nodiscard]] static bool priority_in_range(std::int64_t p) { return p >= 0 && p <= 1000; }

    // R30: non-empty names of at most 64 bytes, at most 32, none repeated.
    [[nodiscard]] static bool skills_valid(const std::vector<std::string>& names) {
        if (names.size() > 32) return false;
        for (std::size_t i = 0; i < names.size(); ++i) {
            if (names[i].empty() || names[i].size() > 64) return false;
            for (std::size_t j = i + 1; j < names.size(); ++j)
                if (names[i] == names[j]) return false;
        }
        return true;
    }

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
        const auto listed = [&](const std::string& name) {
            return std::find(w.resolutions.begin(), w.resolutions.end(), name) != w.resolutions.end();
        };
        if (w.wrap_up_resolution && !listed(*w.wrap_up_resolution)) return false;  // R36
        return listed(w.unanswered_resolution);
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
        return spaces_[static_cast<std::size_t>(conv(c).space)].timings;
    }

    void close(int c) {
        conv(c).status = Status::closed;
        conv(c).offered_to = -1;
        std::erase(open_, c);
        std::erase_if(timers_, [&](const Timer& t) { return t.conversation == c; });
    }

    // ---- Slots (R8, R31) ----
    [[nodiscard]] std::int64_t assigned_count(int a) const {
        std::int64_t n = 0;
        for (int c : open_)
            if (conv(c).assignee == a) ++n;
        return n;
    }
    [[nodiscard]] std::int64_t pending_count(int a) const {
        std::int64_t n = 0;
        for (int c : open_)
            if (conv(c).offered_to == a) ++n;
        return n;
    }
    [[nodiscard]] std::int64_t used(int a) const { return assigned_count(a) + pending_count(a); }
    // R31: conversations now in space s that the agent is assigned to or offered.
    [[nodiscard]] std::int64_t count_in_space(int a, int s) const {
        std::int64_t n = 0;
        for (int c : open_)
            if (conv(c).space == s && (conv(c).assignee == a || conv(c).offered_to == a)) ++n;
        return n;
    }
    [[nodiscard]] bool has_skills(int a, int c) const {
        const auto& have = agents_[static_cast<std::size_t>(a)].skills;
        for (const std::string& need : conv(c).skills)
            if (std::find(have.begin(), have.end(), need) == have.end()) return false;
        return true;
    }
    // R8, R30, R31: may agent a be offered conversation c in c's space now?
    [[nodiscard]] bool eligible(int a, int c) const {
        const int s = conv(c).space;
        const Agent& agent = agents_[static_cast<std::size_t>(a)];
        const Membership& m = agent.in[static_cast<std::size_t>(s)];
        if (!m.role || !m.available) return false;
        if (used(a) >= agent.limit) return false;
        if (m.limit && count_in_space(a, s) >= *m.limit) return false;
        return has_skills(a, c);
    }
    [[nodiscard]] bool anyone_available(int s) const {
        for (const Agent& agent : agents_) {
            const Membership& m = agent.in[static_cast<std::size_t>(s)];
            if (m.role && m.available) return true;
        }
        return false;
    }

    // ---- Choosing an agent (R9, R28) ----
    // Is x strictly better than y under the strategy? (Equal ones go in ring order.)
    [[nodiscard]] bool better(Strategy strategy, int x, int y) const {
        const Agent& ax = agents_[static_cast<std::size_t>(x)];
        const Agent& ay = agents_[static_cast<std::size_t>(y)];
        switch (strategy) {
        case Strategy::round_robin: return false;
        case Strategy::least_active: return used(x) < used(y);
        case Strategy::most_available: return ax.limit - used(x) > ay.limit - used(y);
        case Strategy::least_recent:
            if (!ax.last_offered) return ay.last_offered.has_value();
            if (!ay.last_offered) return false;
            return *ax.last_offered < *ay.last_offered;
        }
        return false;
    }
    // The ring position of the agent the space's strategy picks for c among the eligible
    // ones other than `skip`; -1 if there is none.
    [[nodiscard]] int choose(int c, int skip) const {
        const int s = conv(c).space;
        const Space& space = spaces_[static_cast<std::size_t>(s)];
        const std::size_t n = space.ring.size();
        int best = -1;
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t position = (space.cursor + k) % n;
            const int a = space.ring[position];
            if (a < 0 || a == skip || !eligible(a, c)) continue;
            if (best < 0 || better(space.strategy, a, space.ring[static_cast<std::size_t>(best)]))
                best = static_cast<int>(position);
        }
        return best;
    }
    [[nodiscard]] int ring_position(int s, int a) const {
        const auto& ring = spaces_[static_cast<std::size_t>(s)].ring;
        for (std::size_t i = 0; i < ring.size(); ++i)
            if (ring[i] == a) return static_cast<int>(i);
        return -1;
    }

    // Offers c to the agent at `position` of its space's ring; moves the cursor past it
    // when the strategy chose it (not for R32's to_agent or R39's preferred agent).
    void make_offer(int c, int position, bool move_cursor) {
        Conversation& cv = conv(c);
        Space& space = spaces_[static_cast<std::size_t>(cv.space)];
        const int a = space.ring[static_cast<std::size_t>(position)];
        if (move_cursor) space.cursor = static_cast<std::size_t>(position) + 1;
        cv.offered_to = a;
        cv.offer_order = ++offers_made_;
        agents_[static_cast<std::size_t>(a)].last_offered = at_;
        const time_point expires = at_ + space.timings.offer_timeout;
        schedule(c, Kind::offer_timeout, expires);
        emit(events::Offered{at_, conv_id(c), agent_id(a), space_id(cv.space), expires});
    }

    [[nodiscard]] bool waiting(int c) const {
        return conv(c).status == Status::waiting_for_agent && conv(c).offered_to < 0;
    }
    // R29: priority, highest first; then start time; then start order.
    [[nodiscard]] bool served_before(int x, int y) const {
        if (conv(x).priority != conv(y).priority) return conv(x).priority > conv(y).priority;
        if (conv(x).started != conv(y).started) return conv(x).started < conv(y).started;
        return x < y;
    }

    // R10, R29: offer waiting conversations in R29's order until none can be offered.
    // Offering only ever uses up slots, so one pass reaches the fixed point.
    void route() {
        std::vector<int> queue;
        for (int c : open_)
            if (waiting(c)) queue.push_back(c);
        std::sort(queue.begin(), queue.end(), [&](int x, int y) { return served_before(x, y); });
        for (int c : queue) {
            const int prefer = conv(c).prefer;
            conv(c).prefer = -1;  // once (R32, R39)
            if (prefer >= 0 && eligible(prefer, c)) {
                make_offer(c, ring_position(conv(c).space, prefer), false);
                continue;
            }
            const int position = choose(c, -1);
            if (position >= 0) make_offer(c, position, true);
        }
    }

    // ---- Availability (R5–R7, R13, R14, R33, R34) ----
    void set_one(int a, int s, bool available) {
        Membership& m = agents_[static_cast<std::size_t>(a)].in[static_cast<std::size_t>(s)];
        if (m.available == available) return;
        cancel_return(a, s);  // R34: its availability there changed
        if (available) {
            m.available = true;
            emit(events::AvailabilityChanged{at_, agent_id(a), space_id(s), true, AvailabilityReason::agent});
        } else {
            turn_unavailable(a, s, AvailabilityReason::agent, WithdrawReason::agent_unavailable);
        }
    }

    void turn_unavailable(int a, int s, AvailabilityReason why, WithdrawReason withdraw_why) {
        agents_[static_cast<std::size_t>(a)].in[static_cast<std::size_t>(s)].available = false;
        emit(events::AvailabilityChanged{at_, agent_id(a), space_id(s), false, why});
        // R14: its pending offers in that space are withdrawn, oldest offer first.
        std::vector<int> offers;
        for (int c : open_)
            if (conv(c).offered_to == a && conv(c).space == s) offers.push_back(c);
        std::sort(offers.begin(), offers.end(), [&](int x, int y) { return conv(x).offer_order < conv(y).offer_order; });
        for (int c : offers) withdraw_offer(c, withdraw_why);
    }

    // R13 (and R33 "as for a missed offer"): unavailable in its scope's spaces, in the order
    // added; then R34's return for the spaces that changed.
    void set_away(int a, int offer_space, AvailabilityReason why) {
        std::vector<int> changed;
        const Agent& agent = agents_[static_cast<std::size_t>(a)];
        for (int s = 0; s < static_cast<int>(spaces_.size()); ++s) {
            const bool in_scope = scope_ == MissedOfferScope::all_spaces || s == offer_space;
            const Membership& m = agent.in[static_cast<std::size_t>(s)];
            if (in_scope && m.role && m.available) {
                turn_unavailable(a, s, why, WithdrawReason::agent_unavailable);
                changed.push_back(s);
            }
        }
        if (return_after_ && !changed.empty()) {
            Timer t{at_ + *return_after_, ++timers_set_, -1, Kind::auto_return, a, changed};
            timers_.push_back(std::move(t));
        }
    }

    void cancel_return(int a, int s) {
        for (Timer& t : timers_)
            if (t.kind == Kind::auto_return && t.agent == a) std::erase(t.spaces, s);
        std::erase_if(timers_, [](const Timer& t) { return t.kind == Kind::auto_return && t.spaces.empty(); });
    }

    void withdraw_offer(int c, WithdrawReason why) {
        Conversation& cv = conv(c);
        const int a = cv.offered_to;
        cv.offered_to = -1;
        cancel(c, Kind::offer_timeout);
        emit(events::OfferWithdrawn{at_, conv_id(c), agent_id(a), why});
    }

    // ---- Transfer (R32, R33) ----
    void move_conversation(int c, int target, TransferReason why) {
        Conversation& cv = conv(c);
        const int old_assignee = cv.assignee;
        emit(events::Transferred{at_, conv_id(c), agent_id(old_assignee), space_id(target), why});
        emit(events::StatusChanged{at_, conv_id(c), Status::active, Status::waiting_for_agent});
        emit(events::SlotReleased{at_, conv_id(c), agent_id(old_assignee)});
        cancel(c, Kind::inactivity_warning);
        cancel(c, Kind::inactivity_grace);
        cancel(c, Kind::response_timeout);
        cv.assignee = -1;
        cv.status = Status::waiting_for_agent;
        cv.space = target;
        cv.transferred = true;
        cv.prefer = -1;
        schedule(c, Kind::accept_window, at_ + spaces_[static_cast<std::size_t>(target)].timings.accept_window);
        schedule_relax(c);
    }

    // R30: only where the space has skills_relax_after and something is left to drop.
    void schedule_relax(int c) {
        const auto& after = timings_of(c).skills_relax_after;
        if (after && !conv(c).skills.empty()) schedule(c, Kind::skills_relax, at_ + *after);
    }

    // ---- Ending (R15, R17, R18, R20, R22, R36) ----
    void end_conversation(int c, EndReason why) {
        Conversation& cv = conv(c);
        if (cv.status == Status::active) {
            emit(events::ConversationEnded{at_, conv_id(c), why});
            emit(events::StatusChanged{at_, conv_id(c), Status::active, Status::wrapping_up});
            cv.status = Status::wrapping_up;
            cancel(c, Kind::inactivity_warning);
            cancel(c, Kind::inactivity_grace);
            cancel(c, Kind::response_timeout);
            cancel(c, Kind::max_duration);
            if (const auto& wrap = timings_of(c).wrap_up_timeout) schedule(c, Kind::wrap_up_timeout, at_ + *wrap);
            return;
        }
        // Not accepted: straight to closed, unanswered (decisions #9).
        if (cv.offered_to >= 0) withdraw_offer(c, WithdrawReason::conversation_ended);
        if (why == EndReason::no_agent)
            emit(events::FallbackMessage{at_, conv_id(c), keep(spaces_[static_cast<std::size_t>(cv.space)].fallback)});
        emit(events::ConversationEnded{at_, conv_id(c), why});
        emit(events::Resolved{at_, conv_id(c), keep(workflow_.unanswered_resolution)});
        emit(events::StatusChanged{at_, conv_id(c), Status::waiting_for_agent, Status::closed});
        close(c);
    }

    // R22, R36: from wrapping_up to closed.
    void close_resolved(int c, std::string resolution) {
        const int a = conv(c).assignee;
        emit(events::Resolved{at_, conv_id(c), keep(std::move(resolution))});
        emit(events::StatusChanged{at_, conv_id(c), Status::wrapping_up, Status::closed});
        emit(events::SlotReleased{at_, conv_id(c), agent_id(a)});
        close(c);
    }

    // ---- Talking (R16, R17, R21, R33) ----
    template <class E>
    Result<> customer_says(ConversationId id, Audience audience, MessageRef ref) {
        catch_up();
        if (!known(id)) return tl::unexpected(Error::unknown_conversation);
        const Conversation& cv = conversations_[id.index];
        if (cv.status == Status::closed) return tl::unexpected(Error::work_item_closed);
        if (cv.status == Status::wrapping_up) return tl::unexpected(Error::conversation_ended);
        E event{};
        event.at = at_;
        event.conversation = id;
        event.from = Party::customer;
        event.audience = audience;
        event.ref = ref;
        emit(event);
        if constexpr (std::is_same_v<E, events::Message>) {
            if (cv.status == Status::active) {
                const int c = static_cast<int>(id.index);
                restart_inactivity(c);
                // R33: from the first unanswered customer message.
                const auto& timeout = timings_of(c).assignee_response_timeout;
                if (timeout && !has_timer(c, Kind::response_timeout)) schedule(c, Kind::response_timeout, at_ + *timeout);
            }
        }
        return {};
    }

    template <class E>
    Result<> agent_says(ConversationId id, AgentId agent, Audience audience, MessageRef ref) {
        catch_up();
        if (auto bad = check_team_command(id, agent)) return tl::unexpected(*bad);
        const Conversation& cv = conversations_[id.index];
        if (cv.status == Status::wrapping_up) return tl::unexpected(Error::conversation_ended);
        if (cv.assignee != static_cast<int>(agent.index)) return tl::unexpected(Error::not_assignee);
        E event{};
        event.at = at_;
        event.conversation = id;
        event.from = Party::agent;
        event.audience = audience;
        event.agent = agent;
        event.ref = ref;
        emit(event);
        if constexpr (std::is_same_v<E, events::Message>) {
            const int c = static_cast<int>(id.index);
            restart_inactivity(c);
            cancel(c, Kind::response_timeout);  // R33: answered
        }
        return {};
    }

    void restart_inactivity(int c) {
        cancel(c, Kind::inactivity_warning);
        cancel(c, Kind::inactivity_grace);
        schedule(c, Kind::inactivity_warning, at_ + timings_of(c).inactivity_warning);
    }

    // ---- Preconditions, in R27's order ----
    // Fields conversation, agent: unknown ids, closed, role (the assignee needs none).
    [[nodiscard]] std::optional<Error> check_team_command(ConversationId id, AgentId agent) const {
        if (!known(id)) return Error::unknown_conversation;
        if (!known(agent)) return Error::unknown_agent;
        const Conversation& cv = conversations_[id.index];
        if (cv.status == Status::closed) return Error::work_item_closed;
        const bool is_assignee = cv.assignee == static_cast<int>(agent.index);
        if (!is_assignee && !agents_[agent.index].in[static_cast<std::size_t>(cv.space)].role)
            return Error::not_an_agent_in_space;
        return std::nullopt;
    }

    // accept / decline: §10 lists the fields agent, conversation.
    [[nodiscard]] std::optional<Error> check_offer_command(AgentId agent, ConversationId id) const {
        if (!known(agent)) return Error::unknown_agent;
        if (!known(id)) return Error::unknown_conversation;
        const Conversation& cv = conversations_[id.index];
        if (cv.status == Status::closed) return Error::work_item_closed;
        const bool is_assignee = cv.assignee == static_cast<int>(agent.index);
        if (!is_assignee && !agents_[agent.index].in[static_cast<std::size_t>(cv.space)].role)
            return Error::not_an_agent_in_space;
        if (cv.status == Status::wrapping_up) return Error::conversation_ended;
        if (cv.offered_to != static_cast<int>(agent.index)) return Error::no_offer;
        return std::nullopt;
    }

    // ---- Deadlines (R25, R26) ----
    void schedule(int c, Kind kind, time_point at) { timers_.push_back(Timer{at, ++timers_set_, c, kind, -1, {}}); }

    void cancel(int c, Kind kind) {
        std::erase_if(timers_, [&](const Timer& t) { return t.conversation == c && t.kind == kind; });
    }
    [[nodiscard]] bool has_timer(int c, Kind kind) const {
        return std::any_of(timers_.begin(), timers_.end(),
                           [&](const Timer& t) { return t.conversation == c && t.kind == kind; });
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
            at_ = due.at;  // R25: what a deadline causes happens at its own instant
            fire(due);
            route();  // R10: after every deadline
            ++fired;
        }
        at_ = now_;
        return fired;
    }

    void fire(const Timer& t) {
        const int c = t.conversation;
        switch (t.kind) {
        case Kind::offer_timeout: {  // R13, decisions #6
            const int a = conv(c).offered_to;
            conv(c).offered_to = -1;
            emit(events::OfferTimedOut{at_, conv_id(c), agent_id(a)});
            set_away(a, conv(c).space, AvailabilityReason::offer_timeout);
            break;
        }
        case Kind::accept_window:  // R15
            end_conversation(c, EndReason::no_agent);
            break;
        case Kind::inactivity_warning:  // R17
            emit(events::InactivityWarning{at_, conv_id(c)});
            schedule(c, Kind::inactivity_grace, at_ + timings_of(c).inactivity_grace);
            break;
        case Kind::inactivity_grace:
            end_conversation(c, EndReason::inactivity);
            break;
        case Kind::max_duration:  // R18
            end_conversation(c, EndReason::max_duration);
            break;
        case Kind::skills_relax:  // R30
            conv(c).skills.clear();
            emit(events::SkillsRelaxed{at_, conv_id(c)});
            break;
        case Kind::response_timeout: {  // R33
            const int a = conv(c).assignee;
            move_conversation(c, conv(c).space, TransferReason::assignee_unresponsive);
            set_away(a, conv(c).space, AvailabilityReason::assignee_unresponsive);
            break;
        }
        case Kind::wrap_up_timeout: {  // R36: read when it fires
            const std::string resolution =
                workflow_.wrap_up_resolution ? *workflow_.wrap_up_resolution : workflow_.resolutions.front();
            close_resolved(c, resolution);
            break;
        }
        case Kind::auto_return:  // R34: in the order spaces were added
            for (int s = 0; s < static_cast<int>(spaces_.size()); ++s) {
                if (std::find(t.spaces.begin(), t.spaces.end(), s) == t.spaces.end()) continue;
                agents_[static_cast<std::size_t>(t.agent)].in[static_cast<std::size_t>(s)].available = true;
                emit(events::AvailabilityChanged{at_, agent_id(t.agent), space_id(s), true, AvailabilityReason::auto_return});
            }
            break;
        }
    }

    ManualClock& clock_;
    RecordingSink& sink_;
    std::uint32_t site_ = 0;
    time_point now_{};
    time_point at_{};  // the instant of what is happening: now_, or a firing deadline's own
    Plan plan_ = Plan::premium;
    std::int64_t default_limit_ = 3;
    MissedOfferScope scope_ = MissedOfferScope::all_spaces;
    std::optional<duration> return_after_;
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
