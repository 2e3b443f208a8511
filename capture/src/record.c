/* record: lossless FFV1-in-Matroska writer for camera sessions. RGB24 is
 * stored as BGR0, the 8-bit RGB layout FFV1 codes (a byte shuffle: exact both
 * ways), so a replay gives back the very pixels that were captured.
 */
#include "record.h"

#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "capture.h"
#include "util.h"

struct recorder {
  char path[1024];
  AVFormatContext *oc;
  AVCodecContext *enc;
  AVStream *st;
  AVFrame *frame;
  AVPacket *pkt;
  int64_t last_pts; /* milliseconds */
  int header_written;
};

static void recorder_free(recorder *r) {
  if (!r) return;
  av_packet_free(&r->pkt);
  av_frame_free(&r->frame);
  avcodec_free_context(&r->enc);
  if (r->oc) {
    if (r->oc->pb) avio_closep(&r->oc->pb);
    avformat_free_context(r->oc);
  }
  free(r);
}

static int recorder_fail(recorder *r, int code, const char *what, char *err, size_t errlen) {
  char e[128];
  av_strerror(code, e, sizeof(e));
  cap_msg(err, errlen, "%s: %s: %s", r->path, what, e);
  return CAPTURE_ERROR;
}

int recorder_open(recorder **out, const char *path, int width, int height, double fps,
                  char *err, size_t errlen) {
  *out = NULL;
  /* capture/ never prints: libav's own messages would go to stderr. */
  if (av_log_get_level() == AV_LOG_INFO) av_log_set_level(AV_LOG_QUIET);
  recorder *r = calloc(1, sizeof(*r));
  if (!r) {
    cap_msg(err, errlen, "%s: out of memory for the recorder", path);
    return CAPTURE_ERROR;
  }
  snprintf(r->path, sizeof(r->path), "%s", path);
  r->last_pts = -1;
  const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_FFV1);
  int ret = avformat_alloc_output_context2(&r->oc, NULL, "matroska", path);
  if (ret < 0 || !codec) {
    if (!codec) cap_msg(err, errlen, "%s: this FFmpeg has no FFV1 encoder", path);
    else recorder_fail(r, ret, "cannot create a Matroska file", err, errlen);
    recorder_free(r);
    return CAPTURE_ERROR;
  }
  r->enc = avcodec_alloc_context3(codec);
  r->st = avformat_new_stream(r->oc, NULL);
  r->frame = av_frame_alloc();
  r->pkt = av_packet_alloc();
  if (!r->enc || !r->st || !r->frame || !r->pkt) {
    cap_msg(err, errlen, "%s: out of memory for the recorder", path);
    recorder_free(r);
    return CAPTURE_ERROR;
  }
  r->enc->width = width;
  r->enc->height = height;
  r->enc->pix_fmt = AV_PIX_FMT_BGR0;
  r->enc->time_base = (AVRational){1, 1000};
  r->enc->framerate = av_d2q(fps > 0 ? fps : 30, 1000);
  r->enc->level = 3;
  r->enc->gop_size = 1;
  if (r->oc->oformat->flags & AVFMT_GLOBALHEADER) r->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  if ((ret = avcodec_open2(r->enc, codec, NULL)) < 0 ||
      (ret = avcodec_parameters_from_context(r->st->codecpar, r->enc)) < 0) {
    recorder_fail(r, ret, "cannot set up the FFV1 encoder", err, errlen);
    recorder_free(r);
    return CAPTURE_ERROR;
  }
  r->st->time_base = r->enc->time_base;
  r->st->avg_frame_rate = r->enc->framerate;
  if ((ret = avio_open(&r->oc->pb, path, AVIO_FLAG_WRITE)) < 0) {
    recorder_fail(r, ret, "cannot create the recording", err, errlen);
    recorder_free(r);
    return CAPTURE_ERROR;
  }
  if ((ret = avformat_write_header(r->oc, NULL)) < 0) {
    recorder_fail(r, ret, "cannot write the Matroska header", err, errlen);
    recorder_free(r);
    return CAPTURE_ERROR;
  }
  r->header_written = 1;
  r->frame->format = AV_PIX_FMT_BGR0;
  r->frame->width = width;
  r->frame->height = height;
  if ((ret = av_frame_get_buffer(r->frame, 0)) < 0) {
    recorder_fail(r, ret, "out of memory for a frame", err, errlen);
    recorder_close(r, NULL, 0);
    return CAPTURE_ERROR;
  }
  *out = r;
  return CAPTURE_OK;
}

/* Sends frame (NULL: flush) and writes every packet the encoder returns. */
static int recorder_encode(recorder *r, AVFrame *frame, char *err, size_t errlen) {
  int ret = avcodec_send_frame(r->enc, frame);
  if (ret < 0) return recorder_fail(r, ret, "FFV1 encoding failed", err, errlen);
  for (;;) {
    ret = avcodec_receive_packet(r->enc, r->pkt);
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return CAPTURE_OK;
    if (ret < 0) return recorder_fail(r, ret, "FFV1 encoding failed", err, errlen);
    av_packet_rescale_ts(r->pkt, r->enc->time_base, r->st->time_base);
    r->pkt->stream_index = r->st->index;
    ret = av_interleaved_write_frame(r->oc, r->pkt);
    if (ret < 0) return recorder_fail(r, ret, "writing the recording failed", err, errlen);
  }
}

int recorder_write(recorder *r, const uint8_t *rgb, double pts_s, char *err, size_t errlen) {
  int ret = av_frame_make_writable(r->frame);
  if (ret < 0) return recorder_fail(r, ret, "out of memory for a frame", err, errlen);
  AVFrame *f = r->frame;
  int w = f->width;
  for (int y = 0; y < f->height; y++) {
    const uint8_t *s = rgb + (size_t)y * w * 3;
    uint8_t *d = f->data[0] + (size_t)y * f->linesize[0];
    for (int x = 0; x < w; x++, s += 3, d += 4) {
      d[0] = s[2];
      d[1] = s[1];
      d[2] = s[0];
      d[3] = 0;
    }
  }
  int64_t pts = (int64_t)(pts_s * 1000.0 + 0.5);
  if (pts <= r->last_pts) pts = r->last_pts + 1; /* Matroska needs increasing times */
  r->last_pts = pts;
  f->pts = pts;
  return recorder_encode(r, f, err, errlen);
}

int recorder_close(recorder *r, char *err, size_t errlen) {
  if (!r) return CAPTURE_OK;
  int rc = CAPTURE_OK;
  if (r->header_written) {
    rc = recorder_encode(r, NULL, err, errlen);
    int ret = av_write_trailer(r->oc);
    if (ret < 0 && rc == CAPTURE_OK) rc = recorder_fail(r, ret, "cannot finish the recording", err, errlen);
  }
  recorder_free(r);
  return rc;
}
