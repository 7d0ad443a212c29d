#include "tests/kubesim/authn.h"

#include <openssl/rand.h>

#include <algorithm>

namespace vk::kubesim {

bool UserInfo::InGroup(std::string_view group) const {
  return std::find(groups.begin(), groups.end(), group) != groups.end();
}

std::string RandomToken(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    // OpenSSL's CSPRNG only fails when it cannot be seeded, which a test server cannot survive.
    std::abort();
  }
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : raw) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

Authenticator::Authenticator(bool allow_anonymous, const Clock* clock)
    : clock_(clock), allow_anonymous_(allow_anonymous) {}

void Authenticator::SetAllowAnonymous(bool allow) {
  std::lock_guard lock(mutex_);
  allow_anonymous_ = allow;
}

void Authenticator::SetBindingValidator(BindingValidator validator) {
  std::lock_guard lock(mutex_);
  validator_ = std::move(validator);
}

void Authenticator::AddToken(const std::string& token, UserInfo user) {
  std::lock_guard lock(mutex_);
  tokens_[token] = std::move(user);
}

void Authenticator::RemoveToken(const std::string& token) {
  std::lock_guard lock(mutex_);
  tokens_.erase(token);
}

std::string Authenticator::IssueServiceAccountToken(const ServiceAccountBinding& binding,
                                                    std::chrono::seconds expiration,
                                                    std::vector<std::string> audiences) {
  if (audiences.empty()) audiences.emplace_back(kApiServerAudience);
  std::string token = "kubesim-sa." + RandomToken(32);
  std::lock_guard lock(mutex_);
  const auto now = clock_->Now();
  std::erase_if(sa_tokens_, [now](const auto& entry) { return entry.second.expires <= now; });
  sa_tokens_[token] = ServiceAccountToken{binding, now + expiration, std::move(audiences)};
  return token;
}

UserInfo Authenticator::WithAuthenticatedGroup(UserInfo user) {
  if (!user.InGroup(kAuthenticatedGroup)) user.groups.emplace_back(kAuthenticatedGroup);
  return user;
}

UserInfo Authenticator::ServiceAccountUser(const ServiceAccountBinding& b) {
  UserInfo user;
  user.name = "system:serviceaccount:" + b.ns + ":" + b.name;
  user.uid = b.uid;
  user.groups = {"system:serviceaccounts", "system:serviceaccounts:" + b.ns, kAuthenticatedGroup};
  if (b.bound_kind == "Pod") {
    user.extra["authentication.kubernetes.io/pod-name"] = {b.bound_name};
    user.extra["authentication.kubernetes.io/pod-uid"] = {b.bound_uid};
  }
  return user;
}

std::optional<Authenticator::TokenResult> Authenticator::AuthenticateToken(
    const std::string& token, const std::vector<std::string>& audiences) const {
  const std::vector<std::string> wanted =
      audiences.empty() ? std::vector<std::string>{kApiServerAudience} : audiences;
  ServiceAccountBinding binding;
  std::vector<std::string> matched;
  BindingValidator validator;
  {
    std::lock_guard lock(mutex_);
    if (auto it = tokens_.find(token); it != tokens_.end()) {
      // Static tokens are valid for the API server's audiences, as --token-auth-file tokens.
      if (std::find(wanted.begin(), wanted.end(), kApiServerAudience) == wanted.end()) {
        return std::nullopt;
      }
      return TokenResult{WithAuthenticatedGroup(it->second), {kApiServerAudience}};
    }
    auto it = sa_tokens_.find(token);
    if (it == sa_tokens_.end()) return std::nullopt;
    if (it->second.expires <= clock_->Now()) {
      sa_tokens_.erase(it);
      return std::nullopt;
    }
    for (const auto& a : it->second.audiences) {
      if (std::find(wanted.begin(), wanted.end(), a) != wanted.end()) matched.push_back(a);
    }
    if (matched.empty()) return std::nullopt;
    binding = it->second.binding;
    validator = validator_;
  }
  if (validator && !validator(binding)) return std::nullopt;
  return TokenResult{ServiceAccountUser(binding), std::move(matched)};
}

Result<UserInfo> Authenticator::Authenticate(const Credentials& credentials) const {
  if (credentials.cert_common_name) {
    UserInfo user;
    user.name = *credentials.cert_common_name;
    user.groups = credentials.cert_organizations;
    return WithAuthenticatedGroup(std::move(user));
  }
  if (credentials.bearer_token) {
    if (auto result = AuthenticateToken(*credentials.bearer_token, {})) {
      return std::move(result->user);
    }
    return MakeError(ErrorCode::kUnauthorized, "Unauthorized");
  }
  bool anonymous;
  {
    std::lock_guard lock(mutex_);
    anonymous = allow_anonymous_;
  }
  if (!anonymous) return MakeError(ErrorCode::kUnauthorized, "Unauthorized");
  UserInfo user;
  user.name = kAnonymousUser;
  user.groups = {kUnauthenticatedGroup};
  return user;
}

}  // namespace vk::kubesim
