// The recording core: one TCP conversation of a TAP client with a TAP server in, a scenario
// (scenarios/README.md) out, which the mock server replays to a client as the server did.
// Pure: no I/O but the side files its sink writes.
//
//   Recorder recorder({.scenario_path = "out/session.scenario"}, write_side_file);
//   for (const Chunk& c : conversation) if (auto e = recorder.feed(c)) break;   // in capture order
//   Recording r = recorder.finish();   // r.text always parses; r.error says why it stopped early
//
// What becomes what:
// - the client's TAP_CONNECT: `expect connect` with its exact name, flags, backfill and
//   vbuckets, and `client args` that make the built-in client send the same;
// - SASL_LIST_MECHS / SASL_AUTH with the server's replies: `expect sasl_list_mechs mechs=...`,
//   `expect sasl_auth user=... password=...` (or `refuse`), and `client args user= password=`;
// - each frame the server sent: an exact `send` line (record/send_line.hpp);
// - each ACK the client sent: `expect ack opaque=N`, with `status=` for a NACK and `opcode=`
//   when the send's kind does not say it; NACKed keys become `client args nack=KEY:N`;
// - what the built-in client makes of the server's frames (protocol::map_feed_frame, the
//   client's own mapping): `client event` lines with every field, then `client end`;
// - the ending: `close fin`, `close rst`, or `close wait` when the client closed first (a
//   client that gave up on a silent server gets the `idle_timeout` it waited, inferred);
//   a frame the server cut short is sent as its bytes (`send raw`) before the close.
// Only when asked: chunk boundaries inside frames of at most `splits` bytes become `split=`
// (or `bytewise`), and a server that paused `pause_ms` or more before a frame gets a `delay`.
//
// Memory: one frame per direction (the decoder's limits: a value of at most 22,020,096
// bytes), the text so far (at most the language's 64 MiB file limit, then too_large), and
// the ACKs owed (at most scenario::kMaxAckWindow).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

#include "client/json_lines.hpp"
#include "protocol/tap_connect.hpp"
#include "record/conversation.hpp"
#include "record/record_error.hpp"
#include "record/stream_frames.hpp"
#include "record/value_words.hpp"

namespace tapharness::record {

struct RecordOptions {
  // Where the scenario will be: names its side files, which go beside it. Empty: there is
  // nowhere for them, and a value too long for a line is an error (needs_side_files).
  std::string scenario_path;
  std::string source;  // what was recorded, for the header comment ("capture.pcapng, connection 1")
  std::size_t splits = 0;  // 0: no split=; else frames up to this many bytes keep their chunks
  std::optional<std::uint64_t> pause_ms;  // unset: no delay lines
};

struct Recording {
  std::string text;                  // a whole scenario, in the canonical layout
  std::optional<RecordError> error;  // set when the recording stopped early (a comment says where)
  std::uint64_t server_frames = 0;
  std::uint64_t client_frames = 0;
};

class Recorder {
 public:
  Recorder(RecordOptions options, ValueWords::Sink sink);

  // The next chunk, in the order the capture saw them. An error stops the recording: this
  // and every later call return it, and finish() writes what came before.
  std::optional<RecordError> feed(const Chunk& chunk);

  // Stops the recording from outside (its input cannot go on); returns the error, which is
  // the recorder's from then on (the first one stays if it had one).
  RecordError fail(RecordError error);

  Recording finish();

 private:
  void on_server_frame(const StreamFrames::Piece& piece);
  void on_client_frame(const StreamFrames::Piece& piece);
  void on_sasl_reply(const protocol::Frame& frame);
  void on_ack(const protocol::Frame& frame);
  void client_event(const protocol::TapEventView& event);
  void end_feed(client::ReportedEnd::How how, std::string error = {});
  void stop(RecordError error);
  void add(std::string& section, std::string line);
  std::string client_args_line() const;
  std::string ending_lines();

  RecordOptions options_;
  ValueWords words_;
  StreamFrames server_;
  StreamFrames client_;
  std::optional<RecordError> error_;

  // The scenario's parts, in file order, each line ending in '\n'.
  std::string sasl_lines_, connect_line_, steps_, event_lines_;
  std::size_t text_size_ = 0;

  std::optional<protocol::TapConnectRequest> connect_;
  std::optional<std::string> sasl_user_, sasl_password_;
  bool sasl_refused_ = false;
  bool first_tap_frame_ = true;  // the next server frame after TAP_CONNECT may refuse it
  std::optional<client::ReportedEnd> feed_end_;

  // ACK requests not yet answered: opaque -> the frame's opcode, whether it went raw, its key.
  struct Owed {
    protocol::Opcode opcode;
    bool raw;
    std::string key;
  };
  std::map<std::uint32_t, Owed> owed_;
  std::deque<std::uint32_t> owed_order_;
  // NACKs of an item, by key (the built-in client's nack= rule), and the status they had.
  std::map<std::string, std::uint32_t> nacks_;
  std::optional<protocol::Status> nack_status_;
  bool nack_statuses_differ_ = false;
  bool nack_keys_unsayable_ = false;

  struct End {
    Ending how = Ending::none;
    std::uint64_t time_us = 0;
    std::uint64_t order = 0;  // which came first
  };
  End server_end_, client_end_;
  std::uint64_t chunks_ = 0;
  std::optional<std::uint64_t> first_time_us_, last_time_us_, last_server_time_us_;
  std::uint64_t acks_after_server_close_ = 0;
  bool client_gave_up_ = false;  // it closed first, on a server that had not ended its feed
  std::uint64_t server_frames_ = 0, client_frames_ = 0;
};

}  // namespace tapharness::record
