// One connection's sequence diagram for the HTML report (runner/report_html.hpp): a server
// lane and a client lane, and between them a row per kept record (report_sessions.hpp) in the
// order it happened: each frame an arrow (inline SVG) with its microsecond timestamp, its
// scenario line and its decoded fields (a <details> that opens); each ACK linked to the frame
// that asked for it (by opcode and opaque: a link, and both rows light up together on hover);
// faults marked where they hit; notes, endings, the lines left out of long runs; and the
// failures it was given, highlighted at their line.
//
//   std::string html = render_diagram(log, {{.location = step.location, .text = "..."}}, "s3c1");
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "runner/report_sessions.hpp"

namespace tapharness::runner {

// A failure to mark on the diagram: a server step's (at the last record of its line, or at
// the end when the connection has none) or the client's (at the end, on the client lane).
struct DiagramFailure {
  scenario::SourceLocation location;
  std::string what;  // "expect ack", "client event"
  std::string expected;
  std::string observed;
  bool client = false;
};

// What a fault did to one sent frame (or to the connection), for its mark.
struct FaultMark {
  std::string kind;    // split, bytewise, chunks, truncate, corrupt, lie, rst, stall
  std::string detail;  // "3 writes: [0,10) [10,24) [24,40)"
  double at = 1.0;     // where along the frame it hits, 0 to 1 (the mark's place on the arrow)
};
std::vector<FaultMark> faults_of(const LoggedRecord& record);

// A frame in one line: "TAP_MUTATION vb=0 opaque=0x00000005 key=k1 ACK" (HTML-escaped).
std::string frame_summary(const LoggedRecord& record);

// Each ACK's entry index to the index of the frame it answers: a response from the client
// with the opcode and opaque of a frame the server sent asking for an ACK (each asking frame
// answered once; a retransmit has its own opaque).
std::map<std::size_t, std::size_t> ack_links(const std::vector<SessionLog::Entry>& entries);

// The diagram's HTML; `id` makes its element ids unique in the page.
std::string render_diagram(const SessionLog& log, const std::vector<DiagramFailure>& failures, const std::string& id);

}  // namespace tapharness::runner
