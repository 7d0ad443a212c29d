#include "tests/kubesim/storage_feed.h"

#include <spdlog/spdlog.h>

namespace vk::kubesim {

StorageFeed::StorageFeed(Storage& storage, const ResourceInfo& resource, std::function<void()> wake)
    : storage_(storage), resource_(resource), wake_(std::move(wake)) {}

StorageFeed::~StorageFeed() { Close(); }

Status StorageFeed::Open() {
  Close();
  ListQuery query;
  query.resource_version = last_rv_;
  auto watcher = storage_.Watch(resource_, query);
  if (!watcher && watcher.error().code() == ErrorCode::kGone) {
    // Events were missed: start over from the current state.
    query.resource_version.clear();
    watcher = storage_.Watch(resource_, query);
  }
  if (!watcher) return tl::unexpected(watcher.error());
  watcher_ = std::move(*watcher);
  watcher_->SetNotify(wake_);
  return Ok();
}

bool StorageFeed::Drain(const std::function<void(const WatchEventRecord&)>& handle) {
  if (!watcher_) return false;
  batch_.clear();
  const bool open = watcher_->Drain(batch_);
  for (const auto& event : batch_) {
    if (!event.object || event.type == "BOOKMARK" || event.type == "ERROR") continue;
    if (auto rv = obj::ResourceVersion(*event.object); !rv.empty()) last_rv_ = std::string(rv);
    handle(event);
  }
  batch_.clear();
  if (open) return true;
  if (auto s = Open(); !s) {
    spdlog::warn("kubesim: cannot watch {}: {}", resource_.QualifiedResource(),
                 s.error().ToString());
    return false;
  }
  return true;
}

void StorageFeed::Close() {
  if (!watcher_) return;
  watcher_->SetNotify(nullptr);
  watcher_->Close();
  watcher_.reset();
}

}  // namespace vk::kubesim
