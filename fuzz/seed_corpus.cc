// Writes the seed corpora of the fuzz targets (fuzz/README.md):
//
//   bazel run //fuzz:seed_corpus -- fuzz/corpus
//
// For every scenario of the library it renders the server's byte stream exactly as the
// engine would write it (frames with their lies and faults applied; repeats cut to 3
// iterations so a file stays small), and the TAP_CONNECT its client sends; then it adds
// hand-made edge cases. Files are named for what they hold: scenario-<name>, seed-<case>,
// edge-<what>. It rewrites only those; inputs that fuzzing added (named by their SHA-1) and
// crash regressions are left alone. A relative directory is taken from the workspace root
// under `bazel run`.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "fuzz/scenario_library.hpp"
#include "scenario/faults.hpp"
#include "scenario/render.hpp"
#include "scenario/parser.hpp"
#include "protocol/hex.hpp"
#include "protocol/tap_connect.hpp"
#include "protocol/tap_message.hpp"

namespace tapharness::fuzz {
namespace {

namespace fs = std::filesystem;
using protocol::Bytes;

constexpr std::uint64_t kMaxRepeat = 3;
// Byte-stream seeds above this size are left out: libFuzzer sizes its inputs after the
// largest seed, and a 100 KB stream slows every execution of the targets that read streams.
constexpr std::size_t kMaxStreamSeed = 16 * 1024;
constexpr std::string_view kTargets[] = {"frame_decoder", "tap_connect", "tap_feed", "scenario_parser",
                                         "scenario_faults", "engine_client"};

// The prefixes of the files this tool owns; fuzzer-found inputs and crash-* regressions
// have other names and are never touched.
constexpr std::string_view kOwnPrefixes[] = {"scenario-", "seed-", "edge-"};

class CorpusWriter {
 public:
  explicit CorpusWriter(fs::path root) : root_(std::move(root)) {}

  // Removes the files an earlier run wrote, so a renamed or deleted scenario leaves none.
  void clear_own(std::string_view target) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root_ / target, ec)) {
      const std::string name = entry.path().filename().string();
      for (auto prefix : kOwnPrefixes) {
        if (name.starts_with(prefix)) fs::remove(entry.path());
      }
    }
  }

  void write(std::string_view target, const std::string& name, protocol::ByteView bytes) {
    const fs::path dir = root_ / target;
    fs::create_directories(dir);
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      fmt::print(stderr, "cannot write {}\n", (dir / name).string());
      std::exit(1);
    }
    ++counts_[std::string(target)];
  }
  void write(std::string_view target, const std::string& name, std::string_view text) {
    write(target, name, protocol::as_bytes(text));
  }

  const std::map<std::string, std::size_t>& counts() const { return counts_; }

 private:
  fs::path root_;
  std::map<std::string, std::size_t> counts_;
};

Bytes hex(std::string_view text) {
  auto bytes = protocol::parse_hex(text);
  if (!bytes) {
    fmt::print(stderr, "bad hex in an edge case: {}\n", text);
    std::exit(1);
  }
  return *bytes;
}

Bytes concat(std::initializer_list<protocol::ByteView> parts) {
  Bytes out;
  for (auto part : parts) protocol::append(out, part);
  return out;
}

// What the engine writes for `scenario`, in order, after faults; and the first split plan
// met, as chunk sizes.
struct RenderedStream {
  Bytes bytes;
  std::vector<std::uint8_t> chunk_sizes;
  Bytes acks;  // a well-behaved client's answers: an ACK for each frame that asks
};

