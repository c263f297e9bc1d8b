# Build helpers shared by every folder. Each service folder is one library (`<name>_lib`, every
# .cc that is not main.cc, a *_test.cc or a *_fuzz.cc), one tiny binary (main.cc) and one gtest
# binary (every *_test.cc), so adding a file never needs a CMake edit.

set(PORTUNUS_GEN_DIR ${CMAKE_BINARY_DIR}/gen)
file(MAKE_DIRECTORY ${PORTUNUS_GEN_DIR})

# Warnings for project code only (generated code is compiled without -Werror).
function(portunus_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-missing-field-initializers)
  if(PORTUNUS_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    target_compile_options(${target} PRIVATE -Werror=unused-result)
  endif()
endfunction()

# portunus_proto_library(NAME <target> PROTOS <paths relative to proto/> [DEPS <targets>] [GRPC])
# Generates C++ (and gRPC stubs when GRPC is given) into build/gen and compiles it into a
# static library. Generated headers stay out of widely included headers: include them only in
# transport files (grpc_*.cc, gateway routes).
function(portunus_proto_library)
  cmake_parse_arguments(P "GRPC" "NAME" "PROTOS;DEPS" ${ARGN})
  set(srcs)
  set(abs_protos)
  foreach(proto ${P_PROTOS})
    get_filename_component(dir ${proto} DIRECTORY)
    get_filename_component(base ${proto} NAME_WE)
    set(out_base ${PORTUNUS_GEN_DIR}/${dir}/${base})
    set(outputs ${out_base}.pb.cc ${out_base}.pb.h)
    set(grpc_args)
    if(P_GRPC)
      list(APPEND outputs ${out_base}.grpc.pb.cc ${out_base}.grpc.pb.h)
      set(grpc_args --grpc_out=${PORTUNUS_GEN_DIR}
          --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>)
    endif()
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND protobuf::protoc
      ARGS --proto_path=${PROJECT_SOURCE_DIR}/proto --cpp_out=${PORTUNUS_GEN_DIR} ${grpc_args}
           ${PROJECT_SOURCE_DIR}/proto/${proto}
      DEPENDS ${PROJECT_SOURCE_DIR}/proto/${proto} gRPC::grpc_cpp_plugin protobuf::protoc
      COMMENT "protoc ${proto}"
      VERBATIM)
    list(APPEND srcs ${out_base}.pb.cc)
    if(P_GRPC)
      list(APPEND srcs ${out_base}.grpc.pb.cc)
    endif()
  endforeach()
  add_library(${P_NAME} STATIC ${srcs})
  target_include_directories(${P_NAME} SYSTEM PUBLIC ${PORTUNUS_GEN_DIR})
  target_link_libraries(${P_NAME} PUBLIC ${P_DEPS} gRPC::grpc++ protobuf::libprotobuf)
endfunction()

# portunus_embed_migrations(TARGET <lib> SCHEMA <schema> DIR <dir of NNNN_name.sql>)
# Embeds every migration file into the library as
#   const std::vector<portunus::Migration>& portunus::<schema>::Migrations();
# so a binary carries its schema and never reads SQL from disk.
function(portunus_embed_migrations)
  cmake_parse_arguments(M "" "TARGET;SCHEMA;DIR" "" ${ARGN})
  file(GLOB sql_files CONFIGURE_DEPENDS ${M_DIR}/*.sql)
  list(SORT sql_files)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${M_SCHEMA}_migrations.cc)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DSCHEMA=${M_SCHEMA} "-DFILES=${sql_files}"
            -P ${PROJECT_SOURCE_DIR}/cmake/EmbedMigrations.cmake
    DEPENDS ${sql_files} ${PROJECT_SOURCE_DIR}/cmake/EmbedMigrations.cmake
    COMMENT "embedding ${M_SCHEMA} migrations"
    VERBATIM)
  add_library(${M_TARGET} STATIC ${out})
  target_link_libraries(${M_TARGET} PUBLIC portunus_common)
endfunction()

# Registers every gtest case of `target` with ctest. All of them may use the shared test
# PostgreSQL (services/common/testing/test_database.h).
function(portunus_discover_tests target label)
  gtest_discover_tests(${target} DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS ${label} TIMEOUT 300 FIXTURES_REQUIRED pg
               ENVIRONMENT "PORTUNUS_TEST_PG_URI=${PORTUNUS_TEST_PG_URI}")
endfunction()

# portunus_service(NAME <svc> BINARY <binary name> DEPS <libs> [TEST_DEPS <libs>])
# <svc>_lib from the folder's sources, <BINARY> from main.cc, <svc>_tests from *_test.cc.
function(portunus_service)
  cmake_parse_arguments(S "" "NAME;BINARY" "DEPS;TEST_DEPS" ${ARGN})
  file(GLOB lib_srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  list(FILTER lib_srcs EXCLUDE REGEX "(_test|_fuzz|/main)\\.cc$")
  add_library(${S_NAME}_lib STATIC ${lib_srcs})
  target_include_directories(${S_NAME}_lib PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${S_NAME}_lib PUBLIC ${S_DEPS} portunus_common)
  portunus_warnings(${S_NAME}_lib)
  if(S_BINARY)
    add_executable(${S_BINARY} main.cc)
    target_link_libraries(${S_BINARY} PRIVATE ${S_NAME}_lib)
    portunus_warnings(${S_BINARY})
  endif()
  if(PORTUNUS_BUILD_TESTS)
    file(GLOB test_srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc)
    if(test_srcs)
      add_executable(${S_NAME}_tests ${test_srcs})
      target_link_libraries(${S_NAME}_tests PRIVATE ${S_NAME}_lib ${S_TEST_DEPS}
                            portunus_common_testing GTest::gmock GTest::gtest_main)
      portunus_warnings(${S_NAME}_tests)
      portunus_discover_tests(${S_NAME}_tests unit)
    endif()
  endif()
  # libFuzzer targets: one binary per *_fuzz.cc (only with -DPORTUNUS_FUZZ=ON and clang).
  if(PORTUNUS_FUZZ)
    file(GLOB fuzz_srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_fuzz.cc)
    foreach(src ${fuzz_srcs})
      get_filename_component(fuzz_name ${src} NAME_WE)
      add_executable(${fuzz_name} ${src})
      target_link_libraries(${fuzz_name} PRIVATE ${S_NAME}_lib)
      target_compile_options(${fuzz_name} PRIVATE -fsanitize=fuzzer)
      target_link_options(${fuzz_name} PRIVATE -fsanitize=fuzzer)
      portunus_warnings(${fuzz_name})
    endforeach()
  endif()
endfunction()
