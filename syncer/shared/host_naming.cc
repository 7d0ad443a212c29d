#include "syncer/shared/host_naming.h"

#include <openssl/evp.h>

#include <array>

namespace vk::syncer::shared {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Lowercases and turns every character a DNS label may not hold into '-'. Only the readable part
// of the name goes through this, so information lost here is still carried by the hash.
void AppendSanitized(std::string& out, std::string_view part) {
  for (char c : part) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out.push_back(IsLowerAlnum(c) ? c : '-');
  }
}

std::string_view StringIn(const Object* o, std::string_view key) {
  if (o == nullptr) return {};
  const auto* v = o->if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  return {v->get_string().data(), v->get_string().size()};
}

std::string DescribeOrigin(std::string_view cluster, std::string_view ns, std::string_view name) {
  std::string out = "cluster ";
  out.append(cluster).append(" ").append(ns).append("/").append(name);
  return out;
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  // EVP_Digest over a fixed algorithm cannot fail short of memory exhaustion; an empty result would
  // only weaken the suffix, never break the DNS-label guarantee.
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    length = 0;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0x0f]);
  }
  return out;
}

std::string HostName(std::string_view cluster, std::string_view ns, std::string_view name) {
  std::string key;
  key.reserve(cluster.size() + ns.size() + name.size() + 2);
  key.append(cluster).append("/").append(ns).append("/").append(name);
  std::string hash = Sha256Hex(key).substr(0, kHashHexChars);

  std::string prefix;
  prefix.reserve(name.size() + ns.size() + cluster.size() + 6);
  AppendSanitized(prefix, name);
  prefix.append("-x-");
  AppendSanitized(prefix, ns);
  prefix.append("-x-");
  AppendSanitized(prefix, cluster);
  const std::size_t max_prefix = kMaxHostNameLength - 1 - hash.size();
  if (prefix.size() > max_prefix) prefix.resize(max_prefix);
  // A label must start with an alphanumeric; the hash ends the name, so only the prefix's own
  // ends need trimming. The "x" of the separators leaves the prefix never empty.
  std::size_t begin = 0;
  while (begin < prefix.size() && !IsLowerAlnum(prefix[begin])) ++begin;
  std::size_t end = prefix.size();
  while (end > begin && !IsLowerAlnum(prefix[end - 1])) --end;
  std::string out = prefix.substr(begin, end - begin);
  out.push_back('-');
  out.append(hash);
  return out;
}

bool IsDnsLabel(std::string_view s) {
  if (s.empty() || s.size() > kMaxHostNameLength) return false;
  if (!IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

Object HostMetadata(const Object& virtual_object, std::string_view cluster,
                    std::string_view host_namespace) {
  static constexpr std::string_view kDropped[] = {"uid",
                                                  "resourceVersion",
                                                  "creationTimestamp",
                                                  "deletionTimestamp",
                                                  "deletionGracePeriodSeconds",
                                                  "generation",
                                                  "selfLink",
                                                  "managedFields",
                                                  "ownerReferences",
                                                  "generateName",
                                                  "finalizers"};
  Object metadata;
  if (const auto* source = obj::ObjectAt(virtual_object, {"metadata"})) metadata = *source;
  for (auto field : kDropped) metadata.erase(field);

  const std::string_view ns = obj::Namespace(virtual_object);
  const std::string_view name = obj::Name(virtual_object);
  const std::string_view uid = obj::Uid(virtual_object);
  const std::string_view kind = obj::Kind(virtual_object);
  metadata["name"] = HostName(cluster, ns, name);
  metadata["namespace"] = host_namespace;

  if (!metadata["labels"].is_object()) metadata["labels"] = Object();
  auto& labels = metadata["labels"].get_object();
  labels[kLabelCluster] = cluster;
  labels[kLabelManagedBy] = kManagedByValue;

  if (!metadata["annotations"].is_object()) metadata["annotations"] = Object();
  auto& annotations = metadata["annotations"].get_object();
  annotations[kAnnotationOriginNamespace] = ns;
  annotations[kAnnotationOriginName] = name;
  annotations[kAnnotationOriginUid] = uid;
  annotations[kAnnotationOriginKind] = kind;
  return metadata;
}

bool OriginMatches(const Object& host_object, std::string_view cluster, std::string_view ns,
                   std::string_view name) {
  const Object* labels = obj::ObjectAt(host_object, {"metadata", "labels"});
  const Object* annotations = obj::ObjectAt(host_object, {"metadata", "annotations"});
  return StringIn(labels, kLabelManagedBy) == kManagedByValue &&
         StringIn(labels, kLabelCluster) == cluster &&
         StringIn(annotations, kAnnotationOriginNamespace) == ns &&
         StringIn(annotations, kAnnotationOriginName) == name;
}

Status CheckOwnership(const Object& host_object, std::string_view cluster, std::string_view ns,
                      std::string_view name) {
  if (OriginMatches(host_object, cluster, ns, name)) return Ok();
  const Object* labels = obj::ObjectAt(host_object, {"metadata", "labels"});
  const Object* annotations = obj::ObjectAt(host_object, {"metadata", "annotations"});
  std::string message = "host object " + obj::Key(host_object) + " ";
  if (StringIn(labels, kLabelManagedBy) != kManagedByValue) {
    message += "is not managed by vkubelet (wanted for " + DescribeOrigin(cluster, ns, name) + ")";
  } else {
    message += "belongs to " + DescribeOrigin(StringIn(labels, kLabelCluster),
                                              StringIn(annotations, kAnnotationOriginNamespace),
                                              StringIn(annotations, kAnnotationOriginName));
    message += ", not to " + DescribeOrigin(cluster, ns, name);
  }
  message += "; refusing to overwrite it";
  return MakeError(ErrorCode::kConflict, std::move(message));
}

}  // namespace vk::syncer::shared
