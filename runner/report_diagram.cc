#include "runner/report_diagram.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "protocol/describe.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/header.hpp"
#include "protocol/hex.hpp"
#include "protocol/opcode.hpp"
#include "protocol/tap_constants.hpp"
#include "runner/report_escape.hpp"

namespace tapharness::runner {
namespace {

using Kind = LoggedRecord::Kind;

// The arrow's geometry (the CSS places the lanes' SVG at the same x).
constexpr int kWidth = 360;
constexpr int kServerX = 30;
constexpr int kClientX = 330;
constexpr int kRow = 26;
constexpr int kMid = 15;

// The header and TAP prefix read from a record's kept bytes, bounds-checked: a lie's
// lengths say anything.
struct Head {
  protocol::Header header;
  std::uint16_t engine_length = 0;
  std::optional<std::uint16_t> tap_flags;
  protocol::ByteView key;  // empty when the kept bytes do not reach it
};

std::optional<Head> head_of(const LoggedRecord& r) {
  if (r.frame.size() < protocol::kHeaderSize) return std::nullopt;
  Head h;
  h.header = protocol::read_header(r.frame.data());
  const std::size_t extras = protocol::kHeaderSize;
  const bool tap = h.header.magic == protocol::Magic::request && protocol::is_tap_message(h.header.opcode);
  if (tap && h.header.extlen >= 4 && r.frame.size() >= extras + 4) {
    h.engine_length = protocol::load_be16(r.frame.data() + extras);
    h.tap_flags = protocol::load_be16(r.frame.data() + extras + 2);
  }
  const std::size_t key_at = extras + h.header.extlen + (tap ? h.engine_length : 0);
  if (key_at + h.header.keylen <= r.frame.size()) h.key = protocol::ByteView(r.frame.data() + key_at, h.header.keylen);
  return h;
}

bool asks_ack(const Head& h) {
  return h.tap_flags && (*h.tap_flags & static_cast<std::uint16_t>(protocol::TapFlag::ack)) != 0;
}

std::string seconds(std::chrono::microseconds at) {
  return fmt::format("{}.{:06}s", at.count() / 1'000'000, at.count() % 1'000'000);
}

std::string where(const scenario::SourceLocation& l) {
  return l.line > 0 ? fmt::format("{}:{}", l.file(), l.line) : l.file();
}

// Hex in rows of 32 bytes: the first eight rows and the last two of what was kept.
std::string hex_rows(protocol::ByteView bytes, std::size_t whole) {
  constexpr std::size_t kRowBytes = 32, kHead = 8, kTail = 2;
  std::string out;
  const auto row = [&](std::size_t at) {
    out += fmt::format("{:6} {}\n", at, protocol::to_hex(bytes.subspan(at, std::min(kRowBytes, bytes.size() - at))));
  };
  const std::size_t rows = (bytes.size() + kRowBytes - 1) / kRowBytes;
  if (rows <= kHead + kTail + 1) {
    for (std::size_t at = 0; at < bytes.size(); at += kRowBytes) row(at);
  } else {
    for (std::size_t r = 0; r < kHead; ++r) row(r * kRowBytes);
    const std::size_t tail = (rows - kTail) * kRowBytes;
    out += fmt::format("   ... {} bytes not shown ...\n", tail - kHead * kRowBytes);
    for (std::size_t at = tail; at < bytes.size(); at += kRowBytes) row(at);
  }
  if (whole > bytes.size()) out += fmt::format("   ... and {} more bytes, not kept\n", whole - bytes.size());
  return out;
}

// The frame decoded field by field (protocol/describe.hpp), or why it does not decode.
std::string fields_of(const LoggedRecord& r) {
  if (!r.frame_whole()) return r.description;
  protocol::FrameDecoder decoder;
  auto result = decoder.decode(r.frame);
  if (auto* d = std::get_if<protocol::Decoded>(&result)) {
    std::string text = protocol::describe_frame(d->frame);
    if (d->consumed < r.frame.size()) text += fmt::format("  (+{} bytes after the frame)\n", r.frame.size() - d->consumed);
    return text;
  }
  if (auto* more = std::get_if<protocol::NeedMore>(&result)) {
    return fmt::format("not a whole frame: {} more bytes would be needed\n", more->bytes);
  }
  return fmt::format("does not decode: {}\n", std::get<protocol::DecodeError>(result));
}

// Why the planned frame's lengths do not describe its bytes, if they do not (a lie).
std::optional<std::string> lie_of(const LoggedRecord& r, const Head& h) {
  const std::uint64_t claimed = protocol::kHeaderSize + std::uint64_t{h.header.bodylen};
  if (claimed != r.frame_size) {
    return fmt::format("the header claims bodylen={} ({} bytes), the frame has {}", h.header.bodylen, claimed,
                       r.frame_size);
  }
  if (std::uint64_t{h.header.extlen} + h.header.keylen > h.header.bodylen) {
    return fmt::format("extlen={} + keylen={} exceed bodylen={}", h.header.extlen, h.header.keylen, h.header.bodylen);
  }
  if (h.tap_flags && std::uint64_t{h.header.extlen} + h.engine_length + h.header.keylen > h.header.bodylen) {
    return fmt::format("engine_length={} leaves no room in bodylen={}", h.engine_length, h.header.bodylen);
  }
  return std::nullopt;
}

std::string chunk_list(const LoggedRecord& r) {
  std::string out;
  for (const auto& c : r.chunks) {
    out += fmt::format(" [{},{})", c.begin, c.end);
    if (c.delay_before.count() > 0) out += fmt::format("+{}ms", c.delay_before.count());
  }
  if (r.chunk_count > r.chunks.size()) out += fmt::format(" ... {} more", r.chunk_count - r.chunks.size());
  return out;
}

}  // namespace

std::vector<FaultMark> faults_of(const LoggedRecord& r) {
  std::vector<FaultMark> out;
  if (r.kind == Kind::closed && r.ending == mockserver::Ending::server_rst) {
    out.push_back({"rst", "the server reset the connection", 0});
  }
  if (r.kind == Kind::note && r.note.find("stalls") != std::string::npos) {
    out.push_back({"stall", "the server sends nothing more", 0});
  }
  if (r.kind != Kind::sent) return out;
  const double size = static_cast<double>(std::max<std::size_t>(1, r.frame_size));
  if (auto h = head_of(r)) {
    if (auto lie = lie_of(r, *h)) out.push_back({"lie", *lie, 0.05});
  }
  if (r.corrupt_count > 0) {
    std::string offsets;
    for (std::size_t at : r.corrupt_at) offsets += fmt::format(" {}", at);
    out.push_back({"corrupt", fmt::format("{} bytes changed, at{}", r.corrupt_count, offsets),
                   static_cast<double>(r.corrupt_at.front()) / size});
  }
  if (r.written_size < r.frame_size) {
    out.push_back({"truncate", fmt::format("only {} of {} bytes written", r.written_size, r.frame_size),
                   static_cast<double>(r.written_size) / size});
  }
  if (r.chunk_count > 1) {
    const bool bytewise = r.chunk_count == r.written_size;
    const std::size_t first = r.chunks.front().end - r.chunks.front().begin;
    const bool even = std::all_of(r.chunks.begin(), r.chunks.end() - 1,
                                  [&](const auto& c) { return c.end - c.begin == first; });
    const std::string kind = bytewise ? "bytewise" : even && r.chunk_count > 2 ? "chunks" : "split";
    const double at = static_cast<double>(r.chunks.front().end) / size;
    out.push_back({kind, fmt::format("{} writes:{}", r.chunk_count, chunk_list(r)), at});
  }
  return out;
}

std::string frame_summary(const LoggedRecord& r) {
  const auto h = head_of(r);
  if (!h) return html_text(fmt::format("{} bytes (not a whole header)", r.frame_size));
  const protocol::Header& hd = h->header;
  std::string out;
  if (hd.is_response()) {
    out = fmt::format("{} response status={} opaque={:#010x}", protocol::name_of(hd.opcode),
                      protocol::name_of(hd.status()), hd.opaque);
  } else {
    out = fmt::format("{} vb={} opaque={:#010x}", protocol::name_of(hd.opcode), hd.vbucket(), hd.opaque);
  }
  std::string html = html_text(out);
  if (hd.keylen > 0) html += " key=" + (h->key.empty() ? std::string("(not kept)") : html_bytes(h->key, 40));
  if (hd.cas != 0) html += fmt::format(" cas={}", hd.cas);
  html += fmt::format(" <span class=\"size\">{} B</span>", r.frame_size);
  if (asks_ack(*h)) html += " <span class=\"badge ask\">asks ACK</span>";
  return html;
}

std::map<std::size_t, std::size_t> ack_links(const std::vector<SessionLog::Entry>& entries) {
  std::map<std::pair<int, std::uint32_t>, std::size_t> asked;
  std::map<std::size_t, std::size_t> links;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const LoggedRecord* r = entries[i].record;
    if (!r || (r->kind != Kind::sent && r->kind != Kind::received)) continue;
    const auto h = head_of(*r);
    if (!h) continue;
    const std::pair<int, std::uint32_t> key{static_cast<int>(h->header.opcode), h->header.opaque};
    if (r->kind == Kind::sent && !h->header.is_response() && asks_ack(*h)) {
      asked[key] = i;
    } else if (r->kind == Kind::received && h->header.is_response()) {
      if (auto found = asked.find(key); found != asked.end()) {
        links[i] = found->second;
        asked.erase(found);
      }
    }
  }
  return links;
}

