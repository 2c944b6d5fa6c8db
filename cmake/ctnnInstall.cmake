# install() rules and a relocatable package config, so another project can
# find_package(ctnn) and link ctnn::ctnn.
include(CMakePackageConfigHelpers)

install(TARGETS ctnn EXPORT ctnnTargets)
install(DIRECTORY include/ctnn DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(CTNN_CMAKE_DIR ${CMAKE_INSTALL_DATADIR}/cmake/ctnn)
install(EXPORT ctnnTargets NAMESPACE ctnn:: DESTINATION ${CTNN_CMAKE_DIR})
configure_package_config_file(cmake/ctnnConfig.cmake.in
    ${PROJECT_BINARY_DIR}/ctnnConfig.cmake INSTALL_DESTINATION ${CTNN_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ctnnConfigVersion.cmake
    COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES
    ${PROJECT_BINARY_DIR}/ctnnConfig.cmake
    ${PROJECT_BINARY_DIR}/ctnnConfigVersion.cmake
    cmake/ctnnDependencies.cmake
    DESTINATION ${CTNN_CMAKE_DIR})
