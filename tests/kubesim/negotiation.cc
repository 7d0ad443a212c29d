#include "tests/kubesim/negotiation.h"

#include <algorithm>
#include <cstdlib>

namespace vk::kubesim {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? s.npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

bool IsJsonLike(const MediaRange& m) {
  if (m.type == "*" && m.subtype == "*") return true;
  if (m.type != "application") return false;
  return m.subtype == "*" || m.subtype == "json" || m.subtype == "vnd.kubernetes.protobuf";
}

}  // namespace

std::string MediaRange::Param(const std::string& key) const {
  auto it = params.find(key);
  return it == params.end() ? std::string() : it->second;
}

MediaRange ParseMediaType(std::string_view header) {
  MediaRange m;
  auto fields = Split(header, ';');
  std::string_view type = Trim(fields[0]);
  size_t slash = type.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == type.size()) return m;
  m.type = Lower(type.substr(0, slash));
  m.subtype = Lower(type.substr(slash + 1));
  for (size_t i = 1; i < fields.size(); ++i) {
    std::string_view p = Trim(fields[i]);
    size_t eq = p.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key = Lower(Trim(p.substr(0, eq)));
    std::string_view value = Trim(p.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (key == "q") {
      m.q = std::strtod(std::string(value).c_str(), nullptr);
    } else {
      m.params[key] = std::string(value);
    }
  }
  return m;
}

std::vector<MediaRange> ParseAccept(std::string_view header) {
  std::vector<MediaRange> out;
  for (auto part : Split(header, ',')) {
    if (Trim(part).empty()) continue;
    MediaRange m = ParseMediaType(part);
    if (m.type.empty() || m.q <= 0) continue;
    out.push_back(std::move(m));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const MediaRange& a, const MediaRange& b) { return a.q > b.q; });
  return out;
}

std::string Output::ContentType() const {
  switch (form) {
    case OutputForm::kJson:
      return "application/json";
    case OutputForm::kTable:
    case OutputForm::kPartialObjectMetadata:
      return "application/json";
    case OutputForm::kAggregatedDiscovery: {
      auto slash = group_version.find('/');
      return "application/json;g=" + group_version.substr(0, slash) +
             ";v=" + group_version.substr(slash + 1) + ";as=APIGroupDiscoveryList";
    }
  }
  return "application/json";
}

bool NegotiateOutput(std::string_view accept, const OutputChoices& choices, Output& out) {
  if (Trim(accept).empty()) {
    out = Output{};
    return true;
  }
  for (const MediaRange& m : ParseAccept(accept)) {
    if (!IsJsonLike(m)) continue;
    const std::string as = m.Param("as");
    if (as.empty()) {
      out = Output{};
      return true;
    }
    const std::string g = m.Param("g");
    const std::string v = m.Param("v");
    if (choices.table && as == "Table" && g == "meta.k8s.io" && (v == "v1" || v == "v1beta1")) {
      out = Output{OutputForm::kTable, g + "/" + v};
      return true;
    }
    if (choices.partial_metadata &&
        (as == "PartialObjectMetadata" || as == "PartialObjectMetadataList") &&
        g == "meta.k8s.io" && (v == "v1" || v == "v1beta1")) {
      out = Output{OutputForm::kPartialObjectMetadata, g + "/" + v};
      return true;
    }
    if (choices.aggregated_discovery && as == "APIGroupDiscoveryList" &&
        g == "apidiscovery.k8s.io" && (v == "v2" || v == "v2beta1")) {
      out = Output{OutputForm::kAggregatedDiscovery, g + "/" + v};
      return true;
    }
  }
  return false;
}

}  // namespace vk::kubesim
