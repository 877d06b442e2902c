#pragma once
// A discrete-event simulation of a help desk, driving chatroute's engine through a
// ManualClock: customers arrive, agents answer offers, talk, end, wrap up and resolve, go
// on breaks and off shift. Nothing reads the wall clock; the same scenario and seed give
// the same results, bit for bit.
//
// The loop: the next instant is the earlier of the simulation's own next event (an arrival,
// an agent's answer, a message...) and the engine's next deadline; the clock is set to it
// and that one thing runs. The engine's events come back through the sink, which only
// records and schedules (it never calls the engine back).

#include "random.hpp"
#include "scenario.hpp"

#include <chatroute/chatroute.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chatroute::sim {

inline constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
inline constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();
inline constexpr std::int64_t micros_per_second = 1'000'000;

[[nodiscard]] inline std::int64_t to_micros(double seconds) {
    return static_cast<std::int64_t>(std::llround(seconds * 1e6));
}
[[nodiscard]] inline double to_seconds(std::int64_t micros) { return static_cast<double>(micros) / 1e6; }

// One customer's conversation, as the simulation saw it.
struct CustomerRecord {
    std::int64_t started_us = 0;
    std::int64_t accepted_us = -1;  // -1: never answered
    std::int64_t ended_us = -1;
    std::int64_t segment_us = 0;    // the current assignee's accept (the first accept, or one after a transfer)
    std::int64_t requeued_us = -1;  // the last transfer, R32 or R33
    ConversationId id;
    std::uint32_t space = 0;
    std::uint32_t assignee = none;    // simulation agent index
    std::uint32_t offered_to = none;  // the agent holding the pending offer
    std::uint32_t offer_serial = 0;   // tells a stale answer from a live one
    std::uint16_t offers = 0;
    std::uint16_t messages = 0;    // planned messages
    std::uint16_t quiet_from = 0;  // message number the customer goes silent at (== messages: never)
    std::uint16_t agent_quiet_from = 0;  // message number the assignee goes silent at (== messages: never)
    std::uint8_t segment = 0;      // transfers so far: tells a planned event of an earlier assignee
    std::uint8_t transfers = 0;    // by the assignee (R32); at most one is planned
    std::int16_t klass = -1;       // index in the space's classes; -1: none
    float handle_seconds = 0;
    EndReason end = EndReason::agent;
    bool ended = false;
    bool handoff = false;

    [[nodiscard]] bool answered() const { return accepted_us >= 0; }
    [[nodiscard]] bool agent_silent() const { return agent_quiet_from < messages; }
    [[nodiscard]] double wait_seconds() const { return to_seconds(accepted_us - started_us); }
};

struct IntervalRow {
    double start_seconds = 0;
    std::uint32_t started = 0;
    std::uint32_t accepted = 0;
    std::uint32_t abandoned = 0;  // the customer left before an answer
    std::uint32_t no_agent = 0;   // the accept window ran out
    double mean_queue = 0;
    double peak_queue = 0;
    double mean_available_agents = 0;
    double mean_busy_slots = 0;
    double mean_staffed_slots = 0;
    double occupancy = 0;             // busy / staffed slot time in the interval (0 when none staffed)
    double mean_time_to_accept = 0;   // of the accepts in the interval
};

struct AgentResult {
    std::string name;
    std::string group;
    std::int64_t limit = 0;
    std::uint32_t accepted = 0;
    std::uint32_t missed = 0;
    std::uint32_t unresponsive = 0;   // conversations taken away by R33
    double used_slot_seconds = 0;     // assigned conversations (accepted, not closed) over time
    double staffed_slot_seconds = 0;  // limit × time on shift, off break
    [[nodiscard]] double occupancy() const {
        return staffed_slot_seconds > 0 ? used_slot_seconds / staffed_slot_seconds : 0.0;
    }
};

struct Results {
    Scenario scenario;
    double horizon_seconds = 0;  // the run and its drain, to a whole interval

    std::uint64_t started = 0;
    std::uint64_t handoffs = 0;
    std::uint64_t accepted = 0;
    std::array<std::uint64_t, 5> ended{};  // by EndReason
    std::uint64_t abandoned = 0;           // ended by the customer before an answer
    std::uint64_t offers = 0;
    std::uint64_t declines = 0;
    std::uint64_t missed = 0;
    std::uint64_t missed_unavailable = 0;  // (agent, space) pairs turned unavailable by misses
    std::uint64_t missed_agents = 0;       // distinct agents who missed at least once
    std::array<std::uint64_t, 3> withdrawn{};  // by WithdrawReason
    std::uint64_t transcripts = 0;
    std::uint64_t inactivity_warnings = 0;
    std::uint64_t stale_answers = 0;  // an agent answered an offer already gone
    std::uint64_t engine_errors = 0;  // commands the engine refused; 0 in a healthy run
    std::string first_engine_error;
    std::uint64_t engine_events = 0;
    std::uint64_t steps = 0;

