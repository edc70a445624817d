// Umbrella header of the sipparse library.
#pragma once

#include "sipfront/sipparse/builder.hpp"
#include "sipfront/sipparse/cursor.hpp"
#include "sipfront/sipparse/error.hpp"
#include "sipfront/sipparse/message.hpp"
#include "sipfront/sipparse/names.hpp"
#include "sipfront/sipparse/scan.hpp"
#include "sipfront/sipparse/uri.hpp"
#include "sipfront/sipparse/validate.hpp"
#include "sipfront/sipparse/values.hpp"
