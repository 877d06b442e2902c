// libFuzzer: bytes decoded into engine commands over a small site. After every command
// every invariant must hold, and a failed command must have emitted nothing. Timings come
// from the bytes to the microsecond, and one command adds 4,096 spaces at once with
// distinct offer timeouts, so an input can hold past 65,536 distinct durations (R38).
// With the 0.2 engine, the commands of R28–R39 are reached too.

#include <chatroute/chatroute.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#if __has_include(<chatroute/routing_policy.hpp>)
#define CHATROUTE_FUZZ_V2 1
#else
#define CHATROUTE_FUZZ_V2 0
#endif

namespace {

using namespace std::chrono_literals;
using namespace chatroute;

struct Counter {
    std::size_t events = 0;
    bool team_to_customer = false;
    template <class E>
    void operator()(const E& event) {
        ++events;
        if constexpr (requires { event.audience; }) team_to_customer |= (event.audience == Audience::customer &&
                                                                         std::is_same_v<E, events::Note>);
    }
};

class Bytes {
public:
    Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    [[nodiscard]] bool empty() const { return at_ >= size_; }
    std::uint8_t next() { return at_ < size_ ? data_[at_++] : 0; }
    std::uint16_t next16() { return static_cast<std::uint16_t>(next() | (next() << 8)); }
    // A span of time: seconds to hours, to the microsecond, never zero.
    duration span() {
        constexpr std::array<std::int64_t, 4> scales{1, 1'000, 1'000'000, 60'000'000};
        return duration{1 + std::int64_t{next16()} * scales[next() % scales.size()]};
    }
    template <class T>
    const T& pick(const std::vector<T>& items) { return items[next() % items.size()]; }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t at_ = 0;
};

void fail(const char* what) {
    std::fprintf(stderr, "fuzz_commands: %s\n", what);
    std::abort();
}

#if CHATROUTE_FUZZ_V2
// Zero to three skills from a small vocabulary; sometimes a repeated or empty name.
std::vector<std::string> skill_list(Bytes& in) {
    static const std::array<std::string, 5> names{"french", "german", "billing", "vip", ""};
    std::vector<std::string> skills;
    const int count = in.next() % 4;
    for (int i = 0; i < count; ++i) skills.push_back(names[in.next() % names.size()]);
    return skills;
}
#endif

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ManualClock clock;
    Counter sink;
    Engine engine{clock, sink};
    Bytes in(data, size);
    std::vector<SpaceId> spaces{SpaceId{}};
    std::vector<AgentId> agents{AgentId{}};
    std::vector<ConversationId> chats{ConversationId{}};
    const std::array<duration, 9> steps{0s, 1s, 29s, 30s, 119s, 120s, 600s, 1200s, 86400s};
    const std::array<std::string_view, 3> resolutions{"Done", "Unanswered", "Nope"};

