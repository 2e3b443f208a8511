# capture: crop-and-resize, replay, the ring hand-off and the real V4L2 path
# against an LD_PRELOAD fake camera (tests/fakecam).
emocam_test(test_capture_crop capture 60 test_capture_crop.c capture m)
emocam_test(test_capture_video capture 120 test_capture_video.c capture m)
