#include "hostclient/lister_watcher.h"

#include <utility>

namespace vk::hostclient {

RestListerWatcher::RestListerWatcher(RestClient& client, GroupVersionResource resource,
                                     std::string ns, std::string label_selector,
                                     std::string field_selector)
    : client_(client),
      resource_(std::move(resource)),
      namespace_(std::move(ns)),
      label_selector_(std::move(label_selector)),
      field_selector_(std::move(field_selector)) {}

ListOptions RestListerWatcher::WithSelectors(const ListOptions& options) const {
  ListOptions out = options;
  out.label_selector = label_selector_;
  out.field_selector = field_selector_;
  return out;
}

Status ListerWatcher::ListPages(const ListOptions& options,
                                const RestClient::PageHandler& on_page) {
  auto list = List(options);
  if (!list) return tl::unexpected(std::move(list.error()));
  return on_page(*list, true);
}

ListOptions RestListerWatcher::PagedWithSelectors(const ListOptions& options) const {
  ListOptions out = WithSelectors(options);
  if (out.limit <= 0) out.limit = kDefaultPageSize;
  return out;
}

Result<Object> RestListerWatcher::List(const ListOptions& options) {
  return client_.ListAll(resource_, namespace_, PagedWithSelectors(options));
}

Status RestListerWatcher::ListPages(const ListOptions& options,
                                    const RestClient::PageHandler& on_page) {
  return client_.ListPages(resource_, namespace_, PagedWithSelectors(options), on_page);
}

Result<WatchStreamPtr> RestListerWatcher::Watch(const ListOptions& options) {
  return client_.Watch(resource_, namespace_, WithSelectors(options));
}

}  // namespace vk::hostclient
