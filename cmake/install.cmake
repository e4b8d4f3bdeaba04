# install.cmake: what `cmake --install` puts where, and the Debian
# packages cpack makes of it (docs/OPERATIONS.md says why each is so).
#
#   bin      stockd, trgate, ticketctl; their man pages; systemd units;
#            settings in <sysconfdir>/ticketrush; the docs
#   lib      libticketrush.so.<soversion> (the client library)
#   dev      include/ticketrush/, libticketrush.so and .a, the pkg-config
#            file, the CMake package, ticketrush.proto
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# ---- libticketrush ----------------------------------------------------------
# What a service needs to call stock nodes: the client, the envelopes, the
# generated messages and the error names. Compiled once (position
# independent) for both libraries. Linked against nng and protobuf-c only;
# the version script exports the public API alone.
set(TR_LIB_SOVERSION 0)
add_library(ticketrush_objects OBJECT client/tr_client.c
            lib/wire/tr_envelope.c lib/base/tr_err.c
            ${TR_GEN_DIR}/ticketrush.pb-c.c)
set_target_properties(ticketrush_objects PROPERTIES
  POSITION_INDEPENDENT_CODE ON)
target_include_directories(ticketrush_objects PRIVATE
  ${CMAKE_SOURCE_DIR}/include/ticketrush ${CMAKE_SOURCE_DIR}/lib/wire
  ${TR_GEN_DIR})
target_link_libraries(ticketrush_objects PRIVATE nng::nng
                      PkgConfig::PROTOBUFC)