    // Routing and control (R28-R34); all 0 unless the scenario turns them on.
    std::uint64_t with_class = 0;              // started with a priority or skills (a class)
    std::uint64_t skills_relaxed = 0;          // R30
    std::uint64_t transfers = 0;               // by the assignee (R32)
    std::uint64_t transfers_own_space = 0;     // ... of them requeued in their own space
    std::uint64_t unresponsive_requeues = 0;   // R33: transferred, reason assignee_unresponsive
    std::uint64_t unresponsive_silent = 0;     // ... of them from an assignee who had gone silent
    std::uint64_t unresponsive_unavailable = 0;  // agent-space changes by R33
    std::uint64_t auto_returns = 0;            // agent-space changes, reason auto_return (R34)
    std::uint64_t reaccepted = 0;              // accepts after a transfer
    std::uint64_t ended_after_transfer_unanswered = 0;  // ended waiting again after a transfer
    std::uint64_t silent_agent_conversations = 0;  // handlings where the assignee went silent
    std::uint64_t silent_agent_customer_ends = 0;  // ... that the customer ended, unanswered
    std::vector<double> requeue_waits;  // seconds from a transfer to the next accept

    std::vector<double> waits;  // seconds from start to accept, every answered conversation, by accept time
    double mean_queue = 0;
    double peak_queue = 0;
    double mean_available_agents = 0;
    double used_slot_seconds = 0;
    double staffed_slot_seconds = 0;
    std::vector<IntervalRow> intervals;
    std::vector<AgentResult> agents;
    std::vector<CustomerRecord> customers;  // by arrival

    [[nodiscard]] double occupancy() const {
        return staffed_slot_seconds > 0 ? used_slot_seconds / staffed_slot_seconds : 0.0;
    }
    [[nodiscard]] double answered_share() const {
        return started > 0 ? static_cast<double>(accepted) / static_cast<double>(started) : 0.0;
    }
};

[[nodiscard]] inline Strategy strategy_of(std::string_view name) {
    for (std::size_t i = 0; i < std::size(strategy_names); ++i)
        if (strategy_names[i] == name) return static_cast<Strategy>(i);
    throw std::invalid_argument("unknown strategy \"" + std::string(name) + "\"");
}

class Simulation {
public:
    // The scenario must be valid (validate() gives no problem); throws std::invalid_argument if not.
    explicit Simulation(Scenario scenario)
        : scenario_(std::move(scenario)), engine_(clock_, Forward{this}), master_(scenario_.seed) {
        if (auto problem = validate(scenario_)) throw std::invalid_argument(*problem);
        run_end_ = to_micros(scenario_.hours * 3600);
        interval_ = std::max<std::int64_t>(1, to_micros(scenario_.interval_minutes * 60));
        next_boundary_ = interval_;
        setup();
    }

    Simulation(const Simulation&) = delete;
    Simulation& operator=(const Simulation&) = delete;

    // Runs the whole day; `progress` (if given) hears the share of the run done, now and then.
    Results run(const std::function<void(double)>& progress = {}) {
        std::int64_t last = 0;
        for (std::uint64_t step = 0;; ++step) {
            const std::int64_t next_event = queue_.empty() ? never : queue_.front().at;
            const auto deadline = engine_.next_deadline();
            const std::int64_t next_deadline = deadline ? deadline->time_since_epoch().count() : never;
            const std::int64_t t = std::min(next_event, next_deadline);
            if (t == never) break;
            if (t > run_end_ && engine_.live_conversations() == 0) break;  // the day is over and drained
            advance_stats(t);
            clock_.set(time_point{duration{t}});
            now_ = t;
            last = t;
            ++results_.steps;
            if (next_deadline <= next_event) {
                check(engine_.advance(), "advance");
            } else {
                std::pop_heap(queue_.begin(), queue_.end(), Later{});
                const Pending p = queue_.back();
                queue_.pop_back();
                handle(p);
            }
            if (progress && (step & 0x1FFF) == 0) progress(std::min(1.0, to_seconds(t) / to_seconds(run_end_)));
        }
        const std::int64_t end = std::max(run_end_, last);
        const std::int64_t horizon = (end + interval_ - 1) / interval_ * interval_;
        advance_stats(horizon);
        return finish(horizon);
    }

private:
    // ---- The simulation's own events ----

    enum class Kind : std::uint8_t {
        arrival,       // who: space
        shift_start,   // who: agent
        shift_end,
        break_start,
        break_end,
        come_back,     // after a missed offer
        answer_accept, // who: customer, arg: offer serial
        answer_decline,
        give_up,       // who: customer (patience ran out)
        message,       // who: customer, arg: message number
        end,           // who: customer
        resolve,       // who: customer
        plan_day,      // who: agent, arg: day + 1 (day -1 is the one before the run)
        transfer,      // who: customer, arg: segment
    };

