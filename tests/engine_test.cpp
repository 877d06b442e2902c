#include "support.hpp"

#include <catch2/catch.hpp>

using namespace chatroute;
using namespace chatroute::test;

TEST_CASE("a conversation is offered, accepted, ended and resolved [R11] [R20] [R22]", "[R11][R20][R22]") {
    Desk desk;
    SpaceId s = desk.space();
    AgentId a = desk.ready_agent(s);
    desk.take();
    ConversationId c = desk.engine.start_conversation(s).value();
    CHECK(desk.take() == std::vector<std::string>{
                             "conversation_started{at=0, conversation=#0, space=#0, handoff=false}",
                             "offered{at=0, conversation=#0, agent=#0, space=#0, expires_at=120}"});
    desk.wait(10s);
    REQUIRE(desk.engine.accept(c, a));
    CHECK(desk.names() == std::vector<std::string>{"accepted", "status_changed"});
    REQUIRE(desk.engine.end_by_agent(c, a));
    REQUIRE(desk.engine.resolve(c, a, "Done"));
    CHECK(desk.names() == std::vector<std::string>{"conversation_ended", "status_changed", "resolved", "status_changed",
                                                   "slot_released"});
    CHECK(desk.engine.status(c).value() == Status::closed);
    desk.check();
}
