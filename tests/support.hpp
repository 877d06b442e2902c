#pragma once
// A help desk for tests: a manual clock, a recording sink and an engine over both.

#include <chatroute/chatroute.hpp>

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <chrono>
#include <string>
#include <vector>

namespace chatroute::test {

using namespace std::chrono_literals;

struct Desk {
    ManualClock clock;
    RecordingSink sink;
    Engine<ManualClock&, RecordingSink&> engine{clock, sink};

    // Moves time forward by `elapsed` and lets due deadlines fire.
    void wait(duration elapsed) {
        clock.advance(elapsed);
        REQUIRE(engine.advance());
    }

    // Every event since the last take(), formatted, then forgotten.
    std::vector<std::string> take() {
        std::vector<std::string> lines;
        for (const Event& event : sink.events) lines.push_back(fmt::format("{}", event));
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