    struct Pending {
        std::int64_t at;
        std::uint64_t sequence;
        std::uint32_t who;
        std::uint32_t arg;
        Kind kind;
    };
    struct Later {
        bool operator()(const Pending& a, const Pending& b) const {
            return a.at != b.at ? a.at > b.at : a.sequence > b.sequence;
        }
    };

    void schedule(std::int64_t at, Kind kind, std::uint32_t who, std::uint32_t arg = 0) {
        queue_.push_back(Pending{at, sequence_++, who, arg, kind});
        std::push_heap(queue_.begin(), queue_.end(), Later{});
    }

    void handle(const Pending& p) {
        switch (p.kind) {
            case Kind::arrival: return arrive(p.who);
            case Kind::shift_start: return set_agent(p.who, [](AgentSim& a) { a.on_shift = true; });
            case Kind::shift_end: return set_agent(p.who, [](AgentSim& a) { a.on_shift = false; });
            case Kind::break_start: return set_agent(p.who, [](AgentSim& a) { a.on_break = true; });
            case Kind::break_end: return set_agent(p.who, [](AgentSim& a) { a.on_break = false; });
            case Kind::come_back: return set_agent(p.who, [](AgentSim& a) { a.away = false; });
            case Kind::answer_accept:
            case Kind::answer_decline: return answer(p.who, p.arg, p.kind == Kind::answer_accept);
            case Kind::give_up: {
                const CustomerRecord& c = customers_[p.who];
                if (!c.answered() && !c.ended) check(engine_.end_by_customer(c.id), "end_by_customer");
                return;
            }
            case Kind::message: return message(p.who, p.arg);
            case Kind::transfer: return transfer(p.who, p.arg);
            case Kind::end: {
                const CustomerRecord& c = customers_[p.who];
                if (c.ended || p.arg != c.segment) return;
                if (c.agent_silent()) {
                    // No answer for a while: the customer gives up on the silent assignee.
                    ++results_.silent_agent_customer_ends;
                    check(engine_.end_by_customer(c.id), "end_by_customer");
                } else if (conversation_.chance(scenario_.behaviour.customer_end_share))
                    check(engine_.end_by_customer(c.id), "end_by_customer");
                else
                    check(engine_.end_by_agent(c.id, agents_[c.assignee].id), "end_by_agent");
                return;
            }
            case Kind::plan_day: {
                const auto day = static_cast<std::int64_t>(p.arg) - 1;
                plan_day(p.who, day);
                if ((day + 1) * day_us <= run_end_ + day_us) schedule((day + 1) * day_us, Kind::plan_day, p.who, p.arg + 1);
                return;
            }
            case Kind::resolve: {
                const CustomerRecord& c = customers_[p.who];
                check(engine_.resolve(c.id, agents_[c.assignee].id, "Done"), "resolve");
                return;
            }
        }
    }

    // ---- Customers ----

    void arrive(std::uint32_t space) {
        const bool handoff = arrivals_[space].chance(scenario_.spaces[space].handoff_share);
        const auto customer = static_cast<std::uint32_t>(customers_.size());
        customers_.push_back(CustomerRecord{});
        customers_.back().started_us = now_;
        customers_.back().space = space;
        customers_.back().handoff = handoff;
        starting_ = customer;
        const auto& classes = scenario_.spaces[space].classes;
        if (classes.empty()) {
            check(engine_.start_conversation(space_ids_[space], {.handoff = handoff}), "start_conversation");
        } else {
            // A class by its share (its own stream: the arrivals stay those of a run without classes).
            const double u = class_draws_[space].uniform();
            double below = 0;
            std::size_t k = 0;
            for (; k < classes.size(); ++k) {
                below += classes[k].share;
                if (u < below) break;
            }
            if (k < classes.size()) {
                customers_.back().klass = static_cast<std::int16_t>(k);
                ++results_.with_class;
                StartOptions& options = class_options_[space][k];
                options.handoff = handoff;
                check(engine_.start_conversation(space_ids_[space], options), "start_conversation");
            } else {
                check(engine_.start_conversation(space_ids_[space], {.handoff = handoff}), "start_conversation");
            }
        }
        starting_ = none;
        if (scenario_.customers.patience > 0)
            schedule(now_ + to_micros(patience_.exponential(scenario_.customers.patience)), Kind::give_up, customer);
        schedule_arrival(space);
    }

    // The next arrival after the space's last one: a Poisson process whose rate may change
    // each hour, by inverting its cumulative rate (exact; no thinning).
    void schedule_arrival(std::uint32_t space) {
        const SpaceSpec& spec = scenario_.spaces[space];
        const double end = to_seconds(run_end_);
        double t = arrival_clock_[space];
        double area = arrivals_[space].exponential(1.0);
        for (;;) {
            if (t >= end) return;
            const auto hour = static_cast<std::int64_t>(std::floor(t / 3600));
            const double per_hour = spec.hourly.empty() ? spec.rate_per_hour : spec.hourly[static_cast<std::size_t>(hour % 24)];
            const double rate = per_hour * scenario_.traffic / 3600;
            if (spec.hourly.empty()) {
                if (rate <= 0) return;
                t += area / rate;
                break;
            }
            const double boundary = static_cast<double>(hour + 1) * 3600;
            if (rate > 0 && rate * (boundary - t) >= area) {
                t += area / rate;
                break;
            }
            area -= rate * (boundary - t);
            t = boundary;
        }
        if (t >= end) return;
        arrival_clock_[space] = t;
        schedule(to_micros(t), Kind::arrival, space);
    }

