// The README example: one help desk, one agent, one conversation from start to closed.
// Every command returns a Result (tl::expected<T, chatroute::Error>): test it with
// `if (!r)`, read the error with `r.error()` and the value with `*r`. Commands are
// [[nodiscard]]: a dropped result is a compiler warning, not a silent failure.
#include <chatroute/chatroute.hpp>

#include <fmt/format.h>

#include <cstdio>

int main() {
    chatroute::ManualClock clock;     // or any type with now()
    chatroute::RecordingSink events;  // or any callable taking each event
    chatroute::Engine engine{clock, events};

    auto billing = engine.add_space();
    if (!billing) return fmt::print(stderr, "add_space: {}\n", chatroute::message(billing.error())), 1;
    auto ana = engine.add_agent({.limit = 2});
    if (!ana) return fmt::print(stderr, "add_agent: {}\n", chatroute::message(ana.error())), 1;

    if (auto r = engine.grant_role(*ana, *billing); !r) return fmt::print(stderr, "{}\n", r.error()), 1;
    if (auto r = engine.set_availability(*ana, *billing, true); !r) return fmt::print(stderr, "{}\n", r.error()), 1;

    auto chat = engine.start_conversation(*billing);  // offered to ana at once
    if (!chat) return fmt::print(stderr, "start_conversation: {}\n", chat.error()), 1;

    // Conversation first, then the agent, in every command.
    if (auto r = engine.accept(*chat, *ana); !r) return fmt::print(stderr, "accept: {}\n", r.error()), 1;
    if (auto r = engine.end_by_agent(*chat, *ana); !r) return fmt::print(stderr, "end: {}\n", r.error()), 1;

    // A mistyped resolution is refused, and the work item stays in wrapping up,
    // holding ana's slot, until a resolution from the workflow closes it.
    if (auto r = engine.resolve(*chat, *ana, "done"); !r)
        fmt::print("resolve \"done\": {} ({})\n", r.error(), chatroute::message(r.error()));
    if (auto r = engine.resolve(*chat, *ana, "Done"); !r) return fmt::print(stderr, "resolve: {}\n", r.error()), 1;

    for (const chatroute::Event& event : events.events) fmt::print("{}\n", event);

    auto status = engine.status(*chat);
    if (!status) return 1;
    fmt::print("status: {}\n", *status);  // closed: its handle keeps reading as closed
    return *status == chatroute::Status::closed ? 0 : 1;
}
