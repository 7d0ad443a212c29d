#pragma once

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "tests/kubesim/storage.h"

namespace vk::kubesim::testing {

inline Object J(std::string_view text) { return boost::json::parse(text).as_object(); }

// A Storage with a fixed seed and a wall clock the test moves, plus shorthands for the resources.
class StorageTest : public ::testing::Test {
 protected:
  using TimePoint = std::chrono::system_clock::time_point;

  explicit StorageTest(Storage::Options options = {}) { Reset(std::move(options)); }

  void Reset(Storage::Options options) {
    options.seed = 42;
    options.wall_clock = [this] { return now_; };
    storage_ = Storage::Create(catalog_, std::move(options));
  }

  const ResourceInfo& R(std::string_view resource, std::string_view group = "") const {
    const ResourceInfo* r = catalog_.Find(group, "v1", resource);
    EXPECT_NE(r, nullptr) << resource;
    return *r;
  }

  // Unwraps a result the test expects to succeed.
  template <typename T>
  static T Ok(Result<T> result) {
    EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().ToString());
    if (!result) return T{};
    return std::move(*result);
  }

  Object CreateOk(std::string_view resource, std::string_view ns, std::string_view body,
                  std::string_view group = "") {
    return Ok(storage_->Create(R(resource, group), ns, J(body), false));
  }

  Object Pod(std::string_view name, std::string_view extra_spec = "") const {
    std::string body = R"({"metadata":{"name":")" + std::string(name) +
                       R"("},"spec":{"containers":[{"name":"app","image":"nginx:1.25"}])";
    if (!extra_spec.empty()) body += "," + std::string(extra_spec);
    body += "}}";
    return J(body);
  }

  Object CreatePod(std::string_view name, std::string_view extra_spec = "",
                   std::string_view ns = "default") {
    return Ok(storage_->Create(R("pods"), ns, Pod(name, extra_spec), false));
  }

  static uint64_t Rv(const Object& o) { return std::stoull(std::string(obj::ResourceVersion(o))); }

  ResourceCatalog catalog_ = ResourceCatalog::Default();
  TimePoint now_ = std::chrono::sys_days{std::chrono::year{2024} / 5 / 1} + std::chrono::hours(12);
  std::unique_ptr<Storage> storage_;
};

}  // namespace vk::kubesim::testing
