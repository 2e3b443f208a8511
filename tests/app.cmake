# app (live path): smoothing, the window's rendering read back under SDL's
# offscreen driver, and integration tests driving the emocam binary
# (headless replay, screenshot, clean exits on q / window close / signals).
emocam_test(test_smoothing app 30 test_smoothing.c emocam_app m)
emocam_test(test_window app 120 test_window.c emocam_app)
set_tests_properties(test_window PROPERTIES
  ENVIRONMENT "SDL_VIDEODRIVER=offscreen;SDL_RENDER_DRIVER=software")
