# Model files (.emo): the byte codec (through its private header) and
# nn_model_save/load on real networks. Golden files: fixtures/model, written by
# `test_model --write-fixtures DIR`.
emocam_test(test_model model 60 test_model.c nn)
target_include_directories(test_model PRIVATE ${PROJECT_SOURCE_DIR}/nn/src)

# libFuzzer target for nn_model_load_buffer (configure with
# CC=clang cmake -DEMOCAM_FUZZ=ON). It compiles the nn sources itself, since
# libFuzzer's coverage needs them built with -fsanitize=fuzzer.
if(EMOCAM_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "EMOCAM_FUZZ needs clang for libFuzzer: configure with CC=clang "
                        "(Debian package 'clang')")
  endif()
  file(GLOB EMOCAM_FUZZ_NN_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/nn/src/*.c)
  add_executable(fuzz_model fuzz_model.c ${EMOCAM_FUZZ_NN_SOURCES})
  target_include_directories(fuzz_model PRIVATE ${PROJECT_SOURCE_DIR}/nn/include
                                                ${PROJECT_SOURCE_DIR}/nn/src)
  set(fuzz_flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
                 -fno-omit-frame-pointer)
  target_compile_options(fuzz_model PRIVATE ${fuzz_flags})
  target_link_options(fuzz_model PRIVATE ${fuzz_flags})
  target_link_libraries(fuzz_model PRIVATE PkgConfig::OPENBLAS Threads::Threads m)
  # New inputs go to the build tree's corpus; the shipped fixtures only seed it.
  set(fuzz_corpus ${CMAKE_CURRENT_BINARY_DIR}/fuzz_model_corpus)
  file(MAKE_DIRECTORY ${fuzz_corpus})
  add_test(NAME fuzz_model_short
           COMMAND fuzz_model -max_total_time=30 -rss_limit_mb=2048 -timeout=10
                   ${fuzz_corpus} ${EMOCAM_FIXTURES}/model)
  set_tests_properties(fuzz_model_short PROPERTIES LABELS fuzz TIMEOUT 120)
endif()