RenderedStream render_stream(const scenario::Scenario& scenario) {
  RenderedStream out;
  scenario::ScenarioRandom random(scenario.seed);
  std::uint32_t next_opaque = 1;
  auto send = [&](const scenario::Send& s, std::uint64_t index) {
    const auto frame = scenario::render_frame(s.frame(), index, random, next_opaque);
    if (frame.uses_sequence) ++next_opaque;
    if (frame.wants_ack) {
      const auto ack = protocol::tap_ack(frame.opcode, frame.opaque);
      protocol::append(out.acks, ack);
    }
    const auto planned = scenario::plan_writes(frame.bytes, s.fault(), {});
    if (const auto* writes = planned ? &*planned : nullptr) {
      protocol::append(out.bytes, writes->bytes);
      if (out.chunk_sizes.empty() && !s.fault().split.empty()) {
        for (const auto& chunk : writes->chunks) {
          out.chunk_sizes.push_back(static_cast<std::uint8_t>(std::min<std::size_t>(chunk.end - chunk.begin, 255)));
        }
      }
    }
  };
  for (const auto& step : scenario.steps) {
    if (const auto* s = std::get_if<scenario::Send>(&step.action)) send(*s, 0);
    if (const auto* repeat = std::get_if<scenario::Repeat>(&step.action)) {
      for (std::uint64_t i = 0; i < std::min(repeat->count, kMaxRepeat); ++i) {
        for (const auto& inner : repeat->body) {
          if (const auto* s = std::get_if<scenario::Send>(&inner.action)) send(*s, i);
        }
      }
    }
  }
  return out;
}

// tap_feed's server ending for a scenario's own: RST, silence for a stall, FIN otherwise.
std::uint8_t feed_mode(const scenario::Scenario& scenario) {
  for (const auto& step : scenario.steps) {
    if (const auto* close = std::get_if<scenario::Close>(&step.action)) {
      if (close->how == scenario::Close::How::rst) return 1;
      if (close->how == scenario::Close::How::stall) return 3;
    }
  }
  return 0;
}

// frame_decoder's prefix: [limits][read size][k][k chunk sizes].
Bytes decoder_input(std::uint8_t limits, std::uint8_t read_size, const std::vector<std::uint8_t>& sizes,
                    protocol::ByteView stream) {
  const std::size_t k = std::min<std::size_t>(sizes.size(), 15);
  Bytes out;
  out.reserve(3 + k + stream.size());
  out.push_back(limits);
  out.push_back(read_size);
  out.push_back(static_cast<std::uint8_t>(k));
  for (std::size_t i = 0; i < k; ++i) out.push_back(sizes[i]);
  protocol::append(out, stream);
  return out;
}

// tap_feed's prefix: [mode][max read][write size][queue bound][read size][k].
Bytes feed_input(std::initializer_list<std::uint8_t> settings, protocol::ByteView stream) {
  Bytes out(settings);
  out.resize(6, 0);
  protocol::append(out, stream);
  return out;
}

// engine_client's input: "<scenario>\n" [write size] [ending] + the client's bytes.
Bytes engine_input(std::string_view scenario, std::uint8_t write_size, std::uint8_t ending, protocol::ByteView bytes) {
  Bytes out(scenario.begin(), scenario.end());
  out.push_back('\n');
  out.push_back(write_size);
  out.push_back(ending);
  protocol::append(out, bytes);
  return out;
}

Bytes connect_frame(const protocol::TapArguments& args) {
  Bytes out;
  protocol::encode_tap_connect(out, args);
  return out;
}

void write_scenarios(CorpusWriter& corpus) {
  for (const auto& entry : scenario_library()) {
    const std::string name(entry.name);
    auto parsed = parse_library_scenario(entry);
    if (!parsed) {
      fmt::print(stderr, "{}\n", parsed.error());
      std::exit(1);
    }
    const auto& scenario = *parsed;
    const auto stream = render_stream(scenario);
    const std::string file = "scenario-" + name;
    if (stream.bytes.size() <= kMaxStreamSeed) {
      corpus.write("frame_decoder", file, decoder_input(0, 0, stream.chunk_sizes, stream.bytes));
      corpus.write("tap_feed", file, feed_input({feed_mode(scenario)}, stream.bytes));
    } else {
      fmt::print("{}: its {}-byte stream is too large for a seed\n", name, stream.bytes.size());
    }
    corpus.write("scenario_parser", file, entry.text);
    corpus.write("scenario_faults", file, name + "\n");
    const auto args = scenario.client.args ? scenario.client.args->args : protocol::TapArguments{};
    if (scenario.client.args) corpus.write("tap_connect", file, connect_frame(args));
    corpus.write("engine_client", file, engine_input(name, 0, 0, concat({connect_frame(args), stream.acks})));
  }
}

