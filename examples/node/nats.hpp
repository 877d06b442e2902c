#pragma once
// Thin RAII helpers over the NATS C client (libnats 3.4): connections, JetStream streams,
// key-value buckets and ordered reads of a stream. Only what chatroute-node uses.

#include <nats/nats.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatroute::node {

template <class T, void (*Destroy)(T*)>
struct Deleter {
    void operator()(T* p) const { Destroy(p); }
};
using Msg = std::unique_ptr<natsMsg, Deleter<natsMsg, natsMsg_Destroy>>;
using Sub = std::unique_ptr<natsSubscription, Deleter<natsSubscription, natsSubscription_Destroy>>;
using Kv = std::unique_ptr<kvStore, Deleter<kvStore, kvStore_Destroy>>;
using KvEntry = std::unique_ptr<kvEntry, Deleter<kvEntry, kvEntry_Destroy>>;
using PubAck = std::unique_ptr<jsPubAck, Deleter<jsPubAck, jsPubAck_Destroy>>;
using StreamInfo = std::unique_ptr<jsStreamInfo, Deleter<jsStreamInfo, jsStreamInfo_Destroy>>;
using Meta = std::unique_ptr<jsMsgMetaData, Deleter<jsMsgMetaData, jsMsgMetaData_Destroy>>;

inline std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}
inline std::int64_t wall_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}
inline std::int64_t mono_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// A failed call: the client's status and, for JetStream calls, the server's error code.
struct Failure {
    natsStatus status = NATS_OK;
    jsErrCode code = static_cast<jsErrCode>(0);
    [[nodiscard]] std::string text() const {
        return code != 0 ? fmt::format("{} (JetStream error {})", natsStatus_GetText(status), static_cast<int>(code))
                         : std::string(natsStatus_GetText(status));
    }
};

inline std::string header(natsMsg* msg, const char* key) {
    const char* value = nullptr;
    if (natsMsgHeader_Get(msg, key, &value) != NATS_OK || value == nullptr) return {};
    return value;
}

inline std::string_view data(natsMsg* msg) {
    return {natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))};
}

inline std::uint64_t stream_sequence(natsMsg* msg) {
    jsMsgMetaData* raw = nullptr;
    if (natsMsg_GetMetaData(&raw, msg) != NATS_OK) return 0;
    Meta meta(raw);
    return meta->Sequence.Stream;
}

