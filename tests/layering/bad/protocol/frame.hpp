// A protocol header that does I/O: the layering check must refuse it.
#include <vector>
#include <fmt/format.h>
#include "protocol/bytes.hpp"
#include "third_party/asio.hpp"
#include <boost/asio.hpp>
