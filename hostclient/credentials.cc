// Credentials::Create: picks the credential source for a cluster with client-go's precedence.

#include "hostclient/credentials.h"

#include <spdlog/spdlog.h>

#include "hostclient/base/base64.h"
#include "hostclient/base/text.h"
#include "hostclient/exec_credentials.h"
#include "hostclient/token_file_credentials.h"

namespace vk::hostclient {
namespace {

// A header fixed for the life of the process: a static token, basic auth, or none.
class StaticCredentials : public Credentials {
 public:
  explicit StaticCredentials(std::string header) : header_(std::move(header)) {}
  Result<std::string> AuthorizationHeader() override { return header_; }
  void Invalidate() override {}

 private:
  const std::string header_;
};

}  // namespace

// client-go's order: a token (the file's, when readable, else the static one) or basic auth
// (never both); an exec plugin only when neither they nor a client certificate identify us.
Result<CredentialsPtr> Credentials::Create(const ClusterConfig& config, Clock& clock) {
  const std::string who = "cluster \"" + config.name + "\"";
  const bool has_token = !config.token.empty() || !config.token_file.empty();
  const bool has_basic = !config.username.empty() || !config.password.empty();
  if (has_token && has_basic) {
    return MakeError(ErrorCode::kConfig,
                     who + ": a bearer token and username/password are both set; use one");
  }
  if (HasControlCharacters(config.token)) {
    return MakeError(ErrorCode::kConfig, who + ": the token contains control characters");
  }
  if (!config.token_file.empty()) {
    return CredentialsPtr(
        std::make_unique<TokenFileCredentials>(config.token_file, config.token, clock));
  }
  if (!config.token.empty()) {
    return CredentialsPtr(std::make_unique<StaticCredentials>("Bearer " + config.token));
  }
  if (has_basic) {
    if (config.username.find(':') != std::string::npos) {
      return MakeError(ErrorCode::kConfig, who + ": a basic auth username cannot contain ':'");
    }
    return CredentialsPtr(std::make_unique<StaticCredentials>(
        "Basic " + Base64Encode(config.username + ":" + config.password)));
  }
  if (config.exec) {
    if (!config.client_cert_pem.empty()) {
      spdlog::warn("{}: a client certificate is configured, so the exec plugin {} is not used", who,
                   config.exec->command);
      return CredentialsPtr(std::make_unique<StaticCredentials>(std::string()));
    }
    auto exec = ExecCredentials::Create(*config.exec, config);
    if (!exec) return tl::unexpected(exec.error());
    return CredentialsPtr(std::move(*exec));
  }
  return CredentialsPtr(std::make_unique<StaticCredentials>(std::string()));
}

}  // namespace vk::hostclient
