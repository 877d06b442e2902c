// Strategies, priority and skills (R28–R30). A space picks among eligible agents by its
// strategy; waiting conversations are served by priority, then age; a conversation may
// require skills, and a space may drop that requirement after it waited long enough.
#include <chatroute/chatroute.hpp>

#include <fmt/format.h>

#include <string>
#include <vector>

int main() {
    using namespace std::chrono_literals;
    chatroute::ManualClock clock;
    chatroute::RecordingSink events;
    chatroute::Engine engine{clock, events};

    chatroute::SpaceSettings settings{.strategy = chatroute::Strategy::least_recent};  // R28
    settings.timings.skills_relax_after = 5min;                                           // R30
    auto desk = engine.add_space(settings);
    auto ana = engine.add_agent({.limit = 1, .skills = {"billing"}});
    auto ben = engine.add_agent({.limit = 1, .skills = {"billing", "french"}});
    if (!desk || !ana || !ben) return 1;
    for (auto agent : {*ana, *ben})
        if (!engine.grant_role(agent, *desk)) return 1;

    // Nobody is available yet: three conversations wait.
    auto routine = engine.start_conversation(*desk);
    auto urgent = engine.start_conversation(*desk, {.priority = 900});  // R29: served first
    auto german = engine.start_conversation(*desk, {.skills = {"german"}});  // R30: nobody has it
    if (!routine || !urgent || !german) return 1;
    for (auto [name, chat] : {std::pair{"routine", *routine}, std::pair{"urgent", *urgent}, std::pair{"german", *german}})
        if (auto position = engine.queue_position(chat); position && *position)
            fmt::print("{} waits at position {}\n", name, **position);

    // Ana turns available: the urgent conversation comes first, whatever its age.
    if (!engine.set_availability(*ana, *desk, true)) return 1;
    // Ben too: the routine one. The german one waits: no agent has the skill.
    if (!engine.set_availability(*ben, *desk, true)) return 1;
    for (auto chat : {*urgent, *routine, *german}) {
        auto to = engine.offered_to(chat);
        if (!to) return 1;
        fmt::print("{}\n", !*to ? "waiting" : **to == *ana ? "offered to ana" : "offered to ben");
    }

    // Ben takes his; Ana finishes hers. Five minutes on, the german conversation drops its
    // requirement (skills_relaxed) and goes to the one agent with a free slot.
    if (!engine.accept(*routine, *ben) || !engine.accept(*urgent, *ana) || !engine.end_by_agent(*urgent, *ana) ||
        !engine.resolve(*urgent, *ana, "Done"))
        return 1;
    clock.advance(5min);
    if (auto fired = engine.advance(); !fired) return 1;
    auto to = engine.offered_to(*german);
    if (!to || !*to) return 1;
    fmt::print("after relaxing: german offered to {}\n", **to == *ana ? "ana" : "ben");

    auto queue = engine.queue(*desk);
    if (!queue) return 1;
    fmt::print("queue: {} waiting, {} agents free\n", queue->waiting, queue->available_agents);
    return 0;
}
