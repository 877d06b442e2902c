// chatdesk: a small chat-desk server on standalone Asio that hosts a chatroute engine.
//
// Customers and agents connect over TCP on loopback and speak a line protocol (README.md).
// The server is the host SPEC describes: it maps connections and its own string ids to
// engine handles, keeps the message bodies (R19), drives the engine's deadlines with one
// steady_timer set to next_deadline() (R26), and delivers each event only to the
// connections its audience allows: a note (audience `team`) never reaches a customer.
//
// One thread, one io_context: the engine is not shared, so it needs no lock.

#include <chatroute/chatroute.hpp>

#include <asio.hpp>
#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace chatdesk {

using asio::ip::tcp;
using chatroute::AgentId;
using chatroute::Audience;
using chatroute::ConversationId;

// Longest line a client may send, and most lines a slow reader may have queued: limits
// on everything a connection can make the server hold.
inline constexpr std::size_t line_length_max = 4096;
inline constexpr std::size_t outbox_lines_max = 1024;

// The engine's clock: microseconds since the server started, read from steady_clock.
struct SteadyClock {
    std::chrono::steady_clock::time_point epoch = std::chrono::steady_clock::now();

    [[nodiscard]] chatroute::time_point now() const {
        return chatroute::time_point{
            std::chrono::duration_cast<chatroute::duration>(std::chrono::steady_clock::now() - epoch)};
    }
    // The steady_clock instant of an engine deadline, for asio::steady_timer.
    [[nodiscard]] std::chrono::steady_clock::time_point steady(chatroute::time_point instant) const {
        return epoch + std::chrono::duration_cast<std::chrono::steady_clock::duration>(instant.time_since_epoch());
    }
};
static_assert(chatroute::Clock<SteadyClock>);

struct Options {
    std::uint16_t port = 0;  // 0: any free port; the one bound is printed
    chatroute::SpaceTimings timings;
    std::int64_t limit = 3;
    std::string fallback = "Sorry, no agent is free right now. We will write back by email.";
    bool verbose = false;
};

class Desk;

// One TCP connection: reads lines, writes lines, knows who is on the other end.
class Session : public std::enable_shared_from_this<Session> {
public:
    enum class Role { unknown, customer, agent };

    Session(tcp::socket socket, Desk& desk) : socket_(std::move(socket)), input_(line_length_max), desk_(desk) {}

    void start() { read(); }
    void send(std::string line);
    void close();

    Role role = Role::unknown;
    std::string name;                    // the agent's id, or the customer's conversation id
    ConversationId conversation;         // a customer's

private:
    void read();
    void write();

    tcp::socket socket_;
    asio::streambuf input_;
    std::deque<std::string> outbox_;
    Desk& desk_;
    bool closed_ = false;
    bool closed_sending_ = false;
};

using SessionPtr = std::shared_ptr<Session>;

class Desk {
public:
    Desk(asio::io_context& io, Options options)
        : options_(std::move(options)),
          acceptor_(io, tcp::endpoint(asio::ip::address_v4::loopback(), options_.port)),
          timer_(io) {
        chatroute::SpaceSettings space;
        space.fallback_message = options_.fallback;
        space.timings = options_.timings;
        space_ = engine_.add_space(space).value();
    }

