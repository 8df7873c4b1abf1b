// Mutation mode (--mutate SEED[:COUNT]): a scenario perturbed deterministically from a seed,
// for fuzzing any TAP client, external ones included. The same scenario and seed always
// give the same bytes, so the seed that broke a client replays it.
//
//   auto spec = parse_mutation("1000:50");      // seeds 1000..1049
//   Scenario mutated = mutate(scenario, 1003);
//
// A mutated scenario keeps the original's stream but lies about lengths, corrupts,
// truncates and splits some frames, and may reset the connection early. The server's
// expectations of the client no longer apply and are dropped; what is checked is the
// client's own invariant: after the server's FIN, the client must close too, within the
// scenario's timeout (a clean ending or an error, never a hang).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "scenario/scenario.hpp"

namespace tapharness::scenario {

struct MutationSpec {
  std::uint64_t seed = 0;
  std::uint64_t count = 1;  // seeds seed, seed+1, ..., seed+count-1
};

// "SEED" or "SEED:COUNT" (decimal or 0x hex; COUNT >= 1).
std::optional<MutationSpec> parse_mutation(std::string_view text);

Scenario mutate(const Scenario& scenario, std::uint64_t seed);

// One line per perturbation, for reports: "line 7: send mutation bodylen=0x1f4 (was 49)".
std::string describe_mutation(const Scenario& original, std::uint64_t seed);

}  // namespace tapharness::scenario