    // ---- Agents ----

    struct AgentSim {
        AgentId id;
        std::uint32_t group = 0;
        std::uint32_t limit = 0;
        std::uint32_t spaces_available = 0;
        std::uint32_t assigned = 0;
        std::uint32_t accepted = 0;
        std::uint32_t missed = 0;
        std::uint32_t unresponsive = 0;
        bool on_shift = false;
        bool on_break = false;
        bool away = false;  // missed an offer; back after a while
        std::int64_t stagger_us = 0;  // this agent's breaks start that much later
        std::int64_t last_us = 0;
        double used = 0;
        double staffed = 0;
        [[nodiscard]] bool logged_in() const { return on_shift && !on_break; }
        [[nodiscard]] bool wants_offers() const { return on_shift && !on_break && !away; }
    };

    void touch(AgentSim& a) {
        const double dt = to_seconds(now_ - a.last_us);
        a.used += a.assigned * dt;
        if (a.logged_in()) a.staffed += a.limit * dt;
        a.last_us = now_;
    }

    template <class F>
    void set_agent(std::uint32_t index, F&& change) {
        AgentSim& a = agents_[index];
        touch(a);
        const bool was_in = a.logged_in();
        change(a);
        if (a.logged_in() != was_in) staffed_.set(staffed_.value + (was_in ? -1.0 : 1.0) * a.limit);
        check(engine_.set_availability(a.id, all_spaces, a.wants_offers()), "set_availability");
    }

    static constexpr std::int64_t day_us = 24LL * 3600 * micros_per_second;

    // Schedules the shift and breaks of one agent's day (those not before 0).
    void plan_day(std::uint32_t index, std::int64_t day) {
        const AgentGroupSpec& group = scenario_.agents[agents_[index].group];
        const std::int64_t base = day * day_us;
        const std::int64_t start = base + to_micros(group.shift_start * 3600);
        const std::int64_t end = base + to_micros(group.shift_end * 3600);
        if (end <= 0) return;
        if (group.shift_end - group.shift_start < 24) {
            schedule(std::max<std::int64_t>(0, start), Kind::shift_start, index);
            schedule(end, Kind::shift_end, index);
        }
        for (const BreakSpec& br : group.breaks) {
            const std::int64_t from = base + to_micros(break_start_in_shift(group, br) * 3600) + agents_[index].stagger_us;
            const std::int64_t to = std::min(end, from + to_micros(br.minutes * 60));
            if (from < 0 || from >= to) continue;
            schedule(from, Kind::break_start, index);
            schedule(to, Kind::break_end, index);
        }
    }

    void answer(std::uint32_t customer, std::uint32_t serial, bool accept) {
        const CustomerRecord& c = customers_[customer];
        if (c.offered_to == none || c.offer_serial != serial) {
            ++results_.stale_answers;
            return;
        }
        const AgentId agent = agents_[c.offered_to].id;
        if (accept)
            check(engine_.accept(c.id, agent), "accept");
        else
            check(engine_.decline(c.id, agent), "decline");
    }

    // `arg`: the message number, and the segment (transfers so far) above bit 16.
    void message(std::uint32_t customer, std::uint32_t arg) {
        const CustomerRecord& c = customers_[customer];
        const std::uint32_t number = arg & 0xFFFFu;
        if (c.ended || (arg >> 16) != c.segment) return;
        if (number % 2 == 0)
            check(engine_.customer_message(c.id, MessageRef{number}), "customer_message");
        else if (number < c.agent_quiet_from)  // a silent assignee posts nothing more
            check(engine_.agent_message(c.id, agents_[c.assignee].id, MessageRef{number}), "agent_message");
        const std::uint32_t next = number + 1;
        if (next < c.messages && next < c.quiet_from)
            schedule(message_time(c, next), Kind::message, customer, next | (std::uint32_t{c.segment} << 16));
    }

    // The assignee transfers the conversation (R32): to the space's `transfer_to`, else to
    // another space at random (its own when there is no other).
    void transfer(std::uint32_t customer, std::uint32_t segment) {
        const CustomerRecord& c = customers_[customer];
        if (c.ended || segment != c.segment || c.assignee == none) return;
        std::uint32_t target = transfer_target_[c.space];
        if (target == none) {
            const auto others = static_cast<std::uint32_t>(space_ids_.size() - 1);
            if (others == 0) {
                target = c.space;
            } else {
                target = std::min(others - 1, static_cast<std::uint32_t>(control_.uniform() * others));
                if (target >= c.space) ++target;
            }
        }
        check(engine_.transfer(c.id, agents_[c.assignee].id, space_ids_[target]), "transfer");
    }

