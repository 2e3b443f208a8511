# report: evaluation metrics, the JSON writer, the font loader and the PNG
# reports of app/. The tests compile only the app/ sources they exercise, so
# they build even while other app/ modules are in flux.
set(EMOCAM_APP_DIR ${PROJECT_SOURCE_DIR}/app)

emocam_test(test_metrics app 30 test_metrics.c m)
target_sources(test_metrics PRIVATE ${EMOCAM_APP_DIR}/metrics.c ${EMOCAM_APP_DIR}/json_out.c)
target_include_directories(test_metrics PRIVATE ${EMOCAM_APP_DIR})

emocam_test(test_report app 60 test_report.c
  PkgConfig::SDL2 PkgConfig::SDL2_TTF PkgConfig::SDL2_IMAGE m)
target_sources(test_report PRIVATE ${EMOCAM_APP_DIR}/report.c ${EMOCAM_APP_DIR}/report_charts.c
  ${EMOCAM_APP_DIR}/report_canvas.c ${EMOCAM_APP_DIR}/font.c ${EMOCAM_APP_DIR}/metrics.c
  ${EMOCAM_APP_DIR}/json_out.c)
target_include_directories(test_report PRIVATE ${EMOCAM_APP_DIR})
# Surfaces need no display; the dummy driver keeps SDL away from any X/Wayland.
set_tests_properties(test_report PROPERTIES ENVIRONMENT "SDL_VIDEODRIVER=dummy")
