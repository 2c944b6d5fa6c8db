# Builds tests/package/consumer against ctnn twice: installed into a scratch
# prefix and found with find_package(ctnn), and as a subdirectory; with
# WITH_CUDA, tests/package/device_consumer (find_package(ctnn COMPONENTS cuda
# thrust)) against the installed one.
file(REMOVE_RECURSE ${WORK_DIR})
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

run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/ctnn-build -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix -DCTNN_BUILD_EXAMPLES=OFF -DCTNN_BUILD_TESTS=OFF
    -DCTNN_BUILD_BENCH=OFF)
run(${CMAKE_COMMAND} --install ${WORK_DIR}/ctnn-build)

run(${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/installed -DCMAKE_BUILD_TYPE=None
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/installed)
run(${WORK_DIR}/installed/consumer)

run(${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/subdirectory -DCMAKE_BUILD_TYPE=None
    -DCTNN_SOURCE_DIR=${SOURCE_DIR})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/subdirectory)
run(${WORK_DIR}/subdirectory/consumer)

# The device consumer through find_package only: as a subdirectory it would
# get ctnn::cuda and ctnn::thrust from the code that defines them for this
# build tree too (cmake/ctnnDevice.cmake, whether ctnn is the top project or
# not), and its two nvcc builds were a third of this test's 85 s, the last
# test CTest waited for.
if(WITH_CUDA)
    run(${CMAKE_COMMAND} -S ${DEVICE_CONSUMER_DIR} -B ${WORK_DIR}/device-installed
        -DCMAKE_BUILD_TYPE=None -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
    run(${CMAKE_COMMAND} --build ${WORK_DIR}/device-installed -j 2)
    run(${WORK_DIR}/device-installed/thrust_consumer)
    run(${WORK_DIR}/device-installed/cuda_consumer)
endif()