// The seed's TAP_CONNECT cases (tests/protocol/testdata/seed-connect-vectors.txt).
void write_connect_seeds(CorpusWriter& corpus) {
  using protocol::TapArguments;
  const std::pair<const char*, TapArguments> cases[] = {
      {"default", {}},
      {"backfill-0", {.backfill = 0}},
      {"backfill-0-name", {.backfill = 0, .client_name = "peer1"}},
      {"name", {.client_name = "peer1"}},
      {"backfill-big", {.backfill = 0x0102030405060708, .client_name = "n"}},
      {"dump", {.backfill = 0, .dump = true, .client_name = "dumper"}},
      {"vbuckets", {.vbuckets = {0, 1, 1023}}},
      {"takeover", {.backfill = 0, .vbuckets = {5}, .takeover = true, .client_name = "mover"}},
      {"ack", {.backfill = 0, .support_ack = true}},
      {"keys-only", {.backfill = 0, .keys_only = true}},
      {"checkpoint", {.backfill = 0, .checkpoint = true}},
      {"registered", {.backfill = 0, .client_name = "reg", .registered_client = true}},
      {"all-options",
       {.backfill = 1, .dump = true, .vbuckets = {1, 2}, .takeover = true, .support_ack = true, .keys_only = true,
        .checkpoint = true, .client_name = "all", .registered_client = true}},
  };
  for (const auto& [name, args] : cases) corpus.write("tap_connect", fmt::format("seed-{}", name), connect_frame(args));

  const std::pair<const char*, const char*> edges[] = {
      // TAP.md's worked example: node1, flags 0x35, backfill 5, vbuckets 0..4.
      {"tapmd-node1", "80400005040000000000001d000000000000000000000000 00000035 6e6f646531 0000000000000005"
                      "0005 0000 0001 0002 0003 0004"},
      // CHECKPOINT with a map of two entries.
      {"checkpoint-map", "804000000400000000000018000000000000000000000000 00000040"
                         "0002 0001 0000000000000007 0002 ffffffffffffffff"},
      {"checkpoint-map-empty", "804000000400000000000006000000000000000000000000 00000040 0000"},
      {"checkpoint-map-short", "80400000040000000000000c000000000000000000000000 00000040 0001 0001 00000000"},
      {"checkpoint-one-byte", "804000000400000000000005000000000000000000000000 00000040 00"},
      // REGISTERED_CLIENT with the pre-2013 "closed checkpoints only" byte.
      {"registered-closed-byte", "804000000400000000000005000000000000000000000000 00000080 01"},
      {"backfill-short", "804000000400000000000008000000000000000000000000 00000001 00000000"},
      {"vbucket-count-beyond-body", "804000000400000000000008000000000000000000000000 00000004 ffff 0001"},
      {"trailing-bytes", "804000000400000000000006000000000000000000000000 00000000 abcd"},
      {"extlen-0", "804000000000000000000000000000000000000000000000"},
      {"extlen-8", "80400000080000000000000800000000000000000000000000000000 00000010"},
      {"response-magic", "814000000400000000000004000000000000000000000000 00000010"},
      {"unknown-flag-bits", "804000000400000000000004000000000000000000000000 ffff0e00"},
      {"fix-byteorder", "804000000400000000000004000000000000000000000000 00000100"},
  };
  for (const auto& [name, text] : edges) corpus.write("tap_connect", fmt::format("edge-{}", name), hex(text));
}

