# install.cmake — libcutune as an installed library: the shared library (versioned soname,
# only cutune_* exported), `cmake --install` rules, cutune.pc and the CMake package.
#
# The shared library links the system's shared third-party libraries (Debian's static
# archives are not position-independent); the static one and the CLI keep theirs inside, so
# the CLI still runs on a GPU machine that lacks them. Sanitized builds skip the shared
# library: an instrumented .so would need the sanitizer runtime in every application.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(CUTUNE_SHARED_LIBS jansson z xxhash sqlite3 urcu-cds urcu-bp urcu-common lapacke openblas)
# what an application linking libcutune.a needs after it (pkg-config --static, CMake)
set(CUTUNE_STATIC_LIBS ${CUTUNE_SHARED_LIBS} gfortran quadmath dl pthread m)
# the CMake package's static target links the very archives the CLI links, so that an
# application built with it runs, like the CLI, where those libraries are not installed
set(CUTUNE_STATIC_DEP_PATHS ${JANSSON_LIBRARY} ${ZLIB_STATIC} ${XXHASH_LIBRARY} ${SQLITE_LIBRARY}
    ${URCU_CDS_LIBRARY} ${URCU_BP_LIBRARY} ${URCU_COMMON_LIBRARY} ${LAPACKE_LIBRARY}
    ${OPENBLAS_LIBRARY} ${FORTRAN_RUNTIME})
set(CUTUNE_STATIC_LIBDIRS "")
if(CUTUNE_HAVE_CUDA)
  list(INSERT CUTUNE_STATIC_LIBS 0 cudart_static rt)
  set(CUTUNE_STATIC_LIBDIRS "-L${CUDAToolkit_LIBRARY_DIR} ")
endif()

if(NOT CUTUNE_SANITIZE AND NOT CUTUNE_FUZZ)
  set(CUTUNE_BUILD_SHARED ON)
  add_library(cutune_shared SHARED)
  target_link_libraries(cutune_shared PRIVATE cutune_objects ${CUTUNE_SHARED_LIBS}
                        ${CMAKE_DL_LIBS} Threads::Threads m)
  if(CUTUNE_HAVE_CUDA) # the runtime inside, hidden by the version script, as in the CLI
    target_link_libraries(cutune_shared PRIVATE CUDA::cudart_static)
  endif()
  set(map ${PROJECT_SOURCE_DIR}/src/libcutune.map)
  target_link_options(cutune_shared PRIVATE "LINKER:--version-script=${map}"
                      "LINKER:--no-undefined" "LINKER:--exclude-libs,ALL")
  set_target_properties(cutune_shared PROPERTIES OUTPUT_NAME cutune
                        VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
                        LINK_DEPENDS ${map})
else()
  set(CUTUNE_BUILD_SHARED OFF)
endif()

# The man page comes from the CLI's own --help texts (scripts/gen_man.sh); the committed
# copy is installed, and test_man checks that it is up to date.
install(TARGETS cutune_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS cutune ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
if(CUTUNE_BUILD_SHARED)
  install(TARGETS cutune_shared LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
install(FILES include/cutune.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES man/cutune.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
# the shipped kernels and their specs, for applications to launch (examples/app)
file(GLOB shipped_kernels ${PROJECT_SOURCE_DIR}/kernels/*.cu ${PROJECT_SOURCE_DIR}/kernels/*.json)
install(FILES ${shipped_kernels} DESTINATION ${CMAKE_INSTALL_DATADIR}/cutune/kernels)
install(DIRECTORY examples/app/ DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/cutune/examples/app)

# pkg-config: relocatable through ${pcfiledir}
file(RELATIVE_PATH pc_to_prefix "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" pc_to_prefix "${pc_to_prefix}")
list(TRANSFORM CUTUNE_STATIC_LIBS PREPEND "-l" OUTPUT_VARIABLE static_flags)
string(JOIN " " CUTUNE_PC_LIBS_PRIVATE ${CUTUNE_STATIC_LIBDIRS}${static_flags})
configure_file(cmake/cutune.pc.in cutune.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cutune.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# CMake: find_package(cutune) gives cutune::cutune (shared when built, else static) and
# cutune::cutune_static
set(CUTUNE_CONFIG_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/cutune)
configure_package_config_file(cmake/cutune-config.cmake.in cutune-config.cmake
                              INSTALL_DESTINATION ${CUTUNE_CONFIG_DIR}
                              PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR
                                        CMAKE_INSTALL_DATADIR)
write_basic_package_version_file(cutune-config-version.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cutune-config.cmake
              ${PROJECT_BINARY_DIR}/cutune-config-version.cmake
        DESTINATION ${CUTUNE_CONFIG_DIR})
