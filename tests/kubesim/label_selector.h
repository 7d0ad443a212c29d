#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hostclient/base/error.h"
#include "hostclient/base/object.h"

namespace vk::kubesim {

// A parsed label selector in kube's string syntax (k8s.io/apimachinery/pkg/labels):
// `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, `k>1`, `k<1`, joined by commas
// (AND). Keys and values are checked as kube checks them. Immutable once parsed; safe to share.
class LabelSelector {
 public:
  enum class Op {
    kEquals,
    kNotEquals,
    kIn,
    kNotIn,
    kExists,
    kDoesNotExist,
    kGreaterThan,
    kLessThan
  };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;
  };

  // kBadRequest with kube's wording when the text does not parse or a key/value is invalid.
  static Result<LabelSelector> Parse(std::string_view text);

  // labels: the object's metadata.labels (nullptr when it has none).
  bool Matches(const Object* labels) const;
  bool MatchesObject(const Object& object) const;
  bool Empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }

 private:
  std::vector<Requirement> requirements_;
};

// kube's metav1.LabelSelectorAsSelector for a LabelSelector object ({matchLabels,
// matchExpressions with In, NotIn, Exists, DoesNotExist}), in the string syntax above with the
// requirements sorted by key ("app=web,tier in (a,b)"), as kube prints Scale's status.selector.
// An empty selector is "" (it selects everything); kBadRequest for an unknown operator or a
// malformed requirement.
Result<std::string> FormatLabelSelector(const Object& selector);

}  // namespace vk::kubesim
