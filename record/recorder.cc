#include "record/recorder.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "protocol/sasl.hpp"
#include "protocol/tap_event.hpp"
#include "protocol/tap_message.hpp"
#include "record/send_line.hpp"
#include "runner/client_check.hpp"
#include "runner/update.hpp"
#include "scenario/literals.hpp"
#include "scenario/parser.hpp"
#include "scenario/scenario.hpp"

namespace tapharness::record {
namespace {

using protocol::Frame;
using protocol::Opcode;
using protocol::TapConnectFlag;

// Names must be quoted strings, never hex.
std::string quoted(std::string_view bytes) { return scenario::string_literal(bytes); }

std::string vbucket_list(const std::vector<std::uint16_t>& vbuckets) {
  std::string out;
  for (std::size_t i = 0; i < vbuckets.size(); ++i)
    out += fmt::format("{}{}", i > 0 ? "," : "", vbuckets[i]);
  return out;
}

// `flags=` words: lower-case spec names, unnamed bits as a number.
std::string connect_flag_words(std::uint32_t flags) {
  if (flags == 0) return "0";
  std::string out;
  std::uint32_t named = 0;
  for (const auto& f : protocol::all_tap_connect_flags()) {
    if (!protocol::has_flag(flags, f.value)) continue;
    named |= static_cast<std::uint32_t>(f.value);
    std::string name(f.name);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out += (out.empty() ? "" : ",") + name;
  }
  if (const std::uint32_t rest = flags & ~named; rest != 0)
    out += fmt::format("{}{:#x}", out.empty() ? "" : ",", rest);
  return out;
}

std::string status_word(protocol::Status status) {
  const auto name = protocol::name_of(status);
  return name.empty() ? fmt::format("{:#x}", static_cast<std::uint16_t>(status))
                      : std::string(name);
}

std::string duration_word(std::uint64_t ms) {
  return fmt::format("{}ms",
                     std::min<std::uint64_t>(ms, 86'400'000));  // the language's 24 h ceiling
}

// What the built-in client sends for `client args` made from `request`, or why none can.
std::optional<protocol::TapArguments> arguments_for(const protocol::TapConnectRequest& r,
                                                    std::string& why) {
  protocol::TapArguments a;
  a.client_name = r.name;
  a.backfill = r.backfill ? *r.backfill : 0;
  a.dump = r.has(TapConnectFlag::dump);
  a.vbuckets = r.vbuckets.value_or(std::vector<std::uint16_t>{});
  a.takeover = r.has(TapConnectFlag::takeover_vbuckets);
  a.support_ack = r.has(TapConnectFlag::support_ack);
  a.keys_only = r.has(TapConnectFlag::request_keys_only);
  a.checkpoint = r.has(TapConnectFlag::checkpoint);
  a.registered_client = r.has(TapConnectFlag::registered_client);
  if (protocol::connect_flags(a) != r.flags || !r.checkpoints.empty() ||
      r.closed_checkpoints_only) {
    why = fmt::format("the client's TAP_CONNECT (flags {}{}) is not one the built-in client sends",
                      protocol::tap_connect_flags_text(r.flags),
                      r.checkpoints.empty() ? "" : ", a checkpoint map");
    return std::nullopt;
  }
  return a;
}

}  // namespace

Recorder::Recorder(RecordOptions options, ValueWords::Sink sink)
    : options_(std::move(options)),
      words_(options_.scenario_path, std::move(sink)),
      server_(protocol::Limits{}, options_.splits),
      client_(protocol::Limits{}, 0) {}

void Recorder::add(std::string& section, std::string line) {
  if (error_) return;
  text_size_ += line.size() + 1;
  // Leave room for the ending and the header: the whole file must stay loadable.
  if (text_size_ + 64 * 1024 > scenario::kMaxFileSize) {
    const bool server = &section == &steps_;
    stop(RecordError{
        RecordError::Code::too_large,
        server ? Direction::server_to_client : Direction::client_to_server,
        server ? server_.offset() : client_.offset(),
        fmt::format("the scenario would pass the language's limit of {} bytes for a file",
                    scenario::kMaxFileSize)});
    return;
  }
  section += line;
  section += '\n';
}

void Recorder::stop(RecordError error) {
  if (error_) return;
  steps_ += fmt::format("# tap_record stopped here: {}\n", error.message());
  error_ = std::move(error);
}

RecordError Recorder::fail(RecordError error) {
  stop(std::move(error));
  return *error_;
}

std::optional<RecordError> Recorder::feed(const Chunk& chunk) {
  if (error_) return error_;
  ++chunks_;
  if (!first_time_us_) first_time_us_ = chunk.time_us;
  const bool server = chunk.direction == Direction::server_to_client;
  StreamFrames& stream = server ? server_ : client_;
  // A pause before a frame (or before the close), when asked; never inside a frame.
  if (server && options_.pause_ms && last_time_us_ && stream.pending().empty() &&
      (!chunk.bytes.empty() || chunk.ending != Ending::none) && connect_) {
    const std::uint64_t gap_ms = (chunk.time_us - std::min(chunk.time_us, *last_time_us_)) / 1000;
    if (gap_ms >= *options_.pause_ms && gap_ms > 0) add(steps_, "delay " + duration_word(gap_ms));
  }
  last_time_us_ = chunk.time_us;
  if (server && !chunk.bytes.empty()) last_server_time_us_ = chunk.time_us;
  End& end = server ? server_end_ : client_end_;
  if (end.how != Ending::none && !chunk.bytes.empty()) {
    // Bytes after a side's FIN in a capture are a retransmission or a new conversation.
    return error_;
  }
  stream.append(chunk.bytes);
  while (!error_) {
    auto piece = stream.next();
    if (!piece) break;
    if (server) {
      on_server_frame(*piece);
    } else {
      on_client_frame(*piece);
    }
  }
  if (!error_ && stream.error()) {
    const auto& e = *stream.error();
    stop(RecordError{RecordError::Code::undecodable, chunk.direction, e.offset,
                     fmt::format("the bytes are no frame ({})", e)});
  }
  if (chunk.ending != Ending::none && end.how == Ending::none)
    end = End{chunk.ending, chunk.time_us, chunks_};
  return error_;
}

void Recorder::on_sasl_reply(const Frame& frame) {
  const auto status = frame.header.status();
  if (frame.header.opcode == Opcode::sasl_list_mechs) {
    if (status != protocol::Status::success) {
      add(sasl_lines_,
          fmt::format("# the server answered SASL_LIST_MECHS with {}, which a scenario cannot say",
                      status_word(status)));
      end_feed(client::ReportedEnd::How::error, "auth_failed: SASL_LIST_MECHS refused");
      return;
    }
    add(sasl_lines_, "expect sasl_list_mechs mechs=" + quoted(protocol::as_chars(frame.value)));
    return;
  }
  if (status == protocol::Status::success) {
    std::string line = "expect sasl_auth";
    if (sasl_user_) line += " user=" + quoted(*sasl_user_);
    if (sasl_password_) line += " password=" + quoted(*sasl_password_);
    add(sasl_lines_, line);
    return;
  }
  add(sasl_lines_, "expect sasl_auth refuse");
  sasl_refused_ = true;
  end_feed(client::ReportedEnd::How::error, "auth_failed: the server refused SASL_AUTH");
}

void Recorder::end_feed(client::ReportedEnd::How how, std::string error) {
  if (!feed_end_) feed_end_ = client::ReportedEnd{how, std::move(error)};
}

void Recorder::client_event(const protocol::TapEventView& e) {
  using protocol::TapEventKind;
  std::string line = fmt::format("client event {} vb={}", protocol::name_of(e.kind), e.vbucket);
  switch (e.kind) {
    case TapEventKind::mutation:
    case TapEventKind::deletion:
      line += " key=" + words_.word(e.key, "", "key");
      line += " value=" + words_.word(e.value, "", "value");
      if (e.kind == TapEventKind::mutation)
        line += fmt::format(" flags={} expiry={}", e.flags, e.expiry);
      line += fmt::format(" cas={} datatype={}", e.cas, e.datatype);
      break;
    case TapEventKind::checkpoint_start:
    case TapEventKind::checkpoint_end:
      line += fmt::format(" checkpoint={}", e.checkpoint_id);
      break;
    case TapEventKind::vbucket_set: line += " state=" + runner::state_word(e.state); break;
    default: break;
  }
  add(event_lines_, std::move(line));
}

void Recorder::on_server_frame(const StreamFrames::Piece& piece) {
  const Frame& frame = piece.frame;
  const protocol::Header& h = frame.header;
  if (h.magic == protocol::Magic::response && !connect_ &&
      (h.opcode == Opcode::sasl_list_mechs || h.opcode == Opcode::sasl_auth)) {
    on_sasl_reply(frame);  // the mock server makes these replies itself
    return;
  }
  ++server_frames_;
  words_.set_frame("s", frame.offset);
  SendLine line = send_line(frame, piece.bytes, words_);
  if (!piece.splits.empty()) line.text += split_word(piece.splits, frame.size());
  if (const auto& failed = words_.error()) {
    stop(RecordError{RecordError::Code::needs_side_files, Direction::server_to_client, frame.offset,
                     *failed});
    return;
  }
  if (!connect_)
    add(steps_, "# the server sent this before any TAP_CONNECT; the mock server sends it after");
  add(steps_, std::move(line.text));
  if (h.magic == protocol::Magic::request && protocol::is_tap_message(h.opcode) &&
      frame.extras.size() >= 8) {
    if (auto ack = protocol::detail::ack_requested(h, frame.extras.data())) {
      owed_[ack->opaque] = Owed{ack->opcode, line.raw, std::string(protocol::as_chars(frame.key))};
      owed_order_.push_back(ack->opaque);
      if (owed_order_.size() > scenario::kMaxAckWindow) {
        owed_.erase(owed_order_.front());
        owed_order_.pop_front();
      }
    }
  }
  if (feed_end_ || !connect_) return;
  const auto position =
      first_tap_frame_ ? protocol::StreamPosition::first : protocol::StreamPosition::later;
  first_tap_frame_ = false;
  const protocol::FeedStepView step = protocol::map_feed_frame_view(frame, position);
  if (const auto* d = std::get_if<protocol::DeliverView>(&step)) {
    client_event(d->event);
  } else if (std::holds_alternative<protocol::EndOfStream>(step)) {
    end_feed(client::ReportedEnd::How::end_stream);
  } else if (const auto* r = std::get_if<protocol::ConnectRejectedView>(&step)) {
    end_feed(
        client::ReportedEnd::How::error,
        fmt::format("connect_rejected: the server refused TAP_CONNECT with status {}", r->status));
  } else if (const auto* e = std::get_if<protocol::DecodeError>(&step)) {
    end_feed(client::ReportedEnd::How::error, fmt::format("protocol_error: {}", *e));
  }
  if (const auto& failed = words_.error()) {
    stop(RecordError{RecordError::Code::needs_side_files, Direction::server_to_client, frame.offset,
                     *failed});
  }
}

void Recorder::on_ack(const Frame& frame) {
  const protocol::Header& h = frame.header;
  if (server_end_.how != Ending::none) {
    ++acks_after_server_close_;  // `expect ack` cannot follow `close fin`; the strict check still
                                 // requires them
    return;
  }
  std::string line = fmt::format("expect ack opaque={}", h.opaque);
  const auto owed = owed_.find(h.opaque);
  if (owed == owed_.end() || owed->second.raw || owed->second.opcode != h.opcode) {
    line += fmt::format(" opcode={}", h.opcode);
  }
  const auto status = h.status();
  if (status != protocol::Status::success) line += " status=" + status_word(status);
  if (owed != owed_.end()) {
    if (status == protocol::Status::etmpfail || status == protocol::Status::ebusy) {
      const std::string& key = owed->second.key;
      const bool sayable = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return c > 0x20 && c < 0x7f && c != ',' && c != '"' && c != '\\';
      });
      if (!sayable || (nacks_.size() >= 256 && !nacks_.count(key))) {
        nack_keys_unsayable_ = true;
      } else {
        ++nacks_[key];
      }
      if (nack_status_ && *nack_status_ != status) nack_statuses_differ_ = true;
      nack_status_ = status;
    }
    owed_order_.erase(std::find(owed_order_.begin(), owed_order_.end(), h.opaque));
    owed_.erase(owed);
  }
  add(steps_, std::move(line));
}

