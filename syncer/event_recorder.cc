#include "syncer/event_recorder.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <functional>

#include "hostclient/base/rfc3339.h"
#include "hostclient/base/thread_name.h"
#include "hostclient/rest_client.h"

namespace vk::syncer {
namespace {

using hostclient::resources::Events;

// kube-apiserver accepts longer messages on core/v1 Events, but events.k8s.io cuts at 1 KiB and
// so does client-go's recorder: a longer message is a log, not an event.
constexpr std::size_t kMaxMessageBytes = 1024;
// Longest object name; the event name adds "." and 16 hex digits to the object's.
constexpr std::size_t kMaxNameLength = 253;
constexpr std::size_t kNameSuffixLength = 17;
// The longest wait between two attempts at one write, whatever the server asks for.
constexpr auto kMaxRetryWait = std::chrono::seconds(10);

// Cuts at a UTF-8 character boundary, so that the API server gets valid UTF-8.
void TruncateUtf8(std::string& s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return;
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
}

Object ReferenceTo(const Object& involved) {
  Object ref;
  auto copy = [&](std::string_view field, std::string_view value) {
    if (!value.empty()) ref[field] = value;
  };
  copy("apiVersion", obj::ApiVersion(involved));
  copy("kind", obj::Kind(involved));
  copy("namespace", obj::Namespace(involved));
  copy("name", obj::Name(involved));
  copy("uid", obj::Uid(involved));
  copy("resourceVersion", obj::ResourceVersion(involved));
  return ref;
}

bool Retryable(const Error& error) {
  const RetryAction action = error.retry_action();
  return action == RetryAction::kBackoff || action == RetryAction::kAfterDelay;
}

}  // namespace

struct EventRecorder::Metrics {
  prometheus::Family<prometheus::Counter>* recorded = nullptr;
  prometheus::Family<prometheus::Counter>* dropped = nullptr;
};

EventRecorder::EventRecorder(hostclient::RestClient& client, EventSource source,
                             prometheus::Registry* metrics, Clock& clock,
                             EventRecorderOptions options)
    : client_(client), source_(std::move(source)), clock_(clock), options_(options) {
  if (metrics != nullptr) {
    try {
      auto m = std::make_unique<Metrics>();
      m->recorded = &prometheus::BuildCounter()
                         .Name("vkubelet_events_recorded_total")
                         .Help("Events written (created, or repeats counted on one), by type.")
                         .Register(*metrics);
      m->dropped = &prometheus::BuildCounter()
                        .Name("vkubelet_events_dropped_total")
                        .Help(
                            "Events not written, by reason: queue_full, shutdown, "
                            "invalid_type, write_error.")
                        .Register(*metrics);
      metrics_ = std::move(m);
    } catch (const std::exception& e) {
      spdlog::error("event recorder: metrics disabled: {}", e.what());
    }
  }
  worker_ = std::thread([this] {
    SetCurrentThreadName("event-recorder");
    Loop();
  });
}

EventRecorder::~EventRecorder() { Shutdown(); }

void EventRecorder::Record(const Object& involved, std::string_view type, std::string_view reason,
                           std::string message) {
  if (type != "Normal" && type != "Warning") {
    spdlog::error("event recorder: unsupported event type \"{}\" for {} {}; dropped", type,
                  obj::Kind(involved), obj::Key(involved));
    Drop("invalid_type");
    return;
  }
  TruncateUtf8(message, kMaxMessageBytes);

  Pending event;
  event.involved = ReferenceTo(involved);
  event.type = type;
  event.reason = reason;
  event.message = std::move(message);
  event.wall_time = std::chrono::system_clock::now();
  event.seen = clock_.Now();
  // The object's uid tells incarnations apart; without one (a caller's hand-made reference) its
  // kind and key stand in for it. \x1f cannot occur in any of the parts.
  std::string identity(obj::Uid(involved));
  if (identity.empty()) {
    identity = std::string(obj::Kind(involved)) + "/" + obj::Key(involved);
  }
  event.aggregation_key =
      identity + '\x1f' + event.type + '\x1f' + event.reason + '\x1f' + event.message;

  {
    std::lock_guard lock(mutex_);
    if (shutting_down_) {
      Drop("shutdown");
      return;
    }
    if (queue_.size() >= options_.queue_capacity) {
      // Once per overflow, not once per event: a flood of events must not become a flood of logs.
      if (!overflowing_) {
        spdlog::warn(
            "event recorder: queue full ({} events); dropping events until it drains "
            "(first: {} {} for {})",
            queue_.size(), event.type, event.reason, obj::Key(involved));
      }
      overflowing_ = true;
      Drop("queue_full");
      return;
    }
    overflowing_ = false;
    queue_.push_back(std::move(event));
  }
  wake_.notify_all();
}

void EventRecorder::Shutdown() {
  {
    std::lock_guard lock(mutex_);
    if (!shutting_down_) {
      shutting_down_ = true;
      deadline_ = std::chrono::steady_clock::now() + options_.shutdown_timeout;
    }
  }
  wake_.notify_all();
  std::lock_guard join_lock(join_mutex_);
  if (worker_.joinable()) worker_.join();
}

void EventRecorder::Loop() {
  for (;;) {
    Pending event;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return !queue_.empty() || shutting_down_; });
      if (queue_.empty()) return;
      if (shutting_down_ && std::chrono::steady_clock::now() >= deadline_) {
        spdlog::warn("event recorder: shutdown deadline passed; dropped {} queued events",
                     queue_.size());
        Drop("shutdown", queue_.size());
        queue_.clear();
        return;
      }
      event = std::move(queue_.front());
      queue_.pop_front();
    }
    Write(event);
  }
}

