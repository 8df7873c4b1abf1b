// A capture reader that reads its own file and knows the server: both wrong.
#include <fstream>
#include "mockserver/trace.hpp"
#include <vector>
