#include "hostclient/exec_credentials.h"

#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <cctype>

#include "hostclient/base/base64.h"
#include "hostclient/base/object.h"
#include "hostclient/base/rfc3339.h"
#include "hostclient/base/text.h"
#include "hostclient/exec_runner.h"

namespace vk::hostclient {
namespace {

using WallTime = std::chrono::system_clock::time_point;

constexpr std::string_view kExecV1 = "client.authentication.k8s.io/v1";
constexpr std::string_view kExecV1Beta1 = "client.authentication.k8s.io/v1beta1";
constexpr size_t kMaxStderrInMessage = 1024;

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string BuildExecInfo(const ExecConfig& exec, const ClusterConfig& cluster) {
  boost::json::object spec;
  spec["interactive"] = false;
  if (exec.provide_cluster_info) {
    boost::json::object c;
    c["server"] = cluster.server;
    if (!cluster.tls_server_name.empty()) c["tls-server-name"] = cluster.tls_server_name;
    if (cluster.insecure_skip_tls_verify) c["insecure-skip-tls-verify"] = true;
    if (!cluster.ca_pem.empty()) c["certificate-authority-data"] = Base64Encode(cluster.ca_pem);
    if (!cluster.proxy_url.empty()) c["proxy-url"] = cluster.proxy_url;
    spec["cluster"] = std::move(c);
  }
  boost::json::object info;
  info["apiVersion"] = exec.api_version;
  info["kind"] = "ExecCredential";
  info["spec"] = std::move(spec);
  return boost::json::serialize(info);
}

}  // namespace

Result<std::unique_ptr<ExecCredentials>> ExecCredentials::Create(const ExecConfig& exec,
                                                                 const ClusterConfig& cluster,
                                                                 ExecCredentialsOptions options) {
  std::string who = "exec plugin " + Quoted(exec.command);
  if (exec.command.empty()) return MakeError(ErrorCode::kConfig, "exec plugin: command is empty");
  if (exec.api_version != kExecV1 && exec.api_version != kExecV1Beta1) {
    return MakeError(ErrorCode::kConfig, who + ": apiVersion " + Quoted(exec.api_version) +
                                             " is not supported; use " + std::string(kExecV1) +
                                             " or " + std::string(kExecV1Beta1));
  }
  if (exec.interactive_mode == "Always") {
    return MakeError(ErrorCode::kConfig,
                     who +
                         ": interactiveMode Always needs a terminal, which vkubelet never has; "
                         "use Never or IfAvailable");
  }
  if (!options.wall_clock) {
    options.wall_clock = [] { return std::chrono::system_clock::now(); };
  }
  std::string info = BuildExecInfo(exec, cluster);
  return std::unique_ptr<ExecCredentials>(
      new ExecCredentials(exec, std::move(info), std::move(options)));
}

ExecCredentials::ExecCredentials(ExecConfig exec, std::string exec_info,
                                 ExecCredentialsOptions options)
    : exec_(std::move(exec)), exec_info_(std::move(exec_info)), options_(std::move(options)) {}

bool ExecCredentials::Fresh(const Cached& cached) const {
  return !cached.expiry || options_.wall_clock() < *cached.expiry;
}

Result<std::string> ExecCredentials::AuthorizationHeader() {
  uint64_t attempts_seen;
  {
    std::lock_guard lock(mutex_);
    if (cached_ && Fresh(*cached_)) return cached_->header;
    attempts_seen = attempts_;
  }
  std::lock_guard refresh(refresh_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (attempts_ != attempts_seen) {
      // The plugin ran while this caller waited: share that run's outcome.
      if (cached_ && Fresh(*cached_)) return cached_->header;
      if (last_error_) return tl::unexpected(*last_error_);
    }
  }
  auto fresh = RunPlugin();
  std::lock_guard lock(mutex_);
  ++attempts_;
  if (!fresh) {
    last_error_ = fresh.error();
    return tl::unexpected(fresh.error());
  }
  last_error_.reset();
  cached_ = std::move(*fresh);
  return cached_->header;
}

void ExecCredentials::Invalidate() {
  std::lock_guard lock(mutex_);
  cached_.reset();
}

Result<ExecCredentials::Cached> ExecCredentials::RunPlugin() const {
  const std::string who = "exec plugin " + Quoted(exec_.command);
  ExecRequest request;
  request.command = exec_.command;
  request.args = exec_.args;
  request.env = exec_.env;
  request.env.emplace_back("KUBERNETES_EXEC_INFO", exec_info_);
  request.timeout = options_.timeout;

  auto run = RunProcess(request);
  if (!run) {
    const Error& e = run.error();
    switch (e.code()) {
      case ErrorCode::kNotFound: {
        std::string message = who + ": " + e.message() + "; the credential plugin is not installed";
        if (!exec_.install_hint.empty()) message += ". " + TrimSpace(exec_.install_hint);
        return MakeError(ErrorCode::kConfig, message);
      }
      case ErrorCode::kTimeout:
        return MakeError(ErrorCode::kTimeout, who + " did not finish within " +
                                                  std::to_string(options_.timeout.count()) + "ms");
      default: {
        Error wrapped = e;
        wrapped.Context(who);
        return tl::unexpected(std::move(wrapped));
      }
    }
  }

  std::string stderr_text = TrimSpace(run->stderr_data);
  if (stderr_text.size() > kMaxStderrInMessage) {
    stderr_text = stderr_text.substr(0, kMaxStderrInMessage) + "...";
  }
  if (run->signal != 0 || run->exit_code != 0) {
    std::string message = run->signal != 0
                              ? who + " was killed by signal " + std::to_string(run->signal)
                              : who + " failed with exit code " + std::to_string(run->exit_code);
    if (!stderr_text.empty()) message += ": " + stderr_text;
    return MakeError(ErrorCode::kUnauthorized, message);
  }

  auto doc = obj::Parse(run->stdout_data);
  if (!doc) {
    return MakeError(ErrorCode::kDecode,
                     who + ": stdout is not an ExecCredential: " + doc.error().message());
  }
  std::string_view kind = obj::Kind(*doc);
  if (kind != "ExecCredential") {
    return MakeError(ErrorCode::kDecode,
                     who + ": stdout is not an ExecCredential (kind " + Quoted(kind) + ")");
  }
  std::string_view api_version = obj::ApiVersion(*doc);
  if (api_version != exec_.api_version) {
    return MakeError(ErrorCode::kConfig, who + " is configured to use API version " +
                                             exec_.api_version + ", plugin returned version " +
                                             Quoted(api_version));
  }
  const Object* status = obj::ObjectAt(*doc, {"status"});
  if (status == nullptr) {
    return MakeError(ErrorCode::kDecode, who + ": its ExecCredential has no status");
  }
  std::string_view token = obj::String(*status, {"token"});
  bool has_cert = !obj::String(*status, {"clientCertificateData"}).empty() ||
                  !obj::String(*status, {"clientKeyData"}).empty();
  if (token.empty()) {
    if (has_cert) {
      return MakeError(ErrorCode::kConfig,
                       who +
                           " returned a client certificate, which is not supported yet; "
                           "configure the plugin to return a token");
    }
    return MakeError(ErrorCode::kDecode, who + " returned neither a token nor a certificate");
  }
  if (has_cert) {
    spdlog::warn("{} returned a token and a client certificate; using the token only", who);
  }
  if (HasControlCharacters(token)) {
    return MakeError(ErrorCode::kDecode, who + " returned a token with control characters");
  }

  Cached cached;
  cached.header = "Bearer " + std::string(token);
  if (const auto* expiry = obj::Find(*status, {"expirationTimestamp"});
      expiry != nullptr && !expiry->is_null()) {
    std::optional<WallTime> when;
    if (expiry->is_string()) {
      const auto& text = expiry->get_string();
      when = ParseRfc3339(std::string_view(text.data(), text.size()));
    }
    if (!when) {
      return MakeError(ErrorCode::kDecode,
                       who + ": status.expirationTimestamp is not an RFC 3339 time");
    }
    cached.expiry = *when;
  }
  return cached;
}

}  // namespace vk::hostclient
