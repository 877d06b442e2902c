#pragma once
// A help desk for tests: a manual clock, a recording sink and an engine over both.

#include <chatroute/chatroute.hpp>

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <chrono>
#include <string>
#include <regex>
#include <vector>

namespace chatroute::test {

using namespace std::chrono_literals;

// A formatted event with conversations named by slot only ("#3/17" reads "#3").
inline std::string slot_only(const std::string& line) {
    static const std::regex serial{"(#[0-9]+)/[0-9]+"};
    return std::regex_replace(line, serial, "$1");
}

struct Desk {
    ManualClock clock;
    RecordingSink sink;
    std::uint32_t site = 0;
    Engine<ManualClock&, RecordingSink&> engine{clock, sink, EngineOptions{site}};
    Desk() = default;
    explicit Desk(std::uint32_t site_id) : site(site_id), engine{clock, sink, EngineOptions{site_id}} {}

    // Moves time forward by `elapsed` and lets due deadlines fire.
    void wait(duration elapsed) {
        clock.advance(elapsed);
        REQUIRE(engine.advance());
    }

    // Every event since the last take(), formatted, then forgotten. Conversations read as
    // "#slot" (the formatter's "/serial" dropped): the rule tests name them by slot.
    std::vector<std::string> take() {
        std::vector<std::string> lines;
        for (const Event& event : sink.events) lines.push_back(slot_only(fmt::format("{}", event)));
        sink.events.clear();
        return lines;
    }

    // Just the names of every event since the last take().
    std::vector<std::string> names() {
        std::vector<std::string> out;
        for (const Event& event : sink.events) out.emplace_back(event_name(event));
        sink.events.clear();
        return out;
    }

    SpaceId space(SpaceSettings settings = {}) { return engine.add_space(settings).value(); }
    AgentId agent(std::int64_t limit = 3) { return engine.add_agent({limit}).value(); }

    // An agent with the role in `space`, available there.
    AgentId ready_agent(SpaceId space, std::int64_t limit = 3) {
        AgentId a = agent(limit);
        REQUIRE(engine.grant_role(a, space));
        REQUIRE(engine.set_availability(a, space, true));
        return a;
    }

    void check() {
        auto broken = engine.check_invariants();
        INFO(broken.value_or(""));
        REQUIRE_FALSE(broken.has_value());
    }
};

}  // namespace chatroute::test