    // Messages spread evenly over the handling: number k at (k + 1) / (messages + 1).
    static std::int64_t message_time(const CustomerRecord& c, std::uint32_t number) {
        return c.segment_us + to_micros(c.handle_seconds * (number + 1.0) / (c.messages + 1.0));
    }

    enum class HandleDistribution : std::uint8_t { fixed, exponential, lognormal };

    double handle_time() {
        const Behaviour& b = scenario_.behaviour;
        switch (handle_distribution_) {
            case HandleDistribution::fixed: return b.handle_time;
            case HandleDistribution::exponential: return conversation_.exponential(b.handle_time);
            case HandleDistribution::lognormal: break;
        }
        return conversation_.lognormal(b.handle_time, b.handle_time_cv);
    }

    // ---- The engine's events ----

    struct Forward {
        Simulation* sim;
        template <class E>
        void operator()(const E& event) const {
            ++sim->results_.engine_events;
            sim->on(event);
        }
    };

    CustomerRecord& customer_of(ConversationId id) { return customers_[by_conversation_[id.index]]; }

    void on(const events::ConversationStarted& e) {
        if (by_conversation_.size() <= e.conversation.index) by_conversation_.resize(e.conversation.index + 1, none);
        by_conversation_[e.conversation.index] = starting_;
        CustomerRecord& c = customers_[starting_];
        c.id = e.conversation;
        ++results_.started;
        ++window_.started;
        if (e.handoff) ++results_.handoffs;
        queue_length_.set(queue_length_.value + 1);
    }

    void on(const events::Offered& e) {
        CustomerRecord& c = customer_of(e.conversation);
        c.offered_to = e.agent.index;
        ++c.offers;
        const std::uint32_t serial = ++c.offer_serial;
        ++results_.offers;
        const Behaviour& b = scenario_.behaviour;
        const double u = behaviour_.uniform();
        if (u < b.miss_probability) return;  // never answers: the offer will time out
        const bool decline = u < b.miss_probability + b.decline_probability;
        const std::int64_t delay = to_micros(behaviour_.exponential(b.accept_time));
        schedule(now_ + delay, decline ? Kind::answer_decline : Kind::answer_accept, by_conversation_[e.conversation.index],
                 serial);
    }

    void on(const events::OfferDeclined& e) {
        ++results_.declines;
        customer_of(e.conversation).offered_to = none;
    }

    void on(const events::OfferTimedOut& e) {
        ++results_.missed;
        customer_of(e.conversation).offered_to = none;
        AgentSim& a = agents_[e.agent.index];
        ++a.missed;
        a.away = true;
        schedule(now_ + to_micros(behaviour_.exponential(scenario_.behaviour.away_after_miss)), Kind::come_back,
                 e.agent.index);
    }

    void on(const events::OfferWithdrawn& e) {
        ++results_.withdrawn[static_cast<std::size_t>(e.reason)];
        customer_of(e.conversation).offered_to = none;
    }

    void on(const events::AvailabilityChanged& e) {
        AgentSim& a = agents_[e.agent.index];
        const bool before = a.spaces_available > 0;
        a.spaces_available += e.available ? 1 : -1;
        const bool after = a.spaces_available > 0;
        if (before != after) available_agents_.set(available_agents_.value + (after ? 1 : -1));
        if (e.reason == AvailabilityReason::offer_timeout) ++results_.missed_unavailable;
        if (e.reason == AvailabilityReason::assignee_unresponsive) ++results_.unresponsive_unavailable;
        if (e.reason == AvailabilityReason::auto_return) {
            ++results_.auto_returns;
            a.away = false;  // the engine brought the agent back (R34) before they noticed
        }
    }

