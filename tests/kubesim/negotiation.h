#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace vk::kubesim {

// One entry of an Accept or Content-Type header: type/subtype, parameters (keys lower-cased),
// and its q value.
struct MediaRange {
  std::string type;     // "application"
  std::string subtype;  // "json"
  std::map<std::string, std::string> params;
  double q = 1.0;

  std::string Param(const std::string& key) const;
};

// Parses a comma-separated Accept header, ordered by q (stable). Malformed entries are skipped.
std::vector<MediaRange> ParseAccept(std::string_view header);
// Parses a single media type (Content-Type). Empty type when absent or malformed.
MediaRange ParseMediaType(std::string_view header);

// What a response may be rendered as. kube-apiserver serves JSON, YAML and protobuf; kubesim
// answers JSON, and JSON for clients that prefer protobuf, which every Kubernetes client accepts
// as a fallback because it reads the response's Content-Type.
enum class OutputForm {
  kJson,
  kTable,                  // meta.k8s.io Table (kubectl get)
  kPartialObjectMetadata,  // meta.k8s.io PartialObjectMetadata(List)
  kAggregatedDiscovery,    // apidiscovery.k8s.io APIGroupDiscoveryList
};

struct Output {
  OutputForm form = OutputForm::kJson;
  std::string group_version;  // "meta.k8s.io/v1", "apidiscovery.k8s.io/v2"... for non-JSON forms
  // The Content-Type of the response.
  std::string ContentType() const;
};

// What the endpoint can produce besides plain JSON.
struct OutputChoices {
  bool table = false;
  bool partial_metadata = false;
  bool aggregated_discovery = false;
};

// Picks the first acceptable output, in the client's order of preference. False when the client
// accepts nothing kubesim can produce (406 Not Acceptable).
bool NegotiateOutput(std::string_view accept, const OutputChoices& choices, Output& out);

}  // namespace vk::kubesim
