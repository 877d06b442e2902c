// The README's opening example, compiled and checked, so it never rots: the same calls,
// checked the way the README checks them (`if (!r)`, `r.error()`, `*r`; no `.value()`).
#include <chatroute/chatroute.hpp>

#include <catch2/catch.hpp>

TEST_CASE("the README example routes one conversation to closed [R11] [R20] [R22]", "[R11][R20][R22][readme]") {
    chatroute::ManualClock clock;
    chatroute::RecordingSink events;
    chatroute::Engine engine{clock, events};

    auto billing = engine.add_space();
    auto ana = engine.add_agent({.limit = 2});
    REQUIRE((billing && ana));
    REQUIRE(engine.grant_role(*ana, *billing));
    REQUIRE(engine.set_availability(*ana, *billing, true));

    auto chat = engine.start_conversation(*billing);
    REQUIRE(chat);
    auto offered = engine.offered_to(*chat);  // offered to ana at once
    REQUIRE(offered);
    CHECK(*offered == std::optional{*ana});
    REQUIRE(engine.accept(*chat, *ana));
    REQUIRE(engine.end_by_agent(*chat, *ana));
    REQUIRE(engine.resolve(*chat, *ana, "Done"));

    CHECK(engine.status(*chat) == chatroute::Status::closed);
    CHECK(engine.load(*ana) == chatroute::Load{0, 0, 2});
    CHECK(chatroute::event_name(events.events.back()) == "slot_released");
}

TEST_CASE("the README's mistyped resolution is refused and keeps the slot held [R22] [R27]", "[R22][R27][readme]") {
    chatroute::ManualClock clock;
    chatroute::RecordingSink events;
    chatroute::Engine engine{clock, events};
    auto billing = engine.add_space();
    auto ana = engine.add_agent({.limit = 1});
    REQUIRE((billing && ana));
    REQUIRE(engine.grant_role(*ana, *billing));
    REQUIRE(engine.set_availability(*ana, *billing, true));
    auto chat = engine.start_conversation(*billing);
    REQUIRE(chat);
    REQUIRE(engine.accept(*chat, *ana));
    REQUIRE(engine.end_by_agent(*chat, *ana));
    const std::size_t before = events.events.size();

    auto done = engine.resolve(*chat, *ana, "done");
    REQUIRE(!done);
    CHECK(done.error() == chatroute::Error::unknown_resolution);
    CHECK(chatroute::message(done.error()) == "no such resolution in the workflow");
    CHECK(events.events.size() == before);  // R27: nothing emitted
    CHECK(engine.status(*chat) == chatroute::Status::wrapping_up);
    CHECK(engine.load(*ana) == chatroute::Load{1, 0, 1});  // the agent's only slot stays held
}
