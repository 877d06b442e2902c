// The simulator's routing and control knobs (SPEC R28-R34): strategies and their
// side-by-side comparison, priorities and skills, transfers, silent assignees caught by the
// response timeout, returns after a miss.

#include "cli.hpp"
#include "mmc.hpp"
#include "report.hpp"
#include "simulation.hpp"
#include "summary.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using namespace chatroute::sim;
using chatroute::EndReason;

namespace {

std::uint64_t ended_total(const Results& r) {
    std::uint64_t total = 0;
    for (std::uint64_t n : r.ended) total += n;
    return total;
}

// Every conversation ends once; the engine refused nothing.
void check_books(const Results& r) {
    CHECK(r.engine_errors == 0);
    CHECK(r.first_engine_error.empty());
    CHECK(ended_total(r) == r.started);
    CHECK(r.customers.size() == r.started);
    CHECK(r.waits.size() == r.accepted);
    CHECK(r.requeue_waits.size() == r.reaccepted);
    for (const CustomerRecord& c : r.customers) CHECK(c.ended);
}

std::string parse_error(std::vector<std::string> args) {
    try {
        parse_command_line(args);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "(no error)";
}

// A quiet desk where no customer leaves and nothing times out by accident.
Scenario calm_desk(double rate, int agents, double handle, double hours, std::uint64_t seed) {
    Scenario s = mmc_scenario({rate, agents, handle, 0}, hours, seed);
    return s;
}

}  // namespace

TEST_CASE("compare-strategies runs the same day under each strategy, one row each", "[R28][sim]") {
    const Options o = parse_command_line({"--compare-strategies", "--hours", "8", "--traffic", "1.4"});
    REQUIRE(o.compare_strategies);
    const std::vector<StrategyRun> runs = compare_strategies(o.scenario);
    REQUIRE(runs.size() == 4);
    const std::vector<std::string> expected{"round_robin", "least_active", "most_available", "least_recent"};
    for (std::size_t i = 0; i < runs.size(); ++i) {
        INFO(runs[i].strategy);
        CHECK(runs[i].strategy == expected[i]);
        for (const SpaceSpec& sp : runs[i].results.scenario.spaces) CHECK(sp.strategy == expected[i]);
        check_books(runs[i].results);
        // Same seed, same arrivals: the same customers at the same instants in the same spaces.
        const Results& a = runs.front().results;
        const Results& b = runs[i].results;
        REQUIRE(b.started == a.started);
        for (std::size_t k = 0; k < a.customers.size(); ++k) {
            CHECK(b.customers[k].started_us == a.customers[k].started_us);
            CHECK(b.customers[k].space == a.customers[k].space);
            CHECK(b.customers[k].handoff == a.customers[k].handoff);
        }
    }
    // The strategy reaches the engine: not every run routes the same way.
    bool differ = false;
    for (const StrategyRun& run : runs) differ |= run.results.waits != runs.front().results.waits;
    CHECK(differ);
    // One row per strategy in the table, the JSON, the CSV and the report.
    const std::string table = comparison_text(runs);
    for (const std::string& name : expected) CHECK_THAT(table, Catch::Contains("  " + name + " "));
    const auto json = comparison_json(runs);
    REQUIRE(json["strategies"].size() == 4);
    CHECK(json["strategies"][1]["strategy"] == "least_active");
    CHECK(json["strategies"][1]["conversations"]["started"] == runs[1].results.started);
    const std::string csv = comparison_csv(runs);
    CHECK(csv.rfind("strategy,start_s,", 0) == 0);
    CHECK_THAT(csv, Catch::Contains("\nleast_recent,0,"));
    const std::string html = comparison_html(runs);
    CHECK_THAT(html, Catch::Contains("Time to accept, answered conversations (seconds)"));
    CHECK_THAT(html, Catch::Contains("<td>most_available</td>"));
}

TEST_CASE("A space's strategy decides who gets the conversation", "[R28][sim]") {
    // Two agents, limits 1 and 5, a trickle of short chats: most_available always prefers
    // the one with five free slots; round robin takes turns.
    Scenario s = calm_desk(2, 1, 60, 200, 3);
    s.agents.resize(2, s.agents.front());
    s.agents[0].name = "small", s.agents[0].count = 1, s.agents[0].limit = 1;
    s.agents[1].name = "big", s.agents[1].count = 1, s.agents[1].limit = 5;
    s.behaviour.handle_time_distribution = "fixed";
    s.spaces[0].strategy = "most_available";
    const Results most = simulate(s);
    check_books(most);
    CHECK(most.accepted > 300);
    CHECK(most.agents[0].accepted == 0);
    CHECK(most.agents[1].accepted == most.accepted);
    s.spaces[0].strategy = "round_robin";
    const Results turns = simulate(s);
    CHECK(turns.agents[0].accepted > turns.accepted / 3);
    CHECK(turns.agents[1].accepted > turns.accepted / 3);
}

TEST_CASE("Classes of conversations: priority goes first, skills pick the agent, relaxing lets go", "[R29][R30][sim]") {
    Scenario s = default_scenario();
    s.hours = 12;
    s.traffic = 1.8;  // a queue forms: priority has something to overtake
    SpaceSpec& general = s.spaces[0];
    general.classes = {ConversationClass{.name = "vip", .share = 0.1, .priority = 1000},
                       ConversationClass{.name = "french", .share = 0.15, .priority = 0, .skills = {"french"}}};
    s.agents[1].skills = {"french"};  // "day" speaks French, nobody else does
    const Results r = simulate(s);
    check_books(r);
    CHECK(r.with_class > 0);
    std::vector<double> vip, plain;
    for (const CustomerRecord& c : r.customers) {
        if (!c.answered()) continue;
        if (c.space == 0 && c.klass == 0) vip.push_back(c.wait_seconds());
        if (c.klass < 0) plain.push_back(c.wait_seconds());
        if (c.space == 0 && c.klass == 1) {
            INFO("a French conversation answered by " << r.agents[c.assignee].name);
            CHECK(r.agents[c.assignee].group == "day");
        }
    }
    const auto mean = [](const std::vector<double>& v) {
        double sum = 0;
        for (double x : v) sum += x;
        return v.empty() ? 0.0 : sum / static_cast<double>(v.size());
    };
    REQUIRE(vip.size() > 50);
    CHECK(mean(vip) < mean(plain) / 2);
    const auto classes = class_summaries(r);
    REQUIRE(classes.size() == 2);
    CHECK(classes[0].label == "general/vip");
    CHECK(classes[0].priority == 1000);
    CHECK_THAT(summary_text(r), Catch::Contains("general/french (priority 0)"));

    SECTION("a skill nobody has: unanswered unless the requirement relaxes") {
        Scenario t = calm_desk(30, 4, 300, 24, 5);
        t.spaces[0].classes = {ConversationClass{.name = "klingon", .share = 0.2, .skills = {"klingon"}}};
        t.spaces[0].accept_window = 600;
        const Results never = simulate(t);
        check_books(never);
        std::uint64_t klingon = 0;
        for (const CustomerRecord& c : never.customers) {
            if (c.klass != 0) continue;
            ++klingon;
            CHECK(!c.answered());
            CHECK(c.end == EndReason::no_agent);
        }
        CHECK(klingon > 50);
        CHECK(never.skills_relaxed == 0);
        t.spaces[0].skills_relax_after = 120;
        const Results relaxed = simulate(t);
        check_books(relaxed);
        CHECK(relaxed.skills_relaxed > 50);
        for (const CustomerRecord& c : relaxed.customers) {
            if (c.klass != 0 || !c.answered()) continue;
            CHECK(c.wait_seconds() >= 120);
        }
    }
}

TEST_CASE("Transfers between spaces are counted and answered again", "[R32][sim]") {
    Scenario s = default_scenario();
    s.hours = 12;
    for (SpaceSpec& sp : s.spaces) sp.transfer_share = 0.2;
    const Results r = simulate(s);
    check_books(r);
    CHECK(r.transfers > r.accepted / 10);
    CHECK(r.transfers < r.accepted / 4);
    CHECK(r.transfers_own_space == 0);  // "another space at random"
    CHECK(r.reaccepted > 0);
    CHECK(r.reaccepted + r.ended_after_transfer_unanswered <= r.transfers);
    // R32: whoever accepts a transferred conversation gets the transcript, handoff or not.
    std::uint64_t answered_handoffs = 0;
    for (const CustomerRecord& c : r.customers) answered_handoffs += c.handoff && c.answered();
    CHECK(r.transcripts == answered_handoffs + r.reaccepted);
    CHECK_THAT(summary_text(r), Catch::Contains("transferred by the assignee (R32)"));
    CHECK_THAT(report_html(r), Catch::Contains("Transfers, requeues and returns"));

    SECTION("to the space's own name: a requeue") {
        for (SpaceSpec& sp : s.spaces) sp.transfer_to = sp.name;
        const Results own = simulate(s);
        check_books(own);
        CHECK(own.transfers > 0);
        CHECK(own.transfers_own_space == own.transfers);
    }
}

TEST_CASE("Silent assignees: the customer gives up, unless the response timeout catches them", "[R33][sim]") {
    Scenario s = default_scenario();
    s.hours = 12;
    s.behaviour.silent_agent_probability = 0.1;
    const Results before = simulate(s);
    check_books(before);
    CHECK(before.silent_agent_conversations > 50);
    CHECK(before.silent_agent_customer_ends > 0);
    CHECK(before.unresponsive_requeues == 0);

    for (SpaceSpec& sp : s.spaces) sp.assignee_response_timeout = 300;
    const Results after = simulate(s);
    check_books(after);
    CHECK(after.unresponsive_requeues > 0);
    CHECK(after.unresponsive_silent > 0);
    CHECK(after.unresponsive_silent <= after.unresponsive_requeues);
    CHECK(after.silent_agent_customer_ends < before.silent_agent_customer_ends);
    CHECK(after.reaccepted > 0);
    // The assignee is set unavailable as for a missed offer (all_spaces: every space of theirs).
    CHECK(after.unresponsive_unavailable >= after.unresponsive_requeues);
    std::uint64_t per_agent = 0;
    for (const AgentResult& a : after.agents) per_agent += a.unresponsive;
    CHECK(per_agent == after.unresponsive_requeues);
    CHECK_THAT(summary_text(after), Catch::Contains("requeued: assignee unresponsive (R33)"));
}

TEST_CASE("Agents come back by themselves after a miss when the site says so", "[R34][sim]") {
    Scenario s = default_scenario();
    s.hours = 12;
    s.behaviour.miss_probability = 0.1;
    s.behaviour.away_after_miss = 3600;  // slow to notice
    const Results before = simulate(s);
    check_books(before);
    CHECK(before.auto_returns == 0);
    s.missed_offer_return_after = 60;
    const Results after = simulate(s);
    check_books(after);
    CHECK(after.auto_returns > 0);
    CHECK(after.auto_returns <= after.missed_unavailable);
    CHECK(after.mean_available_agents > before.mean_available_agents);
    CHECK_THAT(summary_text(after), Catch::Contains("auto-returns after a miss (R34)"));
}

TEST_CASE("The default day shows none of it, and the new knobs are checked", "[R28][R29][R30][R32][R33][R34][sim]") {
    const Results r = simulate([] {
        Scenario s = default_scenario();
        s.hours = 6;
        return s;
    }());
    CHECK(r.transfers + r.unresponsive_requeues + r.auto_returns + r.with_class + r.reaccepted == 0);
    CHECK_THAT(summary_text(r), !Catch::Contains("Transfers, requeues"));
    CHECK_THAT(summary_text(r), !Catch::Contains("strategy"));

    CHECK_THAT(parse_error({"--strategy", "fastest"}),
               Catch::Contains("spaces[0].strategy must be \"round_robin\", \"least_active\", \"most_available\" or "
                               "\"least_recent\" (got \"fastest\") [from --strategy]"));
    CHECK_THAT(parse_error({"--transfer", "1.5"}), Catch::Contains("spaces[0].transfer_share must be a probability"));
    CHECK_THAT(parse_error({"--response-timeout", "-1"}),
               Catch::Contains("spaces[0].assignee_response_timeout must be at least 0"));
    CHECK_THAT(parse_error({"--auto-return", "-5"}), Catch::Contains("missed_offer_return_after must be at least 0"));
    CHECK_THAT(parse_error({"--silent-agents", "2"}), Catch::Contains("behaviour.silent_agent_probability"));
    CHECK_THAT(parse_error({"--compare-strategies=yes"}), Catch::Contains("--compare-strategies takes no value"));
    const auto with_config = [](const std::string& text) {
        const std::string path = "chatroute_sim_test_control.json";
        std::ofstream(path) << text;
        std::string error = parse_error({"--config", path});
        std::remove(path.c_str());
        return error;
    };
    CHECK_THAT(with_config(R"({"spaces": [{"name": "a", "classes": [{"share": 0.7}, {"share": 0.4}]}]})"),
               Catch::Contains("spaces[0].classes: the shares add up to more than 1"));
    CHECK_THAT(with_config(R"({"spaces": [{"name": "a", "classes": [{"share": 0.1, "priority": 1001}]}]})"),
               Catch::Contains("spaces[0].classes[0].priority must be between 0 and 1000 (got 1001)"));
    CHECK_THAT(with_config(R"({"spaces": [{"name": "a", "classes": [{"share": 0.1, "priority": 2.5}]}]})"),
               Catch::Contains("spaces[0].classes[0].priority must be a whole number"));
    CHECK_THAT(with_config(R"({"agents": [{"skills": ["fr", "fr"]}]})"),
               Catch::Contains("agents[0].skills lists \"fr\" twice"));
    CHECK_THAT(with_config(R"({"agents": [{"skills": [""]}]})"), Catch::Contains("agents[0].skills must be names of 1 to 64"));
    CHECK_THAT(with_config(R"({"spaces": [{"name": "a", "transfer_to": "b"}]})"),
               Catch::Contains("spaces[0].transfer_to names an unknown space \"b\""));
    CHECK_THAT(with_config(R"({"spaces": [{"name": "a", "classes": [{"shares": 0.1}]}]})"),
               Catch::Contains("unknown key spaces[0].classes[0].shares"));
}
