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
    cmake/ctnnDevice.cmake
    cmake/ctnnDistributed.cmake
    DESTINATION ${CTNN_CMAKE_DIR})

# ctnn::plot in an export set of its own: the installed config loads it only
# where cairo is found again, so a user without cairo still gets ctnn::ctnn.
if(TARGET ctnn_plot)
    install(TARGETS ctnn_plot EXPORT ctnnPlotTargets)
    install(EXPORT ctnnPlotTargets NAMESPACE ctnn:: DESTINATION ${CTNN_CMAKE_DIR})
    install(FILES cmake/FindCairo.cmake DESTINATION ${CTNN_CMAKE_DIR})
endif()

# ctnn::hdf5 likewise, loaded where HDF5 is found again.
if(TARGET ctnn_hdf5)
    install(TARGETS ctnn_hdf5 EXPORT ctnnHdf5Targets)
    install(EXPORT ctnnHdf5Targets NAMESPACE ctnn:: DESTINATION ${CTNN_CMAKE_DIR})
endif()