void Recorder::on_client_frame(const StreamFrames::Piece& piece) {
  ++client_frames_;
  const Frame& frame = piece.frame;
  const protocol::Header& h = frame.header;
  if (h.magic == protocol::Magic::response) {
    if (connect_) return on_ack(frame);
    add(steps_,
        fmt::format(
            "# the client sent a {} response before TAP_CONNECT (offset {}): no scenario line",
            h.opcode, frame.offset));
    return;
  }
  if (h.opcode == Opcode::sasl_list_mechs && !connect_) return;  // its line comes with the reply
  if (h.opcode == Opcode::sasl_auth && !connect_) {
    if (auto plain = protocol::parse_sasl_plain(frame.value);
        plain && protocol::as_chars(frame.key) == protocol::kSaslPlain) {
      sasl_user_ = plain->user;
      sasl_password_ = plain->password;
    } else {
      add(sasl_lines_,
          fmt::format("# the client's SASL_AUTH (offset {}) is no PLAIN the mock server reads",
                      frame.offset));
    }
    return;
  }
  if (h.opcode == Opcode::tap_connect && !connect_) {
    auto request = protocol::decode_tap_connect(frame);
    if (!request) {
      add(connect_line_,
          fmt::format("# the client's TAP_CONNECT does not decode: {}", request.error()));
      connect_ = protocol::TapConnectRequest{};
      return;
    }
    std::string line = fmt::format("expect connect name={} flags={}", quoted(request->name),
                                   connect_flag_words(request->flags));
    line += !request->backfill ? std::string(" backfill=absent")
            : *request->backfill == protocol::kNoBackfill
                ? std::string(" backfill=none")
                : fmt::format(" backfill={}", *request->backfill);
    if (!request->vbuckets) {
      line += " vbuckets=absent";
    } else if (!request->vbuckets->empty()) {
      line += " vbuckets=" + vbucket_list(*request->vbuckets);
    }
    add(connect_line_, std::move(line));
    connect_ = std::move(*request);
    return;
  }
  add(steps_, fmt::format("# the client sent {} (offset {}), which a scenario cannot answer",
                          h.opcode, frame.offset));
}

