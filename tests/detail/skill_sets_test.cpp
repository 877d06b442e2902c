#include <chatroute/detail/skill_sets.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using chatroute::detail::no_skills;
using chatroute::detail::SkillSets;

namespace {
using Names = std::vector<std::string>;
}

TEST_CASE("skill sets: one index per set of names, in any order; covers is set inclusion [R30]", "[detail][R30]") {
    SkillSets skills;
    const auto billing_fr = skills.acquire(Names{"fr", "billing"});
    const auto fr_billing = skills.acquire(Names{"billing", "fr"});
    CHECK(billing_fr == fr_billing);
    const auto fr = skills.acquire(Names{"fr"});
    const auto de = skills.acquire(Names{"de"});
    CHECK(skills.covers(billing_fr, fr));
    CHECK_FALSE(skills.covers(fr, billing_fr));
    CHECK_FALSE(skills.covers(billing_fr, de));
    CHECK(skills.covers(de, no_skills));  // nothing required: anyone
    CHECK(skills.names(billing_fr) == Names{"billing", "fr"});
    CHECK(skills.size(billing_fr) == 2);
}

TEST_CASE("skill sets: released sets and names are forgotten; memory follows what is in use [R38]",
          "[detail][R38]") {
    SkillSets skills;
    const auto kept = skills.acquire(Names{"kept"});
    const auto baseline = skills.memory_bytes();
    for (int i = 0; i < 10'000; ++i) {
        const auto set = skills.acquire(Names{"skill-" + std::to_string(i), "kept"});
        CHECK(skills.covers(set, kept));
        skills.release(set);
    }
    CHECK(skills.memory_bytes() < baseline + 4096);
    CHECK(skills.names(kept) == Names{"kept"});
}

TEST_CASE("skill sets: a set lives while any holder keeps a reference [R30]", "[detail][R30]") {
    SkillSets skills;
    const auto a = skills.acquire(Names{"x", "y"});
    const auto b = skills.acquire(Names{"y", "x"});  // the same set, a second reference
    skills.release(a);
    CHECK(skills.names(b) == Names{"x", "y"});
    const auto c = skills.acquire(Names{"x", "y"});
    CHECK(c == b);  // still interned: found, not made again
    skills.release(b);
    skills.release(c);
    const auto other = skills.acquire(Names{"z"});
    CHECK(skills.names(other) == Names{"z"});
}
