// chatdesk: a chat-desk server on standalone Asio that hosts a chatroute engine.
//
// Customers and agents connect over TCP (TLS when given a certificate) and speak a line
// protocol (README.md). The server is the host SPEC describes: it maps connections and its
// own string ids to engine handles, keeps the message bodies (R19), drives the engine's
// deadlines with one steady_timer set to next_deadline() (R26), and delivers each event only
// to the connections its audience allows: a note reaches the team of the conversation's
// space and its assignee, never a customer.
//
// Agents authenticate against a credentials file (libsodium crypto_pwhash_str); customers
// are anonymous and hold a token for their own conversation. Everything a connection can
// make the server hold is bounded (README.md, "Limits"). With --data DIR every command is
// journaled and flushed before it is answered, and the desk is restored on start.
//
// One thread runs the io_context and owns the engine, so it needs no lock; password checks
// run on one worker thread so that they do not stall everyone else.

#include "store.hpp"

#include <chatroute/chatroute.hpp>

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace chatdesk {

using asio::ip::tcp;
using chatroute::AgentId;
using chatroute::Audience;
using chatroute::ConversationId;
using chatroute::SpaceId;
using json = nlohmann::json;
using Line = std::shared_ptr<const std::string>;  // one event line, shared by all who receive it

// ---- Text rules ----

inline constexpr std::size_t line_length_max = 4096;  // bytes in a line a client sends, '\n' excluded
inline constexpr std::size_t id_length_max = 64;      // bytes in an agent, space or conversation id
inline constexpr std::size_t password_length_max = 128;

// Valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF) without control
// characters (C0, DEL, C1); spaces only where `spaces` allows them.
[[nodiscard]] bool printable_utf8(std::string_view text, bool spaces) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto byte = static_cast<unsigned char>(text[i]);
        std::uint32_t code = 0;
        std::size_t length = 0;
        if (byte < 0x80) {
            code = byte;
            length = 1;
        } else if ((byte & 0xE0) == 0xC0) {
            code = byte & 0x1F;
            length = 2;
        } else if ((byte & 0xF0) == 0xE0) {
            code = byte & 0x0F;
            length = 3;
        } else if ((byte & 0xF8) == 0xF0) {
            code = byte & 0x07;
            length = 4;
        } else {
            return false;
        }
        if (i + length > text.size()) return false;
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80) return false;
            code = (code << 6) | (next & 0x3F);
        }
        static constexpr std::array<std::uint32_t, 5> smallest{0, 0, 0x80, 0x800, 0x10000};
        if (code < smallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
        if (code < 0x20 || (code >= 0x7F && code <= 0x9F)) return false;
        if (code == ' ' && !spaces) return false;
        i += length;
    }
    return true;
}

[[nodiscard]] bool valid_id(std::string_view id) {
    return !id.empty() && id.size() <= id_length_max && id != "*" && printable_utf8(id, false);
}

// Splits "word rest of line" at the first space.
std::pair<std::string_view, std::string_view> split(std::string_view line) {
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) return {line, {}};
    std::string_view rest = line.substr(space + 1);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    return {line.substr(0, space), rest};
}

std::string hex(const void* data, std::size_t size) {
    std::string out(size * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), static_cast<const unsigned char*>(data), size);
    out.pop_back();
    return out;
}

std::optional<std::vector<unsigned char>> unhex(std::string_view text) {
    std::vector<unsigned char> out(text.size() / 2);
    std::size_t size = 0;
    if (text.size() % 2 != 0 ||
        sodium_hex2bin(out.data(), out.size(), text.data(), text.size(), nullptr, &size, nullptr) != 0 ||
        size != out.size())
        return std::nullopt;
    return out;
}

// Handles are stored in snapshots as their bytes, whatever fields the engine gives them.
template <class H>
std::string handle_text(H handle) {
    static_assert(std::is_trivially_copyable_v<H> && std::has_unique_object_representations_v<H>);
    return hex(&handle, sizeof handle);
}
template <class H>
std::optional<H> handle_from(std::string_view text) {
    const auto bytes = unhex(text);
    if (!bytes || bytes->size() != sizeof(H)) return std::nullopt;
    H handle;
    std::memcpy(&handle, bytes->data(), sizeof handle);
    return handle;
}

// ---- Options ----