namespace {

// The marks a fault leaves on an arrow from x1 to x2.
std::string fault_svg(const std::vector<FaultMark>& faults, int x1, int x2) {
  std::string out;
  for (const auto& f : faults) {
    const int x = x1 + static_cast<int>((x2 - x1) * std::clamp(f.at, 0.0, 1.0));
    out += fmt::format("<g class=\"fault fault-{}\"><title>{}: {}</title>", f.kind, f.kind, html_text(f.detail));
    if (f.kind == "truncate") {
      out += fmt::format("<path d=\"M{} {} l8 8 M{} {} l8 -8\"/>", x - 4, kMid - 4, x - 4, kMid + 4);
    } else if (f.kind == "corrupt") {
      out += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"4\"/>", x, kMid);
    } else if (f.kind == "lie") {
      out += fmt::format("<text x=\"{}\" y=\"{}\">!</text>", x, kMid + 4);
    } else {  // the writes: a tick where the first write ends
      out += fmt::format("<path d=\"M{0} {1} L{0} {2}\"/>", x, kMid - 6, kMid + 6);
    }
    out += "</g>";
  }
  return out;
}

std::string badges(const std::vector<FaultMark>& faults) {
  std::string out;
  for (const auto& f : faults) {
    out += fmt::format(" <span class=\"badge fault\" title=\"{}\">{}</span>", html_text(f.detail), f.kind);
  }
  return out;
}

