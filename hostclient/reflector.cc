#include "hostclient/reflector.h"

#include <spdlog/spdlog.h>

#include <utility>
#include <vector>

#include "hostclient/base/thread_name.h"
#include "hostclient/status_error.h"

namespace vk::hostclient {
namespace {

// The list's items as shared objects. List items come without kind and apiVersion (the list
// carries them); they are filled in so that cached objects look the same whether they came from
// a list or a watch event.
Result<std::vector<ObjectPtr>> TakeItems(Object& list, const std::string& name) {
  std::vector<ObjectPtr> out;
  auto* items = list.if_contains("items");
  if (items == nullptr || items->is_null()) return out;
  if (!items->is_array()) return MakeError(ErrorCode::kDecode, "list items is not an array");
  std::string kind(obj::Kind(list));
  if (kind.size() > 4 && kind.ends_with("List")) {
    kind.resize(kind.size() - 4);
  } else {
    kind.clear();
  }
  std::string api_version(obj::ApiVersion(list));
  out.reserve(items->get_array().size());
  for (auto& item : items->get_array()) {
    if (!item.is_object()) return MakeError(ErrorCode::kDecode, "list item is not an object");
    Object o = std::move(item.get_object());
    if (obj::Name(o).empty()) {
      spdlog::warn("{}: skipping a listed object without metadata.name", name);
      continue;
    }
    if (!kind.empty() && !o.contains("kind")) o["kind"] = kind;
    if (!api_version.empty() && !o.contains("apiVersion")) o["apiVersion"] = api_version;
    out.push_back(std::make_shared<const Object>(std::move(o)));
  }
  return out;
}

}  // namespace

Reflector::Reflector(ListerWatcher& lister_watcher, Store& store, ReflectorOptions options)
    : lister_watcher_(lister_watcher),
      store_(store),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : Clock::Real()),
      own_sleeper_(options_.sleeper != nullptr ? nullptr : std::make_unique<RealSleeper>()),
      sleeper_(options_.sleeper != nullptr ? *options_.sleeper : *own_sleeper_),
      backoff_(options_.backoff_base, options_.backoff_max, Backoff::Jitter::kDecorrelated,
               options_.random) {
  if (!options_.random) engine_.seed(std::random_device{}());
}

Reflector::~Reflector() { Stop(); }

void Reflector::Start() {
  std::lock_guard lock(mutex_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] {
    SetCurrentThreadName("w:" + options_.name);
    Run();
  });
}

void Reflector::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    if (current_watch_ != nullptr) current_watch_->Cancel();
  }
  sleeper_.Shutdown();
  if (thread_.joinable()) thread_.join();
}

bool Reflector::Stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

std::string Reflector::LastSyncResourceVersion() const {
  std::lock_guard lock(mutex_);
  return last_rv_;
}

void Reflector::SetLastResourceVersion(std::string_view rv) {
  if (rv.empty()) return;
  std::lock_guard lock(mutex_);
  last_rv_.assign(rv);
}

std::chrono::seconds Reflector::RandomWatchTimeout() {
  const auto min = options_.min_watch_timeout.count();
  const auto max = options_.max_watch_timeout.count();
  if (max <= min) return options_.min_watch_timeout;
  double r = options_.random ? options_.random()
                             : std::uniform_real_distribution<double>(0.0, 1.0)(engine_);
  auto offset = static_cast<int64_t>(r * static_cast<double>(max - min));
  if (offset < 0) offset = 0;
  if (offset >= max - min) offset = max - min - 1;
  return std::chrono::seconds(min + offset);
}

bool Reflector::BackoffWait() {
  const auto now = clock_.Now();
  if (last_failure_ && now - *last_failure_ >= options_.backoff_reset) backoff_.Reset();
  last_failure_ = now;
  const auto delay = backoff_.Next();
  spdlog::debug("{}: retrying in {} ms", options_.name,
                std::chrono::duration_cast<std::chrono::milliseconds>(delay).count());
  if (Stopping()) return false;
  return sleeper_.SleepFor(delay) && !Stopping();
}

void Reflector::Run() {
  bool need_list = true;
  bool just_listed = false;
  while (!Stopping()) {
    if (need_list) {
      auto listed = ListAndReplace();
      if (!listed) {
        spdlog::warn("{}: list failed: {}", options_.name, listed.error().ToString());
        if (!BackoffWait()) return;
        continue;
      }
      need_list = false;
      just_listed = true;
    }
    const auto outcome = WatchOnce(just_listed);
    just_listed = false;
    switch (outcome) {
      case WatchOutcome::kRewatch:
        break;
      case WatchOutcome::kRelist:
        need_list = true;
        break;
      case WatchOutcome::kBackoff:
        if (!BackoffWait()) return;
        break;
      case WatchOutcome::kBackoffThenRelist:
        if (!BackoffWait()) return;
        need_list = true;
        break;
      case WatchOutcome::kStopped:
        return;
    }
  }
}