    void on(const events::Accepted& e) {
        const std::uint32_t customer = by_conversation_[e.conversation.index];
        CustomerRecord& c = customers_[customer];
        AgentSim& a = agents_[e.agent.index];
        touch(a);
        ++a.assigned;
        ++a.accepted;
        busy_slots_.set(busy_slots_.value + 1);
        c.offered_to = none;
        c.assignee = e.agent.index;
        c.segment_us = now_;
        if (!c.answered()) {
            c.accepted_us = now_;
            const double wait = c.wait_seconds();
            results_.waits.push_back(wait);
            ++results_.accepted;
            ++window_.accepted;
            window_.wait_sum += wait;
        } else {  // answered again after a transfer: a new handling by the new assignee
            ++results_.reaccepted;
            results_.requeue_waits.push_back(to_seconds(now_ - c.requeued_us));
        }

        // How the conversation (or this handling of it) will go.
        const Behaviour& b = scenario_.behaviour;
        c.handle_seconds = static_cast<float>(handle_time());
        c.messages = static_cast<std::uint16_t>(std::min<std::uint32_t>(conversation_.poisson(b.messages), 60000));
        const bool quiet = conversation_.chance(b.silent_probability);
        c.quiet_from = quiet ? static_cast<std::uint16_t>(std::floor(conversation_.uniform() * (c.messages + 1)))
                             : c.messages;
        // Silent assignees and transfers draw from their own stream: the rest of the model
        // draws as in a run without them.
        c.agent_quiet_from = c.messages;
        if (b.silent_agent_probability > 0 && control_.chance(b.silent_agent_probability)) {
            c.agent_quiet_from = static_cast<std::uint16_t>(std::floor(control_.uniform() * (c.messages + 1)));
            if (c.agent_silent()) ++results_.silent_agent_conversations;
        }
        const std::uint32_t segment = c.segment;
        if (c.messages > 0 && c.quiet_from > 0)
            schedule(message_time(c, 0), Kind::message, customer, segment << 16);
        if (!quiet) schedule(c.segment_us + to_micros(c.handle_seconds), Kind::end, customer, segment);
        const double transfer_share = scenario_.spaces[c.space].transfer_share;
        if (c.transfers == 0 && transfer_share > 0 && control_.chance(transfer_share))
            schedule(c.segment_us + to_micros(control_.uniform() * c.handle_seconds), Kind::transfer, customer, segment);
    }

    void on(const events::Transferred& e) {
        CustomerRecord& c = customer_of(e.conversation);
        ++c.segment;  // what the old assignee planned is void
        c.requeued_us = now_;
        c.assignee = none;
        if (e.reason == TransferReason::agent) {
            ++c.transfers;
            ++results_.transfers;
            if (e.space == space_ids_[c.space]) ++results_.transfers_own_space;
            return;
        }
        // R33: the assignee did not answer in time; the engine sets them unavailable as for a
        // missed offer, and they are back when they notice (or at R34's return).
        ++results_.unresponsive_requeues;
        if (c.agent_silent()) ++results_.unresponsive_silent;
        AgentSim& a = agents_[e.agent.index];
        ++a.unresponsive;
        a.away = true;
        schedule(now_ + to_micros(control_.exponential(scenario_.behaviour.away_after_miss)), Kind::come_back,
                 e.agent.index);
    }

    void on(const events::SkillsRelaxed&) { ++results_.skills_relaxed; }

    void on(const events::StatusChanged& e) {
        if (e.from == Status::waiting_for_agent) queue_length_.set(queue_length_.value - 1);
        if (e.to == Status::waiting_for_agent && e.from != Status::waiting_for_agent)  // a transfer (R32)
            queue_length_.set(queue_length_.value + 1);
    }

    void on(const events::ConversationEnded& e) {
        const std::uint32_t customer = by_conversation_[e.conversation.index];
        CustomerRecord& c = customers_[customer];
        c.ended = true;
        c.end = e.reason;
        c.ended_us = now_;
        ++results_.ended[static_cast<std::size_t>(e.reason)];
        if (c.answered() && c.assignee == none) {
            ++results_.ended_after_transfer_unanswered;  // closes at once, unanswered (R32)
        } else if (c.answered()) {
            schedule(now_ + to_micros(conversation_.exponential(scenario_.behaviour.wrap_up_time)), Kind::resolve,
                     customer);
        } else if (e.reason == EndReason::customer) {
            ++results_.abandoned;
            ++window_.abandoned;
        } else if (e.reason == EndReason::no_agent) {
            ++window_.no_agent;
        }
    }

    void on(const events::SlotReleased& e) {
        AgentSim& a = agents_[e.agent.index];
        touch(a);
        --a.assigned;
        busy_slots_.set(busy_slots_.value - 1);
    }

    void on(const events::TranscriptShared&) { ++results_.transcripts; }
    void on(const events::InactivityWarning&) { ++results_.inactivity_warnings; }

    template <class E>
    void on(const E&) {}

    template <class T>
    void check(const Result<T>& result, const char* command) {
        if (result) return;
        if (results_.engine_errors++ == 0)
            results_.first_engine_error = std::string(command) + " failed at " + std::to_string(to_seconds(now_)) +
                                          " s: " + std::string(to_string(result.error()));
    }

    // ---- Levels over time: queue length, available agents, slots ----

    struct Level {
        double value = 0;
        double total = 0;  // integral over the whole run
        double peak = 0;
        double window = 0;  // integral over the current interval
        double window_peak = 0;
        void set(double v) {
            value = v;
            peak = std::max(peak, v);
            window_peak = std::max(window_peak, v);
        }
        void accumulate(double dt) {
            total += value * dt;
            window += value * dt;
        }
        void new_window() {
            window = 0;
            window_peak = value;
        }
    };

    struct Window {
        std::uint32_t started = 0;
        std::uint32_t accepted = 0;
        std::uint32_t abandoned = 0;
        std::uint32_t no_agent = 0;
        double wait_sum = 0;
    };

