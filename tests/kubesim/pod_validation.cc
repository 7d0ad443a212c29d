#include "tests/kubesim/pod_validation.h"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <set>
#include <string>

#include "tests/kubesim/api_errors.h"
#include "tests/kubesim/name_validation.h"

namespace vk::kubesim {
namespace {

namespace json = boost::json;

constexpr char kUpdatableFields[] =
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
    "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set "
    "to 1 if it was previously negative)";

const json::array* ArrayAt(const Object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v == nullptr ? nullptr : v->if_array();
}

std::string Index(const std::string& list, size_t i) {
  return list + "[" + std::to_string(i) + "]";
}

void ValidateContainers(const Object& spec, std::string_view list, bool required,
                        std::set<std::string>& names, std::vector<ErrorCause>& errs) {
  std::string path = "spec." + std::string(list);
  const json::array* items = ArrayAt(spec, list);
  if (items == nullptr || items->empty()) {
    if (required) errs.push_back(FieldRequired(path));
    return;
  }
  for (size_t i = 0; i < items->size(); ++i) {
    std::string at = Index(path, i);
    const auto* c = (*items)[i].if_object();
    if (c == nullptr) {
      errs.push_back(FieldInvalid(at, "null", "must be an object"));
      continue;
    }
    std::string name(obj::String(*c, {"name"}));
    if (name.empty()) {
      errs.push_back(FieldRequired(at + ".name"));
    } else if (auto bad = IsDns1123Label(name); !bad.empty()) {
      errs.push_back(FieldInvalid(at + ".name", GoQuote(name), bad.front()));
    } else if (!names.insert(name).second) {
      errs.push_back(FieldDuplicate(at + ".name", GoQuote(name)));
    }
    if (obj::String(*c, {"image"}).empty()) errs.push_back(FieldRequired(at + ".image"));
  }
}

void CheckSupported(const Object& spec, std::string_view key,
                    const std::vector<std::string>& supported, std::vector<ErrorCause>& errs) {
  auto value = obj::String(spec, {key});
  if (value.empty()) return;
  if (std::find(supported.begin(), supported.end(), value) == supported.end()) {
    errs.push_back(FieldNotSupported("spec." + std::string(key), GoQuote(value), supported));
  }
}

std::optional<int64_t> IntAt(const Object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  return std::nullopt;
}

// Copies old's image into each same-index container of updated's list.
void KeepImages(Object& updated_spec, const Object& old_spec, std::string_view list) {
  auto* mine = updated_spec.if_contains(list);
  const json::array* theirs = ArrayAt(old_spec, list);
  if (mine == nullptr || !mine->is_array() || theirs == nullptr) return;
  auto& items = mine->get_array();
  if (items.size() != theirs->size()) return;
  for (size_t i = 0; i < items.size(); ++i) {
    auto* c = items[i].if_object();
    const auto* o = (*theirs)[i].if_object();
    if (c == nullptr || o == nullptr) continue;
    if (const auto* image = o->if_contains("image")) {
      (*c)["image"] = *image;
    } else {
      c->erase("image");
    }
  }
}

void CopyField(Object& to, const Object& from, std::string_view key) {
  if (const auto* v = from.if_contains(key)) {
    to[key] = *v;
  } else {
    to.erase(key);
  }
}

}  // namespace

std::vector<ErrorCause> ValidatePodCreate(const Object& pod) {
  std::vector<ErrorCause> errs;
  const Object* spec = obj::ObjectAt(pod, {"spec"});
  if (spec == nullptr) {
    errs.push_back(FieldRequired("spec.containers"));
    return errs;
  }
  std::set<std::string> names;
  ValidateContainers(*spec, "containers", true, names, errs);
  ValidateContainers(*spec, "initContainers", false, names, errs);
  if (const json::array* volumes = ArrayAt(*spec, "volumes")) {
    std::set<std::string> seen;
    for (size_t i = 0; i < volumes->size(); ++i) {
      const auto* v = (*volumes)[i].if_object();
      std::string at = Index("spec.volumes", i);
      std::string name = v == nullptr ? "" : std::string(obj::String(*v, {"name"}));
      if (name.empty()) {
        errs.push_back(FieldRequired(at + ".name"));
      } else if (auto bad = IsDns1123Label(name); !bad.empty()) {
        errs.push_back(FieldInvalid(at + ".name", GoQuote(name), bad.front()));
      } else if (!seen.insert(name).second) {
        errs.push_back(FieldDuplicate(at + ".name", GoQuote(name)));
      }
    }
  }
  if (const json::array* ephemeral = ArrayAt(*spec, "ephemeralContainers");
      ephemeral != nullptr && !ephemeral->empty()) {
    errs.push_back(FieldForbidden("spec.ephemeralContainers", "cannot be set on create"));
  }
  CheckSupported(*spec, "restartPolicy", {"Always", "OnFailure", "Never"}, errs);
  CheckSupported(*spec, "dnsPolicy", {"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"},
                 errs);
  if (auto deadline = IntAt(*spec, "activeDeadlineSeconds"); deadline && *deadline <= 0) {
    errs.push_back(FieldInvalid("spec.activeDeadlineSeconds", std::to_string(*deadline),
                                "must be between 1 and 2147483647, inclusive"));
  }
  return errs;
}

std::vector<ErrorCause> ValidatePodUpdate(const Object& updated, const Object& old) {
  std::vector<ErrorCause> errs;
  static const Object kEmpty;
  const Object* new_spec_ptr = obj::ObjectAt(updated, {"spec"});
  const Object* old_spec_ptr = obj::ObjectAt(old, {"spec"});
  const Object& new_spec = new_spec_ptr != nullptr ? *new_spec_ptr : kEmpty;
  const Object& old_spec = old_spec_ptr != nullptr ? *old_spec_ptr : kEmpty;

  auto new_deadline = IntAt(new_spec, "activeDeadlineSeconds");
  auto old_deadline = IntAt(old_spec, "activeDeadlineSeconds");
  if (new_deadline) {
    if (*new_deadline < 0 || *new_deadline > 2147483647) {
      errs.push_back(FieldInvalid("spec.activeDeadlineSeconds", std::to_string(*new_deadline),
                                  "must be between 0 and 2147483647, inclusive"));
      return errs;
    }
    if (old_deadline && *old_deadline < *new_deadline) {
      errs.push_back(FieldInvalid("spec.activeDeadlineSeconds", std::to_string(*new_deadline),
                                  "must be less than or equal to previous value"));
      return errs;
    }
  } else if (old_deadline) {
    errs.push_back(FieldInvalid("spec.activeDeadlineSeconds", "nil",
                                "must not update from a positive integer to nil value"));
  }

  // Existing tolerations must stay; only their tolerationSeconds may change.
  if (const json::array* old_tolerations = ArrayAt(old_spec, "tolerations")) {
    const json::array* new_tolerations = ArrayAt(new_spec, "tolerations");
    for (const auto& t : *old_tolerations) {
      const auto* to = t.if_object();
      if (to == nullptr) continue;
      Object key = *to;
      key.erase("tolerationSeconds");
      bool kept =
          new_tolerations != nullptr &&
          std::any_of(new_tolerations->begin(), new_tolerations->end(), [&](const json::value& n) {
            if (!n.is_object()) return false;
            Object candidate = n.get_object();
            candidate.erase("tolerationSeconds");
            return candidate == key;
          });
      if (!kept) {
        errs.push_back(
            FieldForbidden("spec.tolerations",
                           "existing toleration can not be modified except its tolerationSeconds"));
        break;
      }
    }
  }

  // Scheduling gates may only be removed.
  if (const json::array* new_gates = ArrayAt(new_spec, "schedulingGates")) {
    const json::array* old_gates = ArrayAt(old_spec, "schedulingGates");
    for (const auto& g : *new_gates) {
      bool existed = old_gates != nullptr &&
                     std::find(old_gates->begin(), old_gates->end(), g) != old_gates->end();
      if (!existed) {
        std::string name = g.is_object() ? std::string(obj::String(g.get_object(), {"name"})) : "";
        errs.push_back(FieldForbidden(
            "spec.schedulingGates",
            "only deletion is allowed, but found new scheduling gate '" + name + "'"));
      }
    }
  }

  Object munged = new_spec;
  KeepImages(munged, old_spec, "containers");
  KeepImages(munged, old_spec, "initContainers");
  CopyField(munged, old_spec, "activeDeadlineSeconds");
  CopyField(munged, old_spec, "tolerations");
  CopyField(munged, old_spec, "schedulingGates");
  auto old_grace = IntAt(old_spec, "terminationGracePeriodSeconds");
  auto new_grace = IntAt(new_spec, "terminationGracePeriodSeconds");
  if (!(old_grace && *old_grace < 0 && new_grace && *new_grace == 1)) {
    CopyField(munged, old_spec, "terminationGracePeriodSeconds");
  }
  if (munged != old_spec) {
    std::set<std::string> keys;
    for (const auto& [k, v] : munged) keys.insert(std::string(k));
    for (const auto& [k, v] : old_spec) keys.insert(std::string(k));
    std::string diff;
    for (const auto& k : keys) {
      const auto* a = old_spec.if_contains(k);
      const auto* b = munged.if_contains(k);
      if (a != nullptr && b != nullptr && *a == *b) continue;
      diff += "\n  spec." + k + ": " + (a != nullptr ? json::serialize(*a) : "<unset>") + " -> " +
              (b != nullptr ? json::serialize(*b) : "<unset>");
    }
    errs.push_back(FieldForbidden("spec", std::string(kUpdatableFields) + diff));
  }
  return errs;
}

std::vector<ErrorCause> ValidateEphemeralContainersUpdate(const Object& updated,
                                                          const Object& old) {
  std::vector<ErrorCause> errs;
  static const Object kEmpty;
  const Object* new_spec_ptr = obj::ObjectAt(updated, {"spec"});
  const Object* old_spec_ptr = obj::ObjectAt(old, {"spec"});
  const Object& new_spec = new_spec_ptr != nullptr ? *new_spec_ptr : kEmpty;
  const Object& old_spec = old_spec_ptr != nullptr ? *old_spec_ptr : kEmpty;
  static const json::array kNone;
  const json::array* new_list = ArrayAt(new_spec, "ephemeralContainers");
  const json::array& added = new_list != nullptr ? *new_list : kNone;

  // Existing ephemeral containers stay exactly as they are.
  if (const json::array* old_list = ArrayAt(old_spec, "ephemeralContainers")) {
    for (const auto& before : *old_list) {
      const auto* before_object = before.if_object();
      if (before_object == nullptr) continue;
      const std::string name(obj::String(*before_object, {"name"}));
      auto now = std::find_if(added.begin(), added.end(), [&](const json::value& c) {
        return c.is_object() && obj::String(c.get_object(), {"name"}) == name;
      });
      if (now == added.end()) {
        errs.push_back(FieldForbidden(
            "spec.ephemeralContainers",
            "existing ephemeral containers " + GoQuote(name) + " may not be removed"));
      } else if (*now != before) {
        errs.push_back(FieldForbidden(
            "spec.ephemeralContainers",
            "existing ephemeral containers " + GoQuote(name) + " may not be changed"));
      }
    }
  }

  std::set<std::string> names;
  std::set<std::string> targets;
  for (const char* list : {"initContainers", "containers"}) {
    if (const json::array* items = ArrayAt(new_spec, list)) {
      for (const auto& c : *items) {
        if (!c.is_object()) continue;
        names.emplace(obj::String(c.get_object(), {"name"}));
        if (std::string_view(list) == "containers") {
          targets.emplace(obj::String(c.get_object(), {"name"}));
        }
      }
    }
  }
  ValidateContainers(new_spec, "ephemeralContainers", false, names, errs);
  for (size_t i = 0; i < added.size(); ++i) {
    const auto* c = added[i].if_object();
    if (c == nullptr) continue;
    const std::string at = Index("spec.ephemeralContainers", i);
    // Ephemeral containers run once, unmanaged: nothing may route to, probe or restart them.
    for (const char* field : {"ports", "livenessProbe", "readinessProbe", "startupProbe",
                              "lifecycle", "resizePolicy", "restartPolicy"}) {
      if (c->contains(field)) {
        errs.push_back(
            FieldForbidden(at + "." + field, "cannot be set for an Ephemeral Container"));
      }
    }
    if (const Object* resources = obj::ObjectAt(*c, {"resources"});
        resources != nullptr && !resources->empty()) {
      errs.push_back(FieldForbidden(at + ".resources", "cannot be set for an Ephemeral Container"));
    }
    const std::string_view target = obj::String(*c, {"targetContainerName"});
    if (!target.empty() && targets.count(std::string(target)) == 0) {
      errs.push_back(FieldNotFound(at + ".targetContainerName", GoQuote(target)));
    }
  }
  return errs;
}

}  // namespace vk::kubesim
