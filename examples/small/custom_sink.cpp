// A custom event sink: any callable that takes every event type. Here an overload set,
// one lambda per event the host cares about and a generic one for the rest. The sink
// runs inside the command; a command called from inside it is refused with
// reentrant_call, so the host queues what it wants to do and runs it afterwards.
#include <chatroute/chatroute.hpp>

#include <fmt/format.h>

#include <optional>

template <class... F>
struct Overloaded : F... {
    using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;  // Clang 14 does not deduce aggregates by itself

struct Pending {  // what the host will do once the command returns
    std::optional<std::pair<chatroute::ConversationId, chatroute::AgentId>> accept;
};

int main() {
    chatroute::ManualClock clock;
    Pending pending;
    int others = 0;
    auto sink = Overloaded{
        [&](const chatroute::events::Offered& e) {
            fmt::print("offered {} to agent {} until {} s\n", e.conversation, e.agent, e.expires_at);
            pending.accept = {e.conversation, e.agent};  // auto-accept, after the command
        },
        [](const chatroute::events::Accepted& e) { fmt::print("agent {} accepted {}\n", e.agent, e.conversation); },
        [](const chatroute::events::StatusChanged& e) {
            fmt::print("{}: {} -> {}\n", e.conversation, e.from, e.to);
        },
        [&](const auto&) { ++others; },  // every other event
    };
    static_assert(chatroute::EventSink<decltype(sink)>);
    chatroute::Engine engine{clock, sink};

    auto space = engine.add_space();
    auto ana = engine.add_agent();
    if (!space || !ana) return 1;
    if (!engine.grant_role(*ana, *space) || !engine.set_availability(*ana, *space, true)) return 1;
    if (!engine.start_conversation(*space)) return 1;

    if (pending.accept) {
        auto [chat, agent] = *pending.accept;
        if (auto r = engine.accept(chat, agent); !r) return fmt::print(stderr, "accept: {}\n", r.error()), 1;
    }
    fmt::print("{} other events\n", others);
    return 0;
}