    void accumulate(std::int64_t until) {
        const double dt = to_seconds(until - stats_at_);
        for (Level* level : {&queue_length_, &available_agents_, &busy_slots_, &staffed_})
            level->accumulate(dt);
        stats_at_ = until;
    }

    void advance_stats(std::int64_t t) {
        while (t >= next_boundary_) {
            accumulate(next_boundary_);
            close_interval();
            next_boundary_ += interval_;
        }
        accumulate(t);
    }

    void close_interval() {
        const double length = to_seconds(interval_);
        IntervalRow row;
        row.start_seconds = to_seconds(next_boundary_ - interval_);
        row.started = window_.started;
        row.accepted = window_.accepted;
        row.abandoned = window_.abandoned;
        row.no_agent = window_.no_agent;
        row.mean_queue = queue_length_.window / length;
        row.peak_queue = queue_length_.window_peak;
        row.mean_available_agents = available_agents_.window / length;
        row.mean_busy_slots = busy_slots_.window / length;
        row.mean_staffed_slots = staffed_.window / length;
        row.occupancy = staffed_.window > 0 ? busy_slots_.window / staffed_.window : 0.0;
        row.mean_time_to_accept = window_.accepted > 0 ? window_.wait_sum / window_.accepted : 0.0;
        results_.intervals.push_back(row);
        window_ = Window{};
        for (Level* level : {&queue_length_, &available_agents_, &busy_slots_, &staffed_}) level->new_window();
    }

    // ---- Setting up and finishing ----

    void setup() {
        // Independent streams, so that changing one part of the model leaves the others' draws alone.
        behaviour_ = master_.split(1);
        conversation_ = master_.split(2);
        patience_ = master_.split(3);
        Random schedules = master_.split(4);
        const std::string& distribution = scenario_.behaviour.handle_time_distribution;
        handle_distribution_ = distribution == "fixed"         ? HandleDistribution::fixed
                               : distribution == "exponential" ? HandleDistribution::exponential
                                                               : HandleDistribution::lognormal;
        for (std::size_t s = 0; s < scenario_.spaces.size(); ++s) arrivals_.push_back(master_.split(100 + s));
        // Split after the streams above, so that they stay what they were before these parts.
        control_ = master_.split(5);
        for (std::size_t s = 0; s < scenario_.spaces.size(); ++s) {
            class_draws_.push_back(master_.split(200 + s));
            class_options_.emplace_back();
            for (const ConversationClass& k : scenario_.spaces[s].classes)
                class_options_.back().push_back(StartOptions{.priority = k.priority, .skills = k.skills});
            transfer_target_.push_back(none);
            for (std::size_t t = 0; t < scenario_.spaces.size(); ++t)
                if (scenario_.spaces[t].name == scenario_.spaces[s].transfer_to)
                    transfer_target_.back() = static_cast<std::uint32_t>(t);
        }

        SiteUpdate site;
        site.missed_offer_scope =
            scenario_.missed_offer_scope == "offer_space" ? MissedOfferScope::offer_space : MissedOfferScope::all_spaces;
        if (scenario_.missed_offer_return_after > 0)
            site.missed_offer_return_after = engine_timing(scenario_.missed_offer_return_after).value();
        if (!engine_.update_site(site)) throw std::invalid_argument("the engine refused the site settings");

        for (std::size_t s = 0; s < scenario_.spaces.size(); ++s) {
            const SpaceSpec& spec = scenario_.spaces[s];
            SpaceSettings settings;
            settings.fallback_message = spec.fallback;
            // validate() passed every timer through engine_timing(), so each has a value.
            settings.timings = SpaceTimings{engine_timing(spec.offer_timeout).value(), engine_timing(spec.accept_window).value(),
                                            engine_timing(spec.inactivity_warning).value(),
                                            engine_timing(spec.inactivity_grace).value(),
                                            engine_timing(spec.max_duration).value()};
            const auto optional_timer = [](double seconds) -> std::optional<duration> {
                if (seconds <= 0) return std::nullopt;
                return engine_timing(seconds);
            };
            settings.timings.skills_relax_after = optional_timer(spec.skills_relax_after);
            settings.timings.assignee_response_timeout = optional_timer(spec.assignee_response_timeout);
            settings.strategy = strategy_of(spec.strategy);
            auto id = engine_.add_space(settings);
            if (!id)
                throw std::invalid_argument("spaces[" + std::to_string(s) + "]: the engine refused its settings (" +
                                            std::string(to_string(id.error())) + ")");
            space_ids_.push_back(*id);
        }

        for (std::size_t g = 0; g < scenario_.agents.size(); ++g) {
            const AgentGroupSpec& group = scenario_.agents[g];
            for (std::int64_t n = 0; n < group.count; ++n) {
                auto id = engine_.add_agent(AgentSettings{group.limit, group.skills});
                if (!id) throw std::invalid_argument("agents[" + std::to_string(g) + "]: the engine refused the agent");
                const auto index = static_cast<std::uint32_t>(agents_.size());
                AgentSim a;
                a.id = *id;
                a.group = static_cast<std::uint32_t>(g);
                a.limit = static_cast<std::uint32_t>(group.limit);
                agents_.push_back(a);
                for (std::size_t s = 0; s < scenario_.spaces.size(); ++s) {
                    const auto& roles = group.spaces;
                    if (roles.empty() || std::find(roles.begin(), roles.end(), scenario_.spaces[s].name) != roles.end())
                        if (!engine_.grant_role(*id, space_ids_[s])) throw std::invalid_argument("grant_role failed");
                }
                // Shifts and breaks, planned a day at a time from the day before the run
                // (a night shift may be under way at 0).
                agents_.back().stagger_us = to_micros(schedules.uniform() * group.break_stagger_minutes * 60);
                if (group.shift_end - group.shift_start >= 24) schedule(0, Kind::shift_start, index);
                plan_day(index, -1);
                schedule(0, Kind::plan_day, index, 1);
            }
        }

        arrival_clock_.assign(scenario_.spaces.size(), 0.0);
        double expected = 0;
        for (const SpaceSpec& spec : scenario_.spaces) {
            double per_day = 0;
            for (int h = 0; h < 24; ++h) per_day += spec.hourly.empty() ? spec.rate_per_hour : spec.hourly[h];
            expected += per_day * scenario_.traffic * scenario_.hours / 24;
        }
        // Room for the expected arrivals up front (beyond a million, the vectors grow as usual).
        const auto reserve = static_cast<std::size_t>(std::min(expected * 1.1 + 64, 1e6));
        customers_.reserve(reserve);
        results_.waits.reserve(reserve);
        queue_.reserve(4 * agents_.size() + 1024);
        for (std::uint32_t s = 0; s < scenario_.spaces.size(); ++s) schedule_arrival(s);
    }

