#include <chatroute/detail/conversation_table.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

using chatroute::ConversationId;
using chatroute::Status;
using chatroute::detail::ConversationTable;
using chatroute::detail::ConvIx;
using Lookup = ConversationTable::Lookup;

namespace {
constexpr std::uint32_t site = 5;

void close(ConversationTable& table, ConvIx c) {
    table[c].status = Status::closed;
    table.release(c);
}
}  // namespace

TEST_CASE("conversation table: a closed conversation's handle never names the slot's next conversation [R23][R38]",
          "[detail][R23][R38]") {
    ConversationTable table;
    const ConvIx first = table.allocate();
    const ConversationId old = table.handle(first, site);
    CHECK(table.find(old, site) == Lookup::live);
    close(table, first);
    CHECK(table.find(old, site) == Lookup::closed);

    const ConvIx reused = table.allocate();  // the most recently freed slot is reused
    CHECK(reused == first);
    const ConversationId fresh = table.handle(reused, site);
    CHECK(fresh.index == old.index);
    CHECK(fresh.serial != old.serial);
    CHECK(table.find(fresh, site) == Lookup::live);
    CHECK(table.find(old, site) == Lookup::closed);  // still closed, not the new one
}

TEST_CASE("conversation table: handles of another site, of the future or out of range are unknown [R27]",
          "[detail][R27]") {
    ConversationTable table;
    const ConvIx c = table.allocate();
    const ConversationId id = table.handle(c, site);
    CHECK(table.find(ConversationId{id.index, site + 1, id.serial}, site) == Lookup::unknown);
    CHECK(table.find(ConversationId{id.index, site, id.serial + 1}, site) == Lookup::unknown);  // not started yet
    CHECK(table.find(ConversationId{id.index, site, 0}, site) == Lookup::unknown);
    CHECK(table.find(ConversationId{id.index + 1, site, id.serial}, site) == Lookup::unknown);
}

TEST_CASE("conversation table: serials are start numbers, so age order survives slot reuse [R10][R29]",
          "[detail][R10][R29]") {
    ConversationTable table;
    std::vector<ConvIx> live;
    for (int i = 0; i < 10; ++i) live.push_back(table.allocate());
    for (int i = 0; i < 10; i += 2) close(table, live[static_cast<std::size_t>(i)]);
    CHECK(table.live() == 5);
    CHECK(table.slots() == 10);  // memory follows the live high-water mark, not the starts
    const ConvIx later = table.allocate();
    CHECK(table.started() == 11);
    CHECK(table[later].serial == 11);
    for (int i = 1; i < 10; i += 2) CHECK(table[live[static_cast<std::size_t>(i)]].serial < table[later].serial);
    // R29: a higher priority comes first whatever the age; at equal priority, the older.
    table[later].priority = 3;
    CHECK(table[later].wait_key() < table[live[1]].wait_key());
    table[later].priority = 0;
    CHECK(table[live[1]].wait_key() < table[later].wait_key());
}

TEST_CASE("conversation table: churn of 100,000 conversations keeps the table at its live size [R38]",
          "[detail][R38]") {
    ConversationTable table;
    std::vector<ConvIx> live;
    for (int i = 0; i < 100; ++i) live.push_back(table.allocate());
    for (int round = 0; round < 1000; ++round)
        for (ConvIx& c : live) {
            close(table, c);
            c = table.allocate();
        }
    CHECK(table.slots() == 100);
    CHECK(table.live() == 100);
    CHECK(table.started() == 100 + 100'000);
}