void write_decoder_edges(CorpusWriter& corpus) {
  const Bytes noop = hex("800a0000000000000000000000000000000000000000000000");
  const Bytes noop24(noop.begin(), noop.begin() + 24);
  const Bytes mutation = protocol::ep_engine::mutation(
      {.vbucket = 3, .key = "key", .value = "value", .flags = 0x12, .expiry = 300, .cas = 7, .opaque = 9,
       .tap_flags = 1});
  struct Edge {
    const char* name;
    std::uint8_t limits;
    std::uint8_t read_size;
    std::vector<std::uint8_t> sizes;
    Bytes stream;
  };
  const Edge edges[] = {
      {"empty", 0, 0, {}, {}},
      {"partial-header", 0, 0, {}, Bytes(noop24.begin(), noop24.begin() + 23)},
      {"noop", 0, 0, {}, noop24},
      {"noop-bytewise", 0, 1, {1}, noop24},
      {"bodylen-4gib", 0, 0, {}, hex("80410000000000000000ffffffff00000000000000000000")},
      {"bodylen-one-over-roomy-limit", 0, 0, {}, hex("80410000000000000001000100000000000000000000 0000")},
      {"bodylen-one-over-tight-limit", 1, 0, {}, hex("80410000000000000000010100000000000000000000 0000")},
      {"keylen-over-tight-limit", 1, 0, {}, hex("80410021000000000000002100000000000000000000 0000")},
      {"extlen-over-tight-limit", 1, 0, {}, hex("80410000190000000000001900000000000000000000 0000")},
      {"lengths-exceed-body", 0, 0, {}, hex("800a0005040000000000000800000000000000000000 0000")},
      {"bad-magic", 0, 0, {}, hex("420a0000000000000000000000000000000000000000 0000")},
      {"response", 0, 0, {}, hex("814100000000000000000000000000100000000000000000")},
      {"engine-length-beyond-body", 0, 0, {},
       hex("8041000008000000000000080000000000000000000000 00 ffff000000000000")},
      {"engine-length-fills-body", 0, 0, {},
       hex("80440000080000000000000c000000000000000000000000 0004000100ff000000 00000007")},
      {"engine-length-one-past-body", 0, 0, {},
       hex("80440000080000000000000c000000000000000000000000 0005000100ff000000 00000007")},
      {"tap-extlen-1-no-engine-length", 0, 0, {}, hex("8044000001000000000000010000000000000000000000 00 ab")},
      {"mutation-then-noop", 0, 7, {1, 23, 2, 255}, concat({mutation, noop24})},
      {"mutation-split-every-field", 0, 0, {24, 2, 14, 9, 3, 5}, mutation},
      {"mutation-tight-limits", 1, 0, {}, mutation},
  };
  for (const auto& e : edges) {
    corpus.write("frame_decoder", fmt::format("edge-{}", e.name), decoder_input(e.limits, e.read_size, e.sizes, e.stream));
  }
}

