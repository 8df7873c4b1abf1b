#include "scenario/parser.hpp"
#include "third_party/asio.hpp"
