#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hostclient/base/error.h"
#include "hostclient/base/object.h"
#include "tests/kubesim/resource_catalog.h"

namespace vk::kubesim {

// A parsed field selector in kube's syntax (k8s.io/apimachinery/pkg/fields): terms `f=v`, `f==v`
// or `f!=v` joined by commas (AND); `\,`, `\=` and `\\` escape inside values. Which fields a
// resource supports is checked by Parse as kube's field label conversion does. Immutable once
// parsed; safe to share between threads.
class FieldSelector {
 public:
  struct Term {
    std::string field;
    bool equals;  // false: !=
    std::string value;
  };

  // kBadRequest for syntax errors and for `field label not supported: <field>`.
  static Result<FieldSelector> Parse(std::string_view text, const ResourceInfo& r);

  bool Matches(const ResourceInfo& r, const Object& o) const;
  bool Empty() const { return terms_.empty(); }
  const std::vector<Term>& terms() const { return terms_; }
  // The value of `field=value` when the selector pins the field to one value.
  std::optional<std::string> RequiredValue(std::string_view field) const;

 private:
  std::vector<Term> terms_;
};

}  // namespace vk::kubesim
