# app: training-time augmentation; the live path: smoothing, the window's
# rendering read back under SDL's dummy video driver (no display needed; the
# offscreen driver works too but loads EGL, which leaks under
# LeakSanitizer), and integration tests: the
# emocam binary (headless replay, screenshot, signals, camera unplug, errors)
# and cmd_live in process (keys and window close).
emocam_test(test_smoothing app 30 test_smoothing.c emocam_app m)
emocam_test(test_augment app 30 test_augment.c emocam_app m)
emocam_test(test_faces app 30 test_faces.c emocam_app m)
emocam_test(test_window app 120 test_window.c emocam_app)
# test_support.c: the tiny model the live-path tests share.
target_sources(test_window PRIVATE test_support.c)
set(APP_NO_DISPLAY "SDL_VIDEODRIVER=dummy;SDL_RENDER_DRIVER=software")
set_tests_properties(test_window PROPERTIES ENVIRONMENT "${APP_NO_DISPLAY}")

# emocam_live_program(NAME libs...): a test program run once per scenario
# (argv[1]), so it is built here rather than with emocam_test.
function(emocam_live_program name)
  add_executable(${name} ${name}.c test_support.c)
  target_link_libraries(${name} PRIVATE ${ARGN})
  target_compile_definitions(${name} PRIVATE
    EMOCAM_FIXTURES="${EMOCAM_FIXTURES}" EMOCAM_SHARED_DATA="${EMOCAM_SHARED_DATA}"
    EMOCAM_BIN="$<TARGET_FILE:emocam>" FAKECAM_LIB="$<TARGET_FILE:fakecam>"
    EMOCAM_SOURCE_ASSETS="${PROJECT_SOURCE_DIR}/assets")
  add_dependencies(${name} emocam fakecam)
endfunction()

# The emocam binary, one scenario per ctest.
emocam_live_program(test_live nn PkgConfig::SDL2 PkgConfig::SDL2_IMAGE m)
foreach(scenario headless rows1050 predict screenshot sigint_window sigterm_window
        sigint_headless sigterm_headless unplug disconnect_window reconnect_window record
        fallback errors faces)
  add_test(NAME test_live_${scenario} COMMAND test_live ${scenario})
  set_tests_properties(test_live_${scenario} PROPERTIES LABELS app TIMEOUT 60 SKIP_RETURN_CODE 77)
endforeach()
set_tests_properties(test_live_predict PROPERTIES TIMEOUT 180)
set_tests_properties(test_live_faces PROPERTIES TIMEOUT 300)
if(EMOCAM_SANITIZE)
  # The fake camera is preloaded ahead of the sanitizer runtime (see capture.cmake).
  set_tests_properties(test_live_sigint_headless test_live_sigterm_headless test_live_unplug
    test_live_disconnect_window test_live_reconnect_window test_live_record PROPERTIES ENVIRONMENT "ASAN_OPTIONS=verify_asan_link_order=0")
endif()

# Keys and window close, in process: cmd_live on the main thread, SDL events
# pushed from a helper thread.
emocam_live_program(test_live_keys emocam_app)
foreach(scenario quit escape close pause keys)
  add_test(NAME test_live_keys_${scenario} COMMAND test_live_keys ${scenario})
  set_tests_properties(test_live_keys_${scenario} PROPERTIES LABELS app TIMEOUT 60
    ENVIRONMENT "${APP_NO_DISPLAY}")
endforeach()

# face_framing: where the face detector's box sits on training faces (not a
# test; the FRAMING_* constants of app/faces.c come from it).
add_executable(face_framing bench/face_framing.c)
target_link_libraries(face_framing PRIVATE capture PkgConfig::SDL2 PkgConfig::SDL2_IMAGE)
