# Compiles SOURCE and passes only if compilation fails with exactly one error
# whose text contains the "// expect:" line of SOURCE, and whose diagnostic
# also mentions every "// expect-context:" line (the layer and shapes).
file(STRINGS ${SOURCE} expect_lines REGEX "^// expect: ")
file(STRINGS ${SOURCE} context_lines REGEX "^// expect-context: ")
if(NOT expect_lines)
    message(FATAL_ERROR "${SOURCE} has no '// expect:' line")
endif()
list(GET expect_lines 0 expected)
string(REGEX REPLACE "^// expect: " "" expected "${expected}")

# With the precompiled <ctnn/ctnn.hpp> that tests/CMakeLists.txt builds, when
# it exists and no header is newer (gcc would use a stale one without a word).
set(pch_flags)
if(PCH AND EXISTS "${PCH}")
    file(GLOB_RECURSE headers "${INCLUDE_DIRS}/ctnn/*.hpp")
    set(pch_flags -include ${HEADER})
    if(PCH_KIND STREQUAL "clang")
        set(pch_flags -include-pch ${PCH})
    endif()
    foreach(header ${headers})
        if("${header}" IS_NEWER_THAN "${PCH}")
            set(pch_flags)
            break()
        endif()
    endforeach()
endif()
execute_process(
    COMMAND ${COMPILER} -std=c++20 -fsyntax-only -I${INCLUDE_DIRS} ${pch_flags} ${SOURCE}
    RESULT_VARIABLE result
    OUTPUT_VARIABLE output
    ERROR_VARIABLE output)
if(result EQUAL 0)
    message(FATAL_ERROR "${SOURCE} compiled, but it must fail with: ${expected}")
endif()
string(FIND "${output}" "${expected}" found)
if(found EQUAL -1)
    message(FATAL_ERROR "expected the message\n  ${expected}\ncompiler said:\n${output}")
endif()
foreach(line ${context_lines})
    string(REGEX REPLACE "^// expect-context: " "" context "${line}")
    string(FIND "${output}" "${context}" found)
    if(found EQUAL -1)
        message(FATAL_ERROR "the diagnostic does not mention '${context}':\n${output}")
    endif()
endforeach()
string(REGEX MATCHALL "error:" errors "${output}")
list(LENGTH errors error_count)
if(NOT error_count EQUAL 1)
    message(FATAL_ERROR "expected one error, the compiler gave ${error_count}:\n${output}")
endif()
message(STATUS "failed as intended: ${expected}")
