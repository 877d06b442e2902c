#include <chatroute/detail/slot_ledger.hpp>

#include <catch2/catch.hpp>

#include <vector>

using chatroute::detail::AgentIx;
using chatroute::detail::ConversationTable;
using chatroute::detail::ConvIx;
using chatroute::detail::MemberIx;
using chatroute::detail::SlotLedger;

TEST_CASE("slot ledger: an offer holds a slot; accepting keeps it, declining frees it [R8][R11][R12]",
          "[detail][R8][R11][R12]") {
    ConversationTable table;
    SlotLedger ledger;
    ledger.add_agent(2);
    const AgentIx a{0};
    const MemberIx m{0};
    const ConvIx c1 = table.allocate(), c2 = table.allocate();
    ledger.add_offer(table, c1, a, m);
    ledger.add_offer(table, c2, a, m);
    CHECK(ledger.load(a).used() == 2);
    CHECK_FALSE(ledger.load(a).has_room());  // R8: two pending offers fill a limit of 2
    CHECK(ledger.slots(m).count == 2);
    CHECK(table[c1].offered_to == a);

    ledger.remove_offer(table, c1, m, true);  // accepted: the slot stays, now assigned
    CHECK(ledger.load(a).assigned == 1);
    CHECK(ledger.load(a).pending == 1);
    CHECK(ledger.slots(m).count == 2);
    CHECK(table[c1].offered_to.none());

    ledger.remove_offer(table, c2, m, false);  // declined: the slot is free again
    CHECK(ledger.load(a).used() == 1);
    CHECK(ledger.slots(m).count == 1);
    CHECK(ledger.load(a).has_room());

    ledger.release_assigned(a, m);  // resolved (R22)
    CHECK(ledger.load(a).used() == 0);
    CHECK(ledger.slots(m).empty());
}

TEST_CASE("slot ledger: pending offers in a space are kept oldest first, whatever leaves [R14]", "[detail][R14]") {
    ConversationTable table;
    SlotLedger ledger;
    ledger.add_agent(10);
    const AgentIx a{0};
    const MemberIx m{3};
    std::vector<ConvIx> offered;
    for (int i = 0; i < 5; ++i) {
        offered.push_back(table.allocate());
        ledger.add_offer(table, offered.back(), a, m);
    }
    ledger.remove_offer(table, offered[2], m, false);  // from the middle
    ledger.remove_offer(table, offered[0], m, false);  // the head
    std::vector<ConvIx> order;
    for (ConvIx c = ledger.slots(m).offers_head; c.some(); c = table[c].offer_next) order.push_back(c);
    CHECK(order == std::vector<ConvIx>{offered[1], offered[3], offered[4]});
    CHECK(ledger.slots(m).offers_tail == offered[4]);
}

TEST_CASE("slot ledger: a space limit counts the space's offers and assignments only [R31]", "[detail][R31]") {
    ConversationTable table;
    SlotLedger ledger;
    ledger.add_agent(5);
    const AgentIx a{0};
    const MemberIx sales{0}, support{1};
    (void)ledger.slots(support);  // memberships get their slots when made (Engine::ensure_member)
    ledger.slots(sales).limit = 1;
    ledger.add_offer(table, table.allocate(), a, sales);
    CHECK_FALSE(ledger.has_room(a, sales));  // R31: at the space's limit
    CHECK(ledger.has_room(a, support));      // the overall limit still has room
    ledger.slots(sales).limit = chatroute::detail::nil;
    CHECK(ledger.has_room(a, sales));  // null: no space limit
    // R28 most_available: free slots against the overall limit, negative after lowering it.
    ledger.load(a).limit = 0;
    CHECK(ledger.load(a).free() == -1);
}
