// Writes fuzz_restore's seed corpus: each golden scenario replayed, snapshotted at a few
// points, as "mode byte 0 + engine snapshot" files.

#include "../../examples/replay/replayer.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 3) return 2;
    const std::filesystem::path scenarios = argv[1], corpus = argv[2];
    std::filesystem::create_directories(corpus);
    for (const auto& entry : std::filesystem::directory_iterator(scenarios)) {
        if (entry.path().extension() != ".jsonl") continue;
        std::ifstream in(entry.path());
        std::vector<std::string> lines;
        for (std::string line; std::getline(in, line);) lines.push_back(line);
        fmt::memory_buffer out;
        chatroute::replay::Replayer replayer(out);
        for (std::size_t i = 0; i < lines.size(); ++i) {
            replayer.apply(lines[i]);
            if (i % 4 != 3 && i + 1 != lines.size()) continue;
            const auto bytes = replayer.engine().snapshot();
            std::ofstream seed(corpus / fmt::format("{}-{}", entry.path().stem().string(), i + 1), std::ios::binary);
            seed.put('\0');
            seed.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        }
    }
    return 0;
}
