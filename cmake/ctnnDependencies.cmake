# The packages ctnn's headers need, found again by an installed ctnnConfig.cmake.
include(CMakeFindDependencyMacro)
find_dependency(xtensor)
find_dependency(Boost 1.74)
find_dependency(ZLIB)
find_dependency(Threads)
find_dependency(OpenMP COMPONENTS CXX)