// " fault fault-split fault-truncate": what CSS colours and a test counts.
std::string fault_classes(const std::vector<FaultMark>& faults) {
  std::string out = faults.empty() ? "" : " fault";
  for (const auto& f : faults) out += " fault-" + f.kind;
  return out;
}

std::string row_start(const LoggedRecord& r) {
  return fmt::format("<span class=\"t\">{}</span><span class=\"ln\" title=\"{}\">:{}</span>", seconds(r.at),
                     html_text(where(r.location)), r.location.line);
}

// An arrow: the server's frames go right, the client's left.
std::string arrow_svg(bool from_server, const std::string& label, const std::vector<FaultMark>& faults,
                      bool cut_short, double reach) {
  const int x1 = from_server ? kServerX : kClientX;
  const int full = from_server ? kClientX : kServerX;
  const int x2 = cut_short ? x1 + static_cast<int>((full - x1) * std::clamp(reach, 0.05, 1.0)) : full;
  const int dir = from_server ? 1 : -1;
  const bool dashed = std::any_of(faults.begin(), faults.end(), [](const auto& f) {
    return f.kind == "bytewise" || f.kind == "chunks" || f.kind == "split";
  });
  std::string out = fmt::format(
      "<svg class=\"msg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\">"
      "<line class=\"arrow{2}\" x1=\"{3}\" y1=\"{4}\" x2=\"{5}\" y2=\"{4}\"/>",
      kWidth, kRow, dashed ? " dashed" : "", x1, kMid, x2 - dir * 6);
  if (!cut_short) {
    out += fmt::format("<polygon class=\"head\" points=\"{},{} {},{} {},{}\"/>", x2, kMid, x2 - dir * 8, kMid - 4,
                       x2 - dir * 8, kMid + 4);
  }
  out += fmt::format("<text class=\"op\" x=\"{}\" y=\"{}\">{}</text>", (kServerX + kClientX) / 2, kMid - 4, label);
  out += fault_svg(faults, x1, full);
  return out + "</svg>";
}

