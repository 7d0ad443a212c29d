#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "hostclient/base/clock.h"
#include "hostclient/base/error.h"

namespace vk::kubesim {

// An authenticated identity (authentication.k8s.io/v1 UserInfo).
struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;

  bool InGroup(std::string_view group) const;
};

inline constexpr char kAnonymousUser[] = "system:anonymous";
inline constexpr char kUnauthenticatedGroup[] = "system:unauthenticated";
inline constexpr char kAuthenticatedGroup[] = "system:authenticated";
// The audience every token must carry to authenticate against the API server itself (the
// default issuer of kube-apiserver).
inline constexpr char kApiServerAudience[] = "https://kubernetes.default.svc.cluster.local";

// What a service-account token is bound to; checked again on every use, as kube-apiserver does
// (a token dies with its service account or its bound object).
struct ServiceAccountBinding {
  std::string ns;
  std::string name;        // service account
  std::string uid;         // service account uid
  std::string bound_kind;  // "", "Pod" or "Secret"
  std::string bound_name;
  std::string bound_uid;
};

// The credentials a request presented.
struct Credentials {
  std::optional<std::string> bearer_token;
  // A client certificate that verified against the client CA: subject CN and O entries.
  std::optional<std::string> cert_common_name;
  std::vector<std::string> cert_organizations;
};

// Authenticates requests the way kube-apiserver's union authenticator does: a verified client
// certificate (CN = user, O = groups) first, then bearer tokens (static tokens, then
// service-account tokens minted by TokenRequest). A request without credentials is anonymous
// when allowed. Every authenticated user also belongs to system:authenticated.
// Thread-safe: tokens may be added and removed while requests are served.
class Authenticator {
 public:
  // Says whether a service-account binding is still valid (the service account and the bound
  // object exist with the same UIDs). Called without the authenticator's lock held.
  using BindingValidator = std::function<bool(const ServiceAccountBinding&)>;

  explicit Authenticator(bool allow_anonymous = false, const Clock* clock = &Clock::Real());

  void SetAllowAnonymous(bool allow);
  void SetBindingValidator(BindingValidator validator);

  // Static token (as --token-auth-file). Replaces an existing entry for the same token.
  void AddToken(const std::string& token, UserInfo user);
  void RemoveToken(const std::string& token);

  // Mints an opaque random token that authenticates as the service account until expiration
  // (measured on the injected clock), for the given audiences.
  std::string IssueServiceAccountToken(const ServiceAccountBinding& binding,
                                       std::chrono::seconds expiration,
                                       std::vector<std::string> audiences);

  // The user of a token valid for at least one of the audiences (the API server's own audience
  // when audiences is empty), with the audiences it matched. nullopt for an unknown, expired or
  // unbound token.
  struct TokenResult {
    UserInfo user;
    std::vector<std::string> audiences;
  };
  std::optional<TokenResult> AuthenticateToken(const std::string& token,
                                               const std::vector<std::string>& audiences) const;

  // kUnauthorized when credentials were presented but none is valid, or when none were
  // presented and anonymous access is off.
  Result<UserInfo> Authenticate(const Credentials& credentials) const;

 private:
  struct ServiceAccountToken {
    ServiceAccountBinding binding;
    Clock::TimePoint expires;
    std::vector<std::string> audiences;
  };

  static UserInfo WithAuthenticatedGroup(UserInfo user);
  static UserInfo ServiceAccountUser(const ServiceAccountBinding& binding);

  const Clock* clock_;
  mutable std::mutex mutex_;
  bool allow_anonymous_;
  BindingValidator validator_;
  std::unordered_map<std::string, UserInfo> tokens_;
  mutable std::unordered_map<std::string, ServiceAccountToken> sa_tokens_;
};

// Random bytes as URL-safe base64 without padding (OpenSSL RAND_bytes).
std::string RandomToken(size_t bytes);

}  // namespace vk::kubesim
