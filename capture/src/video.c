/* video: replay of any file libavformat/libavcodec read (MP4/H.264, MKV,
 * AVI/MJPEG, WebM, even a still image), video stream only, converted to RGB24
 * with libswscale on the source's thread. Paced at the file's timestamps, or
 * as fast as the consumer takes frames. A truncated file delivers what decodes
 * and ends with a warning; corrupt packets are skipped and counted.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#include "source.h"
#include "util.h"

typedef struct {
  char path[1024];
  AVFormatContext *fmt;
  AVCodecContext *dec;
  struct SwsContext *sws;
  AVPacket *pkt;
  AVFrame *frame;
  int stream;
  int paced;
  double fps;         /* nominal, for frames without timestamps */
  int64_t nb_frames;  /* from the container, 0 if unknown */
  double duration_s;  /* of the video stream, 0 if unknown */
  int64_t seq;        /* frames published */
  double last_pts;
  double pace_t0;     /* monotonic time at which pts 0 is due (paced) */
  int pace_started;
  double pending_ms;  /* decode time not yet attributed to a frame */
} video_state;

static void video_destroy(void *impl) {
  video_state *v = impl;
  if (!v) return;
  sws_freeContext(v->sws);
  av_frame_free(&v->frame);
  av_packet_free(&v->pkt);
  avcodec_free_context(&v->dec);
  avformat_close_input(&v->fmt);
  free(v);
}

static const char *video_averr(int code, char *buf, size_t len) {
  av_strerror(code, buf, len);
  return buf;
}

