#include "client/feed_end.hpp"
#include "mockserver/engine.hpp"
