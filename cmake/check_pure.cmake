# check_pure.cmake: fail when a pure module includes a header of an I/O
# library. Run with cmake -P (see cmake/pure.cmake):
#   -DCC=<compiler> -DTARGET=<name> -DINCLUDES="a|b" -DSOURCES="x.c|y.c"
string(REPLACE "|" ";" incs "${INCLUDES}")
string(REPLACE "|" ";" srcs "${SOURCES}")
set(flags -D_GNU_SOURCE)
foreach(i IN LISTS incs)
  list(APPEND flags "-I${i}")
endforeach()
# What a pure module must not see: the network (nng), Redis (hiredis), HTTP
# (h2o, libuv) and the wire format (protobuf-c and the code it generates).
set(forbidden "/nng/" "/hiredis/" "/h2o/" "/h2o\\.h" "/uv\\.h"
    "/protobuf-c/" "\\.pb-c\\.h")
foreach(src IN LISTS srcs)
  execute_process(COMMAND ${CC} -M ${flags} ${src}
                  OUTPUT_VARIABLE deps ERROR_VARIABLE err
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${TARGET} is pure, and ${src} does not compile "
                        "with its include folders alone:\n${err}")
  endif()
  foreach(bad IN LISTS forbidden)
    if(deps MATCHES "[^ ]*${bad}[^ ]*")
      message(FATAL_ERROR "${TARGET} is pure, but ${src} includes "
                          "${CMAKE_MATCH_0}")
    endif()
  endforeach()
endforeach()
