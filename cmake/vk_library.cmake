# vk_library(<name> <sources...>): a static library, or an interface library while a folder has
# no sources yet, so that the tree configures at every commit.
function(vk_library name)
  if(ARGN)
    add_library(${name} STATIC ${ARGN})
  else()
    add_library(${name} INTERFACE)
  endif()
endfunction()

# vk_link(<name> PUBLIC ... PRIVATE ...): target_link_libraries that also works for the interface
# form (where everything becomes INTERFACE).
function(vk_link name)
  get_target_property(type ${name} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    cmake_parse_arguments(ARG "" "" "PUBLIC;PRIVATE" ${ARGN})
    target_link_libraries(${name} INTERFACE ${ARG_PUBLIC})
  else()
    target_link_libraries(${name} ${ARGN})
  endif()
endfunction()
