# package.cmake: the Debian packages (cpack -G DEB), split the Debian way
# for a library: the runtime library alone, its -dev package, and the
# services. Build them from a tree configured with
# -DCMAKE_INSTALL_PREFIX=/usr (settings then land in /etc):
#   cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=Release -DTR_TESTS=OFF \
#         -DCMAKE_INSTALL_PREFIX=/usr
#   cmake --build build-deb && (cd build-deb && cpack -G DEB)
set(CPACK_PACKAGE_NAME ticketrush)
set(CPACK_PACKAGE_VENDOR "ticketrush")
set(CPACK_PACKAGE_CONTACT "ticketrush maintainers <ticketrush@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "flash-sale ticket service: stock nodes, HTTP gateway, client library")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL bin lib dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# dpkg-shlibdeps names the shared libraries each package needs.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)

set(CPACK_DEBIAN_BIN_PACKAGE_NAME ticketrush)
set(CPACK_COMPONENT_BIN_DESCRIPTION "ticketrush flash-sale ticket service
 stockd (stock nodes), trgate (the HTTP gateway) and ticketctl (the
 operators' CLI), with systemd units stockd@.service and trgate.service
 and their settings in /etc/ticketrush.")
set(CPACK_DEBIAN_BIN_PACKAGE_RECOMMENDS redis-server)
set(CPACK_DEBIAN_BIN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles
    ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
    ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_BIN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_LIB_PACKAGE_NAME libticketrush${TR_LIB_SOVERSION})
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
# A shlibs file: packages built against it depend on it rightly.
set(CPACK_DEBIAN_LIB_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_COMPONENT_LIB_DESCRIPTION "ticketrush client library
 Calls ticketrush stock nodes (reserve, confirm, release, events) over
 protobuf on nng.")
set(CPACK_DEBIAN_LIB_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/triggers)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libticketrush-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DESCRIPTION "ticketrush client library: development files
 Headers (ticketrush/tr_client.h), the static library, pkg-config and
 CMake packages, and ticketrush.proto, the wire protocol for any
 language.")
set(CPACK_COMPONENT_DEV_DEPENDS lib)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libnng-dev, libprotobuf-c-dev")
include(CPack)
