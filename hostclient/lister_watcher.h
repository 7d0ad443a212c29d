#pragma once

#include <memory>
#include <string>

#include "hostclient/base/error.h"
#include "hostclient/base/object.h"
#include "hostclient/resource.h"
#include "hostclient/rest_client.h"

namespace vk::hostclient {

// The two calls a Reflector needs from an API server: list a collection (all pages, one list
// object with items and metadata.resourceVersion) and watch it from a resourceVersion. The seam
// between the cache machinery and the REST client, so that tests can script both. Implementations
// must be safe to call from the reflector's thread while another thread cancels a WatchStream.
class ListerWatcher {
 public:
  virtual ~ListerWatcher() = default;
  virtual Result<Object> List(const ListOptions& options) = 0;
  virtual Result<WatchStreamPtr> Watch(const ListOptions& options) = 0;
  // The list page by page (see RestClient::ListPages), so that a large collection need not be
  // held whole. By default the whole List() is one page.
  virtual Status ListPages(const ListOptions& options, const RestClient::PageHandler& on_page);
};

using ListerWatcherPtr = std::unique_ptr<ListerWatcher>;

// Lists and watches one collection through a RestClient, restricted to a namespace ("" = all) and
// label/field selectors. Lists are paginated (kDefaultPageSize objects a page unless the caller
// sets a limit) and stitched together by RestClient::ListAll. Borrows the client, which must
// outlive it.
class RestListerWatcher : public ListerWatcher {
 public:
  static constexpr int64_t kDefaultPageSize = 500;

  RestListerWatcher(RestClient& client, GroupVersionResource resource, std::string ns = {},
                    std::string label_selector = {}, std::string field_selector = {});

  Result<Object> List(const ListOptions& options) override;
  Result<WatchStreamPtr> Watch(const ListOptions& options) override;
  Status ListPages(const ListOptions& options, const RestClient::PageHandler& on_page) override;

 private:
  ListOptions WithSelectors(const ListOptions& options) const;
  // WithSelectors, and the default page size unless the caller set a limit.
  ListOptions PagedWithSelectors(const ListOptions& options) const;

  RestClient& client_;
  const GroupVersionResource resource_;
  const std::string namespace_;
  const std::string label_selector_;
  const std::string field_selector_;
};

}  // namespace vk::hostclient
