#pragma once
// Applies a scenario (SPEC §10: JSON Lines, one command per line) to an engine and writes
// one JSON object per line for every event and every failed line. The host ids of the
// scenario are mapped to the engine's handles here, as any host would.

#include "line.hpp"

#include <chatroute/chatroute.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <functional>
#include <iterator>
#include <cstdint>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <span>
#include <variant>
#include <vector>

// The 0.2 engine (routing policies, SPEC R28–R39) brings routing_policy.hpp; with it the
// replay reads §10's new commands and fields. TEMPORARY: the 0.1 branches go once 0.2 is on main.
#if __has_include(<chatroute/routing_policy.hpp>)
#define CHATROUTE_REPLAY_V2 1
#else
#define CHATROUTE_REPLAY_V2 0
#endif

namespace chatroute::replay {

// Why a line failed: an engine error, or a line the replay could not read.
struct LineError {
    std::optional<Error> error;  // empty: invalid_line
    [[nodiscard]] std::string_view code() const { return error ? to_string(*error) : "invalid_line"; }
};

namespace detail {

using json = nlohmann::json;

// A typed view of one line's fields. Reading a missing or mistyped field marks the line
// invalid; the command then does nothing.
class Fields {
public:
    Fields(const json& line, const LineScan& scan) : line_(line), scan_(scan) {}

    [[nodiscard]] bool ok() const { return ok_; }

    std::string text(const char* key) { return take<std::string>(key, &json::is_string).value_or(""); }
    std::optional<std::string> optional_text(const char* key) { return optional<std::string>(key, &json::is_string); }
    std::optional<bool> optional_flag(const char* key) { return optional<bool>(key, &json::is_boolean); }
    bool flag(const char* key) { return take<bool>(key, &json::is_boolean).value_or(false); }

    // A span of time in seconds, rounded to the microsecond from its decimal text; the
    // inner value is empty when out of range (invalid_argument, not invalid_line).
    std::optional<std::optional<duration>> optional_seconds(const char* key) {
        const auto text = number_text(key);
        if (!text) return std::nullopt;
        auto micros = micros_of(*text);
        if (!micros) return std::optional<duration>{};
        return std::optional<duration>{duration{*micros}};
    }

    // A whole number (limit, default_limit, priority) judged from its decimal text like
    // seconds, not from a double that may have rounded a fraction away (decision 25):
    // empty when fractional, negative or too large (invalid_argument, not invalid_line).
    using Whole = std::optional<std::int64_t>;
    Whole whole(const char* key) {
        if (!line_.contains(key)) return fail<std::int64_t>();
        return optional_whole(key).value_or(Whole{});
    }
    std::optional<Whole> optional_whole(const char* key) {
        const auto text = number_text(key);
        if (!text) return std::nullopt;
        return Whole{whole_of(*text)};
    }
    // A whole number or null that must be there (set_limit's limit): empty for null.
    std::optional<Whole> nullable_whole(const char* key) {
        auto it = line_.find(key);
        if (it == line_.end() || !(it->is_null() || it->is_number())) return fail<Whole>();
        if (it->is_null()) return std::nullopt;
        return optional_whole(key);
    }
    [[nodiscard]] bool has(const char* key) const { return line_.contains(key); }

    std::vector<std::string> texts(const char* key) {
        if (!line_.contains(key)) return fail<std::vector<std::string>>().value_or(std::vector<std::string>{});
        return optional_texts(key).value_or(std::vector<std::string>{});
    }

    std::optional<std::vector<std::string>> optional_texts(const char* key) {
        auto it = line_.find(key);
        if (it == line_.end()) return std::nullopt;
        std::vector<std::string> out;
        if (!it->is_array()) return fail<std::vector<std::string>>();
        for (const json& item : *it) {
            if (!item.is_string()) return fail<std::vector<std::string>>();
            out.push_back(item.get<std::string>());
        }
        return out;
    }

private:
    // The decimal text of a number field, as the scan read it (never a double: nlohmann
    // may have rounded it, and a number past a double's range has a stand-in in the line,
    // see detail::tame). Empty when absent, or not a number (then the line is invalid).
    std::optional<std::string_view> number_text(const char* key) {
        auto it = line_.find(key);
        if (it == line_.end()) return std::nullopt;
        if (!it->is_number()) return fail<std::string_view>();
        auto text = scan_.numbers.find(key);
        if (text == scan_.numbers.end()) return std::string_view{};  // not a number's text: out of range
        return std::string_view{text->second};
    }

