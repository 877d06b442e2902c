#pragma once
// Seeded random command streams for the differential test: plausible most of the time
// (offers accepted by the agent holding them, resolves by the assignee, time jumping to the
// next deadline), wrong on purpose some of the time (unknown and closed handles, wrong
// agents, wrong statuses, out-of-range values), with time moving by small steps, to exact
// deadline instants, just short of them, and by long lazy jumps across many deadlines.
//
// Commands name things by the host's ids (strings), like SPEC §10's scenario files, so a
// stream can be written out as a scenario. A name is bound when the command that creates
// it succeeds; a name that was never bound is an unknown id.

#include "reference_model.hpp"

#include <chatroute/clock.hpp>
#include <chatroute/config.hpp>
#include <chatroute/events.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace chatroute::model {

enum class Op : std::uint8_t {
    site,
    add_space,
    enable_chat,
    disable_chat,
    add_agent,
    set_limit,
    grant_role,
    revoke_role,
    set_availability,
    start_conversation,
    accept,
    decline,
    message,
    typing,
    note,
    follow_up,
    end,
    resolve,
    tick,
    update_space,
    set_skills,
    set_priority,
    transfer,
};

[[nodiscard]] constexpr std::string_view to_string(Op op) {
    constexpr std::array<std::string_view, 23> names{
        "site",   "add_space", "enable_chat", "disable_chat",     "add_agent", "set_limit", "grant_role",
        "revoke_role", "set_availability", "start_conversation", "accept", "decline", "message", "typing",
        "note", "follow_up", "end", "resolve", "tick", "update_space", "set_skills", "set_priority", "transfer"};
    return names[static_cast<std::size_t>(op)];
}

struct Command {
    Op op = Op::tick;
    time_point at;             // the clock is set to this before the command (may go back: R26)
    std::string space;         // "*" for all spaces (set_availability); set_limit: the space or empty
    std::string agent;         // for customer messages and ends: empty
    std::string conversation;
    std::string other_agent;   // start: preferred_agent; transfer: to_agent (empty: none)
    bool flag = false;         // add_space: new; set_availability: available; start: handoff
    Party party = Party::customer;  // message/typing: from; end: by
    std::int64_t limit = 0;    // set_limit
    bool limit_null = false;   // set_limit with a space: `null` removes the space's limit (R31)
    std::int64_t priority = 0;  // start_conversation, set_priority (R29)
    std::vector<std::string> skills;  // start_conversation, set_skills (R30)
    AgentSettings agent_settings;
    SpaceSettings space_settings;
    SpaceUpdate space_update;
    SiteUpdate site;
    std::string resolution;
    MessageRef ref;
};

// What the generator may look at: the model's state and the names bound so far
// (index = the model's handle index).
struct World {
    const ReferenceModel& model;
    const std::vector<std::string>& spaces;
    const std::vector<std::string>& agents;
    const std::vector<std::string>& conversations;
};

class Generator {
public:
    // Each seed also picks a profile, so that some streams crowd a few agents with many
    // customers, some churn roles across many spaces, and some run on tiny timers.
    // `distinct`: every timing its own odd value, so deadlines rarely tie and many differ.
    enum class Profile { mixed, crowded, churn, fast_timers, large, distinct };

    explicit Generator(std::uint64_t seed) : rng_(seed) {
        constexpr std::array<Profile, 6> profiles{Profile::mixed,       Profile::crowded, Profile::churn,
                                                  Profile::fast_timers, Profile::large,   Profile::distinct};
        profile_ = profiles[static_cast<std::size_t>(between(0, 5))];
    }

    [[nodiscard]] Profile profile() const { return profile_; }

