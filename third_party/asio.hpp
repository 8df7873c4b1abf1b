// Boost.Asio as Debian 12 ships it (Boost 1.74, Asio 1.18), for every Asio user in the
// project, with two workarounds. Boost 1.74's awaitable.hpp uses std::exchange without
// including <utility>, so <utility> must come first.
#pragma once

#include <utility>

// Boost 1.74 turns co_await support on for clang only with the Coroutines TS
// (<experimental/coroutine>, which libstdc++ lacks); clang 14 (--config=fuzz) has C++20
// coroutines and libstdc++'s <coroutine>, which Boost already selects for any __GNUC__.
#if defined(__clang__) && defined(__cpp_impl_coroutine) && !defined(BOOST_ASIO_HAS_CO_AWAIT)
#define BOOST_ASIO_HAS_CO_AWAIT 1
#endif

#include <boost/asio.hpp>

namespace tapharness {
namespace asio = boost::asio;
}  // namespace tapharness
