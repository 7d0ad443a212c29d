# Compiler flags, warnings, sanitizers, ccache and a fast linker.
find_program(VK_CCACHE ccache)
if(VK_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${VK_CCACHE})
endif()

find_program(VK_MOLD mold)
if(VK_MOLD)
  add_link_options(-fuse-ld=mold)
endif()

add_compile_options(-Wall -Wextra)
if(VK_WERROR)
  add_compile_options(-Werror)
endif()

# Asio's deprecated APIs stay out so that we never come to depend on them.
add_compile_definitions(BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_DISABLE_BOOST_COROUTINE)

if(VK_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  # Line tables are all a sanitizer report needs; full debug info made this build several times
  # larger on disk (CI machines may have little).
  add_compile_options(-g1)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # clang 14 cannot compile coroutines with -fsanitize=function (part of "undefined").
    add_compile_options(-fno-sanitize=function)
  endif()
  add_link_options(-fsanitize=address,undefined)
endif()
