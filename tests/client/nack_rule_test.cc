// NACK rules: the KEY[:N] words tap_tail --nack takes, and the ack_status they make.
#include "client/nack_rule.hpp"

#include <thread>

#include <gtest/gtest.h>

#include "testing/printers.hpp"

namespace tapharness::client {
namespace {

using protocol::Status;
using Word = std::pair<std::string, std::uint32_t>;

std::string error_of(std::string_view word) {
  auto parsed = parse_nack_word(word);
  return parsed ? "accepted" : parsed.error().message();
}

TEST(NackWord, KeyAndCount) {
  EXPECT_EQ(parse_nack_word("k1").value(), (Word{"k1", 1})) << "N defaults to 1";
  EXPECT_EQ(parse_nack_word("k1:2").value(), (Word{"k1", 2}));
  EXPECT_EQ(parse_nack_word("user:7:1").value(), (Word{"user:7", 1})) << "the last colon splits off N";
  EXPECT_EQ(parse_nack_word("k:4294967295").value(), (Word{"k", 4294967295u}));
}

TEST(NackWord, ErrorsNameWhatIsWrong) {
  EXPECT_EQ(error_of(""), "'': has no key (KEY[:N])");
  EXPECT_EQ(error_of(":3"), "':3': has no key (KEY[:N])");
  EXPECT_EQ(error_of("k:"), "'k:': N '' is not a whole number from 1 to 4294967295 (KEY[:N])");
  EXPECT_EQ(error_of("k:0"), "'k:0': N '0' is not a whole number from 1 to 4294967295 (KEY[:N])");
  EXPECT_EQ(error_of("user:abc"), "'user:abc': N 'abc' is not a whole number from 1 to 4294967295 (KEY[:N])");
  EXPECT_EQ(error_of("k:-1"), "'k:-1': N '-1' is not a whole number from 1 to 4294967295 (KEY[:N])");
  EXPECT_EQ(error_of("k:4294967296"),
            "'k:4294967296': N '4294967296' is not a whole number from 1 to 4294967295 (KEY[:N])");
  EXPECT_EQ(error_of("k:2x"), "'k:2x': N '2x' is not a whole number from 1 to 4294967295 (KEY[:N])");
}

protocol::TapEventView event(std::string_view key) {
  return protocol::TapEventView{.kind = protocol::TapEventKind::mutation, .key = key};
}

TEST(NackRule, TheFirstNRequestsOfAKeyGetTheStatusThenSuccess) {
  auto status = make_ack_status(NackRule{{{"a", 2}, {"b", 1}}, Status::etmpfail});
  EXPECT_EQ(status(event("a")), Status::etmpfail);
  EXPECT_EQ(status(event("other")), Status::success);
  EXPECT_EQ(status(event("b")), Status::etmpfail);
  EXPECT_EQ(status(event("a")), Status::etmpfail);
  EXPECT_EQ(status(event("a")), Status::success) << "the retransmit after two NACKs is taken";
  EXPECT_EQ(status(event("b")), Status::success);
  EXPECT_EQ(status(event("")), Status::success);
  EXPECT_EQ(status(event("ab")), Status::success) << "whole keys only";
}

TEST(NackRule, TheStatusIsTheRulesAndKeysAreBytes) {
  using namespace std::string_view_literals;
  auto status = make_ack_status(NackRule{{{std::string("k\0x", 3), 1}}, Status::ebusy});
  EXPECT_EQ(status(event("k"sv)), Status::success);
  EXPECT_EQ(status(event("k\0x"sv)), Status::ebusy);
}

TEST(NackRule, CopiesShareTheCountersAndANewRuleStartsAfresh) {
  const NackRule rule{{{"k", 1}, {"k", 1}}};  // listed twice: two NACKs
  auto first = make_ack_status(rule);
  auto copy = first;
  EXPECT_EQ(first(event("k")), Status::etmpfail);
  EXPECT_EQ(copy(event("k")), Status::etmpfail);
  EXPECT_EQ(first(event("k")), Status::success) << "the copy used the second NACK";
  auto fresh = make_ack_status(rule);
  EXPECT_EQ(fresh(event("k")), Status::etmpfail);
}

TEST(NackRule, CopiesOnThreadsCountEachRequestOnce) {
  auto status = make_ack_status(NackRule{{{"k", 1000}}});
  std::atomic<int> nacks{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([copy = status, &nacks]() mutable {
      for (int i = 0; i < 500; ++i) nacks += copy(event("k")) == Status::etmpfail;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(nacks.load(), 1000);
}

}  // namespace
}  // namespace tapharness::client