void EventRecorder::Write(const Pending& event) {
  auto it = aggregates_.find(event.aggregation_key);
  Aggregate* aggregate = nullptr;
  if (it != aggregates_.end() && event.seen - it->second.last_seen <= options_.aggregation_window) {
    aggregate = &it->second;
  }
  if (auto written = WriteWithRetries(event, aggregate); !written) {
    spdlog::warn(
        "event recorder: {} {} for {} {} lost: {}", event.type, event.reason,
        obj::String(event.involved, {"kind"}),
        obj::Key(obj::String(event.involved, {"namespace"}), obj::String(event.involved, {"name"})),
        written.error().ToString());
    Drop("write_error");
    return;
  }
  if (metrics_) metrics_->recorded->Add({{"type", event.type}}).Increment();
}

Status EventRecorder::WriteWithRetries(const Pending& event, Aggregate* aggregate) {
  const std::string timestamp = FormatRfc3339(event.wall_time);
  std::function<Result<Object>()> attempt;
  if (aggregate != nullptr) {
    // Only what changes: a merge patch cannot lose a concurrent writer's fields.
    const std::string patch = "{\"count\":" + std::to_string(aggregate->count + 1) +
                              ",\"lastTimestamp\":\"" + timestamp + "\"}";
    attempt = [this, aggregate, patch, &event]() -> Result<Object> {
      auto patched = client_.Patch(Events(), aggregate->ns, aggregate->name,
                                   hostclient::PatchType::kMergePatch, patch);
      // The first Event is gone (its TTL ran out, or someone deleted it): start a new one.
      if (!patched && patched.error().IsNotFound()) return CreateEvent(event);
      return patched;
    };
  } else {
    attempt = [this, &event] { return CreateEvent(event); };
  }

  std::chrono::steady_clock::duration delay = options_.retry_base;
  for (int tries = 1;; ++tries) {
    auto written = attempt();
    if (written) {
      Remember(event, *written);
      return Ok();
    }
    if (tries >= options_.max_attempts || !Retryable(written.error())) {
      return tl::unexpected(std::move(written.error()));
    }
    // A long Retry-After would stall every event behind this one: events are worth less.
    const std::chrono::steady_clock::duration wait = std::min<std::chrono::steady_clock::duration>(
        written.error().retry_after().value_or(
            std::chrono::duration_cast<std::chrono::milliseconds>(delay)),
        kMaxRetryWait);
    if (!SleepUnlessDeadline(wait)) return tl::unexpected(std::move(written.error()));
    delay *= 2;
  }
}

Result<Object> EventRecorder::CreateEvent(const Pending& event) {
  const std::string timestamp = FormatRfc3339(event.wall_time);
  // client-go names events "<object>.<UnixNano in hex>"; the sequence number keeps two events of
  // the same nanosecond apart.
  const auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(event.wall_time.time_since_epoch())
          .count();
  char suffix[kNameSuffixLength + 1];
  std::snprintf(suffix, sizeof(suffix), ".%016" PRIx64, static_cast<uint64_t>(nanos) + sequence_++);
  std::string name(
      obj::String(event.involved, {"name"}).substr(0, kMaxNameLength - kNameSuffixLength));
  name += suffix;
  std::string ns(obj::String(event.involved, {"namespace"}));
  if (ns.empty()) ns = "default";

  Object source{{"component", source_.component}};
  if (!source_.host.empty()) source["host"] = source_.host;
  Object body{{"apiVersion", "v1"},
              {"kind", "Event"},
              {"metadata", Object{{"name", name}, {"namespace", ns}}},
              {"involvedObject", event.involved},
              {"reason", event.reason},
              {"message", event.message},
              {"type", event.type},
              {"source", std::move(source)},
              {"reportingComponent", source_.component},
              {"reportingInstance", source_.instance.empty() ? source_.host : source_.instance},
              {"firstTimestamp", timestamp},
              {"lastTimestamp", timestamp},
              {"count", 1},
              {"eventTime", nullptr}};
  return client_.Create(Events(), ns, body);
}

void EventRecorder::Remember(const Pending& event, const Object& written) {
  auto [it, inserted] = aggregates_.try_emplace(event.aggregation_key);
  Aggregate& aggregate = it->second;
  if (inserted) {
    lru_.push_front(event.aggregation_key);
  } else {
    lru_.splice(lru_.begin(), lru_, aggregate.lru_position);
  }
  aggregate.lru_position = lru_.begin();
  aggregate.ns = obj::Namespace(written);
  aggregate.name = obj::Name(written);
  aggregate.count = obj::Int(written, {"count"}, 1);
  aggregate.last_seen = event.seen;
  while (aggregates_.size() > options_.aggregation_cache_size) {
    aggregates_.erase(lru_.back());
    lru_.pop_back();
  }
}

bool EventRecorder::SleepUnlessDeadline(std::chrono::steady_clock::duration d) {
  const auto until = std::chrono::steady_clock::now() + d;
  std::unique_lock lock(mutex_);
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (shutting_down_ && now >= deadline_) return false;
    if (now >= until) return true;
    wake_.wait_until(lock, std::min(until, deadline_));
  }
}

void EventRecorder::Drop(std::string_view reason, std::size_t n) {
  if (metrics_ && n > 0) {
    metrics_->dropped->Add({{"reason", std::string(reason)}}).Increment(static_cast<double>(n));
  }
}

}  // namespace vk::syncer