    Command next(const World& world) {
        Command cmd;
        cmd.at = next_instant(world);
        cmd.ref = MessageRef{rng_()};
        cmd.op = pick_op(world);
        switch (cmd.op) {
        case Op::site: make_site(cmd, world); break;
        case Op::add_space: make_space(cmd); break;
        case Op::enable_chat:
        case Op::disable_chat: cmd.space = space_name(world); break;
        case Op::add_agent:
            cmd.agent = fmt::format("a{}", agents_named_++);
            if (chance(0.7)) cmd.agent_settings.limit = limit_value();
            if (chance(0.6)) cmd.agent_settings.skills = skill_list(3);
            break;
        case Op::set_limit:
            cmd.agent = agent_name(world);
            cmd.limit = limit_value();
            if (chance(0.4)) {  // R31: a per-space limit, sometimes removed
                cmd.space = space_name(world);
                cmd.limit_null = chance(0.25);
                if (!cmd.limit_null && chance(0.6)) cmd.limit = between(0, 2);
            }
            break;
        case Op::update_space: make_space_update(cmd, world); break;
        case Op::set_skills:
            cmd.agent = agent_name(world);
            cmd.skills = skill_list(3);
            break;
        case Op::set_priority:
            cmd.conversation = conversation_name(world, Status::waiting_for_agent);
            cmd.priority = priority_value();
            break;
        case Op::transfer: make_transfer(cmd, world); break;
        case Op::grant_role:
        case Op::revoke_role:
            cmd.agent = agent_name(world);
            cmd.space = space_name(world);
            break;
        case Op::set_availability:
            cmd.agent = agent_name(world);
            cmd.space = chance(0.25) ? "*" : space_name(world);
            cmd.flag = chance(0.75);
            break;
        case Op::start_conversation:
            cmd.conversation = fmt::format("c{}", conversations_named_++);
            cmd.space = space_name(world);
            cmd.flag = chance(0.3);
            if (chance(0.4)) cmd.priority = priority_value();
            if (chance(0.35)) cmd.skills = skill_list(2);
            if (chance(0.25)) cmd.other_agent = agent_name(world);  // R39
            break;
        case Op::accept:
        case Op::decline: make_offer_answer(cmd, world); break;
        case Op::message:
        case Op::typing: make_utterance(cmd, world); break;
        case Op::note:
        case Op::follow_up:
            cmd.conversation = conversation_name(world, Status::active);
            cmd.agent = chance(0.5) ? assignee_name(world, cmd.conversation) : agent_name(world);
            break;
        case Op::end: make_end(cmd, world); break;
        case Op::resolve: make_resolve(cmd, world); break;
        case Op::tick: break;
        }
        return cmd;
    }

private:
    // ---- Randomness ----
    bool chance(double p) { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < p; }
    std::int64_t between(std::int64_t lo, std::int64_t hi) {  // inclusive
        return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
    }
    template <class T>
    const T& one_of(const std::vector<T>& items) {
        return items[static_cast<std::size_t>(between(0, static_cast<std::int64_t>(items.size()) - 1))];
    }

