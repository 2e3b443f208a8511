# nn: the CNN library's tests (label nn) and the benchmark program.
# The tests include nn's private headers for test hooks (fixed dropout masks).
foreach(t test_nn test_nn_grad test_nn_arch)
  emocam_test(${t} nn 60 ${t}.c nn)
  target_include_directories(${t} PRIVATE ${PROJECT_SOURCE_DIR}/nn/src)
  target_compile_definitions(${t} PRIVATE EMOCAM_ARCH_DIR="${PROJECT_SOURCE_DIR}/assets/arch")
endforeach()

# bench_nn: training and inference speed of an .arch file (not a test).
add_executable(bench_nn bench/bench_nn.c)
target_link_libraries(bench_nn PRIVATE nn)
