# tr_pure(target): target is made of pure modules (no I/O libraries). Its
# link line already keeps it from calling nng, hiredis, h2o or protobuf-c
# (its tests link it alone); this also fails the build when one of its
# sources includes a header of theirs, directly or through another header
# (cmake/check_pure.cmake reads the compiler's list of included files).
# The check runs on every build of the target: a fraction of a second.
function(tr_pure target)
  get_target_property(srcs ${target} SOURCES)
  set(abs "")
  foreach(s IN LISTS srcs)
    get_filename_component(a ${s} ABSOLUTE BASE_DIR ${CMAKE_SOURCE_DIR})
    list(APPEND abs ${a})
  endforeach()
  string(REPLACE ";" "|" abs "${abs}")
  add_custom_target(${target}_is_pure
    COMMAND ${CMAKE_COMMAND} -DCC=${CMAKE_C_COMPILER} -DTARGET=${target}
            "-DINCLUDES=$<JOIN:$<TARGET_PROPERTY:${target},INCLUDE_DIRECTORIES>,|>"
            "-DSOURCES=${abs}"
            -P ${CMAKE_SOURCE_DIR}/cmake/check_pure.cmake
    COMMENT "checking that ${target} includes no I/O library"
    VERBATIM)
  add_dependencies(${target} ${target}_is_pure)
endfunction()