void write_feed_edges(CorpusWriter& corpus) {
  using namespace protocol;
  namespace ep = protocol::ep_engine;
  const Bytes begin = ep::opaque(0, TapOpaqueCode::initial_vbucket_stream, 1, 1);
  const Bytes mutation = ep::mutation({.key = "k", .value = "v", .cas = 1, .opaque = 2, .tap_flags = 1});
  const Bytes deletion = ep::deletion({.key = "gone", .cas = 2, .opaque = 3});
  const Bytes auto_nack = ep::opaque(0, TapOpaqueCode::enable_auto_nack, 4, 1);
  const Bytes end_backfill = ep::opaque(0, TapOpaqueCode::close_backfill, 5, 1);
  const Bytes close_stream = ep::opaque(0, TapOpaqueCode::close_tap_stream, 6, 1);
  const Bytes vbucket_set = ep::vbucket_set(5, VBucketState::pending, 7, 1);
  const Bytes start = ep::checkpoint_start(0, 42, 8, 1);
  const Bytes flush = ep::flush(9, 1);
  const Bytes rejected = hex("81400000000000830000000d000000000000000000000000 6e6f7420737570706f72746564");
  // An opcode outside the TAP messages whose extras carry the ACK flag where the seed reads
  // it (extras[2..4]): ignored, still ACKed.
  const Bytes set_with_ack = hex("8001000004000000000000040000002a0000000000000000 00000001");
  // A NOOP with the same extras: never ACKed.
  const Bytes noop_with_ack = hex("800a000004000000000000040000002b0000000000000000 00000001");
  const Bytes big = ep::mutation({.key = "big", .value = std::string(3000, 'x'), .opaque = 10, .tap_flags = 1});
  const Bytes all = concat({auto_nack, begin, mutation, deletion, vbucket_set, start, flush, set_with_ack,
                            noop_with_ack, end_backfill});

  const std::pair<const char*, Bytes> edges[] = {
      {"every-kind-fin", feed_input({0}, all)},
      {"every-kind-rst", feed_input({1}, all)},
      {"every-kind-consumer-closes-after-2", feed_input({2, 0, 0, 0, 0, 2}, all)},
      {"every-kind-silent", feed_input({3}, all)},
      {"every-kind-bytewise-reads", feed_input({0, 1, 0, 0, 1}, all)},
      {"every-kind-written-in-pieces-of-7", feed_input({0, 0, 7}, all)},
      {"every-kind-queue-bound-1", feed_input({0, 0, 0, 1}, all)},
      {"every-kind-tight-limits", feed_input({4}, all)},
      {"every-kind-read-fails-at-op-3", feed_input({8, 0, 0, 0, 0, 3}, all)},
      {"every-kind-write-fails-at-op-0", feed_input({8, 0, 0, 0, 0, 0}, all)},
      {"close-stream-then-more", feed_input({0}, concat({mutation, close_stream, deletion}))},
      {"rejected-after-events", feed_input({0}, concat({begin, mutation, rejected}))},
      {"big-value-queue-bound-1", feed_input({0, 0, 100, 1, 16}, concat({big, big, mutation}))},
      {"truncated-mid-header", feed_input({0}, Bytes(mutation.begin(), mutation.begin() + 10))},
      {"truncated-mid-body", feed_input({0}, concat({begin, Bytes(mutation.begin(), mutation.end() - 1)}))},
      {"empty-stream", feed_input({0}, {})},
  };
  for (const auto& [name, bytes] : edges) corpus.write("tap_feed", fmt::format("edge-{}", name), bytes);
}

void write_parser_edges(CorpusWriter& corpus) {
  const std::pair<const char*, const char*> edges[] = {
      {"empty", ""},
      {"comment-only", "# nothing but a comment\n"},
      {"unterminated-string", "send mutation key=\"abc\n"},
      {"backslash-at-end", "send mutation key=\"abc\\"},
      {"unclosed-repeat", "repeat 3 {\n  send noop\n"},
      {"nested-repeat", "repeat 2 {\n repeat 2 send noop\n}\n"},
      {"every-fault", "send mutation key=\"k\" value=\"v\" split=3,24,30 corrupt=0:0x42,5:0\n"
                      "send mutation key=\"k{n}\" truncate=30\nclose rst\n"},
      {"index-in-every-field", "repeat 5 send mutation vb={n} key=\"k{n}\" value=\"v{n}\" cas={n} opaque={n}\n"},
      {"huge-numbers", "send mutation cas=18446744073709551616 flags=0xffffffffffffffffff\n"},
      {"fill-limit", "send mutation value=fill(16777216)\nsend mutation value=fill(16777217)\n"},
      {"groups", "send opaque code=1 ack\nsend opaque code=8 ack\nunordered {\n expect ack opaque=1\n"
                 " expect ack opaque=2\n}\noptional {\n expect ack opaque=3\n}\n"},
      {"client-report", "client args name=\"r1\" backfill=0 vbuckets=0,1 ack checkpoint idle_timeout=2s\n"
                        "client event vbucket_set vb=5 state=pending\nclient end error match=\"x\"\n"},
      {"crlf", "send noop\r\nclose fin\r\n"},
  };
  for (const auto& [name, text] : edges) corpus.write("scenario_parser", fmt::format("edge-{}", name), std::string_view(text));
}