    template <class T>
    std::optional<T> optional(const char* key, bool (json::*is)() const noexcept) {
        auto it = line_.find(key);
        if (it == line_.end()) return std::nullopt;
        if (!((*it).*is)()) return fail<T>();
        return it->get<T>();
    }
    template <class T>
    std::optional<T> take(const char* key, bool (json::*is)() const noexcept) {
        if (!line_.contains(key)) return fail<T>();
        return optional<T>(key, is);
    }
    template <class T>
    std::optional<T> fail() {
        ok_ = false;
        return std::nullopt;
    }

    const json& line_;
    const LineScan& scan_;
    bool ok_ = true;
};

// Little-endian records for the replay snapshot: the engine's bytes and the host's names.
class Writer {
public:
    template <class T>
        requires std::is_integral_v<T>
    void put(T value) {
        const auto bits = static_cast<std::uint64_t>(static_cast<std::make_unsigned_t<T>>(value));
        for (std::size_t i = 0; i < sizeof(T); ++i) bytes_.push_back(static_cast<std::byte>(bits >> (8 * i)));
    }
    void put(std::string_view text) {
        put(static_cast<std::uint32_t>(text.size()));
        for (char c : text) bytes_.push_back(static_cast<std::byte>(c));
    }
    void put_raw(std::span<const std::byte> bytes) { bytes_.insert(bytes_.end(), bytes.begin(), bytes.end()); }
    [[nodiscard]] std::vector<std::byte>& bytes() { return bytes_; }

private:
    std::vector<std::byte> bytes_;
};

class Reader {
public:
    explicit Reader(std::span<const std::byte> bytes) : bytes_(bytes) {}
    [[nodiscard]] bool ok() const { return ok_; }
    [[nodiscard]] bool at_end() const { return position_ == bytes_.size(); }
    [[nodiscard]] std::size_t remaining() const { return bytes_.size() - position_; }

    template <class T>
        requires std::is_integral_v<T>
    T get() {
        if (!ok_ || remaining() < sizeof(T)) {
            ok_ = false;
            return T{};
        }
        std::uint64_t bits = 0;
        for (std::size_t i = 0; i < sizeof(T); ++i) bits |= static_cast<std::uint64_t>(bytes_[position_ + i]) << (8 * i);
        position_ += sizeof(T);
        return static_cast<T>(static_cast<std::make_unsigned_t<T>>(bits));
    }
    std::span<const std::byte> get_raw(std::size_t size) {
        if (!ok_ || remaining() < size) {
            ok_ = false;
            return {};
        }
        const auto raw = bytes_.subspan(position_, size);
        position_ += size;
        return raw;
    }
    std::string get_string() {
        const auto raw = get_raw(get<std::uint32_t>());
        std::string text(raw.size(), '\0');
        if (!raw.empty()) std::memcpy(text.data(), raw.data(), raw.size());
        return text;
    }
    // A count of records of at least `record_bytes` each, bounded by what is left.
    std::uint32_t get_count(std::size_t record_bytes) {
        const auto count = get<std::uint32_t>();
        if (count > remaining() / record_bytes) ok_ = false;
        return ok_ ? count : 0;
    }

private:
    std::span<const std::byte> bytes_;
    std::size_t position_ = 0;
    bool ok_ = true;
};

[[nodiscard]] inline std::uint64_t fnv1a(std::span<const std::byte> bytes) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (std::byte b : bytes) hash = (hash ^ static_cast<std::uint64_t>(b)) * 0x100000001b3ULL;
    return hash;
}

// A conversation handle's fields, whatever the engine's handle holds.
template <class H>
void put_handle(Writer& out, const H& handle) {
    out.put(handle.index);
    if constexpr (requires { handle.serial; }) {
        out.put(handle.site);
        out.put(handle.serial);
    } else {
        out.put(handle.stamp);
    }
}
template <class H>
H get_handle(Reader& in) {
    H handle;
    handle.index = in.get<decltype(handle.index)>();
    if constexpr (requires { handle.serial; }) {
        handle.site = in.get<decltype(handle.site)>();
        handle.serial = in.get<decltype(handle.serial)>();
    } else {
        handle.stamp = in.get<decltype(handle.stamp)>();
    }
    return handle;
}
template <class H>
constexpr std::size_t handle_bytes() {
    if constexpr (requires(H h) { h.serial; }) {
        return 16;
    } else {
        return 8;
    }
}

template <class E>
std::optional<E> word(std::string_view text, std::initializer_list<E> choices) {
    for (E choice : choices)
        if (to_string(choice) == text) return choice;
    return std::nullopt;
}

#if CHATROUTE_REPLAY_V2
inline std::optional<Strategy> strategy_of(std::string_view text) {
    return word(text, {Strategy::round_robin, Strategy::least_active, Strategy::most_available, Strategy::least_recent});
}
inline std::optional<NoAgentAction> no_agent_action_of(std::string_view text) {
    return word(text, {NoAgentAction::wait, NoAgentAction::fallback});
}
#endif

}  // namespace detail