    int bulk_left = 17;  // 17 * 4,096 spaces: past 65,536 distinct offer timeouts
    std::int64_t distinct = 0;
    for (int commands = 0; !in.empty() && commands < 400; ++commands) {
        clock.advance(steps[in.next() % steps.size()] + duration{in.next() % 3});
        if (in.next() % 8 == 0) clock.advance(duration{in.next16()});
        (void)engine.advance();
        const std::size_t before = sink.events;
        const std::uint8_t op = in.next() % (CHATROUTE_FUZZ_V2 ? 32 : 22);
        const bool flag = in.next() & 1;
        Result<> result;
        switch (op) {
            case 0: {
                SpaceSettings settings{.is_new = flag};
                settings.timings.offer_timeout = (in.next() % 4) == 0 ? duration{0} : in.span();
                if (in.next() & 1) settings.timings.accept_window = in.span();
                if (in.next() & 1) settings.timings.inactivity_warning = in.span();
                if (in.next() & 1) settings.timings.inactivity_grace = in.span();
                if (in.next() & 1) settings.timings.max_duration = in.span();
#if CHATROUTE_FUZZ_V2
                settings.strategy = Strategy(in.next() % 4);
                settings.no_agent_action = NoAgentAction(in.next() % 2);
                if (in.next() & 1) settings.timings.skills_relax_after = in.span();
                if (in.next() & 1) settings.timings.assignee_response_timeout = in.span();
                if (in.next() & 1) settings.timings.wrap_up_timeout = in.span();
#endif
                auto s = engine.add_space(settings);
                if (s) spaces.push_back(*s);
                result = s ? Result<>{} : tl::unexpected(s.error());
                break;
            }
            case 1: {
                AgentSettings settings{.limit = std::int64_t(in.next() % 5) - 1};
#if CHATROUTE_FUZZ_V2
                settings.skills = skill_list(in);
#endif
                auto a = engine.add_agent(settings);
                if (a) agents.push_back(*a);
                result = a ? Result<>{} : tl::unexpected(a.error());
                break;
            }
            case 2: result = engine.grant_role(in.pick(agents), in.pick(spaces)); break;
            case 3: result = engine.revoke_role(in.pick(agents), in.pick(spaces)); break;
            case 4: result = engine.set_availability(in.pick(agents), in.pick(spaces), flag); break;
            case 5: result = engine.set_availability(in.pick(agents), all_spaces, flag); break;
            case 6: {
#if CHATROUTE_FUZZ_V2
                StartOptions options{.handoff = flag};
                options.priority = std::int64_t(in.next() % 4) * 340 - 1;  // -1, 339, 679, 1019
                if (in.next() & 1) options.priority = in.next() % 3;
                options.skills = skill_list(in);
                if (in.next() & 1) options.preferred_agent = in.pick(agents);
                auto c = engine.start_conversation(in.pick(spaces), options);
#else
                auto c = engine.start_conversation(in.pick(spaces), flag);
#endif
                if (c) chats.push_back(*c);
                result = c ? Result<>{} : tl::unexpected(c.error());
                break;
            }
#if CHATROUTE_FUZZ_V2
            case 7: result = engine.accept(in.pick(chats), in.pick(agents)); break;
            case 8: result = engine.decline(in.pick(chats), in.pick(agents)); break;
#else
            case 7: result = engine.accept(in.pick(agents), in.pick(chats)); break;
            case 8: result = engine.decline(in.pick(agents), in.pick(chats)); break;
#endif
            case 9: result = engine.customer_message(in.pick(chats)); break;
            case 10: result = engine.agent_message(in.pick(chats), in.pick(agents)); break;
            case 11: result = flag ? engine.customer_typing(in.pick(chats)) : engine.agent_typing(in.pick(chats), in.pick(agents)); break;
            case 12: result = flag ? engine.note(in.pick(chats), in.pick(agents)) : engine.follow_up(in.pick(chats), in.pick(agents)); break;
            case 13: result = engine.end_by_customer(in.pick(chats)); break;
            case 14: result = engine.end_by_agent(in.pick(chats), in.pick(agents)); break;
            case 15: result = engine.resolve(in.pick(chats), in.pick(agents), resolutions[in.next() % 3]); break;
            case 16: result = engine.set_limit(in.pick(agents), std::int64_t(in.next() % 5) - 1); break;
            case 17: result = engine.update_site({.plan = Plan(in.next() % 4)}); break;
            case 18: result = engine.update_site({.missed_offer_scope = MissedOfferScope(flag)}); break;
            case 19: {  // many spaces at once, each with its own offer timeout
                if (bulk_left == 0) break;
                --bulk_left;
                for (int k = 0; k < 4096; ++k) {
                    SpaceSettings settings;
                    settings.timings.offer_timeout = 1s + duration{++distinct};
                    auto s = engine.add_space(settings);
                    if (!s) fail("add_space with a fresh timing failed");
                    if (k % 512 == 0) spaces.push_back(*s);
                }
                break;
            }
            case 20: result = flag ? engine.enable_chat(in.pick(spaces)) : engine.disable_chat(in.pick(spaces)); break;
            case 21: clock.advance(in.span()); result = engine.advance().map([](std::size_t) {}); break;
#if CHATROUTE_FUZZ_V2
            case 22: {
                SpaceUpdate update;
                if (in.next() & 1) update.strategy = Strategy(in.next() % 4);
                if (in.next() & 1) update.no_agent_action = NoAgentAction(in.next() % 2);
                if (in.next() & 1) update.fallback_message = flag ? "Back soon." : "";
                result = engine.update_space(in.pick(spaces), update);
                break;
            }
            case 23: {
                std::optional<std::int64_t> limit;
                if (flag) limit = std::int64_t(in.next() % 4) - 1;
                result = engine.set_space_limit(in.pick(agents), in.pick(spaces), limit);
                break;
            }
            case 24: {
                const auto skills = skill_list(in);
                result = engine.set_skills(in.pick(agents), skills);
                break;
            }
            case 25: result = engine.set_priority(in.pick(chats), std::int64_t(in.next()) * 4 - 4); break;
            case 26:
            case 27: {
                std::optional<AgentId> to;
                if (flag) to = in.pick(agents);
                result = engine.transfer(in.pick(chats), in.pick(agents), in.pick(spaces), to);
                break;
            }
            case 28: {
                SiteUpdate update;
                if (flag) update.missed_offer_return_after = (in.next() % 4) == 0 ? duration{0} : in.span();
                else update.wrap_up_resolution = std::string(resolutions[in.next() % 3]);
                result = engine.update_site(update);
                break;
            }
            case 29: {  // a queue query never changes anything
                const auto position = engine.queue_position(in.pick(chats));
                const auto stats = engine.queue(in.pick(spaces));
                (void)position, (void)stats;
                result = Result<>{};
                if (sink.events != before) fail("a query emitted events");
                break;
            }
            default: result = engine.revoke_role(in.pick(agents), in.pick(spaces)); break;
#endif
        }
        if (!result && sink.events != before) fail("a failed command emitted events (R27)");
        if (sink.team_to_customer) fail("a note reached the customer (R16)");
        if (auto broken = engine.check_invariants()) {
            std::fprintf(stderr, "%s\n", broken->c_str());
            fail("an invariant broke");
        }
    }
    return 0;
}
