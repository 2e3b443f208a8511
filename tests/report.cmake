# report: evaluation metrics, the JSON writer, the font loader and the PNG
# reports of app/. The tests compile only the app/ sources they exercise, so
# they build even while other app/ modules are in flux.
set(EMOCAM_APP_DIR ${PROJECT_SOURCE_DIR}/app)

emocam_test(test_metrics app 30 test_metrics.c m)
target_sources(test_metrics PRIVATE ${EMOCAM_APP_DIR}/metrics.c ${EMOCAM_APP_DIR}/json_out.c)
target_include_directories(test_metrics PRIVATE ${EMOCAM_APP_DIR})