set(TR_LIB_INCLUDES
  $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include>
  $<BUILD_INTERFACE:${TR_GEN_DIR}>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

add_library(ticketrush SHARED $<TARGET_OBJECTS:ticketrush_objects>)
set_target_properties(ticketrush PROPERTIES VERSION ${PROJECT_VERSION}
  SOVERSION ${TR_LIB_SOVERSION}
  LINK_DEPENDS ${CMAKE_SOURCE_DIR}/cmake/ticketrush.map)
target_include_directories(ticketrush INTERFACE ${TR_LIB_INCLUDES})
target_link_libraries(ticketrush PRIVATE nng::nng PkgConfig::PROTOBUFC)
target_link_options(ticketrush PRIVATE
  -Wl,--version-script=${CMAKE_SOURCE_DIR}/cmake/ticketrush.map)
# A symbol the library needs and does not link fails here, not in a service
# that links it (sanitized builds leave the runtime to the executable).
if(NOT TR_SANITIZE)
  target_link_options(ticketrush PRIVATE -Wl,--no-undefined)
endif()

add_library(ticketrush_static STATIC $<TARGET_OBJECTS:ticketrush_objects>)
set_target_properties(ticketrush_static PROPERTIES OUTPUT_NAME ticketrush)
target_include_directories(ticketrush_static INTERFACE ${TR_LIB_INCLUDES})
# A static library carries no dependencies: who links it links these.
target_link_libraries(ticketrush_static INTERFACE nng::nng
  $<BUILD_INTERFACE:PkgConfig::PROTOBUFC> $<INSTALL_INTERFACE:protobuf-c>)

install(TARGETS ticketrush EXPORT ticketrushTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib
    NAMELINK_COMPONENT dev)
install(TARGETS ticketrush_static EXPORT ticketrushTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(FILES include/ticketrush/tr_client.h include/ticketrush/tr_err.h
              ${TR_GEN_DIR}/ticketrush.pb-c.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ticketrush COMPONENT dev)
install(FILES proto/ticketrush.proto
        DESTINATION ${CMAKE_INSTALL_DATADIR}/ticketrush COMPONENT dev)

# find_package(ticketrush): ticketrush::ticketrush (shared) and
# ticketrush::ticketrush_static. The targets file finds its own prefix, so
# the package works wherever it was installed.
set(TR_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ticketrush)
install(EXPORT ticketrushTargets NAMESPACE ticketrush::
        DESTINATION ${TR_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(cmake/ticketrushConfig.cmake.in
  ${CMAKE_BINARY_DIR}/pkg/ticketrushConfig.cmake
  INSTALL_DESTINATION ${TR_CMAKE_DIR})
write_basic_package_version_file(
  ${CMAKE_BINARY_DIR}/pkg/ticketrushConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/pkg/ticketrushConfig.cmake
              ${CMAKE_BINARY_DIR}/pkg/ticketrushConfigVersion.cmake
        DESTINATION ${TR_CMAKE_DIR} COMPONENT dev)

# pkg-config ticketrush. Written when installing, not when configuring:
# `cmake --install --prefix P` must put P in it.
install(CODE "
  set(prefix \"\${CMAKE_INSTALL_PREFIX}\")
  set(libdir \"${CMAKE_INSTALL_LIBDIR}\")
  set(includedir \"${CMAKE_INSTALL_INCLUDEDIR}\")
  set(version \"${PROJECT_VERSION}\")
  configure_file(\"${CMAKE_SOURCE_DIR}/cmake/ticketrush.pc.in\"
    \"${CMAKE_BINARY_DIR}/pkg/ticketrush.pc\" @ONLY)
  file(INSTALL \"${CMAKE_BINARY_DIR}/pkg/ticketrush.pc\"
    DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig\")
" COMPONENT dev)

# ---- the binaries, their settings and units ----------------------------------
install(TARGETS stockd trgate ticketctl
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT bin)
install(FILES README.md docs/ARCHITECTURE.md docs/HTTP-API.md
              docs/GATEWAY.md docs/OPERATIONS.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT bin)

# Settings: one file for every node, one per node id, one for the gateway
# (examples for a node n1 on this host; see docs/OPERATIONS.md). Under
# /usr they belong in /etc; under any other prefix they follow it, so that
# `cmake --install --prefix P` writes nothing outside P.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(TR_CONF_DEST ${CMAKE_INSTALL_FULL_SYSCONFDIR}/ticketrush)
else()
  set(TR_CONF_DEST ${CMAKE_INSTALL_SYSCONFDIR}/ticketrush)
endif()
install(FILES packaging/etc/stockd.conf packaging/etc/stockd-n1.conf
              packaging/etc/trgate.conf
        DESTINATION ${TR_CONF_DEST} COMPONENT bin)

# systemd units, with the paths of this install. tr_units(dir bindir
# confdir) writes them into dir; systemd-build/ is a set pointing at the
# build tree, for tests/test_units.sh.
function(tr_units dir bindir confdir)
  set(TR_UNIT_BINDIR ${bindir})
  set(TR_UNIT_CONFDIR ${confdir})
  foreach(u stockd@.service trgate.service)
    configure_file(${CMAKE_SOURCE_DIR}/packaging/systemd/${u}.in
                   ${dir}/${u} @ONLY)
  endforeach()
endfunction()
tr_units(${CMAKE_BINARY_DIR}/systemd ${CMAKE_INSTALL_FULL_BINDIR}
         ${CMAKE_INSTALL_FULL_SYSCONFDIR}/ticketrush)
tr_units(${CMAKE_BINARY_DIR}/systemd-build ${CMAKE_BINARY_DIR}
         ${CMAKE_SOURCE_DIR}/packaging/etc)
# <prefix>/lib/systemd/system: systemd reads /usr/lib/systemd/system;
# under another prefix the operator links them (systemctl link).
install(FILES ${CMAKE_BINARY_DIR}/systemd/stockd@.service
              ${CMAKE_BINARY_DIR}/systemd/trgate.service
        DESTINATION lib/systemd/system COMPONENT bin)

# Man pages from each binary's --help (help2man), when it is installed.
find_program(TR_HELP2MAN help2man)
if(TR_HELP2MAN)
  set(TR_MANS "")
  set(name_stockd "ticketrush stock node")
  set(name_trgate "ticketrush HTTP gateway")
  set(name_ticketctl "operate ticketrush stock nodes")
  foreach(b stockd trgate ticketctl)
    # Compressed, as Debian installs them (-n: the same bytes each build).
    add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/man/${b}.1
                              ${CMAKE_BINARY_DIR}/man/${b}.1.gz
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
      COMMAND ${TR_HELP2MAN} --no-info --no-discard-stderr
              --version-string=${PROJECT_VERSION}
              --name=${name_${b}} --output=${CMAKE_BINARY_DIR}/man/${b}.1
              $<TARGET_FILE:${b}>
      COMMAND gzip -9nkf ${CMAKE_BINARY_DIR}/man/${b}.1
      DEPENDS ${b} COMMENT "man page of ${b}" VERBATIM)
    list(APPEND TR_MANS ${CMAKE_BINARY_DIR}/man/${b}.1.gz)
  endforeach()
  add_custom_target(man ALL DEPENDS ${TR_MANS})
  install(FILES ${TR_MANS} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
          COMPONENT bin)
endif()

include(cmake/package.cmake)
