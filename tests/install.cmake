# install.cmake (tests) — issue 14's tests of libcutune as an installed library: the header
# alone in C99/C11/C++17, the shared library's exports, the man page, and examples/app built
# against `cmake --install` output with find_package and with pkg-config, then run.
find_program(CUTUNE_CXX NAMES c++ g++ clang++)
add_test(NAME test_header
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/test_header.sh ${PROJECT_SOURCE_DIR}/include
                 ${CMAKE_C_COMPILER} ${CUTUNE_CXX})
add_test(NAME test_man
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/test_man.sh $<TARGET_FILE:cutune_cli>
                 ${PROJECT_SOURCE_DIR})
if(CUTUNE_BUILD_SHARED)
  set(cuda_dirs "")
  if(CUTUNE_HAVE_CUDA) # for the pkg-config build of the app (CMake finds them itself)
    list(GET CUDAToolkit_INCLUDE_DIRS 0 cuda_include)
    set(cuda_dirs ${cuda_include} ${CUDAToolkit_LIBRARY_DIR})
  endif()
  add_test(NAME test_exports
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/test_exports.sh $<TARGET_FILE:cutune_shared>
                   ${PROJECT_SOURCE_DIR}/include/cutune.h libcutune.so.${PROJECT_VERSION_MAJOR})
  add_test(NAME test_install
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/test_install.sh ${PROJECT_BINARY_DIR}
                   ${PROJECT_SOURCE_DIR} ${CMAKE_C_COMPILER} ${cuda_dirs})
  set_tests_properties(test_install PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77)
endif()