// A mark on one lane (an ending, a note, a failure, a gap).
std::string lane_mark_svg(const std::string& cls, bool server, const std::string& shape) {
  const int x = server ? kServerX : kClientX;
  std::string body;
  if (shape == "x") {
    body = fmt::format("<path d=\"M{} {} l12 12 M{} {} l12 -12\"/>", x - 6, kMid - 6, x - 6, kMid + 6);
  } else if (shape == "bar") {
    body = fmt::format("<rect x=\"{}\" y=\"{}\" width=\"16\" height=\"4\"/>", x - 8, kMid - 2);
  } else if (shape == "gap") {
    body = fmt::format("<path d=\"M{0} 2 L{0} {1} M{2} 2 L{2} {1}\"/>", kServerX, kRow - 2, kClientX);
  } else {
    body = fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\"/>", x, kMid, shape == "big" ? 6 : 3);
  }
  return fmt::format("<svg class=\"mark {0}\" width=\"{1}\" height=\"{2}\" viewBox=\"0 0 {1} {2}\">{3}</svg>", cls,
                     kWidth, kRow, body);
}

std::string kind_word(Kind kind) {
  switch (kind) {
    case Kind::sent: return "sent frames";
    case Kind::received: return "received frames";
    case Kind::note: return "notes";
    case Kind::closed: return "endings";
  }
  return "records";
}

std::string failure_row(const DiagramFailure& f) {
  return fmt::format(
      "<div class=\"ev failure{}\"><span class=\"t\">FAILED</span><span class=\"ln\">:{}</span>{}"
      "<span class=\"what\"><b>FAILED</b> {}: {}{}<br>expected: <code>{}</code><br>observed: <code>{}</code></span>"
      "</div>\n",
      f.client ? " client" : " server", f.location.line, lane_mark_svg("failure-mark", !f.client, "big"),
      html_text(where(f.location)), html_text(f.what), f.client ? " (client)" : " (server)", html_text(f.expected),
      html_text(f.observed));
}

bool same_line(const scenario::SourceLocation& a, const scenario::SourceLocation& b) {
  return a.line == b.line && a.file() == b.file();
}

}  // namespace

