// Writes a seed corpus from the golden scenarios, each replayed and cut at a few lines:
//   make_seeds SCENARIOS CORPUS            fuzz_restore: "mode byte 0 + engine snapshot"
//   make_seeds SCENARIOS CORPUS replay     fuzz_replay_restore: "flags 1 + length (4 bytes)
//                                          + replay snapshot + the scenario's later lines"

#include "../../examples/replay/replayer.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 3 && argc != 4) return 2;
    const std::filesystem::path scenarios = argv[1], corpus = argv[2];
    const bool replay_seeds = argc == 4 && std::string(argv[3]) == "replay";
    std::filesystem::create_directories(corpus);
    for (const auto& entry : std::filesystem::recursive_directory_iterator(scenarios)) {
        if (entry.path().extension() != ".jsonl") continue;
        std::ifstream in(entry.path());
        std::vector<std::string> lines;
        for (std::string line; std::getline(in, line);) lines.push_back(line);
        fmt::memory_buffer out;
        chatroute::replay::Replayer replayer(out);
        for (std::size_t i = 0; i < lines.size(); ++i) {
            replayer.apply(lines[i]);
            if (i % 4 != 3 && i + 1 != lines.size()) continue;
            std::ofstream seed(corpus / fmt::format("{}-{}", entry.path().stem().string(), i + 1), std::ios::binary);
            const auto bytes = replay_seeds ? replayer.snapshot() : replayer.engine().snapshot();
            if (replay_seeds) {
                seed.put('\1');
                for (std::size_t b = 0; b < 4; ++b) seed.put(static_cast<char>((bytes.size() >> (8 * b)) & 0xFF));
            } else {
                seed.put('\0');
            }
            seed.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
            if (replay_seeds)
                for (std::size_t rest = i + 1; rest < lines.size(); ++rest) seed << lines[rest] << '\n';
        }
    }
    return 0;
}