std::string Recorder::client_args_line() const {
  if (!connect_ && !sasl_user_) return {};
  std::string out = "client args";
  std::string why;
  if (connect_) {
    const auto args = arguments_for(*connect_, why);
    out += " name=" + quoted(connect_->name);
    if (args) {
      if (args->backfill != protocol::kNoBackfill)
        out += fmt::format(" backfill={}", args->backfill);
      if (args->dump) out += " dump";
      if (!args->vbuckets.empty()) out += " vbuckets=" + vbucket_list(args->vbuckets);
      if (args->takeover) out += " takeover";
      if (args->support_ack) out += " ack";
      if (args->keys_only) out += " keys_only";
      if (args->checkpoint) out += " checkpoint";
      if (args->registered_client) out += " registered";
    }
  }
  if (sasl_user_)
    out += " user=" + quoted(*sasl_user_) + " password=" + quoted(sasl_password_.value_or(""));
  if (!nacks_.empty()) {
    out += " nack=";
    bool first = true;
    for (const auto& [key, times] : nacks_) {
      out += fmt::format("{}{}:{}", first ? "" : ",", key, times);
      first = false;
    }
    if (nack_status_ && *nack_status_ != protocol::Status::etmpfail)
      out += " nack_status=" + status_word(*nack_status_);
  }
  // A client that closed on a silent server waited its idle timeout: about the silence seen.
  if (client_gave_up_) {
    const std::uint64_t since = last_server_time_us_.value_or(first_time_us_.value_or(0));
    const std::uint64_t idle_ms = std::max<std::uint64_t>(
        1, (client_end_.time_us - std::min(client_end_.time_us, since)) / 1000);
    out += " idle_timeout=" + duration_word(idle_ms);
  }
  std::string notes;
  if (!why.empty()) notes += "# " + why + "\n";
  if (nack_statuses_differ_)
    notes += "# the client NACKed with several statuses; nack_status= says the last\n";
  if (nack_keys_unsayable_)
    notes += "# some NACKed keys cannot be written in nack= (spaces, commas, quotes)\n";
  return notes + out;
}

