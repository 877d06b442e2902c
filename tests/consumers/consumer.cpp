// The consumer every way of using chatroute builds (find_package, add_subdirectory,
// FetchContent, pkg-config): routes one conversation from start to closed.
#include <chatroute/chatroute.hpp>

#include <fmt/format.h>

int main() {
    chatroute::ManualClock clock;
    chatroute::RecordingSink sink;
    chatroute::Engine engine{clock, sink};

    const chatroute::SpaceId space = engine.add_space().value();
    const chatroute::AgentId agent = engine.add_agent().value();
    const auto routed =
        engine.grant_role(agent, space)
            .and_then([&] { return engine.set_availability(agent, space, true); })
            .and_then([&] { return engine.start_conversation(space); })
            .and_then([&](chatroute::ConversationId conversation) {
                return engine.accept(conversation, agent)
                    .and_then([&] { return engine.end_by_agent(conversation, agent); })
                    .and_then([&] { return engine.resolve(conversation, agent, "Done"); })
                    .and_then([&] { return engine.status(conversation); });
            });
    for (const chatroute::Event& event : sink.events) fmt::print("{}\n", event);
    if (!routed) {
        fmt::print(stderr, "failed: {}\n", chatroute::message(routed.error()));
        return 1;
    }
    return *routed == chatroute::Status::closed ? 0 : 1;
}
