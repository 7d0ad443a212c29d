// vkubelet-client-bench: how fast hostclient decodes watch streams and lists objects, each next to
// its limit measured in the same run (the JSON parser alone; the same bytes fetched without
// decoding). Prints one table.
//
//   vkubelet-client-bench [--objects N] [--events N] [--smoke]
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "hostclient/rest_client.h"
#include "hostclient/watch_decoder.h"
#include "tests/support/kubesim_instance.h"
#include "tests/support/sample_objects.h"

namespace vk::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Row {
  std::string what;
  double count = 0;
  double seconds = 0;
  double bytes = 0;
  std::string ratio;
};

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Best of `repeats` runs of fn, in seconds: the least disturbed run on a shared machine.
double BestOf(int repeats, const std::function<void()>& fn) {
  double best = 1e100;
  for (int i = 0; i < repeats; ++i) {
    const auto start = Clock::now();
    fn();
    best = std::min(best, SecondsSince(start));
  }
  return best;
}

std::string Ratio(double value, double limit) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", value / limit);
  return text;
}

void Print(const std::vector<Row>& rows) {
  std::printf("%-46s %10s %10s %12s %10s %8s\n", "measure", "count", "seconds", "per second",
              "MB/s", "ratio");
  for (const auto& row : rows) {
    std::printf("%-46s %10.0f %10.4f %12.0f %10.1f %8s\n", row.what.c_str(), row.count, row.seconds,
                row.count / row.seconds, row.bytes / row.seconds / 1e6, row.ratio.c_str());
  }
}

// Watch decoding alone: a body of `events` pod ADDED events fed in 64 KiB chunks, against
// boost::json::parse of the same events (the parser is the limit).
int DecodeRows(int events, int repeats, std::vector<Row>& rows) {
  std::string body;
  std::vector<std::string> lines;
  for (int i = 0; i < events; ++i) {
    boost::json::object event;
    event["type"] = "ADDED";
    event["object"] = testing::SamplePod("bench", "pod-" + std::to_string(i), "node-1");
    lines.push_back(boost::json::serialize(event) + "\n");
    body += lines.back();
  }
  size_t decoded = 0;
  const double decode_seconds = BestOf(repeats, [&] {
    hostclient::WatchDecoder decoder;
    std::vector<hostclient::WatchEvent> out;
    out.reserve(static_cast<size_t>(events));
    constexpr size_t kChunk = 64 * 1024;
    for (size_t offset = 0; offset < body.size(); offset += kChunk) {
      if (!decoder.Feed(std::string_view(body).substr(offset, kChunk), out)) std::abort();
    }
    decoded = out.size();
  });
  if (decoded != static_cast<size_t>(events)) {
    std::fprintf(stderr, "decoded %zu of %d events\n", decoded, events);
    return 1;
  }
  const double parse_seconds = BestOf(repeats, [&] {
    for (const auto& line : lines) {
      auto value = boost::json::parse(line);
      if (!value.is_object()) std::abort();
    }
  });
  rows.push_back({"boost::json::parse per event (limit)", double(events), parse_seconds,
                  double(body.size()), "1.00"});
  rows.push_back({"WatchDecoder, 64 KiB chunks", double(events), decode_seconds,
                  double(body.size()), Ratio(parse_seconds, decode_seconds)});
  return 0;
}

// Lists and watches against an in-process kubesim over TLS.
int KubesimRows(int objects, int repeats, std::vector<Row>& rows) {
  auto kubesim = testing::KubesimInstance::Start();
  if (!kubesim) {
    std::fprintf(stderr, "kubesim: %s\n", kubesim.error().ToString().c_str());
    return 1;
  }
  auto& server = (*kubesim)->server();
  const auto& pods = *server.catalog().Find("", "v1", "pods");
  for (int i = 0; i < objects; ++i) {
    auto created = server.storage().Create(
        pods, "default", testing::SamplePod("default", "pod-" + std::to_string(i), "node-1"),
        false);
    if (!created) {
      std::fprintf(stderr, "seed: %s\n", created.error().ToString().c_str());
      return 1;
    }
  }
  hostclient::RestClientOptions options;
  options.qps = 0;  // measure the client, not its limiter
  auto client = hostclient::RestClient::Create((*kubesim)->TokenConfig("bench"), options);
  if (!client) {
    std::fprintf(stderr, "client: %s\n", client.error().ToString().c_str());
    return 1;
  }
  const auto path = hostclient::resources::Pods().CollectionPath("default");

  size_t raw_bytes = 0;
  const double raw_seconds = BestOf(repeats, [&] {
    auto body = (*client)->RawGet(path);
    if (!body) std::abort();
    raw_bytes = body->size();
  });
  rows.push_back({"GET pod list, bytes only (limit)", double(objects), raw_seconds,
                  double(raw_bytes), "1.00"});

  auto list_rate = [&](int64_t limit) {
    return BestOf(repeats, [&] {
      hostclient::ListOptions list_options;
      list_options.limit = limit;
      auto list = (*client)->ListAll(hostclient::resources::Pods(), "default", list_options);
      if (!list || list->at("items").as_array().size() != static_cast<size_t>(objects)) {
        std::abort();
      }
    });
  };
  const double list_seconds = list_rate(0);
  rows.push_back({"List pods, one page", double(objects), list_seconds, double(raw_bytes),
                  Ratio(raw_seconds, list_seconds)});
  const double paged_seconds = list_rate(500);
  rows.push_back({"ListAll pods, pages of 500", double(objects), paged_seconds, double(raw_bytes),
                  Ratio(raw_seconds, paged_seconds)});

  const double watch_seconds = BestOf(repeats, [&] {
    hostclient::ListOptions watch_options;
    watch_options.resource_version = "0";  // the initial state as ADDED events
    auto watch = (*client)->Watch(hostclient::resources::Pods(), "default", watch_options);
    if (!watch) std::abort();
    for (int received = 0; received < objects;) {
      auto event = (*watch)->Next();
      if (!event || !event->has_value()) std::abort();
      if ((*event)->type == hostclient::WatchEvent::Type::kAdded) ++received;
    }
    (*watch)->Cancel();
  });
  rows.push_back({"Watch pods from kubesim (events)", double(objects), watch_seconds,
                  double(raw_bytes), Ratio(raw_seconds, watch_seconds)});
  return 0;
}

int Main(int argc, char** argv) {
  int objects = 5000;
  int events = 10000;
  int repeats = 5;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--smoke") == 0) {
      objects = 200;
      events = 500;
      repeats = 1;
    } else if (std::strcmp(argv[i], "--objects") == 0 && i + 1 < argc) {
      objects = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--events") == 0 && i + 1 < argc) {
      events = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--objects N] [--events N] [--smoke]\n", argv[0]);
      return 2;
    }
  }
  std::vector<Row> rows;
  if (DecodeRows(events, repeats, rows) != 0) return 1;
  if (KubesimRows(objects, repeats, rows) != 0) return 1;
  Print(rows);
  std::printf("ratio: the limit's time / this row's time (1.00 = as fast as the limit)\n");
  return 0;
}

}  // namespace
}  // namespace vk::bench

int main(int argc, char** argv) { return vk::bench::Main(argc, argv); }
