#pragma once
/// \file
/// chatroute: routes live customer chats to human agents. One include for all of it.

#include <chatroute/clock.hpp>
#include <chatroute/config.hpp>
#include <chatroute/engine.hpp>
#include <chatroute/error.hpp>
#include <chatroute/events.hpp>
#include <chatroute/format.hpp>
#include <chatroute/ids.hpp>
#include <chatroute/lifecycle.hpp>
#include <chatroute/routing_policy.hpp>
#include <chatroute/snapshot.hpp>
