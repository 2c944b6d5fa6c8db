# One step of the downstream-project test, STEP:
#   install           configure ctnn into WORK_DIR/ctnn-build and install it into
#                     WORK_DIR/prefix (the fixture find_package and device need)
#   find_package      tests/package/consumer with find_package(ctnn)
#   add_subdirectory  the same consumer with add_subdirectory
#   device            tests/package/device_consumer with find_package(ctnn
#                     COMPONENTS cuda thrust)
# The steps are tests of their own so that CTest runs the three builds side
# by side and beside the other tests: as one test they took 74 s in CI, the
# longest.
# The consumers are built without optimisation (build type None): the test is
# whether they find, compile against and link ctnn, and -O3 would only add
# the optimiser's minutes to CI.

function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output
                    ERROR_VARIABLE output)
    if(NOT result EQUAL 0)
        string(REPLACE ";" " " command "${ARGN}")
        message(FATAL_ERROR "failed: ${command}\n${output}")
    endif()
    message(STATUS "${output}")
endfunction()

if(STEP STREQUAL "install")
    file(REMOVE_RECURSE ${WORK_DIR}/ctnn-build ${WORK_DIR}/prefix)
    run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/ctnn-build -DCMAKE_BUILD_TYPE=Release
        -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix -DCTNN_BUILD_EXAMPLES=OFF -DCTNN_BUILD_TESTS=OFF
        -DCTNN_BUILD_BENCH=OFF)
    run(${CMAKE_COMMAND} --install ${WORK_DIR}/ctnn-build)
elseif(STEP STREQUAL "find_package")
    file(REMOVE_RECURSE ${WORK_DIR}/installed)
    run(${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/installed -DCMAKE_BUILD_TYPE=None
        -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
    run(${CMAKE_COMMAND} --build ${WORK_DIR}/installed)
    run(${WORK_DIR}/installed/consumer)
elseif(STEP STREQUAL "add_subdirectory")
    file(REMOVE_RECURSE ${WORK_DIR}/subdirectory)
    run(${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/subdirectory -DCMAKE_BUILD_TYPE=None
        -DCTNN_SOURCE_DIR=${SOURCE_DIR})
    run(${CMAKE_COMMAND} --build ${WORK_DIR}/subdirectory)
    run(${WORK_DIR}/subdirectory/consumer)
elseif(STEP STREQUAL "device")
    # Through find_package only: as a subdirectory it would get ctnn::cuda and
    # ctnn::thrust from the code that defines them for this build tree too
    # (cmake/ctnnDevice.cmake, whether ctnn is the top project or not).
    # CUDA_FLAGS and CUDA_ARCHITECTURES: the test tree's own, so that its
    # cuda.cu compiles as cheaply as the test tree's CUDA sources.
    file(REMOVE_RECURSE ${WORK_DIR}/device-installed)
    run(${CMAKE_COMMAND} -S ${DEVICE_CONSUMER_DIR} -B ${WORK_DIR}/device-installed
        -DCMAKE_BUILD_TYPE=None -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix
        "-DCMAKE_CUDA_FLAGS=${CUDA_FLAGS}" "-DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCHITECTURES}")
    run(${CMAKE_COMMAND} --build ${WORK_DIR}/device-installed -j 2)
    run(${WORK_DIR}/device-installed/thrust_consumer)
    run(${WORK_DIR}/device-installed/cuda_consumer)
else()
    message(FATAL_ERROR "tests/package/check.cmake: unknown STEP '${STEP}'")
endif()
