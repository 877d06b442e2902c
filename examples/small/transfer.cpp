// Transfer (R32): the assignee hands an active conversation to another space (or back
// to its own: a requeue), optionally to one agent there. It waits again, keeping its
// age and priority; the agent who accepts it gets the transcript.
#include <chatroute/chatroute.hpp>

#include <fmt/format.h>

int main() {
    chatroute::ManualClock clock;
    chatroute::RecordingSink events;
    chatroute::Engine engine{clock, events};

    auto billing = engine.add_space();
    auto tech = engine.add_space();
    auto ana = engine.add_agent();  // billing
    auto tom = engine.add_agent();  // tech
    auto tia = engine.add_agent();  // tech
    if (!billing || !tech || !ana || !tom || !tia) return 1;
    for (auto [agent, space] : {std::pair{*ana, *billing}, std::pair{*tom, *tech}, std::pair{*tia, *tech}})
        if (!engine.grant_role(agent, space) || !engine.set_availability(agent, space, true)) return 1;

    auto chat = engine.start_conversation(*billing);
    if (!chat || !engine.accept(*chat, *ana)) return 1;

    // Only the assignee may transfer: tom, of another space, is refused.
    if (auto r = engine.transfer(*chat, *tom, *tech); !r) fmt::print("tom transfers: {}\n", r.error());

    events.events.clear();
    // Ana sends it to tech, asking for tia by name (else tech's strategy would choose).
    if (auto r = engine.transfer(*chat, *ana, *tech, *tia); !r) return fmt::print(stderr, "{}\n", r.error()), 1;
    if (auto r = engine.accept(*chat, *tia); !r) return fmt::print(stderr, "accept: {}\n", r.error()), 1;
    for (const chatroute::Event& event : events.events) fmt::print("{}\n", event);

    auto load = engine.load(*ana);
    if (!load) return 1;
    fmt::print("ana's slots: {} assigned\n", load->assigned);
    return 0;
}
