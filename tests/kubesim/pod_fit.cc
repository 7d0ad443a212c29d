#include "tests/kubesim/pod_fit.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <map>
#include <optional>
#include <string_view>

namespace vk::kubesim {
namespace {

namespace json = boost::json;

constexpr char kUnschedulableTaint[] = "node.kubernetes.io/unschedulable";

std::string_view Str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

const json::array* ArrayAt(const Object& o, std::initializer_list<std::string_view> path) {
  const auto* v = obj::Find(o, path);
  return v != nullptr && v->is_array() ? &v->get_array() : nullptr;
}

// k8s.io/api/core/v1 Toleration.ToleratesTaint.
bool Tolerates(const json::object& toleration, std::string_view key, std::string_view value,
               std::string_view effect) {
  const std::string_view t_effect = Str(toleration, "effect");
  if (!t_effect.empty() && t_effect != effect) return false;
  const std::string_view t_key = Str(toleration, "key");
  if (!t_key.empty() && t_key != key) return false;
  const std::string_view op = Str(toleration, "operator");
  if (op.empty() || op == "Equal") return Str(toleration, "value") == value;
  return op == "Exists";
}

bool PodTolerates(const Object& pod, std::string_view key, std::string_view value,
                  std::string_view effect) {
  const auto* tolerations = ArrayAt(pod, {"spec", "tolerations"});
  if (tolerations == nullptr) return false;
  return std::any_of(tolerations->begin(), tolerations->end(), [&](const json::value& t) {
    return t.is_object() && Tolerates(t.get_object(), key, value, effect);
  });
}

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t out = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return out;
}

// One NodeSelectorRequirement against a value that is present (value) or absent (nullopt).
bool RequirementMatches(const json::object& requirement,
                        const std::optional<std::string_view>& value) {
  const std::string_view op = Str(requirement, "operator");
  std::vector<std::string_view> values;
  if (const auto* list = requirement.if_contains("values"); list != nullptr && list->is_array()) {
    for (const auto& v : list->get_array()) {
      if (v.is_string()) values.emplace_back(v.get_string());
    }
  }
  const bool listed = value && std::find(values.begin(), values.end(), *value) != values.end();
  if (op == "In") return listed;
  if (op == "NotIn") return !listed;
  if (op == "Exists") return value.has_value();
  if (op == "DoesNotExist") return !value.has_value();
  if (op == "Gt" || op == "Lt") {
    if (!value || values.size() != 1) return false;
    auto have = ParseInt(*value);
    auto bound = ParseInt(values[0]);
    if (!have || !bound) return false;
    return op == "Gt" ? *have > *bound : *have < *bound;
  }
  return false;
}

std::optional<std::string_view> LabelOf(const Object& node, std::string_view key) {
  const Object* labels = obj::ObjectAt(node, {"metadata", "labels"});
  if (labels == nullptr) return std::nullopt;
  const auto* v = labels->if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string_view(v->get_string());
}

bool TermMatches(const json::object& term, const Object& node) {
  bool any = false;
  if (const auto* exprs = term.if_contains("matchExpressions"); exprs && exprs->is_array()) {
    for (const auto& e : exprs->get_array()) {
      if (!e.is_object()) return false;
      any = true;
      if (!RequirementMatches(e.get_object(), LabelOf(node, Str(e.get_object(), "key")))) {
        return false;
      }
    }
  }
  if (const auto* fields = term.if_contains("matchFields"); fields && fields->is_array()) {
    for (const auto& f : fields->get_array()) {
      if (!f.is_object()) return false;
      any = true;
      // metadata.name is the only field kube supports here.
      if (Str(f.get_object(), "key") != "metadata.name") return false;
      if (!RequirementMatches(f.get_object(), obj::Name(node))) return false;
    }
  }
  return any;
}

bool MatchesNodeAffinity(const Object& pod, const Object& node) {
  if (const Object* selector = obj::ObjectAt(pod, {"spec", "nodeSelector"})) {
    for (const auto& [key, value] : *selector) {
      auto label = LabelOf(node, key);
      if (!label || !value.is_string() || *label != std::string_view(value.get_string())) {
        return false;
      }
    }
  }
  const Object* required = obj::ObjectAt(
      pod, {"spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"});
  if (required == nullptr) return true;
  const auto* terms = required->if_contains("nodeSelectorTerms");
  if (terms == nullptr || !terms->is_array()) return false;
  return std::any_of(
      terms->get_array().begin(), terms->get_array().end(),
      [&](const json::value& t) { return t.is_object() && TermMatches(t.get_object(), node); });
}

}  // namespace

std::string NodeMisfit(const Object& pod, const Object& node) {
  if (const auto* u = obj::Find(node, {"spec", "unschedulable"});
      u && u->is_bool() && u->get_bool() &&
      !PodTolerates(pod, kUnschedulableTaint, "", "NoSchedule")) {
    return "node(s) were unschedulable";
  }
  if (const auto* taints = ArrayAt(node, {"spec", "taints"})) {
    for (const auto& t : *taints) {
      if (!t.is_object()) continue;
      const auto& taint = t.get_object();
      const std::string_view effect = Str(taint, "effect");
      if (effect != "NoSchedule" && effect != "NoExecute") continue;
      const std::string_view key = Str(taint, "key");
      const std::string_view value = Str(taint, "value");
      if (!PodTolerates(pod, key, value, effect)) {
        return fmt::format("node(s) had untolerated taint {{{}: {}}}", key, value);
      }
    }
  }
  if (!MatchesNodeAffinity(pod, node)) return "node(s) didn't match Pod's node affinity/selector";
  return "";
}

std::string UnschedulableMessage(size_t node_count, const std::vector<std::string>& misfits) {
  if (node_count == 0) return "no nodes available to schedule pods";
  std::map<std::string, size_t> counts;
  for (const auto& m : misfits) ++counts[m];
  // kube-scheduler sorts the "<count> <reason>" strings themselves.
  std::vector<std::string> reasons;
  for (const auto& [reason, count] : counts) reasons.push_back(fmt::format("{} {}", count, reason));
  std::sort(reasons.begin(), reasons.end());
  std::string joined;
  for (const auto& r : reasons) joined += (joined.empty() ? "" : ", ") + r;
  return fmt::format(
      "0/{0} nodes are available: {1}. preemption: 0/{0} nodes are available: {0} Preemption is "
      "not helpful for scheduling.",
      node_count, joined);
}

std::optional<std::string> UnschedulableConditionPatch(const Object& pod,
                                                       const std::string& message,
                                                       const std::string& now) {
  std::string since = now;
  if (const auto* conditions = obj::Find(pod, {"status", "conditions"});
      conditions != nullptr && conditions->is_array()) {
    for (const auto& c : conditions->get_array()) {
      if (!c.is_object() || obj::String(c.get_object(), {"type"}) != "PodScheduled") continue;
      if (obj::String(c.get_object(), {"status"}) != "False") break;
      if (obj::String(c.get_object(), {"reason"}) == "Unschedulable" &&
          obj::String(c.get_object(), {"message"}) == message) {
        return std::nullopt;
      }
      if (auto t = obj::String(c.get_object(), {"lastTransitionTime"}); !t.empty()) {
        since = std::string(t);
      }
    }
  }
  json::object condition{{"type", "PodScheduled"},    {"status", "False"},
                         {"reason", "Unschedulable"}, {"message", message},
                         {"lastProbeTime", nullptr},  {"lastTransitionTime", since}};
  return json::serialize(
      json::object{{"status", {{"conditions", json::array{std::move(condition)}}}}});
}

}  // namespace vk::kubesim
