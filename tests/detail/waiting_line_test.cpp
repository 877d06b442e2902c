#include <chatroute/detail/waiting_line.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using chatroute::detail::ConvIx;
using chatroute::detail::no_skills;
using chatroute::detail::SkillSets;
using chatroute::detail::SpaceIx;
using chatroute::detail::WaitingLine;

namespace {
// wait keys as ConversationRecord::wait_key() makes them: priority first, then age.
std::uint64_t key(std::uint16_t priority, std::uint64_t serial) { return (std::uint64_t(1000 - priority) << 53) | serial; }

std::vector<std::uint32_t> dirty_heads(WaitingLine& line) {
    std::vector<WaitingLine::Head> heads;
    line.take_dirty(heads);
    std::vector<std::uint32_t> out;
    for (const auto& h : heads) out.push_back(h.conversation.value);
    return out;
}
}  // namespace

TEST_CASE("waiting line: each group serves by priority, then age [R10][R29]", "[detail][R10][R29]") {
    WaitingLine line;
    line.add_space();
    const SpaceIx s{0};
    line.enqueue(s, no_skills, key(0, 1), 100, ConvIx{1});
    line.enqueue(s, no_skills, key(0, 2), 200, ConvIx{2});
    line.enqueue(s, no_skills, key(5, 3), 300, ConvIx{3});
    CHECK(line.head(s, no_skills)->conversation == ConvIx{3});  // priority 5 first
    CHECK(line.position(s, key(0, 1)) == 2);
    CHECK(line.position(s, key(0, 2)) == 3);
    CHECK(line.waiting(s) == 3);
    CHECK(line.oldest_start_us(s) == 100);  // R37: the oldest start, whatever the priority
    line.dequeue(s, no_skills, key(5, 3));
    CHECK(line.head(s, no_skills)->conversation == ConvIx{1});
    CHECK(line.position(s, key(0, 2)) == 2);
}

TEST_CASE("waiting line: R37's position counts every group of the space, not only its own [R37][R30]",
          "[detail][R37][R30]") {
    SkillSets skills;
    const auto fr = skills.acquire(std::vector<std::string>{"fr"});
    WaitingLine line;
    line.add_space();
    line.add_space();
    const SpaceIx s{0}, other{1};
    line.enqueue(s, no_skills, key(0, 2), 20, ConvIx{2});
    line.enqueue(s, fr, key(0, 1), 10, ConvIx{1});
    line.enqueue(s, fr, key(0, 3), 30, ConvIx{3});
    line.enqueue(other, no_skills, key(9, 4), 5, ConvIx{4});  // another space: never counted
    CHECK(line.position(s, key(0, 3)) == 3);
    CHECK(line.position(s, key(0, 2)) == 2);
    CHECK(line.waiting(s) == 3);
    CHECK(line.oldest_start_us(s) == 10);
    CHECK(line.oldest_start_us(other) == 5);
}

TEST_CASE("waiting line: only groups marked since the last routing are candidates [R10][R30]", "[detail][R10][R30]") {
    SkillSets skills;
    const auto fr = skills.acquire(std::vector<std::string>{"fr"});
    const auto de = skills.acquire(std::vector<std::string>{"de"});
    WaitingLine line;
    line.add_space();
    const SpaceIx s{0};
    line.enqueue(s, fr, key(0, 1), 1, ConvIx{1});
    line.enqueue(s, de, key(0, 2), 2, ConvIx{2});
    CHECK(dirty_heads(line).size() == 2);  // each joined: both marked
    CHECK(dirty_heads(line).empty());      // marks cleared
    line.agent_arrived(s, fr, skills);     // an agent holding fr: only the fr group may route
    CHECK(dirty_heads(line) == std::vector<std::uint32_t>{1});
    line.agent_arrived(s, no_skills, skills);  // an agent with no skills covers neither
    CHECK(dirty_heads(line).empty());
}

TEST_CASE("waiting line: a group that empties and refills, and a space's first waiter, allocate nothing new [R38]",
          "[detail][R38]") {
    WaitingLine line;
    for (int i = 0; i < 50; ++i) line.add_space();
    line.reserve(100);
    const auto bytes = line.memory_bytes();
    for (std::uint32_t round = 0; round < 100; ++round) {
        const SpaceIx s{round % 50};
        line.enqueue(s, no_skills, key(0, round + 1), round, ConvIx{round});
        (void)dirty_heads(line);
        line.dequeue(s, no_skills, key(0, round + 1));
    }
    CHECK(line.memory_bytes() == bytes);
}
