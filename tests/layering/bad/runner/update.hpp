#pragma once
#include "record/recorder.hpp"