Status Reflector::ListAndReplace() {
  ListOptions options;
  options.limit = options_.page_size;
  // Each page is reduced to text as it arrives: a list of 10,000 pods is never parsed whole.
  std::vector<Store::Listed> listed;
  std::string rv;
  auto paged = lister_watcher_.ListPages(options, [&](Object& page, bool first) -> Status {
    if (first) {
      listed.clear();
      rv = std::string(obj::String(page, {"metadata", "resourceVersion"}));
    }
    auto items = TakeItems(page, options_.name);
    if (!items) return tl::unexpected(std::move(items.error()));
    for (ObjectPtr& item : *items) {
      if (options_.transform) item = options_.transform(std::move(item));
      listed.push_back(store_.Prepare(*item));
    }
    return Ok();
  });
  if (!paged) return paged;
  const size_t count = listed.size();
  // Recorded first, so that whoever the store's change hook wakes sees the version it reflects.
  SetLastResourceVersion(rv);
  auto changes = store_.ReplaceListed(std::move(listed), rv);
  if (synced_.exchange(true, std::memory_order_acq_rel)) {
    spdlog::info("{}: relisted {} objects at resourceVersion {} ({} changes)", options_.name, count,
                 rv, changes.size());
  } else {
    spdlog::debug("{}: listed {} objects at resourceVersion {}", options_.name, count, rv);
  }
  return Ok();
}

Reflector::WatchOutcome Reflector::WatchOnce(bool just_listed) {
  ListOptions options;
  options.resource_version = LastSyncResourceVersion();
  options.allow_watch_bookmarks = true;
  options.timeout_seconds = RandomWatchTimeout().count();
  auto opened = lister_watcher_.Watch(options);
  if (!opened) {
    if (Stopping()) return WatchOutcome::kStopped;
    if (opened.error().IsGone()) {
      spdlog::info("{}: resourceVersion {} expired, relisting", options_.name,
                   options.resource_version);
      // A server that answers 410 even to the resourceVersion it just listed at must not turn
      // into a list storm.
      return just_listed ? WatchOutcome::kBackoffThenRelist : WatchOutcome::kRelist;
    }
    spdlog::warn("{}: watch failed: {}", options_.name, opened.error().ToString());
    return WatchOutcome::kBackoff;
  }
  WatchStreamPtr stream = std::move(*opened);
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return WatchOutcome::kStopped;
    current_watch_ = stream.get();
  }
  struct Unregister {
    Reflector* self;
    ~Unregister() {
      std::lock_guard lock(self->mutex_);
      self->current_watch_ = nullptr;
    }
  } unregister{this};

  const auto started = clock_.Now();
  size_t events = 0;
  while (true) {
    auto next = stream->Next();
    if (!next) {
      if (Stopping()) return WatchOutcome::kStopped;
      if (next.error().IsGone()) {
        spdlog::info("{}: watch expired ({}), relisting", options_.name, next.error().message());
        return WatchOutcome::kRelist;
      }
      spdlog::warn("{}: watch broke after {} events: {}", options_.name, events,
                   next.error().ToString());
      return WatchOutcome::kBackoff;
    }
    if (!next->has_value()) {
      if (events == 0 && clock_.Now() - started < options_.min_watch_duration) {
        spdlog::warn("{}: watch ended at once without events", options_.name);
        return WatchOutcome::kBackoff;
      }
      return WatchOutcome::kRewatch;
    }
    WatchEvent& event = **next;
    ++events;
    if (event.object == nullptr) {
      spdlog::warn("{}: {} event without an object", options_.name, ToString(event.type));
      continue;
    }
    if (options_.transform &&
        (event.type == WatchEvent::Type::kAdded || event.type == WatchEvent::Type::kModified ||
         event.type == WatchEvent::Type::kDeleted)) {
      event.object = options_.transform(std::move(event.object));
    }
    switch (event.type) {
      case WatchEvent::Type::kAdded:
      case WatchEvent::Type::kModified:
        if (obj::Name(*event.object).empty()) {
          spdlog::warn("{}: {} event for an object without a name", options_.name,
                       ToString(event.type));
          break;
        }
        SetLastResourceVersion(obj::ResourceVersion(*event.object));
        store_.Update(event.object);
        break;
      case WatchEvent::Type::kDeleted:
        if (obj::Name(*event.object).empty()) break;
        SetLastResourceVersion(obj::ResourceVersion(*event.object));
        store_.Delete(event.object);
        break;
      case WatchEvent::Type::kBookmark:
        SetLastResourceVersion(obj::ResourceVersion(*event.object));
        break;
      case WatchEvent::Type::kError: {
        Error error = ErrorFromStatus(*event.object, 0);
        if (error.IsGone()) {
          spdlog::info("{}: watch expired ({}), relisting", options_.name, error.message());
          return WatchOutcome::kRelist;
        }
        spdlog::warn("{}: watch error event: {}", options_.name, error.ToString());
        return WatchOutcome::kBackoff;
      }
    }
  }
}

}  // namespace vk::hostclient