std::string Recorder::ending_lines() {
  std::string out;
  if (const auto cut = server_.pending(); !cut.empty()) {
    words_.set_frame("s", server_.offset());
    out += fmt::format("# the server's stream ended {} bytes into a frame at offset {}\n",
                       cut.size(), server_.offset());
    out += "send raw " + words_.word(protocol::as_chars(cut), "x\"", "frame") + "\n";
    end_feed(client::ReportedEnd::How::error, "truncated: the stream ended inside a frame");
  }
  const bool client_first =
      client_end_.how != Ending::none &&
      (server_end_.how == Ending::none || client_end_.order < server_end_.order);
  if (server_end_.how == Ending::none && client_end_.how == Ending::none) {
    out += "# the conversation had not ended when the recording stopped\n";
    return out;
  }
  if (server_end_.how == Ending::rst) {
    out += "close rst\n";
    end_feed(client::ReportedEnd::How::error, "io_error: the server reset the connection");
  } else if (client_first) {
    out += "close wait\n";
    if (!feed_end_) {
      // Nothing the server sent ended the feed, so the client gave up waiting: its idle timeout.
      client_gave_up_ = true;
      end_feed(client::ReportedEnd::How::error, "idle_timeout: the client closed first");
    }
  } else {
    out += "close fin\n";
    end_feed(client::ReportedEnd::How::eof);
  }
  if (acks_after_server_close_ > 0) {
    out += fmt::format(
        "# {} ACKs came after the server's close: no line, the strict check requires them\n",
        acks_after_server_close_);
  }
  return out;
}