struct Options {
    std::string bind = "127.0.0.1";
    std::uint16_t port = 0;  // 0: any free port; the one bound is printed
    bool insecure_bind = false;
    std::string tls_cert, tls_key;
    std::string agents_file;
    std::vector<std::string> spaces;
    chatroute::SpaceTimings timings;
    std::int64_t limit = 3;
    std::string fallback = "Sorry, no agent is free right now. We will write back by email.";
    std::string data_dir;
    std::uint64_t snapshot_every = 1000;
    std::size_t max_connections = 256;
    std::chrono::milliseconds idle_timeout{300'000};
    std::size_t max_output = 256 * 1024;
    std::size_t backlog_messages = 100;
    std::size_t backlog_bytes = 64 * 1024;
    std::uint32_t auth_failures = 3;
    std::chrono::milliseconds auth_delay{1000};
    bool verbose = false;
    bool dump = false;  // print the restored state as JSON and exit
    [[nodiscard]] bool tls() const { return !tls_cert.empty(); }
};

struct Credential {
    std::string id;
    std::string hash;  // crypto_pwhash_str
    std::vector<std::string> spaces;
};

// "<id> <hash> <space>..." per line; blank lines and lines starting with '#' are skipped.
std::vector<Credential> load_credentials(const std::string& path) {
    std::FILE* file = std::fopen(path.c_str(), "r");
    if (!file) throw std::runtime_error(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
    std::vector<Credential> credentials;
    std::map<std::string, int, std::less<>> seen;
    char buffer[4096];
    int number = 0;
    while (std::fgets(buffer, sizeof buffer, file)) {
        ++number;
        std::string_view line(buffer);
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
        std::vector<std::string> words;
        for (std::string_view rest = line; !rest.empty();) {
            const auto [word, tail] = split(rest);
            if (!word.empty()) words.emplace_back(word);
            rest = tail;
        }
        if (words.empty() || words[0].starts_with('#')) continue;
        const auto bad = [&](std::string_view why) {
            std::fclose(file);
            return std::runtime_error(fmt::format("{}:{}: {}", path, number, why));
        };
        if (words.size() < 2) throw bad("expected `<id> <password hash> <space>...`");
        if (!valid_id(words[0])) throw bad("the agent id must be 1-64 bytes of printable UTF-8 without spaces");
        if (!words[1].starts_with("$argon2") || words[1].size() >= crypto_pwhash_STRBYTES)
            throw bad("the second word must be a crypto_pwhash_str hash (chatdesk passwd writes one)");
        if (seen.contains(words[0])) throw bad("this agent id is listed twice");
        seen.emplace(words[0], number);
        Credential credential{words[0], words[1], {}};
        for (std::size_t i = 2; i < words.size(); ++i) {
            if (!valid_id(words[i])) throw bad("a space name must be 1-64 bytes of printable UTF-8");
            if (std::find(credential.spaces.begin(), credential.spaces.end(), words[i]) == credential.spaces.end())
                credential.spaces.push_back(words[i]);
        }
        credentials.push_back(std::move(credential));
    }
    std::fclose(file);
    return credentials;
}

// ---- Time ----

// The engine's clock. With a data directory, microseconds since the directory was created,
// read from the wall clock so that time goes on while the server is down (R25 on restart);
// without one, since the server started, from steady_clock. The host freezes it while a
// command runs, so that the instant journaled is the one the engine saw; it never goes back.
class DeskClock {
public:
    [[nodiscard]] chatroute::time_point now() const { return now_; }
    void set(chatroute::time_point instant) { now_ = std::max(now_, instant); }
    void tick() { set(live()); }

    void use_wall(std::int64_t epoch_us) {
        wall_ = true;
        epoch_us_ = epoch_us;
    }
    [[nodiscard]] std::int64_t epoch_us() const { return epoch_us_; }

    [[nodiscard]] chatroute::time_point live() const {
        if (wall_) {
            const auto since = std::chrono::duration_cast<chatroute::duration>(
                std::chrono::system_clock::now().time_since_epoch());
            return chatroute::time_point{since - chatroute::duration{epoch_us_}};
        }
        return chatroute::time_point{
            std::chrono::duration_cast<chatroute::duration>(std::chrono::steady_clock::now() - start_)};
    }

private:
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
    bool wall_ = false;
    std::int64_t epoch_us_ = 0;
    chatroute::time_point now_{};
};
static_assert(chatroute::Clock<DeskClock>);

std::string seconds_text(chatroute::duration value) {
    const std::int64_t us = value.count();
    return fmt::format("{}{}.{:06}", us < 0 ? "-" : "", std::abs(us) / 1'000'000, std::abs(us) % 1'000'000);
}
double seconds_number(chatroute::duration value) { return static_cast<double>(value.count()) / 1e6; }
chatroute::duration from_seconds(double seconds) {
    return chatroute::at_seconds(seconds).time_since_epoch();
}

// ---- Connections ----

class Desk;

using PlainStream = tcp::socket;
using TlsStream = asio::ssl::stream<tcp::socket>;

// One connection: reads lines, writes lines, knows who is on the other end.
class Session : public std::enable_shared_from_this<Session> {
public:
    enum class Role { unknown, customer, agent };

    Session(std::variant<PlainStream, TlsStream> stream, Desk& desk);

    void start();
    void send(Line line);
    void send(std::string text) { send(std::make_shared<const std::string>(std::move(text) + '\n')); }
    void write();  // starts writing what is queued, unless already writing
    void close();
    void close_when_written() {  // answers what it owes, then closes
        closing_ = true;
        if (outbox_.empty()) close();
    }
    void pump();  // handles the lines read so far while allowed, then reads on
    void hold(bool on) { held_ = on; }
    [[nodiscard]] bool closed() const { return closed_; }

    Role role = Role::unknown;
    std::string name;             // the agent's id, or the customer's conversation id
    ConversationId conversation;  // a customer's
    std::uint32_t failures = 0;   // failed agent logins on this connection

private:
    tcp::socket& socket() {
        return std::visit([](auto& s) -> tcp::socket& {
            if constexpr (std::is_same_v<std::decay_t<decltype(s)>, PlainStream>)
                return s;
            else
                return s.next_layer();
        }, stream_);
    }
    void read();
    void arm_idle();

    std::variant<PlainStream, TlsStream> stream_;
    Desk& desk_;
    asio::steady_timer idle_;
    std::chrono::steady_clock::time_point last_read_ = std::chrono::steady_clock::now();
    std::array<char, 16384> chunk_{};
    std::string input_;
    std::deque<Line> outbox_;
    std::size_t outbox_bytes_ = 0;
    std::size_t in_flight_ = 0;  // lines of outbox_ being written
    bool reading_ = false;
    bool writing_ = false;
    bool held_ = false;  // a login is being checked: later lines wait
    bool closed_ = false;
    bool dropping_ = false;
    bool closing_ = false;
};

using SessionPtr = std::shared_ptr<Session>;

// ---- The desk ----

class Desk {
public:
    using EngineT = chatroute::Engine<DeskClock&, chatroute::RecordingSink&>;

    Desk(asio::io_context& io, Options options, std::vector<Credential> credentials);
    ~Desk() {
        workers_.stop();
        workers_.join();
    }

    void listen();
    [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    [[nodiscard]] std::uint64_t commands() const { return commands_; }
    [[nodiscard]] const Options& options() const { return options_; }
    [[nodiscard]] json dump() const;
    void stop();

    // From sessions.
    void on_line(const SessionPtr& session, std::string_view line);
    void on_close(const SessionPtr& session);
    void want_write(const SessionPtr& session) { to_write_.push_back(session); }
    void opened() { ++connections_; }
    void closed() { --connections_; }
    // Ends every handler: flushes the journal, then lets the answers go (they may tell of it).
    void commit();

private:
    struct Agent {
        AgentId id;
        SessionPtr session;  // empty while disconnected
        std::string hash;    // crypto_pwhash_str; empty once gone from the credentials file
    };
    struct Conversation {
        std::string name;
        SpaceId space;
        SessionPtr customer;  // empty while the customer is away
        std::optional<AgentId> assignee;
        std::deque<Line> backlog;  // the customer's messages before an agent accepted
        std::size_t backlog_bytes = 0;
        bool closed = false;
    };

    // ---- Engine calls: every command goes through apply(), live or replayed ----

    chatroute::Result<void> dispatch(const json& command);
    chatroute::Result<void> live(json command);  // now, journaled when it succeeds
    void replay(const json& command);
    chatroute::Result<void> run(const SessionPtr& session, json command);  // live, answered, delivered

    // ---- Protocol ----

    void hello(const SessionPtr& session, std::string_view word, std::string_view rest);
    void login(const SessionPtr& session, std::string_view id, std::string_view password);
    void logged_in(const SessionPtr& session, const std::string& id, bool ok);
    void customer_command(const SessionPtr& session, std::string_view word, std::string_view rest);
    void agent_command(const SessionPtr& session, std::string_view word, std::string_view rest);
    std::string token(std::string_view conversation) const;

    static std::string error_line(std::string_view code, std::string_view message) {
        return fmt::format("error {} {}", code, message);
    }
    static std::string error_line(chatroute::Error error) {
        return error_line(chatroute::to_string(error), chatroute::message(error));
    }

    // ---- State ----

    void fresh();
    void restore(const json& snapshot);
    void reconcile();
    void take_snapshot();
    void accept();
    void settle();
    void arm_timer();

    // ---- Delivery by audience (R16) ----

    template <class E>
    void deliver(const E& event);
    void to_audience(ConversationId id, Audience audience, const Line& line);
    void to_agent(AgentId id, const Line& line);
    void to_customer(ConversationId id, const Line& line);
    template <class E>
    std::string describe(const E& event);

    std::string show(ConversationId id) const {
        auto found = conversations_.find(id);
        return found != conversations_.end() ? found->second.name : fmt::format("{}", id);
    }
    std::string show(AgentId id) const {
        auto found = agent_names_.find(id);
        return found != agent_names_.end() ? found->second : fmt::format("{}", id);
    }
    std::string show(SpaceId id) const {
        auto found = space_names_.find(id);
        return found != space_names_.end() ? found->second : fmt::format("{}", id);
    }
    template <class T>
    std::string show(const T& value) const {
        return fmt::format("{}", value);
    }

    AgentId agent_id(std::string_view name) const {
        auto found = agents_.find(name);
        return found != agents_.end() ? found->second.id : AgentId{};
    }
    SpaceId space_id(std::string_view name) const {
        auto found = spaces_.find(name);
        return found != spaces_.end() ? found->second : SpaceId{};
    }
    ConversationId conversation_id(std::string_view name) const {
        auto found = conversation_ids_.find(name);
        return found != conversation_ids_.end() ? found->second : ConversationId{};
    }

    asio::io_context& io_;
    Options options_;
    std::vector<Credential> credentials_;
    std::optional<Store> store_;
    DeskClock clock_;
    chatroute::RecordingSink sink_;
    std::optional<EngineT> engine_;
    tcp::acceptor acceptor_;
    asio::steady_timer timer_;
    asio::steady_timer accept_retry_;
    std::chrono::milliseconds accept_backoff_{10};
    std::optional<asio::ssl::context> tls_;
    asio::thread_pool workers_{1};  // password checks

    std::array<unsigned char, crypto_auth_KEYBYTES> key_{};  // customer tokens
    std::uint64_t commands_ = 0;                               // journaled since the data directory began
    std::uint64_t snapshot_covers_ = 0;
    std::size_t connections_ = 0;
    bool stopping_ = false;
    std::vector<SessionPtr> to_write_;

    std::map<std::string, SpaceId, std::less<>> spaces_;
    std::unordered_map<SpaceId, std::string> space_names_;
    std::vector<std::string> space_order_;
    std::map<std::string, Agent, std::less<>> agents_;
    std::unordered_map<AgentId, std::string> agent_names_;
    std::vector<std::string> agent_order_;
    std::unordered_map<ConversationId, Conversation> conversations_;
    std::map<std::string, ConversationId, std::less<>> conversation_ids_;
    std::unordered_map<std::uint64_t, std::string> bodies_;  // R19: the host keeps the bodies
    std::uint64_t next_ref_ = 1;
    std::uint64_t next_conversation_ = 1;

    friend class Session;
};

// ---- Session ----

Session::Session(std::variant<PlainStream, TlsStream> stream, Desk& desk)
    : stream_(std::move(stream)), desk_(desk), idle_(socket().get_executor()) {
    desk_.opened();
}

void Session::start() {
    arm_idle();
    if (auto* tls = std::get_if<TlsStream>(&stream_)) {
        tls->async_handshake(asio::ssl::stream_base::server, [self = shared_from_this()](std::error_code error) {
            if (error) return self->close();
            self->read();
        });
    } else {
        read();
    }
}

void Session::arm_idle() {
    idle_.expires_at(last_read_ + desk_.options_.idle_timeout);
    idle_.async_wait([self = shared_from_this()](std::error_code error) {
        if (error || self->closed_) return;
        if (std::chrono::steady_clock::now() - self->last_read_ >= self->desk_.options_.idle_timeout) {
            self->close();
            self->desk_.commit();
        } else {
            self->arm_idle();
        }
    });
}

void Session::send(Line line) {
    if (closed_ || dropping_) return;
    if (outbox_bytes_ + line->size() > desk_.options_.max_output) {
        // A reader too slow for what it is sent: dropped. Closed later, as the desk may be
        // delivering right now; the engine's state is not touched by what it missed.
        dropping_ = true;
        asio::post(socket().get_executor(), [self = shared_from_this()] {
            self->close();
            self->desk_.commit();
        });
        return;
    }
    outbox_bytes_ += line->size();
    outbox_.push_back(std::move(line));
    desk_.want_write(shared_from_this());
}

void Session::write() {
    if (writing_ || closed_ || outbox_.empty()) return;
    writing_ = true;
    std::vector<asio::const_buffer> buffers;
    in_flight_ = std::min<std::size_t>(outbox_.size(), 64);
    buffers.reserve(in_flight_);
    for (std::size_t i = 0; i < in_flight_; ++i) buffers.push_back(asio::buffer(*outbox_[i]));
    auto done = [self = shared_from_this()](std::error_code error, std::size_t) {
        self->writing_ = false;
        if (error) {
            self->close();
            return self->desk_.commit();
        }
        for (std::size_t i = 0; i < self->in_flight_; ++i) {
            self->outbox_bytes_ -= self->outbox_.front()->size();
            self->outbox_.pop_front();
        }
        self->in_flight_ = 0;
        if (self->closing_ && self->outbox_.empty()) {
            self->close();
            return self->desk_.commit();
        }
        self->write();  // what is queued was committed before this handler ran
        self->pump();   // lines held back while the answers piled up
        self->desk_.commit();
    };
    std::visit([&](auto& stream) { asio::async_write(stream, buffers, done); }, stream_);
}

void Session::read() {
    if (reading_ || closed_) return;
    reading_ = true;
    auto done = [self = shared_from_this()](std::error_code error, std::size_t size) {
        self->reading_ = false;
        if (error) {
            self->close();
            return self->desk_.commit();
        }
        self->last_read_ = std::chrono::steady_clock::now();
        self->input_.append(self->chunk_.data(), size);
        self->pump();
        self->desk_.commit();
    };
    std::visit([&](auto& stream) { stream.async_read_some(asio::buffer(chunk_), done); }, stream_);
}

// Lines are handled one at a time, in order, while the connection's own answers stay under
// half its output bound; past that it is not read until the client reads what it was sent.
// So any number of pipelined commands is answered, in order, in bounded memory.
void Session::pump() {
    std::size_t begin = 0;
    const std::size_t high_water = desk_.options_.max_output / 2;
    while (!closed_ && !held_ && !closing_ && outbox_bytes_ < high_water) {
        const std::size_t end = input_.find('\n', begin);
        if (end == std::string::npos) break;
        std::string line = input_.substr(begin, end - begin);
        begin = end + 1;
        if (line.size() > line_length_max + 1) {  // +1: a trailing '\r'
            send(fmt::format("error invalid_argument a line is at most {} bytes", line_length_max));
            close_when_written();
            break;
        }
        desk_.on_line(shared_from_this(), line);
    }
    if (closed_) return;  // close() dropped the input
    input_.erase(0, begin);
    if (closed_ || closing_) return;
    if (input_.find('\n') == std::string::npos && input_.size() > line_length_max + 1) {
        send(fmt::format("error invalid_argument a line is at most {} bytes", line_length_max));
        return close_when_written();
    }
    if (!held_ && outbox_bytes_ < high_water && input_.find('\n') == std::string::npos) read();
}

void Session::close() {
    if (closed_) return;
    closed_ = true;
    idle_.cancel();
    std::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
    outbox_.clear();
    outbox_bytes_ = 0;
    input_.clear();
    input_.shrink_to_fit();
    desk_.closed();
    desk_.on_close(shared_from_this());
}

// ---- Desk: start, snapshot, restore ----

Desk::Desk(asio::io_context& io, Options options, std::vector<Credential> credentials)
    : io_(io),
      options_(std::move(options)),
      credentials_(std::move(credentials)),
      acceptor_(io),
      timer_(io),
      accept_retry_(io) {
    if (!options_.data_dir.empty()) {
        store_.emplace(options_.data_dir, options_.dump);
        const std::optional<json> snapshot = store_->read_snapshot();
        if (snapshot) {
            restore(*snapshot);
        } else {
            if (options_.dump) throw StoreError(options_.data_dir + " holds no snapshot");
            clock_.use_wall(std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
            fresh();
            take_snapshot();  // the epoch and the token key, before anything depends on them
        }
        for (const json& command : store_->read_journal(snapshot_covers_)) replay(command);
        if (!options_.dump) {
            store_->open_journal(snapshot_covers_);
            store_->remove_journals_except(snapshot_covers_);
        }
    } else {
        fresh();
    }
    if (options_.dump) return;
    reconcile();
    for (auto& [name, agent] : agents_) {  // logins are checked against the file, not the past
        agent.hash.clear();
        for (const Credential& credential : credentials_)
            if (credential.id == name) agent.hash = credential.hash;
    }
    clock_.tick();
    (void)engine_->advance();  // deadlines due while the server was down fire at their instants (R25)
    settle();
    commit();
}

void Desk::fresh() {
    randombytes_buf(key_.data(), key_.size());
    engine_.emplace(clock_, sink_);
}

void Desk::restore(const json& snapshot) {
    clock_.use_wall(snapshot.at("epoch_us").get<std::int64_t>());
    const auto key = unhex(snapshot.at("key").get<std::string>());
    const auto engine = unhex(snapshot.at("engine").get<std::string>());
    if (!key || key->size() != key_.size() || !engine) throw StoreError("snapshot.json is malformed");
    std::copy(key->begin(), key->end(), key_.begin());
    auto restored = EngineT::restore(std::as_bytes(std::span(*engine)), clock_, sink_);
    if (!restored) throw StoreError(fmt::format("snapshot.json: {}", chatroute::message(restored.error())));
    engine_.emplace(std::move(*restored));
    clock_.set(engine_->now());
    commands_ = snapshot_covers_ = snapshot.at("commands").get<std::uint64_t>();
    next_conversation_ = snapshot.at("next_conversation").get<std::uint64_t>();
    space_order_ = snapshot.at("spaces").get<std::vector<std::string>>();
    agent_order_ = snapshot.at("agents").get<std::vector<std::string>>();
    if (space_order_.size() != engine_->space_count() || agent_order_.size() != engine_->agent_count())
        throw StoreError("snapshot.json: its names do not match its engine");
    for (std::size_t i = 0; i < space_order_.size(); ++i) {
        const SpaceId id = engine_->space_at(i).value();
        spaces_.emplace(space_order_[i], id);
        space_names_.emplace(id, space_order_[i]);
    }
    for (std::size_t i = 0; i < agent_order_.size(); ++i) {
        const AgentId id = engine_->agent_at(i).value();
        agents_.emplace(agent_order_[i], Agent{id, nullptr, {}});
        agent_names_.emplace(id, agent_order_[i]);
    }
    for (const json& entry : snapshot.at("conversations")) {
        const auto id = handle_from<ConversationId>(entry.at("id").get<std::string>());
        if (!id) throw StoreError("snapshot.json: a conversation id is malformed");
        Conversation conversation;
        conversation.name = entry.at("name").get<std::string>();
        conversation.space = space_id(entry.at("space").get<std::string>());
        if (entry.contains("assignee")) conversation.assignee = agent_id(entry.at("assignee").get<std::string>());
        for (const json& line : entry.at("backlog")) {
            conversation.backlog.push_back(std::make_shared<const std::string>(line.get<std::string>()));
            conversation.backlog_bytes += conversation.backlog.back()->size();
        }
        conversation_ids_.emplace(conversation.name, *id);
        conversations_.emplace(*id, std::move(conversation));
    }
}

void Desk::take_snapshot() {
    json snapshot{{"format", "chatdesk-1"},
                  {"commands", commands_},
                  {"epoch_us", clock_.epoch_us()},
                  {"key", hex(key_.data(), key_.size())},
                  {"next_conversation", next_conversation_},
                  {"spaces", space_order_},
                  {"agents", agent_order_}};
    json conversations = json::array();
    for (const auto& [id, conversation] : conversations_) {
        json entry{{"name", conversation.name}, {"id", handle_text(id)}, {"space", show(conversation.space)}};
        if (conversation.assignee) entry["assignee"] = show(*conversation.assignee);
        json backlog = json::array();
        for (const Line& line : conversation.backlog) backlog.push_back(*line);
        entry["backlog"] = std::move(backlog);
        conversations.push_back(std::move(entry));
    }
    snapshot["conversations"] = std::move(conversations);
    const std::vector<std::byte> engine = engine_->snapshot();
    snapshot["engine"] = hex(engine.data(), engine.size());
    store_->write_snapshot(snapshot.dump(), commands_);
    snapshot_covers_ = commands_;
}

// Spaces from --space and the credentials file, agents and their roles from the file: what
// is missing is added, roles no longer listed are revoked. Each change is a journaled command.
void Desk::reconcile() {
    std::vector<std::string> wanted = options_.spaces;
    for (const Credential& credential : credentials_)
        for (const std::string& space : credential.spaces)
            if (std::find(wanted.begin(), wanted.end(), space) == wanted.end()) wanted.push_back(space);
    if (wanted.empty() && spaces_.empty()) wanted.emplace_back("desk");
    const chatroute::SpaceTimings& t = options_.timings;
    for (const std::string& space : wanted) {
        if (spaces_.contains(space)) continue;
        (void)live(json{{"cmd", "add_space"},
                        {"space", space},
                        {"fallback", options_.fallback},
                        {"offer_timeout", seconds_number(t.offer_timeout)},
                        {"accept_window", seconds_number(t.accept_window)},
                        {"inactivity_warning", seconds_number(t.inactivity_warning)},
                        {"inactivity_grace", seconds_number(t.inactivity_grace)},
                        {"max_duration", seconds_number(t.max_duration)}});
    }
    for (const Credential& credential : credentials_) {
        if (!agents_.contains(credential.id))
            (void)live(json{{"cmd", "add_agent"}, {"agent", credential.id}, {"limit", options_.limit}});
        const AgentId agent = agent_id(credential.id);
        if (engine_->load(agent).value().limit != static_cast<std::uint32_t>(options_.limit))
            (void)live(json{{"cmd", "set_limit"}, {"agent", credential.id}, {"limit", options_.limit}});
        for (const std::string& space : space_order_) {
            const bool listed = std::find(credential.spaces.begin(), credential.spaces.end(), space) != credential.spaces.end();
            if (listed != engine_->has_role(agent, space_id(space)).value())
                (void)live(json{{"cmd", listed ? "grant_role" : "revoke_role"}, {"agent", credential.id}, {"space", space}});
        }
    }
    for (const auto& [name, agent] : agents_) {  // gone from the file: no role anywhere
        const std::string& id = name;  // (Clang 14 captures no structured binding)
        if (std::any_of(credentials_.begin(), credentials_.end(), [&](const Credential& c) { return c.id == id; }))
            continue;
        for (const std::string& space : space_order_)
            if (engine_->has_role(agent.id, space_id(space)).value())
                (void)live(json{{"cmd", "revoke_role"}, {"agent", name}, {"space", space}});
    }
}

// ---- Engine calls ----

// The one place that calls engine commands: a SPEC §10 line, with the host's ids, in; the
// engine's result out. Live commands and the journal's replay both come through here.
chatroute::Result<void> Desk::dispatch(const json& c) {
    using chatroute::Error;
    const std::string& cmd = c.at("cmd").get_ref<const std::string&>();
    const auto text = [&](const char* key) { return c.value(key, std::string{}); };
    const auto agent = [&](const char* key = "agent") { return agent_id(text(key)); };
    const auto space = [&](const char* key = "space") { return space_id(text(key)); };
    const auto conversation = [&] { return conversation_id(text("conversation")); };
    const auto body = [&] {
        const chatroute::MessageRef ref{next_ref_++};
        bodies_.emplace(ref.value, text("text"));
        return ref;
    };
    auto& engine = *engine_;

    if (cmd == "add_space") {
        chatroute::SpaceSettings settings;
        settings.fallback_message = text("fallback");
        chatroute::SpaceTimings& t = settings.timings;
        for (auto [key, field] : {std::pair{"offer_timeout", &t.offer_timeout}, {"accept_window", &t.accept_window},
                                  {"inactivity_warning", &t.inactivity_warning},
                                  {"inactivity_grace", &t.inactivity_grace}, {"max_duration", &t.max_duration}})
            if (c.contains(key)) *field = from_seconds(c.at(key).get<double>());
        const std::string name = text("space");
        if (spaces_.contains(name)) return tl::unexpected(Error::duplicate_id);
        auto added = engine.add_space(settings);
        if (!added) return tl::unexpected(added.error());
        spaces_.emplace(name, *added);
        space_names_.emplace(*added, name);
        space_order_.push_back(name);
        return {};
    }
    if (cmd == "add_agent") {
        const std::string name = text("agent");
        if (agents_.contains(name)) return tl::unexpected(Error::duplicate_id);
        auto added = engine.add_agent({c.value("limit", options_.limit)});
        if (!added) return tl::unexpected(added.error());
        agents_.emplace(name, Agent{*added, nullptr, {}});
        agent_names_.emplace(*added, name);
        agent_order_.push_back(name);
        return {};
    }
    if (cmd == "set_limit") return engine.set_limit(agent(), c.at("limit").get<std::int64_t>());
    if (cmd == "grant_role") return engine.grant_role(agent(), space());
    if (cmd == "revoke_role") return engine.revoke_role(agent(), space());
    if (cmd == "set_availability") {
        const bool available = c.at("available").get<bool>();
        if (text("space") == "*") return engine.set_availability(agent(), chatroute::AllSpaces{}, available);
        return engine.set_availability(agent(), space(), available);
    }
    if (cmd == "start_conversation") {
        const std::string name = text("conversation");
        if (conversation_ids_.contains(name)) return tl::unexpected(Error::duplicate_id);
        auto started = engine.start_conversation(space());
        if (!started) return tl::unexpected(started.error());
        Conversation record;
        record.name = name;
        record.space = space();
        conversations_.emplace(*started, std::move(record));
        conversation_ids_.emplace(name, *started);
        if (name.starts_with('c')) {
            std::uint64_t number = 0;
            std::from_chars(name.data() + 1, name.data() + name.size(), number);
            next_conversation_ = std::max(next_conversation_, number + 1);
        }
        return {};
    }
    if (cmd == "accept") return engine.accept(conversation(), agent());
    if (cmd == "decline") return engine.decline(conversation(), agent());
    if (cmd == "message") {
        if (text("from") == "customer") return engine.customer_message(conversation(), body());
        return engine.agent_message(conversation(), agent(), body());
    }
    if (cmd == "typing") {
        if (text("from") == "customer") return engine.customer_typing(conversation());
        return engine.agent_typing(conversation(), agent());
    }
    if (cmd == "note") return engine.note(conversation(), agent(), body());
    if (cmd == "follow_up") return engine.follow_up(conversation(), agent());
    if (cmd == "end") {
        if (text("by") == "customer") return engine.end_by_customer(conversation());
        return engine.end_by_agent(conversation(), agent());
    }
    if (cmd == "resolve") return engine.resolve(conversation(), agent(), text("resolution"));
    if (cmd == "transfer") {  // R32
        std::optional<AgentId> to;
        if (c.contains("to_agent")) to = agent("to_agent");
        return engine.transfer(conversation(), agent(), space(), to);
    }
    return tl::unexpected(Error::invalid_argument);
}

chatroute::Result<void> Desk::live(json command) {
    clock_.tick();
    const chatroute::time_point at = clock_.now();
    auto result = dispatch(command);
    if (result && store_) {
        // The instant the engine saw, exactly: whole microseconds print and parse back exactly.
        command["at"] = json::parse(seconds_text(at.time_since_epoch()));
        store_->append(command.dump());
    }
    if (result) ++commands_;
    return result;
}

void Desk::replay(const json& command) {
    if (command.contains("at")) clock_.set(chatroute::at_seconds(command.at("at").get<double>()));
    const auto result = dispatch(command);
    if (!result)
        fmt::print(stderr, "chatdesk: the journal's command {} failed on replay: {}\n", command.dump(),
                   chatroute::to_string(result.error()));
    ++commands_;
    settle();
}

// Answers the sender (after the journal is flushed: see commit()), then hands every event
// the command caused to its audience.
chatroute::Result<void> Desk::run(const SessionPtr& session, json command) {
    auto result = live(std::move(command));
    if (result)
        session->send(std::string("ok"));
    else
        session->send(error_line(result.error()));
    settle();
    return result;
}

void Desk::commit() {
    if (store_ && store_->dirty()) {
        store_->sync();
        if (commands_ - snapshot_covers_ >= options_.snapshot_every) take_snapshot();
    }
    std::vector<SessionPtr> writers;
    writers.swap(to_write_);
    for (const SessionPtr& session : writers) session->write();
}

// ---- Protocol ----

void Desk::on_line(const SessionPtr& session, std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (options_.verbose) fmt::print(stderr, "< {}: {}\n", session->name.empty() ? "?" : session->name, line);
    if (!printable_utf8(line, true))
        return session->send(error_line("invalid_argument", "a line must be printable UTF-8"));
    const auto [word, rest] = split(line);
    if (word.empty()) return;
    if (word == "quit") return session->close();
    if (word == "help") return session->send(std::string("ok see examples/asio_host/README.md"));
    if (word == "ping") return session->send(std::string("ok"));
    switch (session->role) {
        case Session::Role::unknown: return hello(session, word, rest);
        case Session::Role::customer: return customer_command(session, word, rest);
        case Session::Role::agent: return agent_command(session, word, rest);
    }
}

std::string Desk::token(std::string_view conversation) const {
    std::array<unsigned char, crypto_auth_BYTES> mac{};
    crypto_auth(mac.data(), reinterpret_cast<const unsigned char*>(conversation.data()), conversation.size(),
                key_.data());
    return hex(mac.data(), mac.size());
}

void Desk::hello(const SessionPtr& session, std::string_view word, std::string_view rest) {
    if (word == "customer") {
        const std::string space(rest.empty() ? std::string_view(space_order_.front()) : rest);
        if (!spaces_.contains(space)) return session->send(error_line(chatroute::Error::unknown_space));
        const std::string name = fmt::format("c{}", next_conversation_);
        // The answer names the conversation and its token before the events that follow.
        auto result = live(json{{"cmd", "start_conversation"}, {"conversation", name}, {"space", space}});
        if (!result) {
            session->send(error_line(result.error()));
            return settle();
        }
        const ConversationId id = conversation_ids_.at(name);
        session->role = Session::Role::customer;
        session->name = name;
        session->conversation = id;
        conversations_.at(id).customer = session;
        session->send(fmt::format("ok conversation {} {}", name, token(name)));
        return settle();
    }
    if (word == "resume") {
        const auto [name, given] = split(rest);
        auto found = conversation_ids_.find(name);
        const std::string expected = found != conversation_ids_.end() ? token(name) : token("-");
        // Constant time, and one answer for an unknown conversation and a wrong token.
        const bool ok = given.size() == expected.size() &&
                        sodium_memcmp(given.data(), expected.data(), expected.size()) == 0 &&
                        found != conversation_ids_.end();
        if (!ok) return session->send(error_line("unauthorized", "unknown conversation or wrong token"));
        Conversation& conversation = conversations_.at(found->second);
        if (conversation.customer) {  // the same customer on a new connection: the old one goes
            conversation.customer->role = Session::Role::unknown;
            conversation.customer->close();
        }
        session->role = Session::Role::customer;
        session->name = found->first;
        session->conversation = found->second;
        conversation.customer = session;
        return session->send(fmt::format("ok conversation {}", found->first));
    }
    if (word == "agent") {
        const auto [id, password] = split(rest);
        if (id.empty() || password.empty() || password.find(' ') != std::string_view::npos)
            return session->send(error_line("invalid_argument", "usage: agent <id> <password>"));
        return login(session, id, password);
    }
    session->send(error_line("unknown_command", "say `customer [space]`, `resume <c> <token>` or `agent <id> <password>` first"));
}

// The password is checked on the worker thread (crypto_pwhash_str_verify takes tens of
// milliseconds by design); the connection's later lines wait. An unknown id is checked
// against another agent's hash, so that it takes as long and fails the same way.
void Desk::login(const SessionPtr& session, std::string_view id, std::string_view password) {
    auto found = agents_.find(id);
    const bool known = found != agents_.end() && !found->second.hash.empty() && valid_id(id) &&
                       password.size() <= password_length_max;
    std::string hash = known ? found->second.hash : (credentials_.empty() ? std::string{} : credentials_.front().hash);
    session->hold(true);
    asio::post(workers_, [this, session, known, hash = std::move(hash), password = std::string(password),
                          id = std::string(id)]() mutable {
        const bool verified = !hash.empty() &&
                              crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
        sodium_memzero(password.data(), password.size());
        asio::post(io_, [this, session, id = std::move(id), ok = known && verified] {
            logged_in(session, id, ok);
            commit();
        });
    });
}

void Desk::logged_in(const SessionPtr& session, const std::string& id, bool ok) {
    if (session->closed()) return;
    if (!ok) {
        // Rate limit: each failure is answered after a delay; after a few, the connection goes.
        ++session->failures;
        auto delay = std::make_shared<asio::steady_timer>(io_, options_.auth_delay);
        delay->async_wait([this, session, delay](std::error_code) {
            if (session->closed()) return;
            session->send(error_line("unauthorized", "unknown agent or wrong password"));
            session->hold(false);
            if (session->failures >= options_.auth_failures)
                session->close_when_written();
            else
                session->pump();
            commit();
        });
        return;
    }
    Agent& agent = agents_.at(id);
    if (agent.session && agent.session != session) {  // the same agent on a new connection: the old one goes
        agent.session->send(error_line("replaced", "this agent logged in on another connection"));
        agent.session->role = Session::Role::unknown;
        agent.session->close_when_written();
    }
    agent.session = session;
    session->role = Session::Role::agent;
    session->name = id;
    session->failures = 0;
    session->send(fmt::format("ok agent {}", id));
    session->hold(false);
    session->pump();
}

void Desk::customer_command(const SessionPtr& session, std::string_view word, std::string_view rest) {
    const std::string& name = session->name;
    if (!conversation_ids_.contains(name) && (word == "say" || word == "typing" || word == "bye"))
        return session->send(error_line(chatroute::Error::work_item_closed));  // closed and forgotten
    if (word == "say") {
        auto found = conversations_.find(session->conversation);
        if (found != conversations_.end() && !found->second.assignee) {
            const Conversation& conversation = found->second;
            if (conversation.backlog.size() >= options_.backlog_messages ||
                conversation.backlog_bytes + rest.size() + 128 > options_.backlog_bytes)
                return session->send(error_line(
                    "backlog_full", fmt::format("at most {} messages ({} bytes) wait for an agent; try again later",
                                                options_.backlog_messages, options_.backlog_bytes)));
        }
        run(session, json{{"cmd", "message"}, {"conversation", name}, {"from", "customer"}, {"text", rest}});
        return;
    }
    if (word == "typing") {
        run(session, json{{"cmd", "typing"}, {"conversation", name}, {"from", "customer"}});
        return;
    }
    if (word == "bye") {
        run(session, json{{"cmd", "end"}, {"conversation", name}, {"by", "customer"}});
        return;
    }
    session->send(error_line("unknown_command", "customer commands: say <text>, typing, bye, ping, quit"));
}

void Desk::agent_command(const SessionPtr& session, std::string_view word, std::string_view rest) {
    const std::string& agent = session->name;
    if (word == "available" || word == "away") {
        const std::string space(rest.empty() ? "*" : rest);
        if (space != "*" && !spaces_.contains(space)) return session->send(error_line(chatroute::Error::unknown_space));
        run(session, json{{"cmd", "set_availability"}, {"agent", agent}, {"space", space}, {"available", word == "available"}});
        return;
    }
    const auto [conversation_name, text] = split(rest);
    const std::string_view conversation = conversation_name;  // (Clang 14 captures no structured binding)
    const auto on = [&](const char* cmd) { return json{{"cmd", cmd}, {"conversation", conversation}, {"agent", agent}}; };
    json command;
    if (word == "accept") command = on("accept");
    else if (word == "decline") command = on("decline");
    else if (word == "say") (command = on("message"))["from"] = "agent", command["text"] = text;
    else if (word == "typing") (command = on("typing"))["from"] = "agent";
    else if (word == "note") (command = on("note"))["text"] = text;
    else if (word == "follow-up") command = on("follow_up");
    else if (word == "end") (command = on("end"))["by"] = "agent";
    else if (word == "resolve") (command = on("resolve"))["resolution"] = text;
    else if (word == "transfer") {
        const auto [target, to_agent] = split(text);
        if (target.empty() || to_agent.find(' ') != std::string_view::npos)
            return session->send(error_line("invalid_argument", "usage: transfer <c> <space> [agent]"));
        (command = on("transfer"))["space"] = target;
        if (!to_agent.empty()) command["to_agent"] = to_agent;
    } else {
        return session->send(error_line(
            "unknown_command",
            "agent commands: available|away [space], accept|decline|typing|follow-up|end <c>, say|note <c> <text>, "
            "resolve <c> <resolution>, transfer <c> <space> [agent], ping, quit"));
    }
    run(session, std::move(command));
}

// A customer who leaves may come back with `resume`; the conversation goes on (R17 ends it
// if nobody writes). An agent who leaves turns unavailable, which withdraws its pending
// offers (R14); assigned conversations stay with the agent.
void Desk::on_close(const SessionPtr& session) {
    if (stopping_) return;
    if (session->role == Session::Role::customer) {
        auto found = conversations_.find(session->conversation);
        if (found != conversations_.end() && found->second.customer == session) found->second.customer = nullptr;
    } else if (session->role == Session::Role::agent) {
        auto found = agents_.find(session->name);
        if (found != agents_.end() && found->second.session == session) {
            found->second.session = nullptr;
            (void)live(json{{"cmd", "set_availability"}, {"agent", session->name}, {"space", "*"}, {"available", false}});
            settle();
        }
    }
    session->role = Session::Role::unknown;
}

// ---- Listening ----

void Desk::listen() {
    const asio::ip::address address = asio::ip::make_address(options_.bind);
    const tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    if (options_.tls()) {
        tls_.emplace(asio::ssl::context::tls_server);
        tls_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                          asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                          asio::ssl::context::no_tlsv1_1);
        tls_->use_certificate_chain_file(options_.tls_cert);
        tls_->use_private_key_file(options_.tls_key, asio::ssl::context::pem);
    }
    accept();
}

// Survives every accept() error: out of descriptors (EMFILE, ENFILE), a connection aborted
// before it was taken, and the rest. The pending connection stays queued, so the loop backs
// off (10 ms, doubling up to 1 s) instead of spinning, and resumes when descriptors free up.
void Desk::accept() {
    acceptor_.async_accept([this](std::error_code error, tcp::socket socket) {
        if (!acceptor_.is_open() || error == asio::error::operation_aborted) return;
        if (error) {
            fmt::print(stderr, "chatdesk: accept: {}; retrying in {} ms\n", error.message(), accept_backoff_.count());
            accept_retry_.expires_after(accept_backoff_);
            accept_backoff_ = std::min(accept_backoff_ * 2, std::chrono::milliseconds{1000});
            accept_retry_.async_wait([this](std::error_code wait_error) {
                if (!wait_error) accept();
            });
            return;
        }
        accept_backoff_ = std::chrono::milliseconds{10};
        if (connections_ >= options_.max_connections) {
            static constexpr std::string_view busy = "error busy too many connections; try again later\n";
            std::error_code ignored;
            socket.non_blocking(true, ignored);
            socket.write_some(asio::buffer(busy), ignored);
            socket.close(ignored);
        } else if (tls_) {
            std::make_shared<Session>(TlsStream(std::move(socket), *tls_), *this)->start();
        } else {
            std::make_shared<Session>(std::move(socket), *this)->start();
        }
        accept();
        commit();
    });
}

void Desk::stop() {
    stopping_ = true;
    std::error_code ignored;
    acceptor_.close(ignored);
    accept_retry_.cancel();
    timer_.cancel();
    if (store_) {
        store_->sync();
        take_snapshot();
    }
    for (auto& [name, agent] : agents_)
        if (agent.session) agent.session->close();
    for (auto& [id, conversation] : conversations_)
        if (conversation.customer) conversation.customer->close();
}

// ---- Time (R25, R26) ----

// Delivers what the engine emitted, forgets closed conversations, re-arms the timer.
void Desk::settle() {
    std::vector<chatroute::Event> events;
    events.swap(sink_.events);
    for (const chatroute::Event& event : events) std::visit([&](const auto& e) { deliver(e); }, event);
    for (auto it = conversations_.begin(); it != conversations_.end();) {
        if (it->second.closed) {
            conversation_ids_.erase(it->second.name);
            it = conversations_.erase(it);
        } else {
            ++it;
        }
    }
    bodies_.clear();  // a body is delivered with its command's events, or never (a failed command)
    arm_timer();
}

void Desk::arm_timer() {
    if (stopping_) return;
    const std::optional<chatroute::time_point> next = engine_->next_deadline();
    if (!next) {
        timer_.cancel();
        return;
    }
    // Re-arming cancels the previous wait; its handler sees operation_aborted.
    const auto wait = std::max(chatroute::duration::zero(), *next - clock_.live());
    timer_.expires_after(wait);
    timer_.async_wait([this](std::error_code error) {
        if (error) return;
        clock_.tick();
        (void)engine_->advance();
        settle();
        commit();
    });
}

// ---- Delivery ----

// "event <name> at=<seconds> <field>=<value>..." with the host's ids; a message or note
// adds its body last, as `text=`, which runs to the end of the line.
template <class E>
std::string Desk::describe(const E& event) {
    std::string line = fmt::format("event {} at={}", E::name, event.at);
    event.fields([&](std::string_view key, const auto& value) { line += fmt::format(" {}={}", key, show(value)); });
    if constexpr (requires { event.ref; }) {
        if (auto body = bodies_.find(event.ref.value); body != bodies_.end()) {
            line += fmt::format(" text={}", body->second);
            bodies_.erase(body);
        }
    }
    line += '\n';
    return line;
}

template <class E>
void Desk::deliver(const E& event) {
    namespace ev = chatroute::events;
    const Line line = std::make_shared<const std::string>(describe(event));
    if (options_.verbose) fmt::print(stderr, "> {}", *line);
    if constexpr (std::is_same_v<E, ev::Message> || std::is_same_v<E, ev::Typing>) {
        to_audience(event.conversation, event.audience, line);
    } else if constexpr (std::is_same_v<E, ev::Note>) {
        to_audience(event.conversation, ev::Note::audience, line);  // team: never the customer
    } else if constexpr (std::is_same_v<E, ev::FollowUpCreated>) {
        to_audience(event.conversation, Audience::team, line);
    } else if constexpr (std::is_same_v<E, ev::ConversationStarted> || std::is_same_v<E, ev::FallbackMessage>) {
        to_customer(event.conversation, line);
    } else if constexpr (std::is_same_v<E, ev::Accepted>) {
        auto found = conversations_.find(event.conversation);
        if (found == conversations_.end()) return;
        Conversation& conversation = found->second;
        conversation.assignee = event.agent;
        to_audience(event.conversation, Audience::conversation, line);
        for (const Line& earlier : conversation.backlog) to_agent(event.agent, earlier);
        conversation.backlog.clear();
        conversation.backlog_bytes = 0;
    } else if constexpr (std::is_same_v<E, ev::InactivityWarning> || std::is_same_v<E, ev::ConversationEnded>) {
        to_audience(event.conversation, Audience::conversation, line);
    } else if constexpr (std::is_same_v<E, ev::StatusChanged> || std::is_same_v<E, ev::Resolved>) {
        to_audience(event.conversation, Audience::agent, line);  // the work item is the agents' business
        if constexpr (std::is_same_v<E, ev::StatusChanged>)
            if (event.to == chatroute::Status::closed)
                if (auto found = conversations_.find(event.conversation); found != conversations_.end())
                    found->second.closed = true;
    } else if constexpr (std::is_same_v<E, ev::Transferred>) {
        // R32, R33: the conversation now belongs to the target space (its team hears its notes
        // from now on). The assignee keeps it until slot_released, so it also gets the
        // status_changed (active -> waiting_for_agent) that comes between.
        to_agent(event.agent, line);
        to_customer(event.conversation, line);
        if (auto found = conversations_.find(event.conversation); found != conversations_.end())
            found->second.space = event.space;
    } else if constexpr (std::is_same_v<E, ev::SlotReleased>) {
        to_agent(event.agent, line);
        if (auto found = conversations_.find(event.conversation);
            found != conversations_.end() && found->second.assignee == event.agent)
            found->second.assignee.reset();  // transferred (R32, R33) or closed
    } else if constexpr (requires { event.agent; }) {
        to_agent(event.agent, line);  // availability, offers, transcript, slot: the agent's own
    }
    // workflow_changed, priority_changed, skills_relaxed: nothing the desk's users act on.
}

void Desk::to_audience(ConversationId id, Audience audience, const Line& line) {
    auto found = conversations_.find(id);
    if (found == conversations_.end()) return;
    Conversation& conversation = found->second;
    const bool customer = audience == Audience::conversation || audience == Audience::customer;
    const bool assignee = audience == Audience::conversation || audience == Audience::agent;
    if (customer) to_customer(id, line);
    if (assignee && conversation.assignee) to_agent(*conversation.assignee, line);
    if (assignee && !conversation.assignee && audience == Audience::conversation) {
        conversation.backlog_bytes += line->size();
        conversation.backlog.push_back(line);
    }
    if (audience == Audience::team) {
        // Every agent with the role in the conversation's space, and its assignee (R4, R16).
        for (const auto& [name, agent] : agents_) {
            if (!agent.session) continue;
            const bool in_team =
                conversation.assignee == agent.id || engine_->has_role(agent.id, conversation.space).value_or(false);
            if (in_team) agent.session->send(line);
        }
    }
}

void Desk::to_agent(AgentId id, const Line& line) {
    auto name = agent_names_.find(id);
    if (name == agent_names_.end()) return;
    if (const SessionPtr& session = agents_.find(name->second)->second.session) session->send(line);
}

void Desk::to_customer(ConversationId id, const Line& line) {
    auto found = conversations_.find(id);
    if (found != conversations_.end() && found->second.customer) found->second.customer->send(line);
}

// The restored state, as the crash test compares it with an uninterrupted run's.
json Desk::dump() const {
    json out{{"commands", commands_}, {"next_conversation", next_conversation_}};
    json conversations = json::object();
    for (const auto& [name, id] : conversation_ids_) {
        const Conversation& conversation = conversations_.at(id);
        json entry{{"space", show(conversation.space)},
                   {"status", fmt::format("{}", engine_->status(id).value())},
                   {"backlog", conversation.backlog.size()}};
        if (auto assignee = engine_->assignee(id).value()) entry["assignee"] = show(*assignee);
        if (auto offered = engine_->offered_to(id).value()) entry["offered_to"] = show(*offered);
        conversations[name] = std::move(entry);
    }
    out["conversations"] = std::move(conversations);
    json agents = json::object();
    for (const auto& [name, agent] : agents_) {
        const chatroute::Load load = engine_->load(agent.id).value();
        json entry{{"assigned", load.assigned}, {"pending", load.pending}, {"limit", load.limit}};
        for (const auto& [space, space_handle] : spaces_)
            if (engine_->has_role(agent.id, space_handle).value())
                entry["spaces"][space] = engine_->available(agent.id, space_handle).value();
        agents[name] = std::move(entry);
    }
    out["agents"] = std::move(agents);
    return out;
}

// ---- Command line ----

constexpr std::string_view usage =
    "usage: chatdesk [options]                          the server (README.md)\n"
    "       chatdesk passwd [--cost min|interactive|moderate] <id> [space...]\n"
    "                                                   reads a password on stdin, prints a credentials line\n"
    "options:\n"
    "  --bind ADDR (127.0.0.1)  --port N (0: any)  --insecure-bind  --tls-cert FILE --tls-key FILE\n"
    "  --agents FILE  --space NAME...  --data DIR  --snapshot-every N (1000)  --dump\n"
    "  --offer-timeout S (120)  --accept-window S (1200)  --inactivity-warning S (1200)\n"
    "  --inactivity-grace S (600)  --max-duration S (86400)  --limit N (3)  --fallback TEXT\n"
    "  --max-connections N (256)  --idle-timeout S (300)  --max-output BYTES (262144)\n"
    "  --backlog-messages N (100)  --backlog-bytes BYTES (65536)  --auth-failures N (3)\n"
    "  --auth-delay S (1)  --verbose\n";

struct ParseError {
    std::string message;
};

std::optional<double> number(std::string_view text) {
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// Seconds within [low, high]; what an engine timer or an Asio timer can hold without trouble.
chatroute::duration seconds_flag(std::string_view flag, std::string_view text, double low, double high) {
    const std::optional<double> value = number(text);
    if (!value || !(*value >= low && *value <= high))
        throw ParseError{fmt::format("{} takes seconds from {} to {}, not {}", flag, low, high, text)};
    return from_seconds(*value);
}

std::uint64_t count_flag(std::string_view flag, std::string_view text, std::uint64_t low, std::uint64_t high) {
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || value < low || value > high)
        throw ParseError{fmt::format("{} takes a whole number from {} to {}, not {}", flag, low, high, text)};
    return value;
}

Options parse(int argc, char** argv) {
    Options options;
    constexpr double year = 366.0 * 86400;
    const auto ms = [](chatroute::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d); };
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--verbose") {
            options.verbose = true;
            continue;
        }
        if (flag == "--insecure-bind") {
            options.insecure_bind = true;
            continue;
        }
        if (flag == "--dump") {
            options.dump = true;
            continue;
        }
        if (i + 1 >= argc) throw ParseError{fmt::format("{} needs a value", flag)};
        const std::string_view text = argv[++i];
        chatroute::SpaceTimings& t = options.timings;
        if (flag == "--fallback") {
            if (!printable_utf8(text, true) || text.size() > line_length_max)
                throw ParseError{"--fallback takes printable UTF-8 text"};
            options.fallback = text;
        } else if (flag == "--bind") {
            options.bind = text;
        } else if (flag == "--port") {
            options.port = static_cast<std::uint16_t>(count_flag(flag, text, 0, 65535));
        } else if (flag == "--tls-cert") {
            options.tls_cert = text;
        } else if (flag == "--tls-key") {
            options.tls_key = text;
        } else if (flag == "--agents") {
            options.agents_file = text;
        } else if (flag == "--space") {
            if (!valid_id(text)) throw ParseError{"--space takes 1-64 bytes of printable UTF-8 without spaces"};
            options.spaces.emplace_back(text);
        } else if (flag == "--data") {
            options.data_dir = text;
        } else if (flag == "--snapshot-every") {
            options.snapshot_every = count_flag(flag, text, 1, 100'000'000);
        } else if (flag == "--limit") {
            options.limit = static_cast<std::int64_t>(count_flag(flag, text, 1, 1'000'000));
        } else if (flag == "--offer-timeout") {
            t.offer_timeout = seconds_flag(flag, text, 0.001, year);
        } else if (flag == "--accept-window") {
            t.accept_window = seconds_flag(flag, text, 0.001, year);
        } else if (flag == "--inactivity-warning") {
            t.inactivity_warning = seconds_flag(flag, text, 0.001, year);
        } else if (flag == "--inactivity-grace") {
            t.inactivity_grace = seconds_flag(flag, text, 0.001, year);
        } else if (flag == "--max-duration") {
            t.max_duration = seconds_flag(flag, text, 0.001, year);
        } else if (flag == "--max-connections") {
            options.max_connections = count_flag(flag, text, 1, 1'000'000);
        } else if (flag == "--idle-timeout") {
            options.idle_timeout = ms(seconds_flag(flag, text, 1, 86400));
        } else if (flag == "--max-output") {
            options.max_output = count_flag(flag, text, 16 * 1024, std::uint64_t{1} << 30);
        } else if (flag == "--backlog-messages") {
            options.backlog_messages = count_flag(flag, text, 1, 100'000);
        } else if (flag == "--backlog-bytes") {
            options.backlog_bytes = count_flag(flag, text, line_length_max + 256, std::uint64_t{1} << 28);
        } else if (flag == "--auth-failures") {
            options.auth_failures = static_cast<std::uint32_t>(count_flag(flag, text, 1, 100));
        } else if (flag == "--auth-delay") {
            options.auth_delay = ms(seconds_flag(flag, text, 0, 60));
        } else {
            throw ParseError{fmt::format("unknown option {}", flag)};
        }
    }
    if (options.tls_cert.empty() != options.tls_key.empty())
        throw ParseError{"--tls-cert and --tls-key go together"};
    std::error_code error;
    const asio::ip::address address = asio::ip::make_address(options.bind, error);
    if (error) throw ParseError{fmt::format("--bind takes an IP address, not {}", options.bind)};
    if (!options.tls() && !address.is_loopback() && !options.insecure_bind)
        throw ParseError{"without TLS chatdesk binds only loopback addresses; give --tls-cert/--tls-key, "
                         "or --insecure-bind if something else encrypts the traffic"};
    // A connection must be able to hold what one command sends it: the backlog on accept.
    if (options.max_output < 2 * (options.backlog_bytes + line_length_max + 1024))
        throw ParseError{"--max-output must be at least twice --backlog-bytes plus 5 KiB"};
    if (!chatroute::validate(options.timings)) throw ParseError{"the timings are out of range"};
    return options;
}

int passwd(int argc, char** argv) {
    unsigned long long ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    std::size_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    int i = 2;
    if (i + 1 < argc && std::string_view(argv[i]) == "--cost") {
        const std::string_view cost = argv[i + 1];
        if (cost == "min") {  // for tests only: fast to check, and to guess
            ops = crypto_pwhash_OPSLIMIT_MIN;
            mem = crypto_pwhash_MEMLIMIT_MIN;
        } else if (cost == "moderate") {
            ops = crypto_pwhash_OPSLIMIT_MODERATE;
            mem = crypto_pwhash_MEMLIMIT_MODERATE;
        } else if (cost != "interactive") {
            std::fputs(usage.data(), stderr);
            return 2;
        }
        i += 2;
    }
    if (i >= argc || !valid_id(argv[i])) {
        std::fputs("chatdesk passwd: give an agent id (1-64 bytes of printable UTF-8 without spaces)\n", stderr);
        return 2;
    }
    std::string line = fmt::format("{}", argv[i]);
    std::string password;
    if (!std::getline(std::cin, password)) password.clear();
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.size() < 8 || password.size() > password_length_max || !printable_utf8(password, false)) {
        std::fputs("chatdesk passwd: the password (first line of stdin) must be 8-128 bytes, printable, no spaces\n",
                   stderr);
        return 2;
    }
    std::array<char, crypto_pwhash_STRBYTES> hash{};
    if (crypto_pwhash_str(hash.data(), password.data(), password.size(), ops, mem) != 0) {
        std::fputs("chatdesk passwd: out of memory\n", stderr);
        return 1;
    }
    sodium_memzero(password.data(), password.size());
    line += fmt::format(" {}", hash.data());
    for (++i; i < argc; ++i) {
        if (!valid_id(argv[i])) {
            std::fputs("chatdesk passwd: a space name must be 1-64 bytes of printable UTF-8\n", stderr);
            return 2;
        }
        line += fmt::format(" {}", argv[i]);
    }
    fmt::print("{}\n", line);
    return 0;
}

}  // namespace chatdesk

