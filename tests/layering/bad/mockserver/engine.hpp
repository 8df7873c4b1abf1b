#include "scenario/scenario.hpp"
#include "client/tap_feed.hpp"