Recording Recorder::finish() {
  Recording out;
  std::string ending = error_ ? std::string() : ending_lines();
  if (!error_) {
    if (const auto& failed = words_.error()) {
      stop(RecordError{RecordError::Code::needs_side_files, Direction::server_to_client,
                       server_.offset(), *failed});
      ending.clear();
    }
  }
  std::string text = fmt::format("# Recorded by tap_record{}.\n",
                                 options_.source.empty() ? "" : " from " + options_.source);
  if (options_.splits > 0) {
    text += fmt::format(
        "# split= and bytewise keep where chunks began inside frames of up to {} bytes.\n",
        options_.splits);
  }
  if (options_.pause_ms)
    text += fmt::format("# delay stands for the server's pauses of {} or more.\n",
                        duration_word(*options_.pause_ms));
  // Long conversations (with their pauses) need more than the default limit to replay.
  if (first_time_us_ && last_time_us_) {
    const std::uint64_t lasted_ms =
        (*last_time_us_ - std::min(*last_time_us_, *first_time_us_)) / 1000;
    if (lasted_ms > 8'000) text += "limit " + duration_word(2 * lasted_ms + 10'000) + "\n";
  }
  text += "\n";
  if (!sasl_lines_.empty()) text += sasl_lines_;
  text += connect_line_;
  text += steps_;
  text += ending;
  const std::string args = client_args_line();
  if (!args.empty() || !event_lines_.empty() || (feed_end_ && !error_)) text += "\n";
  if (!args.empty()) text += args + "\n";
  text += event_lines_;
  if (feed_end_ && !error_) text += runner::client_end_line(*feed_end_) + "\n";
  out.text = std::move(text);
  out.error = error_;
  out.server_frames = server_frames_;
  out.client_frames = client_frames_;
  return out;
}

}  // namespace tapharness::record