    [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

    void accept() {
        acceptor_.async_accept([this](std::error_code error, tcp::socket socket) {
            if (error) return;
            std::make_shared<Session>(std::move(socket), *this)->start();
            accept();
        });
    }

    void stop() {
        acceptor_.close();
        timer_.cancel();
        for (auto& [name, agent] : agents_)
            if (agent.session) agent.session->close();
        for (auto& [id, conversation] : conversations_)
            if (conversation.customer) conversation.customer->close();
    }

    void on_line(const SessionPtr& session, std::string_view line);
    void on_close(const SessionPtr& session);

private:
    struct Agent {
        AgentId id;
        SessionPtr session;  // empty while disconnected
    };
    struct Conversation {
        std::string name;
        SessionPtr customer;  // empty once the customer left
        std::optional<AgentId> assignee;
        std::vector<std::string> backlog;  // customer lines before an agent accepted
        bool closed = false;
    };

    // ---- Commands ----

    void hello(const SessionPtr& session, std::string_view word, std::string_view rest);
    void customer_command(const SessionPtr& session, std::string_view word, std::string_view rest);
    void agent_command(const SessionPtr& session, std::string_view word, std::string_view rest);

    // Answers the command's sender, then hands every event the command caused to its audience.
    template <class T>
    void reply(const SessionPtr& session, const chatroute::Result<T>& result) {
        if (result)
            session->send("ok");
        else
            session->send(error_line(result.error()));
        settle();
    }

    static std::string error_line(chatroute::Error error) {
        return fmt::format("error {} {}", chatroute::to_string(error), chatroute::message(error));
    }

    chatroute::MessageRef keep_body(std::string_view text) {
        const chatroute::MessageRef ref{next_ref_++};
        bodies_.emplace(ref.value, std::string(text));
        return ref;
    }

    // ---- Time (R25, R26) ----

    // Delivers what the engine emitted, forgets closed conversations, re-arms the timer.
    void settle() {
        std::vector<chatroute::Event> events;
        events.swap(sink_.events);
        for (const chatroute::Event& event : events) std::visit([&](const auto& e) { deliver(e); }, event);
        std::erase_if(conversations_, [](const auto& entry) { return entry.second.closed; });
        std::erase_if(conversation_ids_, [&](const auto& entry) { return !conversations_.contains(entry.second); });
        bodies_.clear();  // a body is delivered with its command's events, or never (a failed command)
        arm_timer();
    }

    void arm_timer() {
        const std::optional<chatroute::time_point> next = engine_.next_deadline();
        if (!next) {
            timer_.cancel();
            return;
        }
        // Re-arming cancels the previous wait; its handler sees operation_aborted.
        timer_.expires_at(clock_.steady(*next));
        timer_.async_wait([this](std::error_code error) {
            if (error == asio::error::operation_aborted) return;
            (void)engine_.advance();
            settle();
        });
    }

    // ---- Delivery by audience (R16) ----

    template <class E>
    void deliver(const E& event);
    void to_audience(ConversationId id, Audience audience, const std::string& line);
    void to_agent(AgentId id, const std::string& line);
    void to_customer(ConversationId id, const std::string& line);

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
    std::string show(chatroute::SpaceId) const { return "desk"; }
    template <class T>
    std::string show(const T& value) const {
        return fmt::format("{}", value);
    }

    Options options_;
    SteadyClock clock_;
    chatroute::RecordingSink sink_;
    chatroute::Engine<SteadyClock&, chatroute::RecordingSink&> engine_{clock_, sink_};
    chatroute::SpaceId space_;
    tcp::acceptor acceptor_;
    asio::steady_timer timer_;

    std::map<std::string, Agent, std::less<>> agents_;
    std::unordered_map<AgentId, std::string> agent_names_;
    std::unordered_map<ConversationId, Conversation> conversations_;
    std::map<std::string, ConversationId, std::less<>> conversation_ids_;
    std::unordered_map<std::uint64_t, std::string> bodies_;  // R19: the host keeps the bodies
    std::uint64_t next_ref_ = 1;
    std::uint64_t next_conversation_ = 1;
};

// ---- Session ----

void Session::send(std::string line) {
    if (closed_ || closed_sending_) return;
    if (outbox_.size() >= outbox_lines_max) {
        // A reader that never reads. Closed later: the desk may be delivering right now.
        closed_sending_ = true;
        asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close(); });
        return;
    }
    line += '\n';
    outbox_.push_back(std::move(line));
    if (outbox_.size() == 1) write();
}

void Session::write() {
    asio::async_write(socket_, asio::buffer(outbox_.front()),
                      [self = shared_from_this()](std::error_code error, std::size_t) {
                          if (error) return self->close();
                          self->outbox_.pop_front();
                          if (!self->outbox_.empty()) self->write();
                      });
}

void Session::read() {
    asio::async_read_until(socket_, input_, '\n', [self = shared_from_this()](std::error_code error, std::size_t size) {
        if (error) return self->close();
        std::string line(asio::buffers_begin(self->input_.data()),
                         asio::buffers_begin(self->input_.data()) + static_cast<std::ptrdiff_t>(size));
        self->input_.consume(size);
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
        self->desk_.on_line(self, line);
        if (!self->closed_) self->read();
    });
}

void Session::close() {
    if (closed_) return;
    closed_ = true;
    std::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    desk_.on_close(shared_from_this());
}

// ---- Commands ----

// Splits "word rest of line" at the first space.
std::pair<std::string_view, std::string_view> split(std::string_view line) {
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) return {line, {}};
    std::string_view rest = line.substr(space + 1);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    return {line.substr(0, space), rest};
}

void Desk::on_line(const SessionPtr& session, std::string_view line) {
    if (options_.verbose) fmt::print(stderr, "< {}: {}\n", session->name.empty() ? "?" : session->name, line);
    const auto [word, rest] = split(line);
    if (word.empty()) return;
    if (word == "quit") return session->close();
    if (word == "help") return session->send("ok see examples/asio_host/README.md");
    switch (session->role) {
        case Session::Role::unknown: return hello(session, word, rest);
        case Session::Role::customer: return customer_command(session, word, rest);
        case Session::Role::agent: return agent_command(session, word, rest);
    }
}

