// chatroute-replay FILE|-: applies a scenario (SPEC §10) and prints every event and every
// failed line as JSON Lines on standard output.

#include "replayer.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

namespace {

int usage() {
    fmt::print(stderr,
               "usage: chatroute-replay FILE\n"
               "       chatroute-replay -        (read the scenario from standard input)\n"
               "Applies a scenario (JSON Lines, SPEC §10) and prints one JSON object per line for\n"
               "every event the engine emits and every line that fails.\n");
    return 2;
}

void drain(fmt::memory_buffer& out) {
    std::fwrite(out.data(), 1, out.size(), stdout);
    out.clear();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h") return usage();
    const std::string_view path = argv[1];
    std::ifstream file;
    if (path != "-") {
        file.open(std::string(path));
        if (!file) {
            fmt::print(stderr, "chatroute-replay: cannot open {}\n", path);
            return 1;
        }
    }
    std::istream& in = path == "-" ? std::cin : file;

    fmt::memory_buffer out;
    chatroute::replay::Replayer replayer(out);
    for (std::string line; std::getline(in, line);) {
        replayer.apply(line);
        if (out.size() > (1 << 16)) drain(out);
    }
    drain(out);
    return std::fflush(stdout) == 0 ? 0 : 1;
}
