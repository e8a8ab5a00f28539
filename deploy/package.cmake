# CPack settings of the Debian package pprocd_VERSION_ARCH.deb (cpack -G
# DEB, run by scripts/package): the server, pproc, the C++ client library
# and headers, the plugin SDK header and deploy/'s files, installed under
# /usr (the config file under /etc). Depends come from dpkg-shlibdeps on the
# binaries, plus adduser for the postinst.

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME pprocd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "pprocd maintainers <maintainers@users.noreply.h-seed-673b1ef8.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "process farm served over gRPC")
set(CPACK_PACKAGE_DESCRIPTION
    "pprocd keeps a pool of worker processes and runs registered callables in\n"
    "them for any client over gRPC: maps over many items, queues, background\n"
    "jobs that outlive their caller, and command callables written in any\n"
    "language. A crash, a timeout or a memory error fails one item, never the\n"
    "server.\n"
    "\n"
    "This package has the server (pprocd) with its systemd service and socket\n"
    "units, run as the pprocd system user, the command-line client (pproc),\n"
    "the C++ client library with its headers, and the plugin SDK header.")
# The lines above are list items: no semicolon in them.
string(JOIN "" CPACK_PACKAGE_DESCRIPTION ${CPACK_PACKAGE_DESCRIPTION})
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS adduser)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/debian/conffiles
    ${CMAKE_CURRENT_LIST_DIR}/debian/postinst
    ${CMAKE_CURRENT_LIST_DIR}/debian/prerm
    ${CMAKE_CURRENT_LIST_DIR}/debian/postrm)

include(CPack)
