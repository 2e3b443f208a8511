# capture: crop-and-resize, replay, the ring hand-off and the real V4L2 path
# against an LD_PRELOAD fake camera (tests/fakecam).
emocam_test(test_capture_crop capture 60 test_capture_crop.c capture m)
emocam_test(test_capture_video capture 120 test_capture_video.c capture m)

# The fake UVC camera: an LD_PRELOAD library interposing libv4l2's syscalls.
add_library(fakecam SHARED fakecam/fakecam.c fakecam/fakecam_frames.c)
set_target_properties(fakecam PROPERTIES POSITION_INDEPENDENT_CODE ON C_EXTENSIONS ON)
# Never instrumented: a preloaded library runs before a sanitizer runtime is
# initialised (instrumented code there faults on unmapped shadow memory).
set_target_properties(fakecam PROPERTIES COMPILE_OPTIONS "-Wall;-Wextra;-fPIC" LINK_OPTIONS "")
target_link_libraries(fakecam PRIVATE PkgConfig::AVCODEC PkgConfig::AVUTIL ${CMAKE_DL_LIBS} Threads::Threads)

# One scenario per ctest, each with its own fake-camera environment.
emocam_test(test_capture_camera capture 30 test_capture_camera.c capture m)
target_include_directories(test_capture_camera PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
add_dependencies(test_capture_camera fakecam)
set(FAKECAM_ENV "LD_PRELOAD=$<TARGET_FILE:fakecam>")
if(EMOCAM_SANITIZE)
  # The sanitizer runtime is not first in the preload list; its interceptors
  # still run behind the fake's (they are what RTLD_NEXT finds).
  list(APPEND FAKECAM_ENV "ASAN_OPTIONS=verify_asan_link_order=0")
endif()
set_tests_properties(test_capture_camera PROPERTIES ENVIRONMENT "${FAKECAM_ENV};FAKECAM_FORMATS=yuyv")
foreach(scenario mjpeg busy faults noformat unplug reconnect record)
  add_test(NAME test_capture_camera_${scenario} COMMAND test_capture_camera ${scenario})
  set_tests_properties(test_capture_camera_${scenario} PROPERTIES LABELS capture TIMEOUT 30 SKIP_RETURN_CODE 77)
endforeach()
set_tests_properties(test_capture_camera_mjpeg PROPERTIES ENVIRONMENT "${FAKECAM_ENV};FAKECAM_FORMATS=mjpeg")
set_tests_properties(test_capture_camera_busy PROPERTIES ENVIRONMENT "${FAKECAM_ENV};FAKECAM_BUSY=1")
set_tests_properties(test_capture_camera_faults PROPERTIES ENVIRONMENT "${FAKECAM_ENV}")
set_tests_properties(test_capture_camera_noformat PROPERTIES ENVIRONMENT "${FAKECAM_ENV};FAKECAM_FORMATS=h264")
set_tests_properties(test_capture_camera_unplug PROPERTIES ENVIRONMENT "${FAKECAM_ENV};FAKECAM_UNPLUG_AFTER=10")
set_tests_properties(test_capture_camera_reconnect PROPERTIES ENVIRONMENT "${FAKECAM_ENV};FAKECAM_UNPLUG_AFTER=10;FAKECAM_RETURN_AFTER=1.5")
set_tests_properties(test_capture_camera_record PROPERTIES ENVIRONMENT "${FAKECAM_ENV}")

# bench_video lives in app/ (emocam bench --video); compiled in directly so the
# test does not depend on the rest of the app.
emocam_test(test_capture_bench capture 120 test_capture_bench.c capture)
target_sources(test_capture_bench PRIVATE ${PROJECT_SOURCE_DIR}/app/bench_video.c)
target_include_directories(test_capture_bench PRIVATE ${PROJECT_SOURCE_DIR}/app)

# The hand-off under stress; with the fake camera so its thread runs too.
emocam_test(test_capture_threads capture 120 test_capture_threads.c capture)
set_tests_properties(test_capture_threads PROPERTIES ENVIRONMENT "${FAKECAM_ENV}")
if(EMOCAM_TSAN)
  # Only meaningful in a ThreadSanitizer build: any race report fails it.
  add_test(NAME test_capture_tsan COMMAND test_capture_threads)
  set_tests_properties(test_capture_tsan PROPERTIES LABELS "capture;tsan" TIMEOUT 300
    ENVIRONMENT "${FAKECAM_ENV};TSAN_OPTIONS=halt_on_error=1 exitcode=66 report_signal_unsafe=0")
endif()