/* Opens the container and the decoder of the best video stream. */
static int video_open_decoder(video_state *v, char *err, size_t errlen) {
  char e[128];
  int ret = avformat_open_input(&v->fmt, v->path, NULL, NULL);
  if (ret < 0) {
    if (ret == AVERROR(ENOENT))
      cap_msg(err, errlen, "%s: no such file", v->path);
    else if (ret == AVERROR_INVALIDDATA)
      cap_msg(err, errlen, "%s: not a video file (no known container format found)", v->path);
    else
      cap_msg(err, errlen, "%s: cannot open: %s", v->path, video_averr(ret, e, sizeof(e)));
    return CAPTURE_ERROR;
  }
  ret = avformat_find_stream_info(v->fmt, NULL);
  if (ret < 0) {
    cap_msg(err, errlen, "%s: not a readable video (%s)", v->path, video_averr(ret, e, sizeof(e)));
    return CAPTURE_ERROR;
  }
  const AVCodec *codec = NULL;
  v->stream = av_find_best_stream(v->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (v->stream == AVERROR_STREAM_NOT_FOUND) {
    cap_msg(err, errlen, "%s: has no video stream (not a video?)", v->path);
    return CAPTURE_ERROR;
  }
  AVStream *st = v->fmt->streams[v->stream < 0 ? 0 : v->stream];
  if (v->stream < 0 || !codec) {
    cap_msg(err, errlen, "%s: no decoder for its video codec '%s'", v->path,
             avcodec_get_name(st->codecpar->codec_id));
    return CAPTURE_ERROR;
  }
  v->dec = avcodec_alloc_context3(codec);
  if (!v->dec || avcodec_parameters_to_context(v->dec, st->codecpar) < 0) {
    cap_msg(err, errlen, "%s: out of memory for the decoder", v->path);
    return CAPTURE_ERROR;
  }
  v->dec->thread_count = 0; /* one per core: decode dominates headless replay */
#if defined(__SANITIZE_THREAD__)
  /* libavcodec is not instrumented: ThreadSanitizer cannot see the atomics
   * its frame threads hand frames over with and reports races inside it. */
  v->dec->thread_count = 1;
#endif
  ret = avcodec_open2(v->dec, codec, NULL);
  if (ret < 0) {
    cap_msg(err, errlen, "%s: cannot open the %s decoder: %s", v->path, codec->name,
             video_averr(ret, e, sizeof(e)));
    return CAPTURE_ERROR;
  }
  if (v->dec->width <= 0 || v->dec->height <= 0) {
    cap_msg(err, errlen, "%s: video stream has no frame size", v->path);
    return CAPTURE_ERROR;
  }
  AVRational rate = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
  v->fps = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0.0;
  v->nb_frames = st->nb_frames > 0 ? st->nb_frames : 0;
  if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
    v->duration_s = st->duration * av_q2d(st->time_base);
  else if (v->fmt->duration != AV_NOPTS_VALUE && v->fmt->duration > 0)
    v->duration_s = v->fmt->duration / (double)AV_TIME_BASE;
  v->pkt = av_packet_alloc();
  v->frame = av_frame_alloc();
  if (!v->pkt || !v->frame) {
    cap_msg(err, errlen, "%s: out of memory", v->path);
    return CAPTURE_ERROR;
  }
  return CAPTURE_OK;
}

/* Converts v->frame into the ring slot (outside the lock) and publishes it. */
static int video_publish(capture_source *src, video_state *v) {
  ring *r = src->ring;
  AVFrame *f = v->frame;
  if (f->decode_error_flags || (f->flags & AV_FRAME_FLAG_CORRUPT)) {
    ring_count_corrupt(r); /* concealed damage: skip rather than show garbage */
    return 0;
  }
  AVStream *st = v->fmt->streams[v->stream];
  double pts;
  if (f->best_effort_timestamp != AV_NOPTS_VALUE)
    pts = f->best_effort_timestamp * av_q2d(st->time_base);
  else
    pts = v->fps > 0 ? v->seq / v->fps : 0.0;
  if (st->start_time != AV_NOPTS_VALUE) pts -= st->start_time * av_q2d(st->time_base);
  if (v->paced) {
    if (!v->pace_started) {
      v->pace_t0 = ring_now() - pts;
      v->pace_started = 1;
    }
    if (ring_sleep_until(r, v->pace_t0 + pts) < 0) return -1;
  }
  int slot = ring_acquire(r);
  if (slot < 0) return -1;
  double t0 = ring_now();
  v->sws = sws_getCachedContext(v->sws, f->width, f->height, f->format, r->width, r->height,
                                AV_PIX_FMT_RGB24, SWS_BILINEAR, NULL, NULL, NULL);
  if (!v->sws) {
    ring_cancel(r, slot);
    char msg[CAPTURE_ERR_LEN];
    cap_msg(msg, sizeof(msg), "%s: cannot convert pixel format %s to RGB24", v->path,
             av_get_pix_fmt_name(f->format));
    ring_set_status(r, CAPTURE_ERROR, msg);
    return -1;
  }
  int full_range = f->color_range == AVCOL_RANGE_JPEG || f->format == AV_PIX_FMT_YUVJ420P ||
                   f->format == AV_PIX_FMT_YUVJ422P || f->format == AV_PIX_FMT_YUVJ444P;
  /* colorspace values of AVColorSpace and SWS_CS_* agree; unknown -> BT.601 */
  sws_setColorspaceDetails(v->sws, sws_getCoefficients(f->colorspace), full_range,
                           sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
  uint8_t *dst[4] = {r->slots[slot].rgb, NULL, NULL, NULL};
  int dst_stride[4] = {r->width * 3, 0, 0, 0};
  sws_scale(v->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, dst_stride);
  double t1 = ring_now();
  ring_publish(r, slot, v->seq++, pts, (t1 - t0) * 1000.0 + v->pending_ms);
  v->pending_ms = 0;
  v->last_pts = pts;
  return 0;
}

/* Takes every frame the decoder has ready. -1 when aborted or failed. */
static int video_drain(capture_source *src, video_state *v) {
  for (;;) {
    double t0 = ring_now();
    int ret = avcodec_receive_frame(v->dec, v->frame);
    v->pending_ms += (ring_now() - t0) * 1000.0;
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return 0;
    if (ret < 0) {
      ring_count_corrupt(src->ring);
      return 0;
    }
    int rc = video_publish(src, v);
    av_frame_unref(v->frame);
    if (rc < 0) return -1;
  }
}

/* The warning left in capture_error() at the end: damage, truncation. */
static void video_end_message(video_state *v, int read_error, int64_t corrupt, char *msg,
                              size_t len) {
  char e[128];
  size_t n = 0;
  msg[0] = 0;
  if (read_error < 0 && read_error != AVERROR_EOF) {
    n = cap_msg(msg, len, "%s: read error after %lld frames (%s): file damaged or truncated",
                 v->path, (long long)v->seq, video_averr(read_error, e, sizeof(e)));
  } else if (v->nb_frames > 0 && v->seq + corrupt < v->nb_frames) {
    n = cap_msg(msg, len, "%s: truncated or damaged: decoded %lld of %lld frames", v->path,
                 (long long)v->seq, (long long)v->nb_frames);
  } else if (v->nb_frames == 0 && v->duration_s > 0 && v->fps > 0 &&
             v->last_pts + 2.0 / v->fps < v->duration_s) {
    n = cap_msg(msg, len, "%s: truncated: decoded %lld frames, up to %.2f s of %.2f s", v->path,
                 (long long)v->seq, v->last_pts, v->duration_s);
  }
  if (corrupt > 0 && n < len)
    cap_msg(msg + n, len - n, "%s%s%lld corrupt packets/frames skipped", n ? "; " : v->path,
             n ? "" : ": ", (long long)corrupt);
}

static void video_run(capture_source *src) {
  video_state *v = src->impl;
  ring *r = src->ring;
  int read_error = 0;
  for (;;) {
    if (ring_aborted(r)) return;
    double t0 = ring_now();
    int ret = av_read_frame(v->fmt, v->pkt);
    if (ret < 0) {
      read_error = ret;
      break;
    }
    if (v->pkt->stream_index != v->stream) { /* audio and the rest: ignored */
      av_packet_unref(v->pkt);
      continue;
    }
    if (v->pkt->flags & AV_PKT_FLAG_CORRUPT) {
      ring_count_corrupt(r);
      av_packet_unref(v->pkt);
      continue;
    }
    ret = avcodec_send_packet(v->dec, v->pkt);
    av_packet_unref(v->pkt);
    v->pending_ms += (ring_now() - t0) * 1000.0;
    if (ret < 0 && ret != AVERROR(EAGAIN)) ring_count_corrupt(r);
    if (video_drain(src, v) < 0) return;
  }
  avcodec_send_packet(v->dec, NULL); /* flush the frames the decoder holds */
  if (video_drain(src, v) < 0) return;
  capture_stats st;
  capture_get_stats(src, &st);
  char msg[CAPTURE_ERR_LEN];
  video_end_message(v, read_error, st.corrupt_skipped, msg, sizeof(msg));
  ring_set_status(r, CAPTURE_EOF, msg[0] ? msg : NULL);
}

int capture_open_video(capture_source **out, const capture_video_opts *opts, char *err,
                       size_t errlen) {
  *out = NULL;
  if (!opts || !opts->path || !opts->path[0]) {
    cap_msg(err, errlen, "no video file given");
    return CAPTURE_ERROR;
  }
  /* capture/ never prints: libav's own messages would go to stderr. */
  if (av_log_get_level() == AV_LOG_INFO) av_log_set_level(AV_LOG_QUIET);
  video_state *v = calloc(1, sizeof(*v));
  if (!v) {
    cap_msg(err, errlen, "%s: out of memory", opts->path);
    return CAPTURE_ERROR;
  }
  snprintf(v->path, sizeof(v->path), "%s", opts->path);
  v->paced = opts->paced;
  if (video_open_decoder(v, err, errlen) != CAPTURE_OK) {
    video_destroy(v);
    return CAPTURE_ERROR;
  }
  source_spec spec = {.impl = v, .run = video_run, .destroy = video_destroy, .name = v->path,
                      .delivery = opts->delivery};
  capture_stats *st = &spec.granted; /* the rest stays 0 */
  st->width = v->dec->width;
  st->height = v->dec->height;
  st->fps = v->fps;
  snprintf(st->pixel_format, sizeof(st->pixel_format), "%s", avcodec_get_name(v->dec->codec_id));
  return source_launch(out, &spec, err, errlen);
}