void write_fault_variants(CorpusWriter& corpus) {
  // "<scenario>\n" [settings] [max read] [ops...]: see scenario_faults_fuzzer.cc.
  using std::string_literals::operator""s;
  const std::pair<const char*, std::string> variants[] = {
      {"backfill_several_vbuckets-rst-after-third-send", "backfill_several_vbuckets\n\0\0\0\0\6"s},
      {"backfill_several_vbuckets-fin-after-first-send", "backfill_several_vbuckets\n\0\0\7"s},
      {"fragmented_frames-bytewise-reads", "fragmented_frames\n\1\1"s},
      {"checkpoint_sync-truncate-first", "checkpoint_sync\n\0\0\3\0\20"s},
      {"ack_requests-corrupt-opcode", "ack_requests_mutation_deletion_opaque\n\0\0\4\0\0\1\x42"s},
      {"flush-split-everywhere", "flush\n\0\0\2\3\0\1\0\5\0\30\0\50"s},
      {"stall_mid_frame-idle-1ms", "stall_mid_frame\n\2\0"s},
      {"opaque_every_sub_code-idle-5ms-split-reads", "opaque_every_sub_code\n\3\7"s},
  };
  for (const auto& [name, bytes] : variants) corpus.write("scenario_faults", fmt::format("edge-{}", name), bytes);
}

void write_engine_edges(CorpusWriter& corpus) {
  const Bytes connect = connect_frame({.support_ack = true, .client_name = "replica-1"});
  const Bytes ack1 = [] {
    const auto ack = protocol::tap_ack(protocol::Opcode::tap_opaque, 1);
    return Bytes(ack.begin(), ack.end());
  }();
  const std::pair<const char*, Bytes> edges[] = {
      {"nothing-then-fin", engine_input("flush", 0, 0, {})},
      {"nothing-stays-open", engine_input("flush", 0, 2, {})},
      {"connect-then-rst", engine_input("backfill_several_vbuckets", 0, 1, connect)},
      {"connect-bytewise", engine_input("backfill_several_vbuckets", 1, 0, concat({connect, ack1}))},
      {"noop-instead-of-connect", engine_input("flush", 0, 0, hex("800a0000000000000000000000000000000000000000 0000"))},
      {"connect-body-contradicts-flags", engine_input("flush", 0, 0, hex("804000000400000000000004000000000000000000000000 00000001"))},
      {"garbage-after-connect", engine_input("ack_requests_mutation_deletion_opaque", 0, 0, concat({connect, hex("42424242")}))},
      {"request-instead-of-ack", engine_input("ack_requests_mutation_deletion_opaque", 0, 0, concat({connect, hex("8044000000000000000000000000000100000000 00000000")}))},
      {"nack-etmpfail", engine_input("ack_requests_mutation_deletion_opaque", 0, 0, concat({connect, hex("8144000000000086000000000000000100000000 00000000")}))},
      {"body-claim-4gib", engine_input("flush", 0, 0, hex("80400000040000000000ffffffff000000000000 0000000000000000"))},
      {"ack-twice", engine_input("opaque_every_sub_code", 0, 0, concat({connect, ack1, ack1}))},
  };
  for (const auto& [name, bytes] : edges) corpus.write("engine_client", fmt::format("edge-{}", name), bytes);
}

}  // namespace
}  // namespace tapharness::fuzz

int main(int argc, char** argv) {
  using namespace tapharness::fuzz;
  if (argc != 2) {
    fmt::print(stderr, "usage: seed_corpus OUT_DIR   (e.g. bazel run //fuzz:seed_corpus -- fuzz/corpus)\n");
    return 2;
  }
  fs::path out = argv[1];
  if (out.is_relative()) {
    if (const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY")) out = fs::path(workspace) / out;
  }
  CorpusWriter corpus(out);
  for (auto target : kTargets) corpus.clear_own(target);
  write_scenarios(corpus);
  write_connect_seeds(corpus);
  write_decoder_edges(corpus);
  write_feed_edges(corpus);
  write_parser_edges(corpus);
  write_fault_variants(corpus);
  write_engine_edges(corpus);
  for (const auto& [target, count] : corpus.counts()) fmt::print("{}: {} seed files in {}\n", target, count, (out / target).string());
  return 0;
}
