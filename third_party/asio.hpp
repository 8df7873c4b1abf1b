// Boost.Asio as Debian 12 ships it (Boost 1.74, Asio 1.18), for every Asio user in the
// project. Boost 1.74's awaitable.hpp uses std::exchange without including <utility>,
// so <utility> must come first.
#pragma once

#include <utility>

#include <boost/asio.hpp>

namespace tapharness {
namespace asio = boost::asio;
}  // namespace tapharness
