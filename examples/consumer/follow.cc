// follow HOST PORT: prints each event the TAP feed delivers, then how it ended.
#include <cstdio>

#include <fmt/format.h>

#include "client/blocking_feed.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: follow HOST PORT\n");
    return 2;
  }
  tapharness::client::BlockingFeed feed(tapharness::client::FeedOptions{});
  feed.connect(argv[1], argv[2]);
  for (;;) {
    auto item = feed.next(std::chrono::seconds(30));
    if (!item) return 1;
    fmt::print("{}\n", *item);
    if (std::holds_alternative<tapharness::client::FeedEnd>(*item)) return 0;
  }
}