    Results finish(std::int64_t horizon) {
        results_.scenario = scenario_;
        results_.horizon_seconds = to_seconds(horizon);
        const double span = to_seconds(horizon);
        results_.mean_queue = queue_length_.total / span;
        results_.peak_queue = queue_length_.peak;
        results_.mean_available_agents = available_agents_.total / span;
        std::vector<std::uint32_t> numbers(scenario_.agents.size(), 0);
        for (AgentSim& a : agents_) {
            now_ = horizon;
            touch(a);
            const AgentGroupSpec& group = scenario_.agents[a.group];
            AgentResult r;
            const std::string base = group.name.empty() ? "group" + std::to_string(a.group + 1) : group.name;
            r.name = base + "-" + std::to_string(++numbers[a.group]);
            r.group = group.name;
            r.limit = a.limit;
            r.accepted = a.accepted;
            r.missed = a.missed;
            r.unresponsive = a.unresponsive;
            r.used_slot_seconds = a.used;
            r.staffed_slot_seconds = a.staffed;
            results_.used_slot_seconds += a.used;
            results_.staffed_slot_seconds += a.staffed;
            if (a.missed > 0) ++results_.missed_agents;
            results_.agents.push_back(std::move(r));
        }
        results_.customers = std::move(customers_);
        return std::move(results_);
    }

    Scenario scenario_;
    ManualClock clock_;
    Engine<ManualClock&, Forward> engine_;
    Random master_;
    Random behaviour_{0};
    Random conversation_{0};
    Random patience_{0};
    Random control_{0};  // silent assignees, transfers, returns after R33
    std::vector<Random> arrivals_;
    std::vector<Random> class_draws_;
    std::vector<std::vector<StartOptions>> class_options_;  // per space, per class (handoff set per start)
    std::vector<std::uint32_t> transfer_target_;            // per space: transfer_to's index, or none
    std::vector<double> arrival_clock_;
    HandleDistribution handle_distribution_ = HandleDistribution::lognormal;

    std::int64_t run_end_ = 0;
    std::int64_t now_ = 0;
    std::vector<Pending> queue_;
    std::uint64_t sequence_ = 0;

    std::vector<SpaceId> space_ids_;
    std::vector<AgentSim> agents_;
    std::vector<CustomerRecord> customers_;
    std::vector<std::uint32_t> by_conversation_;  // engine conversation slot -> customer
    std::uint32_t starting_ = none;

    std::int64_t interval_ = 0;
    std::int64_t next_boundary_ = 0;
    std::int64_t stats_at_ = 0;
    Level queue_length_, available_agents_, busy_slots_, staffed_;
    Window window_;
    Results results_;
};

// Convenience: validate, then run.
inline Results simulate(const Scenario& scenario, const std::function<void(double)>& progress = {}) {
    Simulation simulation(scenario);
    return simulation.run(progress);
}

// The value at or below which `share` of the sorted values lie (nearest rank).
[[nodiscard]] inline double percentile(const std::vector<double>& sorted, double share) {
    if (sorted.empty()) return 0.0;
    const auto rank = static_cast<std::size_t>(std::ceil(share * static_cast<double>(sorted.size())));
    return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace chatroute::sim