std::string render_diagram(const SessionLog& log, const std::vector<DiagramFailure>& failures, const std::string& id) {
  const auto entries = log.entries();
  const auto links = ack_links(entries);
  std::map<std::size_t, std::size_t> answered_by;  // the asking frame -> its ACK
  for (const auto& [ack, asked] : links) answered_by[asked] = ack;

  // A server failure goes after the last record of its line, or when its line has none (an
  // ACK that never came) after the last record of a line before it; the rest at the end.
  std::map<std::size_t, std::vector<const DiagramFailure*>> after;
  std::vector<const DiagramFailure*> at_end;
  for (const auto& f : failures) {
    std::optional<std::size_t> last, before;
    for (std::size_t i = 0; i < entries.size() && !f.client; ++i) {
      const LoggedRecord* r = entries[i].record;
      if (!r || r->location.file() != f.location.file()) continue;
      if (r->location.line == f.location.line) last = i;
      if (r->location.line > 0 && r->location.line < f.location.line) before = i;
    }
    if (!last) last = before;
    if (last) {
      after[*last].push_back(&f);
    } else {
      at_end.push_back(&f);
    }
  }
  const auto failing_line = [&](const scenario::SourceLocation& l) {
    return std::any_of(failures.begin(), failures.end(),
                       [&](const DiagramFailure& f) { return !f.client && same_line(f.location, l); });
  };

  std::size_t sent = 0, received = 0;
  std::string rows;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string eid = fmt::format("{}-e{}", id, i);
    if (const LeftOut* gap = entries[i].gap) {
      rows += fmt::format(
          "<div class=\"ev gap\" id=\"{}\"><span class=\"t\"></span><span class=\"ln\">:{}</span>{}"
          "<span class=\"what\">&#8942; {} {} of line {} left out ({} bytes); the first {} and the last {} are "
          "shown</span></div>\n",
          eid, gap->location.line, lane_mark_svg("gap-mark", true, "gap"), gap->count, kind_word(gap->kind),
          gap->location.line, gap->bytes, gap->kept_before, gap->kept_after);
      continue;
    }
    const LoggedRecord& r = *entries[i].record;
    const auto faults = faults_of(r);
    std::string classes = fault_classes(faults);
    if (failing_line(r.location)) classes += " failing";
    switch (r.kind) {
      case Kind::sent:
      case Kind::received: {
        const bool from_server = r.kind == Kind::sent;
        (from_server ? sent : received) += 1;
        const auto h = head_of(r);
        const std::string label = h ? std::string(protocol::name_of(h->header.opcode)) : "bytes";
        std::string pair, link;
        if (auto found = links.find(i); found != links.end()) {
          pair = fmt::format("{}-e{}", id, found->second);
          link = fmt::format(" <a class=\"pair\" href=\"#{}\">answers the frame at {}</a>", pair,
                             seconds(entries[found->second].record->at));
        } else if (auto asked = answered_by.find(i); asked != answered_by.end()) {
          pair = fmt::format("{}-e{}", id, asked->second);
          link = fmt::format(" <a class=\"pair\" href=\"#{}\">ACK at {}</a>", pair,
                             seconds(entries[asked->second].record->at));
        }
        const double reach = static_cast<double>(r.written_size) / static_cast<double>(std::max<std::size_t>(1, r.frame_size));
        std::string fields = html_text(fields_of(r)) + html_text(hex_rows(r.frame, r.frame_size));
        if (from_server && (r.corrupt_count > 0 || r.written_size != r.frame_size)) {
          fields += fmt::format("written after faults ({} bytes):\n{}", r.written_size,
                                html_text(hex_rows(r.written, r.written_size)));
        }
        if (r.chunk_count > 1) fields += fmt::format("in {} writes:{}\n", r.chunk_count, chunk_list(r));
        rows += fmt::format(
            "<details class=\"ev {}{}\" id=\"{}\"{}><summary>{}{}<span class=\"what\">{}{}{}</span></summary>"
            "<pre class=\"fields\">{}</pre></details>\n",
            from_server ? "sent" : "received", classes, eid, pair.empty() ? "" : fmt::format(" data-pair=\"{}\"", pair),
            row_start(r), arrow_svg(from_server, html_text(label), faults, from_server && r.written_size < r.frame_size, reach),
            frame_summary(r), badges(faults), link, fields);
        break;
      }
      case Kind::note:
        rows += fmt::format("<div class=\"ev note{}\" id=\"{}\">{}{}<span class=\"what\">{}{}</span></div>\n", classes,
                            eid, row_start(r), lane_mark_svg("note-mark", true, "dot"), html_text(r.note),
                            badges(faults));
        break;
      case Kind::closed: {
        const bool server = r.ending == mockserver::Ending::server_fin || r.ending == mockserver::Ending::server_rst ||
                            r.ending == mockserver::Ending::server_half_close;
        const std::string shape = r.ending == mockserver::Ending::server_rst ||
                                          r.ending == mockserver::Ending::client_failed
                                      ? "x"
                                      : "bar";
        rows += fmt::format("<div class=\"ev closed{}\" id=\"{}\">{}{}<span class=\"what\">{}{}</span></div>\n",
                            classes, eid, row_start(r), lane_mark_svg("end-mark", server, shape),
                            html_text(r.note), badges(faults));
        break;
      }
    }
    if (auto found = after.find(i); found != after.end()) {
      for (const DiagramFailure* f : found->second) rows += failure_row(*f);
    }
  }
  for (const DiagramFailure* f : at_end) rows += failure_row(*f);

  std::string cut;
  if (log.records_over_limit() > 0) {
    cut = fmt::format(
        "<p class=\"cut\">This connection's records reached the report's limit of {} bytes: {} records were left "
        "out.</p>\n",
        log.limits().limit, log.records_over_limit());
  }
  const auto& c = log.connection();
  return fmt::format(
      "<div class=\"diagram\" id=\"{0}\" data-sent=\"{1}\" data-received=\"{2}\" data-records=\"{3}\">\n"
      "<div class=\"lanes-head\"><span class=\"t\">time</span><span class=\"ln\">line</span>"
      "<span class=\"lane-names\"><span class=\"lane-name server\">server<br><small>{4}</small></span>"
      "<span class=\"lane-name client\">client<br><small>{5}</small></span></span></div>\n"
      "<div class=\"rows\"><svg class=\"lanes\" width=\"{6}\" height=\"100%\" aria-hidden=\"true\">"
      "<line class=\"lane lane-server\" x1=\"{7}\" y1=\"0\" x2=\"{7}\" y2=\"100%\"/>"
      "<line class=\"lane lane-client\" x1=\"{8}\" y1=\"0\" x2=\"{8}\" y2=\"100%\"/></svg>\n{9}</div>\n{10}</div>\n",
      id, sent, received, log.records_seen(), html_text(fmt::format("{}:{}", c.server.address().to_string(), c.server.port())),
      html_text(fmt::format("{}:{}", c.client.address().to_string(), c.client.port())), kWidth, kServerX, kClientX, rows,
      cut);
}

}  // namespace tapharness::runner
