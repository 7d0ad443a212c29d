#include "tests/kubesim/service_allocator.h"

#include <boost/json/array.hpp>
#include <cstdio>
#include <optional>
#include <string>

#include "tests/kubesim/api_errors.h"

namespace vk::kubesim {
namespace {

namespace json = boost::json;

constexpr uint32_t kBase = (10u << 24) | (96u << 16);  // 10.96.0.0
constexpr uint32_t kSize = 1u << 20;                   // /12
constexpr uint32_t kDynamicStart = kSize / 16;         // the upper band starts at 10.97.0.0
constexpr int64_t kPortMin = 30000;
constexpr int64_t kPortMax = 32767;
constexpr char kRange[] = "10.96.0.0/12";

std::optional<uint32_t> ParseIp(std::string_view s) {
  unsigned a, b, c, d;
  char tail;
  std::string str(s);
  if (std::sscanf(str.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4) return std::nullopt;
  if (a > 255 || b > 255 || c > 255 || d > 255) return std::nullopt;
  return (a << 24) | (b << 16) | (c << 8) | d;
}

std::string FormatIp(uint32_t ip) {
  return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) + "." +
         std::to_string((ip >> 8) & 255) + "." + std::to_string(ip & 255);
}

bool NeedsNodePorts(std::string_view type) { return type == "NodePort" || type == "LoadBalancer"; }

std::string GoStrings(const std::string& ip) { return "[]string{" + GoQuote(ip) + "}"; }

}  // namespace

std::vector<ErrorCause> ServiceAllocator::AllocateNodePorts(Object& spec, const Object* old_spec,
                                                            bool dry_run) {
  std::vector<ErrorCause> errs;
  std::string type(obj::String(spec, {"type"}));
  auto* ports = spec.if_contains("ports");
  std::set<int64_t> kept;
  if (ports != nullptr && ports->is_array()) {
    auto& items = ports->get_array();
    for (size_t i = 0; i < items.size(); ++i) {
      auto* p = items[i].if_object();
      if (p == nullptr) continue;
      std::string field = "spec.ports[" + std::to_string(i) + "].nodePort";
      int64_t requested = obj::Int(*p, {"nodePort"});
      if (!NeedsNodePorts(type)) {
        if (requested != 0) {
          errs.push_back(FieldForbidden(field, "may not be used when `type` is '" + type + "'"));
        }
        continue;
      }
      if (requested != 0) {
        bool owned = false;
        if (old_spec != nullptr) {
          if (const auto* old_ports = old_spec->if_contains("ports");
              old_ports != nullptr && old_ports->is_array()) {
            for (const auto& q : old_ports->get_array()) {
              if (q.is_object() && obj::Int(q.get_object(), {"nodePort"}) == requested)
                owned = true;
            }
          }
        }
        if (requested < kPortMin || requested > kPortMax) {
          errs.push_back(FieldInvalid(field, std::to_string(requested),
                                      "provided port is not in the valid range. The range of "
                                      "valid ports is 30000-32767"));
        } else if (!owned && (node_ports_.count(requested) != 0 || kept.count(requested) != 0)) {
          errs.push_back(
              FieldInvalid(field, std::to_string(requested), "provided port is already allocated"));
        } else {
          kept.insert(requested);
        }
        continue;
      }
      int64_t span = kPortMax - kPortMin + 1;
      for (int64_t step = 0; step < span; ++step) {
        int64_t candidate = kPortMin + (next_node_port_ + step) % span;
        if (node_ports_.count(candidate) == 0 && kept.count(candidate) == 0) {
          (*p)["nodePort"] = candidate;
          kept.insert(candidate);
          if (!dry_run) next_node_port_ = (candidate - kPortMin + 1) % span;
          break;
        }
      }
    }
  }
  if (!errs.empty() || dry_run) return errs;
  if (old_spec != nullptr) {
    if (const auto* old_ports = old_spec->if_contains("ports");
        old_ports != nullptr && old_ports->is_array()) {
      for (const auto& q : old_ports->get_array()) {
        if (!q.is_object()) continue;
        int64_t port = obj::Int(q.get_object(), {"nodePort"});
        if (port != 0 && kept.count(port) == 0) node_ports_.erase(port);
      }
    }
  }
  node_ports_.insert(kept.begin(), kept.end());
  return errs;
}

Result<std::vector<ErrorCause>> ServiceAllocator::AllocateImpl(Object& service, bool dry_run) {
  auto& spec = obj::EnsureObject(service, {"spec"});
  std::string type(obj::String(spec, {"type"}));
  std::vector<ErrorCause> errs;
  if (type != "ExternalName") {
    std::string requested(obj::String(spec, {"clusterIP"}));
    if (requested.empty()) {
      if (const auto* ips = spec.if_contains("clusterIPs"); ips != nullptr && ips->is_array() &&
                                                            !ips->get_array().empty() &&
                                                            ips->get_array().front().is_string()) {
        requested = std::string(ips->get_array().front().get_string());
      }
    }
    std::string assigned;
    if (requested == "None") {
      assigned = "None";
    } else if (!requested.empty()) {
      auto ip = ParseIp(requested);
      if (!ip || *ip < kBase || *ip >= kBase + kSize) {
        errs.push_back(FieldInvalid("spec.clusterIPs", GoStrings(requested),
                                    "failed to allocate IP " + requested +
                                        ": provided IP is not in the valid range. The range of "
                                        "valid IPs is " +
                                        kRange));
      } else if (ips_.count(*ip) != 0 || *ip == kBase) {
        errs.push_back(FieldInvalid(
            "spec.clusterIPs", GoStrings(requested),
            "failed to allocate IP " + requested + ": provided IP is already allocated"));
      } else {
        assigned = requested;
        if (!dry_run) ips_.insert(*ip);
      }
    } else {
      uint32_t span = kSize - kDynamicStart - 1;
      for (uint32_t step = 0; step < span; ++step) {
        uint32_t ip = kBase + kDynamicStart + (next_ip_offset_ + step) % span;
        if (ips_.count(ip) == 0) {
          assigned = FormatIp(ip);
          if (!dry_run) {
            ips_.insert(ip);
            next_ip_offset_ = (ip - kBase - kDynamicStart + 1) % span;
          }
          break;
        }
      }
      if (assigned.empty()) {
        return tl::unexpected(InternalError("failed to allocate a serviceIP: range is full"));
      }
    }
    if (!assigned.empty()) {
      spec["clusterIP"] = assigned;
      spec["clusterIPs"] = json::array{json::value(assigned)};
      spec["ipFamilies"] = json::array{"IPv4"};
      spec["ipFamilyPolicy"] = "SingleStack";
    }
  }
  auto port_errs = AllocateNodePorts(spec, nullptr, dry_run);
  errs.insert(errs.end(), port_errs.begin(), port_errs.end());
  return errs;
}

Result<std::vector<ErrorCause>> ServiceAllocator::ReallocateImpl(Object& updated, const Object& old,
                                                                 bool dry_run) {
  std::vector<ErrorCause> errs;
  auto& spec = obj::EnsureObject(updated, {"spec"});
  const Object* old_spec = obj::ObjectAt(old, {"spec"});
  std::string old_ip =
      old_spec == nullptr ? "" : std::string(obj::String(*old_spec, {"clusterIP"}));
  std::string new_ip(obj::String(spec, {"clusterIP"}));
  if (!old_ip.empty() && new_ip != old_ip && obj::String(spec, {"type"}) != "ExternalName") {
    errs.push_back(
        FieldInvalid("spec.clusterIPs[0]", GoStrings(new_ip), "may not change once set"));
    return errs;
  }
  return AllocateNodePorts(spec, old_spec, dry_run);
}

// Every change is tried on a copy first, so that a request that fails records nothing.
Result<std::vector<ErrorCause>> ServiceAllocator::Allocate(Object& service, bool dry_run) {
  Object probe = service;
  auto errs = AllocateImpl(probe, true);
  if (!errs || !errs->empty()) return errs;
  if (dry_run) {
    service = std::move(probe);
    return errs;
  }
  return AllocateImpl(service, false);
}

Result<std::vector<ErrorCause>> ServiceAllocator::Reallocate(Object& updated, const Object& old,
                                                             bool dry_run) {
  Object probe = updated;
  auto errs = ReallocateImpl(probe, old, true);
  if (!errs || !errs->empty()) return errs;
  if (dry_run) {
    updated = std::move(probe);
    return errs;
  }
  return ReallocateImpl(updated, old, false);
}

void ServiceAllocator::Release(const Object& service) {
  const Object* spec = obj::ObjectAt(service, {"spec"});
  if (spec == nullptr) return;
  if (auto ip = ParseIp(obj::String(*spec, {"clusterIP"}))) ips_.erase(*ip);
  if (const auto* ports = spec->if_contains("ports"); ports != nullptr && ports->is_array()) {
    for (const auto& p : ports->get_array()) {
      if (p.is_object()) node_ports_.erase(obj::Int(p.get_object(), {"nodePort"}));
    }
  }
}

}  // namespace vk::kubesim