void Desk::hello(const SessionPtr& session, std::string_view word, std::string_view rest) {
    if (word == "customer") {
        std::string name = fmt::format("c{}", next_conversation_++);
        auto started = engine_.start_conversation(space_);
        if (!started) return reply(session, started);
        session->role = Session::Role::customer;
        session->name = name;
        session->conversation = *started;
        conversations_[*started] = Conversation{name, session, {}, {}, false};
        conversation_ids_.emplace(name, *started);
        session->send(fmt::format("ok conversation {}", name));
        return settle();
    }
    if (word == "agent") {
        if (rest.empty() || rest.find(' ') != std::string_view::npos)
            return session->send("error invalid_argument usage: agent <id>");
        auto known = agents_.find(rest);
        if (known == agents_.end()) {
            auto added = engine_.add_agent({options_.limit});
            auto granted = added.and_then([&](AgentId id) { return engine_.grant_role(id, space_); });
            if (!granted) return reply(session, granted);
            known = agents_.emplace(std::string(rest), Agent{*added, nullptr}).first;
            agent_names_.emplace(*added, known->first);
        } else if (known->second.session) {
            return session->send(error_line(chatroute::Error::duplicate_id));
        }
        known->second.session = session;
        session->role = Session::Role::agent;
        session->name = known->first;
        return session->send(fmt::format("ok agent {}", known->first));
    }
    session->send("error unknown_command say `customer` or `agent <id>` first");
}

void Desk::customer_command(const SessionPtr& session, std::string_view word, std::string_view rest) {
    const ConversationId id = session->conversation;
    if (word == "say") return reply(session, engine_.customer_message(id, keep_body(rest)));
    if (word == "typing") return reply(session, engine_.customer_typing(id));
    if (word == "bye") return reply(session, engine_.end_by_customer(id));
    session->send("error unknown_command customer commands: say <text>, typing, bye, quit");
}

void Desk::agent_command(const SessionPtr& session, std::string_view word, std::string_view rest) {
    const AgentId agent = agents_.find(session->name)->second.id;
    if (word == "available" || word == "away")
        return reply(session, engine_.set_availability(agent, space_, word == "available"));
    auto [conversation_name, text] = split(rest);
    auto known = conversation_ids_.find(conversation_name);
    const ConversationId id = known != conversation_ids_.end() ? known->second : ConversationId{};
    if (word == "accept") return reply(session, engine_.accept(agent, id));
    if (word == "decline") return reply(session, engine_.decline(agent, id));
    if (word == "say") return reply(session, engine_.agent_message(id, agent, keep_body(text)));
    if (word == "typing") return reply(session, engine_.agent_typing(id, agent));
    if (word == "note") return reply(session, engine_.note(id, agent, keep_body(text)));
    if (word == "follow-up") return reply(session, engine_.follow_up(id, agent));
    if (word == "end") return reply(session, engine_.end_by_agent(id, agent));
    if (word == "resolve") return reply(session, engine_.resolve(id, agent, text));
    session->send(
        "error unknown_command agent commands: available, away, accept|decline|typing|follow-up|end <c>, "
        "say|note <c> <text>, resolve <c> <resolution>, quit");
}

// A customer who leaves ends the conversation (R20); an agent who leaves turns unavailable,
// which withdraws its pending offers (R14). Assigned conversations stay with the agent.
void Desk::on_close(const SessionPtr& session) {
    if (session->role == Session::Role::customer) {
        if (auto found = conversations_.find(session->conversation); found != conversations_.end()) {
            found->second.customer = nullptr;
            (void)engine_.end_by_customer(session->conversation);
        }
    } else if (session->role == Session::Role::agent) {
        Agent& agent = agents_.find(session->name)->second;
        if (agent.session == session) {
            agent.session = nullptr;
            (void)engine_.set_availability(agent.id, space_, false);
        }
    }
    session->role = Session::Role::unknown;
    if (acceptor_.is_open()) settle();
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
    return line;
}

