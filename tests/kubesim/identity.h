#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace vk::kubesim {

// Mints metadata.uid values (random UUID v4) and generateName suffixes (5 characters from kube's
// alphabet of consonants and digits that cannot spell words). Not thread-safe: Storage calls it
// under its lock.
class IdGenerator {
 public:
  explicit IdGenerator(uint64_t seed) : rng_(seed) {}
  std::string Uid();
  std::string NameSuffix(size_t length = 5);

 private:
  std::mt19937_64 rng_;
};

}  // namespace vk::kubesim
