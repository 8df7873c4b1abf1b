// The main() of every fuzz target when libFuzzer is not linked: feeds each file named on the
// command line, or found under a directory named there, through LLVMFuzzerTestOneInput once,
// in name order. This is how `bazel test //fuzz/...` replays the corpora and the saved
// crashers with any compiler (the Envoy pattern: fuzz targets are plain tests).
//
//   frame_decoder_replay fuzz/corpus/frame_decoder fuzz/crashers/frame_decoder
//   bazel run //fuzz:frame_decoder_fuzzer -- /tmp/crash-1234      # one input, by hand
//
// A directory that does not exist counts as empty (an empty crashers/ directory has no
// files, so Bazel does not create it in the runfiles); replaying nothing at all fails, so a
// broken corpus path cannot pass silently. Files whose names start with '.' are skipped.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
// Optional in a target, as with libFuzzer.
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

namespace fs = std::filesystem;

// The inputs under `path`: the file itself, or the regular files below the directory.
std::vector<fs::path> inputs_under(const fs::path& path) {
  std::vector<fs::path> inputs;
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    inputs.push_back(path);
    return inputs;
  }
  if (!fs::is_directory(path, ec)) return inputs;
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file() && it->path().filename().string().front() != '.') inputs.push_back(it->path());
  }
  std::sort(inputs.begin(), inputs.end());
  return inputs;
}

bool read_file(const fs::path& path, std::vector<std::uint8_t>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
    return 2;
  }
  std::size_t total = 0;
  for (int i = 1; i < argc; ++i) {
    const auto inputs = inputs_under(argv[i]);
    for (const auto& input : inputs) {
      std::vector<std::uint8_t> bytes;
      if (!read_file(input, bytes)) {
        std::fprintf(stderr, "cannot read %s\n", input.c_str());
        return 1;
      }
      // Printed first so that a crash names the input that caused it.
      std::fprintf(stderr, "replaying %s (%zu bytes)\n", input.c_str(), bytes.size());
      LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    }
    std::printf("%s: %zu inputs\n", argv[i], inputs.size());
    total += inputs.size();
  }
  if (total == 0) {
    std::fprintf(stderr, "no inputs found: is the corpus in the test's data?\n");
    return 1;
  }
  std::printf("replayed %zu inputs, no crash\n", total);
  return 0;
}
