#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hostclient/base/error.h"
#include "tests/kubesim/resource_catalog.h"

// The errors kube-apiserver answers, worded as it words them (k8s.io/apimachinery/pkg/api/errors
// and pkg/util/validation/field), so that clients which match on messages or causes see what a
// real server would send. StatusFromError (storage.h) turns them into metav1.Status documents and
// recovers details.name/kind/group from these message shapes.
namespace vk::kubesim {

inline constexpr char kOptimisticLockMessage[] =
    "the object has been modified; please apply your changes to the latest version and try again";

// Go's %q of a string (strconv.Quote), as kube prints names and values in messages.
std::string GoQuote(std::string_view s);

// field.Error equivalents: reason is kube's cause type ("FieldValueRequired"...), message is the
// error body ("Required value: detail"), field the JSON path ("metadata.name").
// value_repr is the bad value as Go would print it (GoQuote for strings, digits for numbers).
ErrorCause FieldRequired(std::string field, std::string_view detail = {});
ErrorCause FieldInvalid(std::string field, std::string_view value_repr, std::string_view detail);
ErrorCause FieldForbidden(std::string field, std::string_view detail);
ErrorCause FieldNotSupported(std::string field, std::string_view value_repr,
                             const std::vector<std::string>& supported);
ErrorCause FieldDuplicate(std::string field, std::string_view value_repr);
ErrorCause FieldNotFound(std::string field, std::string_view value_repr);
ErrorCause FieldTooLong(std::string field, std::string_view detail);

// `pods "x" not found` (404 NotFound).
Error NotFoundError(std::string_view qualified_resource, std::string_view name);
// `pods "x" already exists` (409 AlreadyExists).
Error AlreadyExistsError(std::string_view qualified_resource, std::string_view name);
// `Operation cannot be fulfilled on pods "x": <detail>` (409 Conflict).
Error ConflictError(std::string_view qualified_resource, std::string_view name,
                    std::string_view detail);
// `Pod "x" is invalid: <field>: <body>` or `... is invalid: [a, b]` (422 Invalid, with causes).
Error InvalidError(std::string_view qualified_kind, std::string_view name,
                   std::vector<ErrorCause> causes);
// `pods "x" is forbidden: <detail>` (403 Forbidden).
Error ForbiddenError(std::string_view qualified_resource, std::string_view name,
                     std::string_view detail);
Error BadRequestError(std::string message);
// 410 with reason Expired: what kube answers for too old resourceVersions and continue tokens.
Error ExpiredError(std::string message);
// 504 Timeout `Timeout: Too large resource version: N, current: M`, retry after 1 s.
Error TooLargeResourceVersionError(uint64_t requested, uint64_t current);
// 405 `<action> is not supported on resources of kind "<qualified resource>"`.
Error MethodNotSupportedError(const ResourceInfo& r, std::string_view action);
// 500 `Internal error occurred: <detail>`.
Error InternalError(std::string_view detail);

// The message of a list of field errors as field.ErrorList.ToAggregate() prints it.
std::string AggregateMessage(const std::vector<ErrorCause>& causes);

}  // namespace vk::kubesim
