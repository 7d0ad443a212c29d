#include "kubelet/check_command.h"

#include <fmt/format.h>

#include <boost/json/value.hpp>
#include <condition_variable>
#include <mutex>
#include <ostream>
#include <thread>

#include "hostclient/cluster_config.h"
#include "hostclient/rest_client.h"
#include "kubelet/api_server_probe.h"

namespace vk::kubelet {
namespace {

// How long the watch may stay open before it is cancelled, in case a server ignores
// timeoutSeconds.
constexpr std::chrono::seconds kWatchDeadline{5};

Object AccessReview(const PermissionCheck& check) {
  Object attributes;
  if (!check.ns.empty()) attributes["namespace"] = check.ns;
  attributes["verb"] = check.verb;
  attributes["group"] = check.group;
  attributes["resource"] = check.resource;
  if (!check.subresource.empty()) attributes["subresource"] = check.subresource;
  Object spec;
  spec["resourceAttributes"] = std::move(attributes);
  Object review;
  review["apiVersion"] = "authorization.k8s.io/v1";
  review["kind"] = "SelfSubjectAccessReview";
  review["spec"] = std::move(spec);
  return review;
}

// Reads the first event of the watch, or its end; cancels it if the server keeps it open too long.
Result<std::string> ProbeWatch(hostclient::WatchStream& watch) {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  bool timed_out = false;
  std::thread guard([&] {
    std::unique_lock lock(mutex);
    if (!done_cv.wait_for(lock, kWatchDeadline, [&] { return done; })) {
      timed_out = true;
      watch.Cancel();
    }
  });
  auto event = watch.Next();
  {
    std::lock_guard lock(mutex);
    done = true;
  }
  done_cv.notify_all();
  guard.join();
  watch.Cancel();
  if (!event && timed_out) {
    return fmt::format("no events, stream still open after {} s", kWatchDeadline.count());
  }
  if (!event) return tl::unexpected(event.error());
  if (!event->has_value()) return std::string("no events within the watch's timeout");
  return fmt::format("first event {}", hostclient::ToString((*event)->type));
}

}  // namespace

std::vector<FlagSpec> CheckFlagSpecs() {
  return {{"kubeconfig", true},
          {"context", true},
          {"role", true},
          {"namespace", true},
          {"help", false}};
}

Result<CheckOptions> ParseCheckOptions(const ParsedArgs& args) {
  if (!args.positional.empty()) {
    return MakeError(ErrorCode::kConfig,
                     "check: unexpected argument \"" + args.positional.front() + "\"");
  }
  CheckOptions options;
  for (const ParsedFlag& flag : args.flags) {
    if (flag.name == "kubeconfig") options.kubeconfig = flag.value;
    if (flag.name == "context") options.context = flag.value;
    if (flag.name == "namespace") options.ns = flag.value;
    if (flag.name == "role") {
      if (flag.value == "virtual") {
        options.role = Role::kVirtual;
      } else if (flag.value == "host") {
        options.role = Role::kHost;
      } else {
        return MakeError(ErrorCode::kConfig,
                         "check: --role: \"" + flag.value + "\" is not one of host, virtual");
      }
    }
  }
  return options;
}

int RunCheck(const CheckOptions& options, std::ostream& out, std::ostream& err) {
  hostclient::KubeconfigOptions load;
  if (!options.kubeconfig.empty()) load.paths.push_back(options.kubeconfig);
  load.context = options.context;
  load.cluster_name = ToString(options.role);
  auto config = hostclient::LoadKubeconfig(load);
  if (!config) {
    err << "vkubelet check: " << config.error().message() << "\n";
    return config.error().code() == ErrorCode::kConfig ? 2 : 1;
  }
  std::string ns = options.ns;
  if (options.role == Role::kHost && ns.empty()) ns = config->default_namespace;

  hostclient::RestClientOptions client_options;
  // An interactive command: fail fast instead of retrying for long.
  client_options.max_retries = 1;
  client_options.request_timeout = std::chrono::seconds(10);
  client_options.transport.connect_timeout = std::chrono::seconds(5);
  client_options.user_agent = "vkubelet-check";
  auto client = hostclient::RestClient::Create(*config, client_options);
  if (!client) {
    err << "vkubelet check: " << client.error().message() << "\n";
    return client.error().code() == ErrorCode::kConfig ? 2 : 1;
  }
  out << "server: " << config->server << " (role " << ToString(options.role);
  if (options.role == Role::kHost) out << ", namespace " << ns;
  out << ")\n";
  return CheckCluster(**client, options.role, ns, out, err);
}

int CheckCluster(hostclient::RestClient& client, Role role, std::string_view ns, std::ostream& out,
                 std::ostream& err) {
  auto body = client.RawGet("/version");
  if (!body) {
    err << "vkubelet check: cannot reach the API server: " << body.error().ToString() << "\n";
    return 1;
  }
  auto version = ParseServerVersion(*body);
  if (!version) {
    err << "vkubelet check: unexpected answer to /version: " << version.error().ToString() << "\n";
    return 1;
  }
  out << "server version: " << version->git_version;
  if (!version->platform.empty()) out << " (" << version->platform << ")";
  out << "\n";

  int missing = 0;
  out << "permissions (" << ToString(role) << " role):\n";
  for (const PermissionCheck& check : RequiredChecks(role, ns)) {
    auto review =
        client.Create(hostclient::resources::SelfSubjectAccessReviews(), "", AccessReview(check));
    if (!review) {
      err << "vkubelet check: access review for \"" << check.ToString()
          << "\" failed: " << review.error().ToString() << "\n";
      return 1;
    }
    const boost::json::value* allowed = obj::Find(*review, {"status", "allowed"});
    const bool ok = allowed != nullptr && allowed->is_bool() && allowed->get_bool();
    if (!ok) ++missing;
    out << fmt::format("  {:<8} {}", ok ? "ok" : "MISSING", check.ToString());
    const std::string_view reason = obj::String(*review, {"status", "reason"});
    if (!ok && !reason.empty()) out << "  (" << reason << ")";
    out << "\n";
  }

  // Permissions granted on paper can still fail in practice (webhooks, aggregated APIs): prove
  // that list and watch work for real.
  bool works = true;
  const std::string list_ns(role == Role::kHost ? ns : std::string_view());
  hostclient::ListOptions list_options;
  list_options.limit = 1;
  auto list = client.List(hostclient::resources::Pods(), list_ns, list_options);
  if (!list) {
    works = false;
    out << "list pods: FAILED: " << list.error().ToString() << "\n";
  } else {
    const boost::json::value* items = obj::Find(*list, {"items"});
    const size_t count = items != nullptr && items->is_array() ? items->get_array().size() : 0;
    out << "list pods: ok (" << count << (count == 1 ? " item" : " items") << ")\n";
    hostclient::ListOptions watch_options;
    watch_options.resource_version =
        std::string(obj::String(*list, {"metadata", "resourceVersion"}));
    watch_options.timeout_seconds = 1;
    auto watch = client.Watch(hostclient::resources::Pods(), list_ns, watch_options);
    Result<std::string> watched =
        watch ? ProbeWatch(**watch) : Result<std::string>(tl::unexpected(watch.error()));
    if (watched) {
      out << "watch pods: ok (" << *watched << ")\n";
    } else {
      works = false;
      out << "watch pods: FAILED: " << watched.error().ToString() << "\n";
    }
  }

  if (missing > 0) {
    out << missing << (missing == 1 ? " permission" : " permissions") << " missing\n";
  }
  if (missing > 0 || !works) return 1;
  out << "all checks passed\n";
  return 0;
}

}  // namespace vk::kubelet