class Replayer {
public:
    static constexpr std::uint32_t replay_magic = 0x5052'5243;  // "CRRP"

    explicit Replayer(fmt::memory_buffer& out) : out_(out) {}
    Replayer(const Replayer&) = delete;
    Replayer& operator=(const Replayer&) = delete;

    // Applies one line of the scenario (the next line number). A line whose `at` is
    // usable (given once, a number, not earlier than now) moves time there first, and the
    // deadlines due by then fire, before anything else about the line is checked.
    void apply(std::string_view text) {
        ++line_number_;
        if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
        const detail::LineScan scan = detail::scan(text);
        std::optional<time_point> at;
        if (const auto micros = scan.at(); micros && time_point{duration{*micros}} >= clock_.now()) {
            at = time_point{duration{*micros}};
            clock_.set(*at);
            (void)engine_->advance();
        }
        const Outcome result = at ? run(text, scan) : invalid_line();
        flush_events();
        if (!result) write_error(at, result.error());
    }

    // A line longer than max_line_bytes, which the reader dropped unread: invalid_line,
    // with no `at` (it was never read).
    void reject_unread_line() {
        ++line_number_;
        write_error(std::nullopt, LineError{});
    }

    [[nodiscard]] auto& engine() { return *engine_; }

    // The engine's snapshot and the host ids the scenario has named so far.
    [[nodiscard]] std::vector<std::byte> snapshot() const {
        detail::Writer out;
        out.put(replay_magic);
        const std::vector<std::byte> engine = engine_->snapshot();
        out.put(static_cast<std::uint32_t>(engine.size()));
        out.put_raw(engine);
        for (const auto* names : {&space_names_, &agent_names_}) {
            out.put(static_cast<std::uint32_t>(names->size()));
            for (const std::string& name : *names) out.put(std::string_view{name});
        }
        std::vector<std::pair<std::string_view, ConversationId>> conversations(conversations_.begin(), conversations_.end());
        std::sort(conversations.begin(), conversations.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
        out.put(static_cast<std::uint32_t>(conversations.size()));
        for (const auto& [name, id] : conversations) {
            out.put(name);
            detail::put_handle(out, id);
        }
        out.put(detail::fnv1a(out.bytes()));
        return std::move(out.bytes());
    }

    // Replaces the engine and the names with a snapshot's; empty on success, else why not.
    // A snapshot is refused unless every name is distinct, every conversation the engine
    // still runs has a name (events about it could not be printed otherwise), and every
    // named conversation is one the engine started.
    std::optional<std::string> restore(std::span<const std::byte> bytes) {
        if (bytes.size() < 16) return "the file is too short to be a replay snapshot";
        detail::Reader check(bytes.last(8));
        if (check.get<std::uint64_t>() != detail::fnv1a(bytes.first(bytes.size() - 8)))
            return "the replay snapshot's checksum does not match";
        detail::Reader in(bytes.first(bytes.size() - 8));
        if (in.get<std::uint32_t>() != replay_magic) return "not a chatroute-replay snapshot";
        const auto engine_bytes = in.get_raw(in.get<std::uint32_t>());
        if (!in.ok()) return "the replay snapshot is cut short";
        std::array<std::vector<std::string>, 2> names;
        for (auto& list : names) {
            list.resize(in.get_count(4));
            for (std::string& name : list) name = in.get_string();
        }
        std::unordered_map<std::string, ConversationId> conversations;
        std::unordered_map<ConversationId, std::string> conversation_names;
        const std::uint32_t count = in.get_count(4 + detail::handle_bytes<ConversationId>());
        for (std::uint32_t i = 0; i < count && in.ok(); ++i) {
            std::string name = in.get_string();
            const auto id = detail::get_handle<ConversationId>(in);
            if (!conversations.emplace(name, id).second || !conversation_names.emplace(id, name).second)
                return "the replay snapshot names a conversation twice";
        }
        if (!in.ok() || !in.at_end()) return "the replay snapshot is malformed";
        for (const auto& list : names) {
            const std::unordered_set<std::string_view> distinct(list.begin(), list.end());
            if (distinct.size() != list.size()) return "the replay snapshot names a space or an agent twice";
        }
        auto restored = Engine<ManualClock&, Recorder>::restore(engine_bytes, clock_, Recorder{&pending_, &texts_});
        if (!restored) return fmt::format("the engine refused its snapshot: {}", message(restored.error()));
        if (names[0].size() != restored->space_count() || names[1].size() != restored->agent_count())
            return "the replay snapshot's names do not match its engine";
        std::size_t named_live = 0;
        for (const auto& [id, name] : conversation_names) {
            // A handle the engine never gave out would name the conversation that later
            // gets it (R38): refused, as is any handle of another site.
            const auto status = restored->status(id);
            if (!status) return fmt::format("the replay snapshot names a conversation its engine never started: {}", name);
            if (*status != Status::closed) ++named_live;
        }
        if (named_live != restored->live_conversations())
            return fmt::format("the engine runs {} conversation(s) that the replay snapshot does not name",
                               restored->live_conversations() - std::min(named_live, restored->live_conversations()));
        engine_.reset();
        engine_.emplace(std::move(*restored));
        clock_.set(engine_->now());
        space_names_ = std::move(names[0]);
        agent_names_ = std::move(names[1]);
        spaces_.clear();
        agents_.clear();
        for (std::uint32_t i = 0; i < space_names_.size(); ++i) spaces_.emplace(space_names_[i], engine_->space_at(i).value());
        for (std::uint32_t i = 0; i < agent_names_.size(); ++i) agents_.emplace(agent_names_[i], engine_->agent_at(i).value());
        conversations_ = std::move(conversations);
        conversation_names_ = std::move(conversation_names);
        return std::nullopt;
    }
    [[nodiscard]] std::size_t lines() const { return line_number_; }

private:
    using Outcome = tl::expected<void, LineError>;
    static Outcome invalid_line() { return tl::unexpected(LineError{}); }
    static Outcome failed(Error e) { return tl::unexpected(LineError{e}); }
    template <class T>
    static Outcome check(const Result<T>& result) {
        if (!result) return failed(result.error());
        return {};
    }

    // Everything about a line but its `at`, which has moved time already.
    Outcome run(std::string_view text, const detail::LineScan& scan) {
        if (scan.repeated_key) return invalid_line();
        const std::string_view json_text = scan.json_text(text);
        const auto line = detail::json::parse(json_text.begin(), json_text.end(), nullptr, false);
        if (!line.is_object() || !line.contains("cmd") || !line["cmd"].is_string()) return invalid_line();
        const std::string cmd = line["cmd"].get<std::string>();
        detail::Fields fields(line, scan);
        auto command = parse(cmd, fields);
        if (!command || !fields.ok()) return invalid_line();
        return (*command)();
    }

    using Command = std::function<Outcome()>;

    // Reads the fields of a command (type errors make the line invalid) and returns what
    // running it does; empty when the command is unknown.
    std::optional<Command> parse(const std::string& cmd, detail::Fields& f) {
        if (cmd == "site") return site(f);
        if (cmd == "add_space") return add_space(f);
        if (cmd == "enable_chat" || cmd == "disable_chat") {
            std::string space = f.text("space");
            const bool enable = cmd == "enable_chat";
            return [this, space, enable]() -> Outcome {
                return check(enable ? engine_->enable_chat(space_of(space)) : engine_->disable_chat(space_of(space)));
            };
        }
        if (cmd == "add_agent") return add_agent(f);
#if CHATROUTE_REPLAY_V2
        if (cmd == "set_limit") return set_limit(f);
        if (cmd == "update_space") return update_space(f);
        if (cmd == "set_skills") {
            std::string agent = f.text("agent");
            std::vector<std::string> skills = f.texts("skills");
            return [this, agent, skills]() -> Outcome { return check(engine_->set_skills(agent_of(agent), skills)); };
        }
        if (cmd == "set_priority") {
            std::string conversation = f.text("conversation");
            auto priority = f.whole("priority");
            return [this, conversation, priority]() -> Outcome {
                if (!priority) return failed(Error::invalid_argument);
                return check(engine_->set_priority(conversation_of(conversation), *priority));
            };
        }
        if (cmd == "transfer") {
            std::string conversation = f.text("conversation"), agent = f.text("agent"), space = f.text("space");
            auto to_agent = f.optional_text("to_agent");
            return [=, this]() -> Outcome {
                std::optional<AgentId> to;
                if (to_agent) to = agent_of(*to_agent);
                return check(engine_->transfer(conversation_of(conversation), agent_of(agent), space_of(space), to));
            };
        }
#else
        if (cmd == "set_limit") {
            std::string agent = f.text("agent");
            auto limit = f.whole("limit");
            return [this, agent, limit]() -> Outcome {
                if (!limit) return failed(Error::invalid_argument);
                return check(engine_->set_limit(agent_of(agent), *limit));
            };
        }
#endif
        if (cmd == "grant_role" || cmd == "revoke_role") {
            std::string agent = f.text("agent"), space = f.text("space");
            const bool grant = cmd == "grant_role";
            return [this, agent, space, grant]() -> Outcome {
                return check(grant ? engine_->grant_role(agent_of(agent), space_of(space))
                                   : engine_->revoke_role(agent_of(agent), space_of(space)));
            };
        }
        if (cmd == "set_availability") {
            std::string agent = f.text("agent"), space = f.text("space");
            bool available = f.flag("available");
            return [this, agent, space, available]() -> Outcome {
                if (space == "*") return check(engine_->set_availability(agent_of(agent), all_spaces, available));
                return check(engine_->set_availability(agent_of(agent), space_of(space), available));
            };
        }
        if (cmd == "start_conversation") return start_conversation(f);
        if (cmd == "accept" || cmd == "decline") {
            std::string agent = f.text("agent"), conversation = f.text("conversation");
            const bool accept = cmd == "accept";
            return [this, agent, conversation, accept]() -> Outcome {
#if CHATROUTE_REPLAY_V2
                return check(accept ? engine_->accept(conversation_of(conversation), agent_of(agent))
                                    : engine_->decline(conversation_of(conversation), agent_of(agent)));
#else
                return check(accept ? engine_->accept(agent_of(agent), conversation_of(conversation))
                                    : engine_->decline(agent_of(agent), conversation_of(conversation)));
#endif
            };
        }
        if (cmd == "message" || cmd == "typing") return utterance(f, cmd == "message");
        if (cmd == "note" || cmd == "follow_up") {
            std::string conversation = f.text("conversation"), agent = f.text("agent");
            const bool note = cmd == "note";
            return [this, conversation, agent, note]() -> Outcome {
                return check(note ? engine_->note(conversation_of(conversation), agent_of(agent))
                                  : engine_->follow_up(conversation_of(conversation), agent_of(agent)));
            };
        }
        if (cmd == "end") return end(f);
        if (cmd == "resolve") {
            std::string conversation = f.text("conversation"), agent = f.text("agent"), resolution = f.text("resolution");
            return [this, conversation, agent, resolution]() -> Outcome {
                return check(engine_->resolve(conversation_of(conversation), agent_of(agent), resolution));
            };
        }
        if (cmd == "tick") return [] { return Outcome{}; };
        return std::nullopt;
    }

    Command site(detail::Fields& f) {
        auto plan = f.optional_text("plan");
        auto default_limit = f.optional_whole("default_limit");
        auto scope = f.optional_text("missed_offer_scope");
        auto resolutions = f.optional_texts("resolutions");
        auto unanswered = f.optional_text("unanswered_resolution");
#if CHATROUTE_REPLAY_V2
        auto return_after = f.optional_seconds("missed_offer_return_after");
        auto wrap_up = f.optional_text("wrap_up_resolution");
#endif
        return [=, this]() -> Outcome {
            SiteUpdate update;
#if CHATROUTE_REPLAY_V2
            if (return_after) {
                if (!*return_after || **return_after <= duration::zero()) return failed(Error::invalid_argument);
                update.missed_offer_return_after = **return_after;
            }
            update.wrap_up_resolution = wrap_up;
#endif
            if (plan) {
                update.plan = detail::word(*plan, {Plan::free, Plan::standard, Plan::premium, Plan::enterprise});
                if (!update.plan) return failed(Error::invalid_argument);
            }
            if (scope) {
                update.missed_offer_scope = detail::word(*scope, {MissedOfferScope::all_spaces, MissedOfferScope::offer_space});
                if (!update.missed_offer_scope) return failed(Error::invalid_argument);
            }
            if (default_limit) {
                if (!*default_limit) return failed(Error::invalid_argument);
                update.default_limit = **default_limit;
            }
            update.resolutions = resolutions;
            update.unanswered_resolution = unanswered;
            return check(engine_->update_site(update));
        };
    }

    Command add_space(detail::Fields& f) {
        std::string space = f.text("space");
        auto is_new = f.optional_flag("new");
        auto fallback = f.optional_text("fallback");
        std::array<std::optional<std::optional<duration>>, 5> timings{
            f.optional_seconds("offer_timeout"), f.optional_seconds("accept_window"), f.optional_seconds("inactivity_warning"),
            f.optional_seconds("inactivity_grace"), f.optional_seconds("max_duration")};
#if CHATROUTE_REPLAY_V2
        auto strategy = f.optional_text("strategy");
        auto no_agent = f.optional_text("no_agent_action");
        std::array<std::optional<std::optional<duration>>, 3> optional_timings{
            f.optional_seconds("skills_relax_after"), f.optional_seconds("assignee_response_timeout"),
            f.optional_seconds("wrap_up_timeout")};
#endif
        return [=, this]() -> Outcome {
            SpaceSettings settings;
#if CHATROUTE_REPLAY_V2
            if (strategy) {
                auto chosen = detail::strategy_of(*strategy);
                if (!chosen) return failed(Error::invalid_argument);
                settings.strategy = *chosen;
            }
            if (no_agent) {
                auto action = detail::no_agent_action_of(*no_agent);
                if (!action) return failed(Error::invalid_argument);
                settings.no_agent_action = *action;
            }
            std::array<std::optional<duration>*, 3> optional_targets{&settings.timings.skills_relax_after,
                                                                     &settings.timings.assignee_response_timeout,
                                                                     &settings.timings.wrap_up_timeout};
            for (std::size_t i = 0; i < optional_timings.size(); ++i) {
                if (!optional_timings[i]) continue;
                const auto span = *optional_timings[i];
                if (!span || *span <= duration::zero()) return failed(Error::invalid_argument);
                *optional_targets[i] = *span;
            }
#endif
            settings.is_new = is_new.value_or(true);
            settings.fallback_message = fallback.value_or("");
            std::array<duration*, 5> targets{&settings.timings.offer_timeout, &settings.timings.accept_window,
                                             &settings.timings.inactivity_warning, &settings.timings.inactivity_grace,
                                             &settings.timings.max_duration};
            for (std::size_t i = 0; i < timings.size(); ++i) {
                if (!timings[i]) continue;
                const auto span = *timings[i];
                if (!span || *span <= duration::zero()) return failed(Error::invalid_argument);
                *targets[i] = *span;
            }
            if (auto ok = validate(settings); !ok) return failed(ok.error());
            if (spaces_.contains(space)) return failed(Error::duplicate_id);
            auto id = engine_->add_space(settings);
            if (!id) return failed(id.error());
            spaces_.emplace(space, *id);
            space_names_.push_back(space);
            return {};
        };
    }

    Command add_agent(detail::Fields& f) {
        std::string agent = f.text("agent");
        auto limit = f.optional_whole("limit");
#if CHATROUTE_REPLAY_V2
        auto skills = f.optional_texts("skills");
#endif
        return [=, this]() -> Outcome {
            AgentSettings settings;
#if CHATROUTE_REPLAY_V2
            if (skills) settings.skills = *skills;
#endif
            if (limit) {
                if (!*limit) return failed(Error::invalid_argument);
                settings.limit = **limit;
            }
            if (auto ok = validate(settings); !ok) return failed(ok.error());
            if (agents_.contains(agent)) return failed(Error::duplicate_id);
            auto id = engine_->add_agent(settings);
            if (!id) return failed(id.error());
            agents_.emplace(agent, *id);
            agent_names_.push_back(agent);
            return {};
        };
    }

#if CHATROUTE_REPLAY_V2
    // Errors in SPEC's order (decisions 17): invalid_argument, then unknown ids in §10's
    // field order (space, preferred_agent), then duplicate_id, then the engine's own.
    Command start_conversation(detail::Fields& f) {
        std::string conversation = f.text("conversation"), space = f.text("space");
        bool handoff = f.optional_flag("handoff").value_or(false);
        auto priority = f.optional_whole("priority");
        auto skills = f.optional_texts("skills");
        auto preferred = f.optional_text("preferred_agent");
        return [=, this]() -> Outcome {
            StartOptions options;
            options.handoff = handoff;
            if (priority) {
                if (!*priority) return failed(Error::invalid_argument);
                options.priority = **priority;
            }
            if (skills) options.skills = *skills;
            if (auto ok = validate(options); !ok) return failed(ok.error());
            if (!spaces_.contains(space)) return failed(Error::unknown_space);
            if (preferred) {
                if (!agents_.contains(*preferred)) return failed(Error::unknown_agent);
                options.preferred_agent = agent_of(*preferred);
            }
            if (conversations_.contains(conversation)) return failed(Error::duplicate_id);
            auto id = engine_->start_conversation(space_of(space), options);
            if (!id) return failed(id.error());
            conversations_.emplace(conversation, *id);
            conversation_names_.emplace(*id, conversation);
            return {};
        };
    }

    // set_limit: the overall limit, or with `space` the agent's limit there (null removes it).
    Command set_limit(detail::Fields& f) {
        std::string agent = f.text("agent");
        auto limit = f.nullable_whole("limit");
        auto space = f.optional_text("space");
        return [=, this]() -> Outcome {
            std::optional<std::int64_t> whole;  // empty: null
            if (limit) {
                if (!*limit) return failed(Error::invalid_argument);
                whole = *limit;
            }
            if (!space) {
                if (!whole) return failed(Error::invalid_argument);
                return check(engine_->set_limit(agent_of(agent), *whole));
            }
            return check(engine_->set_space_limit(agent_of(agent), space_of(*space), whole));
        };
    }

    Command update_space(detail::Fields& f) {
        std::string space = f.text("space");
        auto strategy = f.optional_text("strategy");
        auto fallback = f.optional_text("fallback");
        auto no_agent = f.optional_text("no_agent_action");
        return [=, this]() -> Outcome {
            SpaceUpdate update;
            if (strategy) {
                update.strategy = detail::strategy_of(*strategy);
                if (!update.strategy) return failed(Error::invalid_argument);
            }
            if (no_agent) {
                update.no_agent_action = detail::no_agent_action_of(*no_agent);
                if (!update.no_agent_action) return failed(Error::invalid_argument);
            }
            update.fallback_message = fallback;
            return check(engine_->update_space(space_of(space), update));
        };
    }
#else
    Command start_conversation(detail::Fields& f) {
        std::string conversation = f.text("conversation"), space = f.text("space");
        bool handoff = f.optional_flag("handoff").value_or(false);
        return [=, this]() -> Outcome {
            if (!spaces_.contains(space)) return failed(Error::unknown_space);
            if (conversations_.contains(conversation)) return failed(Error::duplicate_id);
            auto id = engine_->start_conversation(space_of(space), handoff);
            if (!id) return failed(id.error());
            conversations_.emplace(conversation, *id);
            conversation_names_.emplace(*id, conversation);
            return {};
        };
    }

#endif

    // A side's word ("customer"/"agent"), and the agent's id when it is the agent's.
    std::optional<std::pair<std::string, std::string>> side(detail::Fields& f, const char* key) {
        std::string who = f.text(key);
        std::string agent;
        if (who == "agent") agent = f.text("agent");
        return std::pair{who, agent};
    }

    Command utterance(detail::Fields& f, bool message) {
        std::string conversation = f.text("conversation");
        const auto speaker = side(f, "from");
        const std::string from = speaker->first, agent = speaker->second;
        return [=, this]() -> Outcome {
            const ConversationId c = conversation_of(conversation);
            if (from == "customer") return check(message ? engine_->customer_message(c) : engine_->customer_typing(c));
            if (from == "agent")
                return check(message ? engine_->agent_message(c, agent_of(agent)) : engine_->agent_typing(c, agent_of(agent)));
            return failed(Error::invalid_argument);
        };
    }

    Command end(detail::Fields& f) {
        std::string conversation = f.text("conversation");
        const auto ender = side(f, "by");
        const std::string by = ender->first, agent = ender->second;
        return [=, this]() -> Outcome {
            const ConversationId c = conversation_of(conversation);
            if (by == "customer") return check(engine_->end_by_customer(c));
            if (by == "agent") return check(engine_->end_by_agent(c, agent_of(agent)));
            return failed(Error::invalid_argument);
        };
    }

    // Unknown host ids become empty handles: the engine reports them in SPEC's order.
    SpaceId space_of(const std::string& name) const {
        auto it = spaces_.find(name);
        return it == spaces_.end() ? SpaceId{} : it->second;
    }
    AgentId agent_of(const std::string& name) const {
        auto it = agents_.find(name);
        return it == agents_.end() ? AgentId{} : it->second;
    }
    ConversationId conversation_of(const std::string& name) const {
        auto it = conversations_.find(name);
        return it == conversations_.end() ? ConversationId{} : it->second;
    }

    // ---- Output ----

    // Keeps the events until the command returns (an event may name a conversation the
    // command is still creating). Text fields are views valid only during the sink call,
    // so the recorder keeps its own copies until they are written.
    struct Recorder {
        std::vector<Event>* events;
        std::deque<std::string>* texts;
        template <class E>
        void operator()(const E& event) const {
            E copy = event;
            keep(copy);
            events->emplace_back(copy);
        }
        template <class E>
        void keep(E& event) const {
            if constexpr (requires { event.text; })
                if constexpr (std::is_same_v<decltype(event.text), std::string_view>) event.text = texts->emplace_back(event.text);
            if constexpr (requires { event.resolution; })
                if constexpr (std::is_same_v<decltype(event.resolution), std::string_view>)
                    event.resolution = texts->emplace_back(event.resolution);
        }
    };

    void flush_events() {
        for (const Event& event : pending_) std::visit([this](const auto& e) { write_event(e); }, event);
        pending_.clear();
        texts_.clear();
    }

    template <class E>
    void write_event(const E& event) {
        fmt::format_to(std::back_inserter(out_), R"({{"event":"{}","at":{})", E::name, event.at);
        event.fields([this](std::string_view key, const auto& value) {
            fmt::format_to(std::back_inserter(out_), R"(,"{}":)", key);
            write_value(value);
        });
        fmt::format_to(std::back_inserter(out_), "}}\n");
    }

    void write_value(bool value) { fmt::format_to(std::back_inserter(out_), "{}", value); }
    void write_value(time_point value) { fmt::format_to(std::back_inserter(out_), "{}", value); }
    void write_value(std::string_view text) { write_string(text); }
    void write_value(SpaceId id) { write_string(space_names_.at(id.index)); }
    void write_value(AgentId id) { write_string(agent_names_.at(id.index)); }
    void write_value(ConversationId id) {
        // restore() refuses a snapshot with unnamed live conversations; never abort here.
        auto it = conversation_names_.find(id);
        write_string(it == conversation_names_.end() ? std::string_view{"?"} : std::string_view{it->second});
    }
    template <class I>
        requires(std::is_integral_v<I> && !std::is_same_v<I, bool>)
    void write_value(I value) {
        fmt::format_to(std::back_inserter(out_), "{}", value);
    }
    template <class E>
        requires std::is_enum_v<E>
    void write_value(E value) {
        write_string(to_string(value));
    }

    void write_string(std::string_view text) {
        const std::string quoted = detail::json(std::string(text)).dump(-1, ' ', false, detail::json::error_handler_t::replace);
        out_.append(quoted.data(), quoted.data() + quoted.size());
    }

    void write_error(std::optional<time_point> at, const LineError& error) {
        auto out = std::back_inserter(out_);
        fmt::format_to(out, "{{");
        if (at) fmt::format_to(out, R"("at":{},)", *at);
        fmt::format_to(out, R"("error":"{}","line":{}}})"
                            "\n",
                       error.code(), line_number_);
    }

    fmt::memory_buffer& out_;
    ManualClock clock_;
    std::vector<Event> pending_;
    std::deque<std::string> texts_;
    std::optional<Engine<ManualClock&, Recorder>> engine_{std::in_place, clock_, Recorder{&pending_, &texts_}};

    std::unordered_map<std::string, SpaceId> spaces_;
    std::unordered_map<std::string, AgentId> agents_;
    std::unordered_map<std::string, ConversationId> conversations_;
    std::vector<std::string> space_names_;
    std::vector<std::string> agent_names_;
    std::unordered_map<ConversationId, std::string> conversation_names_;
    std::size_t line_number_ = 0;
};

}  // namespace chatroute::replay