int main(int argc, char** argv) {
    if (sodium_init() < 0) {
        std::fputs("chatdesk: libsodium failed to start\n", stderr);
        return 1;
    }
    if (argc > 1 && std::string_view(argv[1]) == "passwd") return chatdesk::passwd(argc, argv);
    chatdesk::Options options;
    try {
        options = chatdesk::parse(argc, argv);
    } catch (const chatdesk::ParseError& error) {
        std::fprintf(stderr, "chatdesk: %s\n%s", error.message.c_str(), chatdesk::usage.data());
        return 2;
    }
    std::signal(SIGPIPE, SIG_IGN);
    try {
        std::vector<chatdesk::Credential> credentials;
        if (!options.agents_file.empty()) credentials = chatdesk::load_credentials(options.agents_file);
        asio::io_context io;
        chatdesk::Desk desk(io, options, std::move(credentials));
        if (options.dump) {
            fmt::print("{}\n", desk.dump().dump());
            return 0;
        }
        desk.listen();
        asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](std::error_code, int) {
            desk.stop();  // a snapshot; conversations and availability stay as they are
            io.stop();
        });
        fmt::print("chatdesk listening on {}:{} {} commands {}\n", options.bind, desk.port(),
                   options.tls() ? "tls" : "plain", desk.commands());
        std::fflush(stdout);
        io.run();
    } catch (const std::exception& error) {
        std::fprintf(stderr, "chatdesk: %s\n", error.what());
        return 1;
    }
}
