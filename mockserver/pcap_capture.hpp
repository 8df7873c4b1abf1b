// --pcap: every connection a server takes, written to one pcapng file as TCP (capture/
// pcapng_writer.hpp makes the packets) from the connection's trace records: the client's
// frames, the server's writes as the fault plan cut them, the notes, and how each side ended.
//
//   auto pcap = PcapCapture::open("/tmp/run.pcapng");   // InputError names the path
//   options.observe = (*pcap)->observer();              // ServerOptions::observe
//
// What the capture shows is what the engine handed to the socket: each planned write as its
// own segments (write boundaries and fault notes in the packets' comments), each frame the
// client sent as one write (the engine sees frames, not the client's writes), and the frames
// a `writes coalesced` scenario gathers as the one write they went out in. A value generated as it is written
// (a large fill or random value) is not in the trace: its bytes are a hole in the capture,
// said in the next packet's comment. Thread-safe: runs on several threads may share one.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "capture/pcapng_writer.hpp"
#include "mockserver/server.hpp"
#include "protocol/result.hpp"

namespace tapharness::mockserver {

class PcapCapture : public std::enable_shared_from_this<PcapCapture> {
 public:
  // Creates (truncates) `path` and writes the capture's header.
  static Result<std::shared_ptr<PcapCapture>, InputError> open(
      const std::string& path, std::uint64_t limit = capture::kDefaultCaptureLimit);
  ~PcapCapture();
  PcapCapture(const PcapCapture&) = delete;
  PcapCapture& operator=(const PcapCapture&) = delete;

  // For ServerOptions::observe: each connection's records become its packets. The capture
  // lives as long as any connection's sink.
  std::function<TraceSink(const ObservedConnection&)> observer();

  // What the limit left out, for the command line to say ("" when nothing was).
  std::string left_out() const;

  PcapCapture(std::FILE* file, std::string path, std::uint64_t limit);

 private:
  void record(capture::PcapngWriter::Connection c, std::int64_t offset_us, const TraceRecord& r);

  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  mutable std::mutex mutex_;
  std::unique_ptr<std::FILE, Closer> file_;
  std::string path_;
  std::int64_t start_us_;
  capture::PcapngWriter writer_;
};

}  // namespace tapharness::mockserver
