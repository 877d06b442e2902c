// libFuzzer: bytes decoded into engine commands over a small site. After every command
// every invariant must hold, and a failed command must have emitted nothing.

#include <chatroute/chatroute.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

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

    for (int commands = 0; !in.empty() && commands < 400; ++commands) {
        clock.advance(steps[in.next() % steps.size()] + duration{in.next() % 3});
        (void)engine.advance();
        const std::size_t before = sink.events;
        const std::uint8_t op = in.next() % 20;
        const bool flag = in.next() & 1;
        Result<> result;
        switch (op) {
            case 0: {
                SpaceSettings settings{.is_new = flag};
                settings.timings.offer_timeout = duration{(in.next() % 4) * 30'000'000LL};
                auto s = engine.add_space(settings);
                if (s) spaces.push_back(*s);
                result = s ? Result<>{} : tl::unexpected(s.error());
                break;
            }
            case 1: {
                auto a = engine.add_agent({.limit = std::int64_t(in.next() % 5) - 1});
                if (a) agents.push_back(*a);
                result = a ? Result<>{} : tl::unexpected(a.error());
                break;
            }
            case 2: result = engine.grant_role(in.pick(agents), in.pick(spaces)); break;
            case 3: result = engine.revoke_role(in.pick(agents), in.pick(spaces)); break;
            case 4: result = engine.set_availability(in.pick(agents), in.pick(spaces), flag); break;
            case 5: result = engine.set_availability(in.pick(agents), all_spaces, flag); break;
            case 6: {
                auto c = engine.start_conversation(in.pick(spaces), flag);
                if (c) chats.push_back(*c);
                result = c ? Result<>{} : tl::unexpected(c.error());
                break;
            }
            case 7: result = engine.accept(in.pick(agents), in.pick(chats)); break;
            case 8: result = engine.decline(in.pick(agents), in.pick(chats)); break;
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
            default: result = flag ? engine.enable_chat(in.pick(spaces)) : engine.disable_chat(in.pick(spaces)); break;
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
