// The statements of the scenario language that carry fields, each parsed from its line's
// words (words[0] is the statement's first keyword: `send`, `expect`, `client`). Each checks
// what the line alone decides; what depends on other lines (order, `close`, ACK claims,
// repeats) is the parser's (scenario_parser.cc).
//
//   ValueReader values(errors);
//   std::optional<Send> send = parse_send(values, line.words);   // "send mutation key=..."
#pragma once

#include <optional>
#include <span>

#include "scenario/scenario.hpp"
#include "scenario/internal/values.hpp"
#include "scenario/internal/word.hpp"

namespace tapharness::scenario {

std::optional<Send> parse_send(ValueReader& values, std::span<const Word> words);

// `expect ack [opaque=N] [opcode=X] [status=X|any] [within=DUR]`
std::optional<ExpectAck> parse_expect_ack(ValueReader& values, std::span<const Word> words);

// The two sides of TAP_CONNECT: what the server expects, and what the built-in client sends.
std::optional<ExpectConnect> parse_expect_connect(ValueReader& values, std::span<const Word> words);
std::optional<ClientArgs> parse_client_args(ValueReader& values, std::span<const Word> words);

// `expect sasl_list_mechs [mechs=TEXT]`, `expect sasl_auth [user=U] [password=P] [refuse]`
std::optional<ExpectSasl> parse_expect_sasl(ValueReader& values, std::span<const Word> words, ExpectSasl::What what);

// What the client must report.
std::optional<ClientEvent> parse_client_event(ValueReader& values, std::span<const Word> words);
std::optional<ClientEnd> parse_client_end(ValueReader& values, std::span<const Word> words);

}  // namespace tapharness::scenario
