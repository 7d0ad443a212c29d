#pragma once

#include <string>

#include "hostclient/rest_client.h"
#include "hostclient/transport.h"

namespace vk::hostclient {

// A WatchStream over the body of a successful watch response: reads chunks from the ByteStream,
// decodes them with a WatchDecoder and hands out events one at a time, in order.
//
// Next returns the events decoded before a failure first, then the failure, then the same failure
// on every later call. Errors carry `context` ("watch pods in default"). The end of the body is
// the normal end of the watch (nullopt), unless it cuts an event short (kNetwork). After Cancel,
// Next returns kCancelled. Next is called by one thread at a time; Cancel by any.
WatchStreamPtr NewRestWatchStream(ByteStreamPtr body, std::string context);

}  // namespace vk::hostclient