    // ---- Time ----
    time_point next_instant(const World& world) {
        const time_point now = world.model.now();
        const auto deadline = world.model.next_deadline();
        const double roll = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
        using std::chrono::seconds;
        if (roll < 0.45) return now;
        if (roll < 0.65)
            return profile_ == Profile::fast_timers ? now + seconds{between(0, 3)} : now + duration{between(0, 3'000'000)};
        if (roll < 0.70) return now + seconds{between(1, 10)};
        if (deadline && *deadline > now) {
            if (roll < 0.80) return *deadline;                                 // exactly at a deadline
            if (roll < 0.84) return *deadline - duration{1};                   // one microsecond short
            if (roll < 0.88) return *deadline + duration{between(1, 999'999)};  // just past
        }
        if (roll < 0.95) return now + seconds{between(10, 900)};
        if (roll < 0.965) return now + seconds{between(3'600, 30 * 3'600)};  // a long lazy jump
        if (roll < 0.985) return now - seconds{between(0, 300)};             // a clock going back
        return now;
    }

    // ---- What to do ----
    Op pick_op(const World& world) {
        const std::size_t spaces = world.spaces.size();
        const std::size_t agents = world.agents.size();
        std::size_t open = 0, offered = 0, active = 0, wrapping = 0;
        for (std::size_t i = 0; i < world.conversations.size(); ++i) {
            const ConversationId c = world.model.conversation_at(i);
            const auto status = world.model.status(c);
            if (!status || *status == Status::closed) continue;
            ++open;
            if (*status == Status::active) ++active;
            if (*status == Status::wrapping_up) ++wrapping;
            if (auto holder = world.model.offered_to(c); holder && *holder) ++offered;
        }
        if (spaces == 0 && chance(0.8)) return Op::add_space;
        if (agents < 2 && chance(0.5)) return Op::add_agent;
        // Large: past 64 and 128 agents and conversations, where word-sized bit sets end.
        if (profile_ == Profile::large) {
            if (agents < 140 && chance(0.3)) return Op::add_agent;
            if (chance(0.25)) return chance(0.8) ? Op::grant_role : Op::set_availability;
            if (open < 150 && chance(0.2)) return Op::start_conversation;
        }
        struct Weighted {
            Op op;
            int weight;
        };
        const std::array<Weighted, 23> table{{
            {Op::site, 2},
            {Op::add_space, spaces < (profile_ == Profile::churn ? 7u : 4u) ? 3 : 0},
            {Op::enable_chat, 2},
            {Op::disable_chat, 1},
            {Op::add_agent, agents < (profile_ == Profile::crowded ? 3u : profile_ == Profile::churn ? 12u : 8u) ? 3 : 0},
            {Op::set_limit, 3},
            {Op::grant_role, profile_ == Profile::churn ? 12 : 6},
            {Op::revoke_role, profile_ == Profile::churn ? 8 : 2},
            {Op::set_availability, 10},
            {Op::start_conversation, open < (profile_ == Profile::crowded ? 30u : 10u) ? 10 : 2},
            {Op::accept, offered > 0 ? 24 : 3},
            {Op::decline, offered > 0 ? 6 : 1},
            {Op::message, active > 0 ? 14 : 2},
            {Op::typing, active > 0 ? 4 : 1},
            {Op::note, 2},
            {Op::follow_up, 2},
            {Op::end, active > 0 ? 5 : 1},
            {Op::resolve, wrapping > 0 ? 12 : 1},
            {Op::tick, 6},
            {Op::update_space, 2},
            {Op::set_skills, 3},
            {Op::set_priority, open > 0 ? 3 : 1},
            {Op::transfer, active > 0 ? 6 : 1},
        }};
        int total = 0;
        for (const auto& w : table) total += w.weight;
        int roll = static_cast<int>(between(0, total - 1));
        for (const auto& w : table) {
            if (roll < w.weight) return w.op;
            roll -= w.weight;
        }
        return Op::tick;
    }

    // ---- Names ----
    // A bound name mostly; sometimes one never bound (unknown).
    std::string pick_name(const std::vector<std::string>& names, char prefix) {
        if (names.empty() || chance(0.04)) return fmt::format("{}{}", prefix, 900 + between(0, 9));
        return one_of(names);
    }
    std::string space_name(const World& world) { return pick_name(world.spaces, 's'); }
    std::string agent_name(const World& world) { return pick_name(world.agents, 'a'); }

    [[nodiscard]] static std::optional<ConversationId> conversation_handle(const World& world, const std::string& name) {
        for (std::size_t i = 0; i < world.conversations.size(); ++i)
            if (world.conversations[i] == name) return world.model.conversation_at(i);
        return std::nullopt;
    }
    [[nodiscard]] static std::optional<AgentId> agent_handle(const World& world, const std::string& name) {
        for (std::size_t i = 0; i < world.agents.size(); ++i)
            if (world.agents[i] == name) return world.model.agent_at(i);
        return std::nullopt;
    }

    // A conversation: mostly an open one, preferring `wanted` status; sometimes closed or unknown.
    std::string conversation_name(const World& world, std::optional<Status> wanted) {
        if (world.conversations.empty() || chance(0.03)) return fmt::format("c{}", 900 + between(0, 9));
        std::vector<std::string> preferred, open, all;
        for (std::size_t i = 0; i < world.conversations.size(); ++i) {
            const auto status = world.model.status(world.model.conversation_at(i));
            if (!status) continue;
            if (*status != Status::closed) open.push_back(world.conversations[i]);
            if (wanted && *status == *wanted) preferred.push_back(world.conversations[i]);
        }
        if (!preferred.empty() && chance(0.75)) return one_of(preferred);
        if (!open.empty() && chance(0.9)) return one_of(open);
        return one_of(world.conversations);
    }

    std::string assignee_name(const World& world, const std::string& conversation) {
        if (auto c = conversation_handle(world, conversation))
            if (auto a = world.model.assignee(*c); a && *a) return world.agents[(*a)->index];
        return agent_name(world);
    }

    std::string offer_holder_name(const World& world, const std::string& conversation) {
        if (auto c = conversation_handle(world, conversation))
            if (auto a = world.model.offered_to(*c); a && *a) return world.agents[(*a)->index];
        return agent_name(world);
    }

    // ---- Commands ----
    std::int64_t limit_value() {
        if (chance(0.04)) return chance(0.5) ? -between(1, 3) : 1'000'001;
        if (chance(0.02)) return 1'000'000;
        return between(0, 3);
    }

    duration timing(std::initializer_list<std::int64_t> seconds_choices) {
        if (chance(0.01)) return chance(0.5) ? duration{0} : -std::chrono::seconds{between(1, 5)};
        std::vector<std::int64_t> choices(seconds_choices);
        if (profile_ == Profile::distinct)  // any value up to twice the largest choice, to the µs
            return duration{between(1, 2 * *std::max_element(choices.begin(), choices.end()) * 1'000'000)};
        duration d = std::chrono::seconds{one_of(choices)};
        if (chance(0.1)) d += duration{between(1, 999'999)};  // fractional seconds
        return d;
    }
    std::optional<duration> optional_timing(double p, std::initializer_list<std::int64_t> seconds_choices) {
        if (!chance(p)) return std::nullopt;
        return timing(seconds_choices);
    }

    // R29: mostly small, sometimes the top, rarely out of range.
    std::int64_t priority_value() {
        if (chance(0.03)) return chance(0.5) ? -1 : 1001;
        static const std::vector<std::int64_t> values{0, 0, 1, 1, 2, 5, 1000};
        return one_of(values);
    }

    // R30: a few names from a small vocabulary so that matches and misses both happen;
    // rarely an invalid list (empty name, too long, repeated, too many).
    std::vector<std::string> skill_list(std::int64_t most) {
        static const std::vector<std::string> vocabulary{"en", "fr", "billing", "vip"};
        std::vector<std::string> list;
        for (const auto& name : vocabulary)
            if (list.size() < static_cast<std::size_t>(most) && chance(0.35)) list.push_back(name);
        if (chance(0.02)) list.push_back("");
        if (chance(0.02)) list.push_back(std::string(65, 'x'));
        if (chance(0.01)) list.push_back(std::string(64, 'y'));  // the longest allowed
        if (chance(0.02) && !list.empty()) list.push_back(list.front());
        if (chance(0.01))
            for (int i = 0; i < 33; ++i) list.push_back(fmt::format("k{}", i));
        return list;
    }

    Strategy strategy_value() {
        static const std::vector<Strategy> values{Strategy::round_robin, Strategy::least_active,
                                                  Strategy::most_available, Strategy::least_recent};
        return one_of(values);
    }

    void make_space_update(Command& cmd, const World& world) {
        cmd.space = space_name(world);
        SpaceUpdate& u = cmd.space_update;
        if (chance(0.7)) u.strategy = strategy_value();
        if (chance(0.3)) u.fallback_message = fmt::format("Updated fallback {}", between(0, 9));
        if (chance(0.3)) u.no_agent_action = chance(0.5) ? NoAgentAction::wait : NoAgentAction::fallback;
    }

    // R32: mostly the assignee of an active conversation, to its own space or another,
    // sometimes naming the agent to offer it to.
    void make_transfer(Command& cmd, const World& world) {
        cmd.conversation = conversation_name(world, Status::active);
        cmd.agent = chance(0.85) ? assignee_name(world, cmd.conversation) : agent_name(world);
        const auto c = conversation_handle(world, cmd.conversation);
        const int own = c ? world.model.space_of(*c) : -1;
        cmd.space = own >= 0 && chance(0.4) ? world.spaces[static_cast<std::size_t>(own)] : space_name(world);
        if (chance(0.4)) {
            std::vector<std::string> holders;  // agents with the role in the target
            for (std::size_t a = 0; a < world.agents.size(); ++a)
                for (std::size_t s = 0; s < world.spaces.size(); ++s)
                    if (world.spaces[s] == cmd.space && world.model.has_role(world.model.agent_at(a), world.model.space_at(s)).value_or(false))
                        holders.push_back(world.agents[a]);
            cmd.other_agent = !holders.empty() && chance(0.85) ? one_of(holders) : agent_name(world);
        }
    }

    void make_space(Command& cmd) {
        cmd.space = fmt::format("s{}", spaces_named_++);
        SpaceSettings& s = cmd.space_settings;
        s.is_new = chance(0.85);
        if (chance(0.7)) s.fallback_message = fmt::format("Sorry, nobody is free (space {})", cmd.space);
        SpaceTimings& t = s.timings;
        if (profile_ == Profile::fast_timers) {  // small whole seconds: deadlines collide
            t.offer_timeout = timing({1, 2, 3, 5});
            t.accept_window = timing({3, 5, 6, 10});
            t.inactivity_warning = timing({2, 3, 5});
            t.inactivity_grace = timing({1, 2, 5});
            t.max_duration = timing({5, 10, 12, 30});
            new_space_fields(s);
            return;
        }
        t.offer_timeout = timing({5, 5, 10, 30, 120});
        t.accept_window = timing({15, 30, 60, 300, 1'200});
        t.inactivity_warning = timing({10, 30, 120, 1'200});
        t.inactivity_grace = timing({5, 20, 60, 600});
        t.max_duration = timing({60, 300, 1'800, 86'400});
        new_space_fields(s);
    }

    // R28, R30, R33, R35, R36: strategy, fallback action and the timings that are off unless given.
    void new_space_fields(SpaceSettings& s) {
        if (chance(0.6)) s.strategy = strategy_value();
        if (chance(0.2)) s.no_agent_action = chance(0.8) ? NoAgentAction::fallback : NoAgentAction::wait;
        SpaceTimings& t = s.timings;
        if (profile_ == Profile::fast_timers) {
            t.skills_relax_after = optional_timing(0.4, {2, 3, 5});
            t.assignee_response_timeout = optional_timing(0.35, {1, 2, 3});
            t.wrap_up_timeout = optional_timing(0.4, {1, 2, 5});
            return;
        }
        t.skills_relax_after = optional_timing(0.35, {10, 30, 60, 300});
        t.assignee_response_timeout = optional_timing(0.3, {5, 30, 60, 120});
        t.wrap_up_timeout = optional_timing(0.35, {5, 30, 120, 600});
    }

    void make_site(Command& cmd, const World& world) {
        SiteUpdate& u = cmd.site;
        if (chance(0.35)) {
            const double r = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
            u.plan = r < 0.1 ? Plan::free : r < 0.2 ? Plan::standard : r < 0.65 ? Plan::premium : Plan::enterprise;
        }
        if (chance(0.25)) u.default_limit = limit_value();
        if (chance(0.3)) u.missed_offer_scope = chance(0.5) ? MissedOfferScope::all_spaces : MissedOfferScope::offer_space;
        static const std::vector<std::string> pool{"Done", "Won't do", "Duplicate", "Unanswered", "Spam", "Escalated"};
        if (chance(0.25)) {
            std::vector<std::string> list;
            for (const auto& name : pool)
                if (chance(0.6)) list.push_back(name);
            if (chance(0.05)) list.push_back("");                       // invalid: empty
            if (chance(0.05) && !list.empty()) list.push_back(list[0]);  // invalid: repeated
            u.resolutions = list;
        }
        if (chance(0.2)) {
            const auto& current = world.model.workflow().resolutions;
            u.unanswered_resolution = chance(0.8) && !current.empty() ? one_of(current) : one_of(pool);
        }
        if (chance(0.2)) {  // R34
            if (chance(0.05)) u.missed_offer_return_after = chance(0.5) ? duration{0} : -std::chrono::seconds{1};
            else u.missed_offer_return_after = profile_ == Profile::fast_timers ? timing({1, 2, 5}) : timing({5, 30, 120, 600});
        }
        if (chance(0.15)) {  // R36
            const auto& current = u.resolutions ? *u.resolutions : world.model.workflow().resolutions;
            u.wrap_up_resolution = chance(0.85) && !current.empty() ? one_of(current) : one_of(pool);
        }
        // No status names: SPEC §10's `site` line has no field for them, and every stream
        // must be writable as a scenario the replay tool runs the same way.
    }

    void make_offer_answer(Command& cmd, const World& world) {
        // Mostly a conversation with a pending offer, answered by the agent holding it.
        std::vector<std::string> offered;
        for (std::size_t i = 0; i < world.conversations.size(); ++i) {
            const auto holder = world.model.offered_to(world.model.conversation_at(i));
            if (holder && *holder) offered.push_back(world.conversations[i]);
        }
        cmd.conversation = !offered.empty() && chance(0.85) ? one_of(offered) : conversation_name(world, std::nullopt);
        cmd.agent = chance(0.85) ? offer_holder_name(world, cmd.conversation) : agent_name(world);
    }

    void make_utterance(Command& cmd, const World& world) {
        cmd.conversation = conversation_name(world, Status::active);
        if (chance(0.5)) {
            cmd.party = Party::customer;
        } else {
            cmd.party = Party::agent;
            cmd.agent = chance(0.8) ? assignee_name(world, cmd.conversation) : agent_name(world);
        }
    }

    void make_end(Command& cmd, const World& world) {
        cmd.conversation = conversation_name(world, Status::active);
        if (chance(0.4)) {
            cmd.party = Party::customer;
        } else {
            cmd.party = Party::agent;
            cmd.agent = chance(0.85) ? assignee_name(world, cmd.conversation) : agent_name(world);
        }
    }

    void make_resolve(Command& cmd, const World& world) {
        cmd.conversation = conversation_name(world, Status::wrapping_up);
        cmd.agent = chance(0.85) ? assignee_name(world, cmd.conversation) : agent_name(world);
        const auto& list = world.model.workflow().resolutions;
        if (chance(0.85) && !list.empty()) {
            cmd.resolution = one_of(list);
        } else {
            static const std::vector<std::string> odd{"Spam", "Escalated", "", "done", "Unanswered"};
            cmd.resolution = one_of(odd);
        }
    }

    std::mt19937_64 rng_;
    Profile profile_ = Profile::mixed;
    int spaces_named_ = 0;
    int agents_named_ = 0;
    int conversations_named_ = 0;
};

// ---- Scenario files (SPEC §10) ----

// Seconds, shortest exact form (decisions #24).
[[nodiscard]] inline std::string seconds_text(duration d) {
    const std::int64_t micros = d.count();
    const bool negative = micros < 0;
    const std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(micros) : static_cast<std::uint64_t>(micros);
    std::string text = fmt::format("{}{}", negative ? "-" : "", magnitude / 1'000'000);
    std::uint64_t fraction = magnitude % 1'000'000;
    if (fraction != 0) {
        int digits = 6;
        while (fraction % 10 == 0) fraction /= 10, --digits;
        text += fmt::format(".{:0{}}", fraction, digits);
    }
    return text;
}

[[nodiscard]] inline std::string json_string(std::string_view text) {
    std::string out = "\"";
    for (char ch : text) {
        if (ch == '"' || ch == '\\') out += '\\';
        out += ch;
    }
    return out + "\"";
}

[[nodiscard]] inline std::string json_list(const std::vector<std::string>& items) {
    std::string list = "[";
    for (std::size_t i = 0; i < items.size(); ++i) list += (i ? "," : "") + json_string(items[i]);
    return list + "]";
}

// One scenario line. `at` is the command's instant clamped to the latest instant before it
// (a scenario never goes back in time; the engine clamps a clock going back the same way).
[[nodiscard]] inline std::string to_json(const Command& cmd, time_point at) {
    std::string line = fmt::format("{{\"at\":{},\"cmd\":\"{}\"", seconds_text(at.time_since_epoch()), to_string(cmd.op));
    const auto field = [&](std::string_view key, const std::string& value) {
        line += fmt::format(",\"{}\":{}", key, value);
    };
    switch (cmd.op) {
    case Op::site: {
        const SiteUpdate& u = cmd.site;
        if (u.plan) field("plan", json_string(to_string(*u.plan)));
        if (u.default_limit) field("default_limit", fmt::format("{}", *u.default_limit));
        if (u.missed_offer_scope) field("missed_offer_scope", json_string(to_string(*u.missed_offer_scope)));
        if (u.resolutions) {
            std::string list = "[";
            for (std::size_t i = 0; i < u.resolutions->size(); ++i)
                list += (i ? "," : "") + json_string((*u.resolutions)[i]);
            field("resolutions", list + "]");
        }
        if (u.unanswered_resolution) field("unanswered_resolution", json_string(*u.unanswered_resolution));
        if (u.missed_offer_return_after) field("missed_offer_return_after", seconds_text(*u.missed_offer_return_after));
        if (u.wrap_up_resolution) field("wrap_up_resolution", json_string(*u.wrap_up_resolution));
        if (u.status_names) {  // not a §10 field: the C++ API only (replay ignores unknown fields)
            std::string list = "[";
            for (std::size_t i = 0; i < 4; ++i) list += (i ? "," : "") + json_string((*u.status_names)[i]);
            field("status_names", list + "]");
        }
        break;
    }
    case Op::add_space: {
        const SpaceSettings& s = cmd.space_settings;
        field("space", json_string(cmd.space));
        field("new", s.is_new ? "true" : "false");
        if (!s.fallback_message.empty()) field("fallback", json_string(s.fallback_message));
        field("offer_timeout", seconds_text(s.timings.offer_timeout));
        field("accept_window", seconds_text(s.timings.accept_window));
        field("inactivity_warning", seconds_text(s.timings.inactivity_warning));
        field("inactivity_grace", seconds_text(s.timings.inactivity_grace));
        field("max_duration", seconds_text(s.timings.max_duration));
        field("strategy", json_string(to_string(s.strategy)));
        field("no_agent_action", json_string(to_string(s.no_agent_action)));
        if (s.timings.skills_relax_after) field("skills_relax_after", seconds_text(*s.timings.skills_relax_after));
        if (s.timings.assignee_response_timeout)
            field("assignee_response_timeout", seconds_text(*s.timings.assignee_response_timeout));
        if (s.timings.wrap_up_timeout) field("wrap_up_timeout", seconds_text(*s.timings.wrap_up_timeout));
        break;
    }
    case Op::update_space: {
        const SpaceUpdate& u = cmd.space_update;
        field("space", json_string(cmd.space));
        if (u.strategy) field("strategy", json_string(to_string(*u.strategy)));
        if (u.fallback_message) field("fallback", json_string(*u.fallback_message));
        if (u.no_agent_action) field("no_agent_action", json_string(to_string(*u.no_agent_action)));
        break;
    }
    case Op::set_skills:
        field("agent", json_string(cmd.agent));
        field("skills", json_list(cmd.skills));
        break;
    case Op::set_priority:
        field("conversation", json_string(cmd.conversation));
        field("priority", fmt::format("{}", cmd.priority));
        break;
    case Op::transfer:
        field("conversation", json_string(cmd.conversation));
        field("agent", json_string(cmd.agent));
        field("space", json_string(cmd.space));
        if (!cmd.other_agent.empty()) field("to_agent", json_string(cmd.other_agent));
        break;
    case Op::enable_chat:
    case Op::disable_chat: field("space", json_string(cmd.space)); break;
    case Op::add_agent:
        field("agent", json_string(cmd.agent));
        if (cmd.agent_settings.limit) field("limit", fmt::format("{}", *cmd.agent_settings.limit));
        if (!cmd.agent_settings.skills.empty()) field("skills", json_list(cmd.agent_settings.skills));
        break;
    case Op::set_limit:
        field("agent", json_string(cmd.agent));
        field("limit", cmd.limit_null ? std::string("null") : fmt::format("{}", cmd.limit));
        if (!cmd.space.empty()) field("space", json_string(cmd.space));
        break;
    case Op::grant_role:
    case Op::revoke_role:
        field("agent", json_string(cmd.agent));
        field("space", json_string(cmd.space));
        break;
    case Op::set_availability:
        field("agent", json_string(cmd.agent));
        field("space", json_string(cmd.space));
        field("available", cmd.flag ? "true" : "false");
        break;
    case Op::start_conversation:
        field("conversation", json_string(cmd.conversation));
        field("space", json_string(cmd.space));
        field("handoff", cmd.flag ? "true" : "false");
        if (cmd.priority != 0) field("priority", fmt::format("{}", cmd.priority));
        if (!cmd.skills.empty()) field("skills", json_list(cmd.skills));
        if (!cmd.other_agent.empty()) field("preferred_agent", json_string(cmd.other_agent));
        break;
    case Op::accept:
    case Op::decline:
        field("agent", json_string(cmd.agent));
        field("conversation", json_string(cmd.conversation));
        break;
    case Op::message:
    case Op::typing:
        field("conversation", json_string(cmd.conversation));
        field("from", json_string(to_string(cmd.party)));
        if (cmd.party == Party::agent) field("agent", json_string(cmd.agent));
        break;
    case Op::note:
    case Op::follow_up:
        field("conversation", json_string(cmd.conversation));
        field("agent", json_string(cmd.agent));
        break;
    case Op::end:
        field("conversation", json_string(cmd.conversation));
        field("by", json_string(to_string(cmd.party)));
        if (cmd.party == Party::agent) field("agent", json_string(cmd.agent));
        break;
    case Op::resolve:
        field("conversation", json_string(cmd.conversation));
        field("agent", json_string(cmd.agent));
        field("resolution", json_string(cmd.resolution));
        break;
    case Op::tick: break;
    }
    return line + "}";
}

}  // namespace chatroute::model
