// Counts the sends carrying `ack` that no `expect ack` has claimed yet, while parsing, so that
// an `expect ack` without opaque= that could never be matched is an error at its line
// (scenarios/README.md: it "stands for the oldest send carrying ack that no expect ack has
// claimed yet"). Inside a repeat the claims are counted per iteration.
//
//   AckLedger ledger;
//   ledger.add_send();          // send ... ack
//   ledger.claim(where);        // expect ack: true, the send is claimed
//   ledger.claim(where);        // false: nothing is left to claim
//
//   ledger.begin_repeat();      // repeat 3 { expect ack }  after one `send ... ack`
//   ledger.claim(where);        // true in iteration 0
//   ledger.end_repeat(3);       // Shortfall{where, 1}: iteration 1 finds nothing to claim
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "scenario/scenario.hpp"

namespace tapharness::scenario {

class AckLedger {
 public:
  void add_send();
  bool claim(const SourceLocation& where);

  // Repeats do not nest, so one level is all there is.
  void begin_repeat();
  struct Shortfall {
    SourceLocation location;  // the claim that finds nothing to claim...
    std::uint64_t iteration;  // ...first, in this iteration (from 0)
  };
  std::optional<Shortfall> end_repeat(std::uint64_t count);

 private:
  struct Claim {
    std::uint64_t left;  // unclaimed sends right after it, in the first iteration
    SourceLocation location;
  };

  std::uint64_t unclaimed_ = 0;  // saturates at kSaturated instead of overflowing
  std::optional<std::uint64_t> repeat_start_;
  std::vector<Claim> repeat_claims_;
};

}  // namespace tapharness::scenario
