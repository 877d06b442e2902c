// The README's opening example, compiled and checked, so it never rots.
#include <chatroute/chatroute.hpp>

#include <catch2/catch.hpp>

TEST_CASE("the README example routes one conversation to closed [R11] [R20] [R22]", "[R11][R20][R22][readme]") {
    chatroute::ManualClock clock;
    chatroute::RecordingSink events;
    chatroute::Engine engine{clock, events};

    auto billing = engine.add_space().value();
    auto ana = engine.add_agent({.limit = 2}).value();
    REQUIRE(engine.grant_role(ana, billing));
    REQUIRE(engine.set_availability(ana, billing, true));

    auto chat = engine.start_conversation(billing).value();
    REQUIRE(engine.accept(chat, ana));
    REQUIRE(engine.end_by_agent(chat, ana));
    REQUIRE(engine.resolve(chat, ana, "Done"));

    CHECK(engine.status(chat).value() == chatroute::Status::closed);
    CHECK(engine.load(ana).value() == chatroute::Load{0, 0, 2});
    CHECK(chatroute::event_name(events.events.back()) == "slot_released");
}
