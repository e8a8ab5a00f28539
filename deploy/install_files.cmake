# Run by `cmake --install` (deploy/CMakeLists.txt sets the PPROCD_* paths):
# installs the systemd units with the installed server's path in ExecStart,
# the config file, the sysusers.d entry, and the package's copyright,
# changelog and lintian overrides. Paths follow GNUInstallDirs: under the
# prefix /usr the config file goes to /etc, otherwise to PREFIX/etc.

set(prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "/usr")
  set(etc_dir "/etc")
else()
  set(etc_dir "${prefix}/etc")
endif()
if(IS_ABSOLUTE "${PPROCD_SYSTEMD_UNIT_DIR}")
  set(unit_dir "${PPROCD_SYSTEMD_UNIT_DIR}")
else()
  set(unit_dir "${prefix}/${PPROCD_SYSTEMD_UNIT_DIR}")
endif()
set(source "${PPROCD_DEPLOY_SOURCE_DIR}")
set(staged "${PPROCD_DEPLOY_BINARY_DIR}/staged")
file(MAKE_DIRECTORY "${staged}")

# pprocd.service runs the installed binary with the installed config file.
file(READ "${source}/systemd/pprocd.service" unit)
set(exec_start "ExecStart=/usr/local/bin/pprocd ")
string(FIND "${unit}" "\n${exec_start}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${source}/systemd/pprocd.service: no line '${exec_start}...' to point "
                      "at the installed server")
endif()
string(REPLACE "\n${exec_start}"
       "\nExecStart=${prefix}/${PPROCD_BIN_DIR}/pprocd --config ${etc_dir}/pprocd/pprocd.toml "
       unit "${unit}")
file(WRITE "${staged}/pprocd.service" "${unit}")

set(read_only OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
file(INSTALL "${staged}/pprocd.service" "${source}/systemd/pprocd.socket"
     DESTINATION "${unit_dir}" PERMISSIONS ${read_only})
file(INSTALL "${source}/debian/pprocd.toml" DESTINATION "${etc_dir}/pprocd"
     PERMISSIONS ${read_only})
file(INSTALL "${source}/debian/pprocd.sysusers" DESTINATION "${prefix}/lib/sysusers.d"
     RENAME pprocd.conf PERMISSIONS ${read_only})

# Debian wants the changelog compressed with gzip -9 and no timestamp (-n).
execute_process(COMMAND gzip -9 -n -c "${source}/debian/changelog"
                OUTPUT_FILE "${staged}/changelog.gz" RESULT_VARIABLE gzip_result)
if(NOT gzip_result EQUAL 0)
  message(FATAL_ERROR "gzip of ${source}/debian/changelog failed: ${gzip_result}")
endif()
file(INSTALL "${source}/debian/copyright" "${staged}/changelog.gz"
     DESTINATION "${prefix}/${PPROCD_DOC_DIR}" PERMISSIONS ${read_only})
file(INSTALL "${source}/debian/lintian-overrides" DESTINATION "${prefix}/share/lintian/overrides"
     RENAME pprocd PERMISSIONS ${read_only})