template <class E>
void Desk::deliver(const E& event) {
    namespace ev = chatroute::events;
    const std::string line = describe(event);
    if (options_.verbose) fmt::print(stderr, "> {}\n", line);
    if constexpr (std::is_same_v<E, ev::Message> || std::is_same_v<E, ev::Typing>) {
        to_audience(event.conversation, event.audience, line);
    } else if constexpr (std::is_same_v<E, ev::Note>) {
        to_audience(event.conversation, ev::Note::audience, line);  // team: never the customer
    } else if constexpr (std::is_same_v<E, ev::FollowUpCreated>) {
        to_audience(event.conversation, Audience::team, line);
    } else if constexpr (std::is_same_v<E, ev::ConversationStarted> || std::is_same_v<E, ev::FallbackMessage>) {
        to_customer(event.conversation, line);
    } else if constexpr (std::is_same_v<E, ev::Accepted>) {
        Conversation& conversation = conversations_.at(event.conversation);
        conversation.assignee = event.agent;
        to_audience(event.conversation, Audience::conversation, line);
        for (const std::string& earlier : conversation.backlog) to_agent(event.agent, earlier);
        conversation.backlog.clear();
    } else if constexpr (std::is_same_v<E, ev::InactivityWarning> || std::is_same_v<E, ev::ConversationEnded>) {
        to_audience(event.conversation, Audience::conversation, line);
    } else if constexpr (std::is_same_v<E, ev::StatusChanged> || std::is_same_v<E, ev::Resolved>) {
        to_audience(event.conversation, Audience::agent, line);  // the work item is the agents' business
        if constexpr (std::is_same_v<E, ev::StatusChanged>)
            if (event.to == chatroute::Status::closed) conversations_.at(event.conversation).closed = true;
    } else if constexpr (requires { event.agent; }) {
        to_agent(event.agent, line);  // availability, offers, transcript, slot: the agent's own
    }
    // workflow_changed: the desk never changes its workflow, so nobody needs it.
}

void Desk::to_audience(ConversationId id, Audience audience, const std::string& line) {
    auto found = conversations_.find(id);
    if (found == conversations_.end()) return;
    Conversation& conversation = found->second;
    const bool customer = audience == Audience::conversation || audience == Audience::customer;
    const bool assignee = audience == Audience::conversation || audience == Audience::agent;
    if (customer) to_customer(id, line);
    if (assignee && conversation.assignee) to_agent(*conversation.assignee, line);
    if (assignee && !conversation.assignee && audience == Audience::conversation) conversation.backlog.push_back(line);
    if (audience == Audience::team) {
        // Every agent with the role in the space, and the assignee (R4, R16); no customer.
        for (const auto& [name, agent] : agents_) {
            const bool in_team = engine_.has_role(agent.id, space_).value_or(false) || conversation.assignee == agent.id;
            if (in_team && agent.session) agent.session->send(line);
        }
    }
}

void Desk::to_agent(AgentId id, const std::string& line) {
    auto name = agent_names_.find(id);
    if (name == agent_names_.end()) return;
    if (const SessionPtr& session = agents_.find(name->second)->second.session) session->send(line);
}

void Desk::to_customer(ConversationId id, const std::string& line) {
    auto found = conversations_.find(id);
    if (found != conversations_.end() && found->second.customer) found->second.customer->send(line);
}

// ---- Command line ----

std::optional<double> number(std::string_view text) {
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

constexpr std::string_view usage =
    "usage: chatdesk [--port N] [--offer-timeout S] [--accept-window S] [--inactivity-warning S]\n"
    "                [--inactivity-grace S] [--max-duration S] [--limit N] [--fallback TEXT] [--verbose]\n"
    "Timings in seconds (fractions allowed). --port 0 (the default) binds any free port.\n";

std::optional<Options> parse(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--verbose") {
            options.verbose = true;
            continue;
        }
        if (i + 1 >= argc) return std::nullopt;
        const std::string_view text = argv[++i];
        if (flag == "--fallback") {
            options.fallback = text;
            continue;
        }
        const std::optional<double> value = number(text);
        if (!value || *value < 0) return std::nullopt;
        const auto seconds = std::chrono::duration_cast<chatroute::duration>(std::chrono::duration<double>(*value));
        chatroute::SpaceTimings& t = options.timings;
        if (flag == "--port" && *value <= 65535)
            options.port = static_cast<std::uint16_t>(*value);
        else if (flag == "--limit")
            options.limit = static_cast<std::int64_t>(*value);
        else if (flag == "--offer-timeout")
            t.offer_timeout = seconds;
        else if (flag == "--accept-window")
            t.accept_window = seconds;
        else if (flag == "--inactivity-warning")
            t.inactivity_warning = seconds;
        else if (flag == "--inactivity-grace")
            t.inactivity_grace = seconds;
        else if (flag == "--max-duration")
            t.max_duration = seconds;
        else
            return std::nullopt;
    }
    if (!chatroute::validate(options.timings) || !chatroute::validate_limit(options.limit)) return std::nullopt;
    return options;
}

}  // namespace chatdesk

int main(int argc, char** argv) {
    const std::optional<chatdesk::Options> options = chatdesk::parse(argc, argv);
    if (!options) {
        std::fputs(chatdesk::usage.data(), stderr);
        return 2;
    }
    asio::io_context io;
    chatdesk::Desk desk(io, *options);
    desk.accept();
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](std::error_code, int) {
        desk.stop();  // customers' conversations end, agents turn away
        io.stop();    // and connections still saying hello do not keep the server up
    });
    fmt::print("chatdesk listening on 127.0.0.1:{}\n", desk.port());
    std::fflush(stdout);
    io.run();
}
