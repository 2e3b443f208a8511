# Integration tests that drive the emocam binary: exit codes and messages of
# error paths, training runs, predict and eval. Each case is a function of
# tests/cli_test.sh, run as its own ctest.
set(EMOCAM_CLI_CASES usage train_errors predict_errors train_tiny train_resume train_swa
    train_reproducible eval_report fer_subset finetune)
foreach(case ${EMOCAM_CLI_CASES})
  add_test(NAME cli_${case}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli_test.sh ${case}
      $<TARGET_FILE:emocam> ${EMOCAM_FIXTURES} ${EMOCAM_SHARED_DATA} ${PROJECT_SOURCE_DIR})
  set_tests_properties(cli_${case} PROPERTIES LABELS cli TIMEOUT 600 SKIP_RETURN_CODE 77
    ENVIRONMENT "SDL_VIDEODRIVER=dummy")
endforeach()
