#include <iostream>
#include <string>
#include <vector>

#include "kubelet/cli.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return vk::kubelet::RunCli(args, vk::kubelet::ProcessEnvironment(), std::cout, std::cerr);
}
