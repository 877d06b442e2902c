// chatdesk's data directory: a journal of commands (SPEC §10 JSON lines) and snapshots.
//
//   DIR/snapshot.json        the latest snapshot; "commands" says how many commands it covers
//   DIR/journal-<S>.jsonl    the commands after the snapshot that covers S commands
//
// A command is appended and flushed (fdatasync) before it is answered; a snapshot is written
// to a temporary file, synced, renamed over the old one, and the directory synced; only then
// is a new journal started and the older ones removed. A crash at any point leaves a snapshot
// and the journal after it; a line cut short by the crash was never acknowledged and is cut off.
#pragma once

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace chatdesk {

class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Store {
public:
    Store(std::filesystem::path dir, bool read_only) : dir_(std::move(dir)), read_only_(read_only) {
        if (!read_only_) {
            std::error_code error;
            std::filesystem::create_directories(dir_, error);
            if (error) throw StoreError("cannot create " + dir_.string() + ": " + error.message());
            ::chmod(dir_.c_str(), 0700);  // credentials-adjacent: the customer-token key lives here
        }
    }
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;
    ~Store() {
        if (journal_ >= 0) ::close(journal_);
    }

    [[nodiscard]] std::optional<nlohmann::json> read_snapshot() const {
        const std::optional<std::string> text = read_file(dir_ / "snapshot.json");
        if (!text) return std::nullopt;
        nlohmann::json snapshot = nlohmann::json::parse(*text, nullptr, false);
        if (snapshot.is_discarded() || !snapshot.is_object() || snapshot.value("format", "") != "chatdesk-1")
            throw StoreError("snapshot.json is not a chatdesk snapshot");
        return snapshot;
    }

    // The journal after the snapshot covering `covered` commands. A last line cut short by a
    // crash is dropped, and cut off the file unless read-only.
    [[nodiscard]] std::vector<nlohmann::json> read_journal(std::uint64_t covered) {
        const std::filesystem::path path = journal_path(covered);
        const std::optional<std::string> text = read_file(path);
        std::vector<nlohmann::json> lines;
        if (!text) return lines;
        std::size_t begin = 0;
        while (begin < text->size()) {
            const std::size_t end = text->find('\n', begin);
            if (end == std::string::npos) break;  // cut short: never flushed, never answered
            nlohmann::json line = nlohmann::json::parse(std::string_view(*text).substr(begin, end - begin), nullptr, false);
            if (line.is_discarded()) break;
            lines.push_back(std::move(line));
            begin = end + 1;
        }
        if (begin < text->size()) {
            std::fprintf(stderr, "chatdesk: %s: dropping %zu bytes after the last whole line\n", path.c_str(),
                         text->size() - begin);
            if (!read_only_ && ::truncate(path.c_str(), static_cast<off_t>(begin)) != 0)
                throw StoreError("cannot truncate " + path.string() + ": " + std::strerror(errno));
        }
        return lines;
    }

    // Appends to the journal after the snapshot covering `covered` commands.
    void open_journal(std::uint64_t covered) {
        if (journal_ >= 0) ::close(journal_);
        journal_ = ::open(journal_path(covered).c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (journal_ < 0) throw StoreError("cannot open the journal: " + std::string(std::strerror(errno)));
        sync_directory();
    }

    void append(std::string line) {
        pending_ += line;
        pending_ += '\n';
    }
    [[nodiscard]] bool dirty() const { return !pending_.empty(); }

    // Writes what was appended and flushes it to the disk: after this, it survives a crash.
    void sync() {
        if (pending_.empty()) return;
        write_all(journal_, pending_);
        if (::fdatasync(journal_) != 0) throw StoreError("fdatasync: " + std::string(std::strerror(errno)));
        pending_.clear();
    }

    // Replaces the snapshot, then starts the journal after it and removes the older ones.
    void write_snapshot(const std::string& text, std::uint64_t covered) {
        sync();
        const std::filesystem::path temporary = dir_ / "snapshot.json.tmp";
        const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) throw StoreError("cannot write a snapshot: " + std::string(std::strerror(errno)));
        write_all(fd, text);
        if (::fsync(fd) != 0) throw StoreError("fsync: " + std::string(std::strerror(errno)));
        ::close(fd);
        if (::rename(temporary.c_str(), (dir_ / "snapshot.json").c_str()) != 0)
            throw StoreError("rename: " + std::string(std::strerror(errno)));
        sync_directory();
        open_journal(covered);
        remove_journals_except(covered);
    }

    void remove_journals_except(std::uint64_t covered) const {
        const std::string keep = journal_path(covered).filename().string();
        std::error_code error;
        for (const auto& entry : std::filesystem::directory_iterator(dir_, error)) {
            const std::string name = entry.path().filename().string();
            if (name.starts_with("journal-") && name != keep) std::filesystem::remove(entry.path(), error);
        }
    }

private:
    [[nodiscard]] std::filesystem::path journal_path(std::uint64_t covered) const {
        return dir_ / ("journal-" + std::to_string(covered) + ".jsonl");
    }

    static std::optional<std::string> read_file(const std::filesystem::path& path) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT) return std::nullopt;
            throw StoreError("cannot read " + path.string() + ": " + std::strerror(errno));
        }
        std::string text;
        char chunk[65536];
        for (;;) {
            const ssize_t got = ::read(fd, chunk, sizeof chunk);
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) {
                ::close(fd);
                throw StoreError("cannot read " + path.string() + ": " + std::strerror(errno));
            }
            if (got == 0) break;
            text.append(chunk, static_cast<std::size_t>(got));
        }
        ::close(fd);
        return text;
    }

    static void write_all(int fd, std::string_view text) {
        while (!text.empty()) {
            const ssize_t wrote = ::write(fd, text.data(), text.size());
            if (wrote < 0 && errno == EINTR) continue;
            if (wrote <= 0) throw StoreError("write: " + std::string(std::strerror(errno)));
            text.remove_prefix(static_cast<std::size_t>(wrote));
        }
    }

    void sync_directory() const {
        const int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return;
        (void)::fsync(fd);
        ::close(fd);
    }

    std::filesystem::path dir_;
    bool read_only_ = false;
    int journal_ = -1;
    std::string pending_;
};

}  // namespace chatdesk
