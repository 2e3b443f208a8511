/* fakecam: an LD_PRELOAD library that emulates a UVC webcam for the real
 * libv4l2 path, since CI has no camera and cannot load vivid/v4l2loopback.
 * Environment (read at each open of the device):
 *   FAKECAM_DEVICE        path of the fake node (default /dev/video-fake0)
 *   FAKECAM_FORMATS       "yuyv,mjpeg" (default), "yuyv" or "mjpeg"; "h264"
 *                         is listed and settable but never streams (REQBUFS
 *                         fails): libv4l2 cannot convert it to RGB24
 *   FAKECAM_SIZES         "640x480,320x240" (default)
 *   FAKECAM_BUSY=1        open fails with EBUSY
 *   FAKECAM_META=1        a metadata node (no VIDEO_CAPTURE capability)
 *   FAKECAM_UNPLUG_AFTER=N   after N frames the device vanishes (ENODEV)
 *   FAKECAM_RETURN_AFTER=S   ... and comes back S seconds later
 * Frames are fakecam_pattern() of the frame number, at the granted rate.
 */
#ifndef FAKECAM_H
#define FAKECAM_H

#include <stddef.h>
#include <stdint.h>

size_t fakecam_render_yuyv(uint8_t *dst, int w, int h, int64_t seq);
/* Returns the JPEG size, 0 if it failed or did not fit in cap bytes. */
size_t fakecam_render_mjpeg(uint8_t *dst, size_t cap, int w, int h, int64_t seq);

#endif
