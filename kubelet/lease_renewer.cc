#include "kubelet/lease_renewer.h"

#include "hostclient/rest_client.h"

namespace vk::kubelet {
namespace {

boost::json::array OwnerReferences(std::string_view node_name, std::string_view node_uid) {
  boost::json::array owners;
  if (!node_uid.empty()) {
    owners.push_back(
        Object{{"apiVersion", "v1"}, {"kind", "Node"}, {"name", node_name}, {"uid", node_uid}});
  }
  return owners;
}

}  // namespace

Object BuildLease(std::string_view node_name, std::string_view node_uid,
                  int32_t lease_duration_seconds, WallTime renew_time) {
  Object metadata{{"name", node_name}, {"namespace", kNodeLeaseNamespace}};
  if (!node_uid.empty()) metadata["ownerReferences"] = OwnerReferences(node_name, node_uid);
  return Object{{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", std::move(metadata)},
                {"spec", Object{{"holderIdentity", node_name},
                                {"leaseDurationSeconds", lease_duration_seconds},
                                {"renewTime", FormatMicroTime(renew_time)}}}};
}

LeaseRenewer::LeaseRenewer(hostclient::RestClient& client, Options options,
                           std::function<WallTime()> wall_clock)
    : client_(client), options_(std::move(options)), wall_clock_(std::move(wall_clock)) {}

Status LeaseRenewer::Renew(std::string_view node_uid) {
  const auto leases = hostclient::resources::Leases();
  std::optional<Error> last_error;
  for (int attempt = 0; attempt < std::max(1, options_.max_attempts); ++attempt) {
    auto current = client_.Get(leases, kNodeLeaseNamespace, options_.node_name);
    if (!current && current.error().IsNotFound()) {
      auto created = client_.Create(
          leases, kNodeLeaseNamespace,
          BuildLease(options_.node_name, node_uid, options_.lease_duration_seconds, wall_clock_()));
      if (created) return Ok();
      if (!created.error().IsAlreadyExists()) return tl::unexpected(created.error());
      last_error = created.error();
      continue;
    }
    if (!current) return tl::unexpected(current.error());
    Object lease = std::move(*current);
    Object& spec = obj::EnsureObject(lease, {"spec"});
    spec["holderIdentity"] = options_.node_name;
    spec["leaseDurationSeconds"] = options_.lease_duration_seconds;
    spec["renewTime"] = FormatMicroTime(wall_clock_());
    if (!node_uid.empty()) {
      obj::EnsureObject(lease, {"metadata"})["ownerReferences"] =
          OwnerReferences(options_.node_name, node_uid);
    }
    auto updated = client_.Update(leases, kNodeLeaseNamespace, lease);
    if (updated) return Ok();
    if (!updated.error().IsConflict()) return tl::unexpected(updated.error());
    last_error = updated.error();
  }
  return tl::unexpected(last_error->Context("renew lease " + options_.node_name + " after " +
                                            std::to_string(options_.max_attempts) + " attempts"));
}

Status LeaseRenewer::Delete() {
  auto deleted =
      client_.Delete(hostclient::resources::Leases(), kNodeLeaseNamespace, options_.node_name);
  if (deleted || deleted.error().IsNotFound()) return Ok();
  return tl::unexpected(deleted.error());
}

}  // namespace vk::kubelet
