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

Result<Object> RestListerWatcher::List(const ListOptions& options) {
  ListOptions list_options = WithSelectors(options);
  if (list_options.limit <= 0) list_options.limit = kDefaultPageSize;
  return client_.ListAll(resource_, namespace_, std::move(list_options));
}

Result<WatchStreamPtr> RestListerWatcher::Watch(const ListOptions& options) {
  return client_.Watch(resource_, namespace_, WithSelectors(options));
}

}  // namespace vk::hostclient