class Connection {
public:
    // Connects to any of the servers (comma-separated URLs) and keeps reconnecting forever.
    bool connect(const std::string& servers, const std::string& name, jsPubAckHandler ack_handler = nullptr,
                 void* ack_closure = nullptr) {
        std::vector<std::string> urls;
        for (std::size_t start = 0; start <= servers.size();) {
            std::size_t comma = servers.find(',', start);
            if (comma == std::string::npos) comma = servers.size();
            if (comma > start) urls.push_back(servers.substr(start, comma - start));
            start = comma + 1;
        }
        std::vector<const char*> pointers;
        for (const auto& url : urls) pointers.push_back(url.c_str());
        natsOptions* opts = nullptr;
        if (natsOptions_Create(&opts) != NATS_OK) return false;
        natsOptions_SetServers(opts, pointers.data(), static_cast<int>(pointers.size()));
        natsOptions_SetName(opts, name.c_str());
        natsOptions_SetMaxReconnect(opts, -1);
        natsOptions_SetReconnectWait(opts, 100);
        natsOptions_SetTimeout(opts, 1000);
        natsOptions_SetRetryOnFailedConnect(opts, true, nullptr, nullptr);
        natsOptions_SetMaxPendingMsgs(opts, 1 << 20);
        const natsStatus s = natsConnection_Connect(&nc_, opts);
        natsOptions_Destroy(opts);
        if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) return false;
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.Wait = 2000;
        jo.PublishAsync.AckHandler = ack_handler;
        jo.PublishAsync.AckHandlerClosure = ack_closure;
        jo.PublishAsync.MaxPending = 4096;
        jo.PublishAsync.StallWait = 5000;
        return natsConnection_JetStream(&js_, nc_, &jo) == NATS_OK;
    }
    ~Connection() {
        if (js_) jsCtx_Destroy(js_);
        if (nc_) {
            natsConnection_Flush(nc_);
            natsConnection_Close(nc_);
            natsConnection_Destroy(nc_);
        }
    }
    [[nodiscard]] natsConnection* nc() const { return nc_; }
    [[nodiscard]] jsCtx* js() const { return js_; }

    // Creates the stream if it is missing; an existing stream is kept as it is.
    std::optional<Failure> ensure_stream(const std::string& name, const std::string& subject, int replicas,
                                         std::int64_t duplicates_ns = 0) {
        jsStreamConfig cfg;
        jsStreamConfig_Init(&cfg);
        const char* subjects[] = {subject.c_str()};
        cfg.Name = name.c_str();
        cfg.Subjects = subjects;
        cfg.SubjectsLen = 1;
        cfg.Storage = js_FileStorage;
        cfg.Replicas = replicas;
        if (duplicates_ns > 0) cfg.Duplicates = duplicates_ns;
        jsStreamInfo* si = nullptr;
        jsErrCode code = static_cast<jsErrCode>(0);
        natsStatus s = js_GetStreamInfo(&si, js_, name.c_str(), nullptr, &code);
        if (s == NATS_OK) {
            jsStreamInfo_Destroy(si);
            return std::nullopt;
        }
        code = static_cast<jsErrCode>(0);
        s = js_AddStream(&si, js_, &cfg, nullptr, &code);
        if (s == NATS_OK) {
            jsStreamInfo_Destroy(si);
            return std::nullopt;
        }
        if (code == JSStreamNameExistErr) return std::nullopt;
        return Failure{s, code};
    }

    // The stream's last sequence (0 when empty); empty when the stream cannot be read.
    std::optional<std::uint64_t> last_sequence(const std::string& stream) {
        jsStreamInfo* si = nullptr;
        jsErrCode code = static_cast<jsErrCode>(0);
        if (js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, &code) != NATS_OK) return std::nullopt;
        StreamInfo info(si);
        return info->State.LastSeq;
    }

    // Opens (creating if needed) a key-value bucket.
    Kv bucket(const std::string& name, int replicas, std::int64_t ttl_ms) {
        kvConfig cfg;
        kvConfig_Init(&cfg);
        cfg.Bucket = name.c_str();
        cfg.History = 1;
        cfg.Replicas = replicas;
        cfg.TTL = ttl_ms * 1'000'000;
        cfg.StorageType = js_FileStorage;
        kvStore* kv = nullptr;
        if (js_CreateKeyValue(&kv, js_, &cfg) == NATS_OK) return Kv(kv);
        if (js_KeyValue(&kv, js_, name.c_str()) == NATS_OK) return Kv(kv);
        return nullptr;
    }

    // Reads messages of one subject of a stream from sequence `from` through `to`, in order,
    // with an ordered consumer; stops early if `each` returns false. Empty on success.
    std::optional<Failure> read(const std::string& stream, const std::string& subject, std::uint64_t from,
                                std::uint64_t to, const std::function<bool(natsMsg*, std::uint64_t)>& each,
                                int idle_timeout_ms = 5000) {
        if (from > to) return std::nullopt;
        jsSubOptions so;
        jsSubOptions_Init(&so);
        so.Stream = stream.c_str();
        so.Ordered = true;
        so.Config.DeliverPolicy = js_DeliverByStartSequence;
        so.Config.OptStartSeq = from;
        natsSubscription* raw = nullptr;
        jsErrCode code = static_cast<jsErrCode>(0);
        natsStatus s = js_SubscribeSync(&raw, js_, subject.c_str(), nullptr, &so, &code);
        if (s != NATS_OK) return Failure{s, code};
        Sub sub(raw);
        natsSubscription_SetPendingLimits(raw, 1 << 20, 1 << 30);
        for (;;) {
            natsMsg* m = nullptr;
            s = natsSubscription_NextMsg(&m, raw, idle_timeout_ms);
            if (s != NATS_OK) {
                natsSubscription_Unsubscribe(raw);
                return Failure{s, {}};
            }
            Msg msg(m);
            const std::uint64_t seq = stream_sequence(m);
            if (seq == 0) continue;
            if (!each(m, seq) || seq >= to) {
                natsSubscription_Unsubscribe(raw);
                return std::nullopt;
            }
        }
    }

private:
    natsConnection* nc_ = nullptr;
    jsCtx* js_ = nullptr;
};

// Names the project gives to a site's subjects, streams and keys.
struct Names {
    static std::string commands_stream(std::string_view site) { return fmt::format("CR_SITE_{}", site); }
    static std::string log_subject(std::string_view site) { return fmt::format("chatroute.log.{}", site); }
    static std::string request_subject(std::string_view site) { return fmt::format("chatroute.cmd.{}", site); }
    static std::string events_subject(std::string_view site) { return fmt::format("chatroute.events.{}", site); }
    static constexpr const char* events_stream = "CR_EVENTS";
    static constexpr const char* events_subjects = "chatroute.events.>";
    static constexpr const char* requests = "chatroute.cmd.*";
    static constexpr const char* leases = "cr_leases";
    static constexpr const char* nodes = "cr_nodes";
    static constexpr const char* snapshots = "cr_snapshots";
};

}  // namespace chatroute::node
