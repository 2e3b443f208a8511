/* fakecam_frames: renders the test pattern of frame `seq` as YUYV, or as a
 * JPEG (YUVJ422P, like UVC webcams send) with libavcodec's mjpeg encoder.
 */
#include "fakecam.h"

#include <string.h>

#include <libavcodec/avcodec.h>

#include "fakecam_pattern.h"

size_t fakecam_render_yuyv(uint8_t *dst, int w, int h, int64_t seq) {
  for (int y = 0; y < h; y++) {
    uint8_t *row = dst + (size_t)y * w * 2;
    for (int x = 0; x + 1 < w; x += 2) {
      uint8_t a[3], b[3];
      int y0, y1, u0, u1, v0, v1;
      fakecam_pattern(x, y, seq, a);
      fakecam_pattern(x + 1, y, seq, b);
      fakecam_rgb_to_yuv(a, &y0, &u0, &v0);
      fakecam_rgb_to_yuv(b, &y1, &u1, &v1);
      row[x * 2 + 0] = (uint8_t)y0;
      row[x * 2 + 1] = (uint8_t)((u0 + u1 + 1) / 2);
      row[x * 2 + 2] = (uint8_t)y1;
      row[x * 2 + 3] = (uint8_t)((v0 + v1 + 1) / 2);
    }
  }
  return (size_t)w * h * 2;
}

size_t fakecam_render_mjpeg(uint8_t *dst, size_t cap, int w, int h, int64_t seq) {
  size_t n = 0;
  const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  AVCodecContext *c = codec ? avcodec_alloc_context3(codec) : NULL;
  AVFrame *f = av_frame_alloc();
  AVPacket *p = av_packet_alloc();
  if (!c || !f || !p) goto done;
  c->width = w;
  c->height = h;
  c->pix_fmt = AV_PIX_FMT_YUVJ422P;
  c->time_base = (AVRational){1, 30};
  c->flags |= AV_CODEC_FLAG_QSCALE;
  c->global_quality = FF_QP2LAMBDA * 2; /* near lossless on flat blocks */
  if (avcodec_open2(c, codec, NULL) < 0) goto done;
  f->format = c->pix_fmt;
  f->width = w;
  f->height = h;
  if (av_frame_get_buffer(f, 0) < 0) goto done;
  f->quality = c->global_quality;
  for (int y = 0; y < h; y++) {
    for (int x = 0; x + 1 < w; x += 2) {
      uint8_t a[3], b[3];
      int y0, y1, u0, u1, v0, v1;
      fakecam_pattern(x, y, seq, a);
      fakecam_pattern(x + 1, y, seq, b);
      fakecam_rgb_to_yuv(a, &y0, &u0, &v0);
      fakecam_rgb_to_yuv(b, &y1, &u1, &v1);
      f->data[0][y * f->linesize[0] + x] = (uint8_t)y0;
      f->data[0][y * f->linesize[0] + x + 1] = (uint8_t)y1;
      f->data[1][y * f->linesize[1] + x / 2] = (uint8_t)((u0 + u1 + 1) / 2);
      f->data[2][y * f->linesize[2] + x / 2] = (uint8_t)((v0 + v1 + 1) / 2);
    }
  }
  if (avcodec_send_frame(c, f) < 0 || avcodec_receive_packet(c, p) < 0) goto done;
  if ((size_t)p->size <= cap) {
    memcpy(dst, p->data, p->size);
    n = p->size;
  }
done:
  av_packet_free(&p);
  av_frame_free(&f);
  avcodec_free_context(&c);
  return n;
}
