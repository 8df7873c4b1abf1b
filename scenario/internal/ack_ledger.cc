#include "scenario/internal/ack_ledger.hpp"

#include <algorithm>

namespace tapharness::scenario {
namespace {

// Far above any real count (repeats are at most 1e8 iterations), and twice it still fits.
constexpr std::uint64_t kSaturated = std::uint64_t{1} << 62;

}  // namespace

void AckLedger::add_send() { unclaimed_ = std::min(unclaimed_ + 1, kSaturated); }

bool AckLedger::claim(const SourceLocation& where) {
  if (unclaimed_ == 0) return false;
  --unclaimed_;
  if (repeat_start_) repeat_claims_.push_back({unclaimed_, where});
  return true;
}

void AckLedger::begin_repeat() {
  repeat_start_ = unclaimed_;
  repeat_claims_.clear();
}

std::optional<AckLedger::Shortfall> AckLedger::end_repeat(std::uint64_t count) {
  const std::uint64_t start = *repeat_start_;
  repeat_start_.reset();
  const std::uint64_t more_iterations = count - 1;  // the first one has been counted
  if (unclaimed_ >= start) {
    const std::uint64_t growth = unclaimed_ - start;
    if (growth > 0) {
      unclaimed_ = more_iterations > (kSaturated - unclaimed_) / growth
                       ? kSaturated
                       : unclaimed_ + more_iterations * growth;
    }
    return std::nullopt;
  }
  // Each iteration leaves `shrink` fewer sends to claim, so every claim finds `shrink` fewer
  // in each later iteration: the first to find none is the one with the fewest left.
  const std::uint64_t shrink = start - unclaimed_;
  std::uint64_t fewest = kSaturated;
  for (const Claim& c : repeat_claims_) fewest = std::min(fewest, c.left);
  const std::uint64_t short_iteration = fewest / shrink + 1;
  if (short_iteration < count) {
    for (const Claim& c : repeat_claims_) {
      if (c.left < short_iteration * shrink) return Shortfall{c.location, short_iteration};
    }
  }
  unclaimed_ -= more_iterations * shrink;
  return std::nullopt;
}

}  // namespace tapharness::scenario
