# face detection: the Haar cascade reader and the Viola-Jones detector.
# "" needs nothing outside the tree; detect needs opencv-data's cascade (skips
# without it); wild also needs ../shared/data (skips without it).
emocam_test(test_capture_face capture 60 test_capture_face.c capture m)
add_test(NAME test_capture_face_detect COMMAND test_capture_face detect)
set_tests_properties(test_capture_face_detect PROPERTIES LABELS capture TIMEOUT 60 SKIP_RETURN_CODE 77)
add_test(NAME test_capture_face_wild COMMAND test_capture_face wild)
set_tests_properties(test_capture_face_wild PROPERTIES LABELS capture TIMEOUT 240 SKIP_RETURN_CODE 77)
# Counts the allocations of libcapture.a's code in the detect scenario (the
# wrappers are in the test; shared libraries' calls are not redirected).
target_link_options(test_capture_face PRIVATE -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc)
