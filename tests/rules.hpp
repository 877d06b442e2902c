#pragma once
// Helpers for the rule tests (tests/*_test.cpp, one file per SPEC rule group): absolute
// time, readable outcomes, and a description of everything the queries can see, so a
// refused command can be shown to change nothing and emit nothing (R27).

#include "support.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace chatroute::test {

using Lines = std::vector<std::string>;

// Sets the clock to `since_start` after the epoch (the desk's start) and lets deadlines fire.
inline void at(Desk& desk, duration since_start) {
    desk.clock.set(time_point{since_start});
    REQUIRE(desk.engine.advance());
}

inline SiteUpdate plan_is(Plan plan) {
    SiteUpdate update;
    update.plan = plan;
    return update;
}
inline SiteUpdate scope_is(MissedOfferScope scope) {
    SiteUpdate update;
    update.missed_offer_scope = scope;
    return update;
}

inline ConversationId start(Desk& desk, SpaceId space, bool handoff = false) {
    auto c = desk.engine.start_conversation(space, {.handoff = handoff});
    REQUIRE(c.has_value());
    return *c;
}

// "ok", or the error's code as SPEC spells it.
template <class T>
std::string outcome(const Result<T>& result) {
    return result ? std::string("ok") : std::string(to_string(result.error()));
}

inline std::string show(std::optional<AgentId> agent) {
    return agent ? fmt::format("{}", *agent) : std::string("none");
}
inline std::string show(Status status) { return std::string(to_string(status)); }
inline std::string show(bool value) { return value ? "true" : "false"; }
inline std::string show(Load load) {
    return fmt::format("assigned={} pending={} limit={}", load.assigned, load.pending, load.limit);
}
template <class T>
std::string show(const Result<T>& result) {
    return result ? show(*result) : fmt::format("error:{}", to_string(result.error()));
}

// Everything of these ids the engine lets a host see.
struct World {
    std::vector<SpaceId> spaces;
    std::vector<AgentId> agents;
    std::vector<ConversationId> conversations;
};

inline std::string describe(const Desk& desk, const World& world) {
    const auto& e = desk.engine;
    std::string out = fmt::format("now={} plan={} default_limit={} scope={} agents={} spaces={} live={} deadlines={}",
                                  e.now(), e.plan(), e.default_limit(), e.missed_offer_scope(), e.agent_count(),
                                  e.space_count(), e.live_conversations(), e.pending_deadlines());
    const auto next = e.next_deadline();
    out += next ? fmt::format(" next={}", *next) : std::string(" next=none");
    const Workflow& w = e.workflow();
    out += fmt::format("\nworkflow: statuses=[{}] resolutions=[{}] unanswered={}", fmt::join(w.status_names, "|"),
                       fmt::join(w.resolutions, "|"), w.unanswered_resolution);
    for (SpaceId s : world.spaces) out += fmt::format("\nspace {}: chat={}", s, show(e.chat_enabled(s)));
    for (AgentId a : world.agents) {
        out += fmt::format("\nagent {}: {}", a, show(e.load(a)));
        for (SpaceId s : world.spaces)
            out += fmt::format(" | {} role={} available={}", s, show(e.has_role(a, s)), show(e.available(a, s)));
    }
    for (ConversationId c : world.conversations)
        out += fmt::format("\nconversation {}: status={} assignee={} offered_to={}", c, show(e.status(c)),
                           show(e.assignee(c)), show(e.offered_to(c)));
    return out;
}

// R27: the command fails with `code`, emits nothing and changes nothing the queries see.
// Deadlines due now are fired first, so what the command itself does is all that is left.
template <class Command>
void refused(Desk& desk, const World& world, std::string_view code, Command&& command) {
    REQUIRE(desk.engine.advance());
    desk.take();
    const std::string before = describe(desk, world);
    const std::vector<std::byte> snapshot_before = desk.engine.snapshot();
    const auto result = command();
    CHECK(outcome(result) == std::string(code));
    CHECK(desk.take() == Lines{});
    CHECK(describe(desk, world) == before);
    CHECK(desk.engine.snapshot() == snapshot_before);  // the whole state, byte for byte
}

}  // namespace chatroute::test
