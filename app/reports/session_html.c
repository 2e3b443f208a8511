/* session_html: report.html, one page with nothing fetched from anywhere:
 * the timeline and the thumbnails are inlined as base64 data, the style is
 * in the page. */
#include <stdint.h>
#include <string.h>

#include "common/emotion.h"
#include "reports/session_report_internal.h"

static void base64(FILE *f, const unsigned char *p, size_t n) {
  static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                 (i + 2 < n ? p[i + 2] : 0);
    fputc(abc[v >> 18 & 63], f);
    fputc(abc[v >> 12 & 63], f);
    fputc(i + 1 < n ? abc[v >> 6 & 63] : '=', f);
    fputc(i + 2 < n ? abc[v & 63] : '=', f);
  }
}

/* text with &, <, > and " escaped */
static void esc(FILE *f, const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
      case '&': fputs("&amp;", f); break;
      case '<': fputs("&lt;", f); break;
      case '>': fputs("&gt;", f); break;
      case '"': fputs("&quot;", f); break;
      default: fputc(*s, f);
    }
  }
}

static void face_name(char *buf, size_t len, const session_face *fc) {
  if (fc->id == -2) snprintf(buf, len, "all faces");
  else if (fc->id < 0) snprintf(buf, len, "centre square");
  else snprintf(buf, len, "face %d", fc->id);
}

static void head(FILE *f, const session_page *pg) {
  const session_summary *s = pg->s;
  fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Session report: ",
        f);
  esc(f, pg->in->csv);
  fputs("</title>\n<style>\nbody{font-family:'DejaVu Sans',sans-serif;margin:24px;color:#222;"
        "max-width:1240px}\ntable{border-collapse:collapse;margin:8px 0 20px}\ntd,th{border:1px "
        "solid #ddd;padding:4px 8px;text-align:right;font-size:13px}\nth:first-child,td:first-"
        "child{text-align:left}\n.sw{display:inline-block;width:11px;height:11px;margin-right:4px;"
        "vertical-align:-1px}\n.thumbs{display:flex;flex-wrap:wrap;gap:14px}\n.thumbs figure{"
        "margin:0;font-size:12px;text-align:center}\n.note{color:#666;font-size:13px}\n</style>"
        "</head><body>\n<h1>Session report</h1>\n<p>",
        f);
  char d[32];
  session_clock(d, sizeof d, s->end_s - s->start_s + s->frame_dt);
  fputs("CSV <code>", f);
  esc(f, pg->in->csv);
  fprintf(f, "</code>, %s, %ld frames at %.1f fps", d, s->frames,
          s->frame_dt > 0 ? 1 / s->frame_dt : 0);
  if (pg->in->video) fputs(", video <code>", f), esc(f, pg->in->video), fputs("</code>", f);
  fputs(".<br>Model: ", f);
  esc(f, pg->in->model ? pg->in->model : "not recorded");
  if (pg->in->model_made_by) fputs(" (", f), esc(f, pg->in->model_made_by), fputs(")", f);
  fprintf(f, "; emocam %s; probabilities smoothed over %.2f s as in the window.", EMOCAM_VERSION,
          s->smooth_s);
  if (s->detector)
    fprintf(f, "<br>Frames without a face: %ld (%.1f%%).", s->frames_no_face,
            s->frames ? 100.0 * s->frames_no_face / s->frames : 0);
  fputs("</p>\n", f);
}

/* Share of time per shown label, and the steadiness, per face. */
static void share_table(FILE *f, const session_summary *s) {
  const session_log *log = s->log;
  fputs("<h2>Time per shown label</h2>\n<table><tr><th>face</th><th>in view</th><th>visits</th>",
        f);
  for (int k = 0; k < log->num_classes; k++) {
    fprintf(f, "<th><span class=\"sw\" style=\"background:#%06x\"></span>",
            (unsigned)emotion_colour(log->class_names[k], k));
    esc(f, log->class_names[k]);
    fputs("</th>", f);
  }
  fputs("<th>label changes / min</th></tr>\n", f);
  int rows = 0;
  for (int i = -1; i < s->nfaces && rows < 30; i++) {
    const session_face *fc = i < 0 ? &s->total : &s->faces[i];
    if (i >= 0 && s->detector && fc->id < 0) continue;
    char name[32];
    face_name(name, sizeof name, fc);
    fprintf(f, "<tr><td>%s</td><td>%.0f s</td><td>%d</td>", name, fc->in_view_s, fc->visits);
    for (int k = 0; k < log->num_classes; k++) fprintf(f, "<td>%.1f%%</td>", 100 * fc->share[k]);
    fprintf(f, "<td>%.1f</td></tr>\n", fc->changes_per_min);
    rows += i >= 0;
  }
  fputs("</table>\n", f);
}

/* Mean probability, longest run and peak of each class over all faces,
 * with the thumbnails. */
static void class_table(FILE *f, const session_page *pg) {
  const session_summary *s = pg->s;
  const session_log *log = s->log;
  const session_face *t = &s->total;
  fputs("<h2>Each emotion</h2>\n<table><tr><th>class</th><th>mean probability</th><th>longest "
        "run</th><th>from</th><th>peak (smoothed)</th><th>at</th></tr>\n",
        f);
  for (int k = 0; k < log->num_classes; k++) {
    char from[32] = "", at[32] = "";
    session_clock(from, sizeof from, t->longest_at_s[k]);
    if (t->peak_row[k] >= 0) session_clock(at, sizeof at, log->rows[t->peak_row[k]].t);
    fprintf(f, "<tr><td><span class=\"sw\" style=\"background:#%06x\"></span>",
            (unsigned)emotion_colour(log->class_names[k], k));
    esc(f, log->class_names[k]);
    fprintf(f, "</td><td>%.3f</td><td>%.1f s</td><td>%s</td><td>%.2f</td><td>%s</td></tr>\n",
            t->mean_p[k], t->longest_s[k], t->longest_s[k] > 0 ? from : "", t->peak_p[k], at);
  }
  fputs("</table>\n<h2>The face at the peak of each emotion</h2>\n", f);
  if (pg->thumbs_note) fputs("<p class=\"note\">", f), esc(f, pg->thumbs_note), fputs("</p>\n", f);
  fputs("<div class=\"thumbs\">\n", f);
  for (int k = 0; k < log->num_classes; k++) {
    if (!pg->thumbs[k].png || t->peak_row[k] < 0) continue;
    const session_row *r = &log->rows[t->peak_row[k]];
    char at[32];
    session_clock(at, sizeof at, r->t);
    fputs("<figure><img alt=\"", f);
    esc(f, log->class_names[k]);
    fprintf(f, "\" width=\"%d\" height=\"%d\" src=\"data:image/png;base64,", SESSION_THUMB_SIDE,
            SESSION_THUMB_SIDE);
    base64(f, pg->thumbs[k].png, pg->thumbs[k].png_size);
    fputs("\"><figcaption>", f);
    esc(f, log->class_names[k]);
    fprintf(f, " %.2f<br>%s, frame %lld</figcaption></figure>\n", t->peak_p[k], at,
            (long long)r->frame);
  }
  fputs("</div>\n", f);
}

static void compare_section(FILE *f, const session_page *pg) {
  const session_agreement *c = pg->cmp;
  fputs("<h2>Against another model</h2>\n<p>", f);
  esc(f, pg->in->compare_model ? pg->in->compare_model : pg->in->compare_csv);
  fprintf(f, ": %ld rows matched by frame and face (largest first). The same label in %.1f%% of them (the shown, "
             "smoothed label: %.1f%%); Cohen's kappa of the per-frame labels %.3f. The shown "
             "labels differ for %.0f s in all.</p>\n",
          c->matched, 100 * c->agree_raw, 100 * c->agree_shown, c->kappa, c->disagree_s);
  if (c->nstretches == 0) {
    fputs("<p class=\"note\">No stretch of 1 s or more where the shown labels differ.</p>\n", f);
    return;
  }
  fputs("<table><tr><th>from</th><th>to</th><th>face (0 = largest)</th><th>this model</th><th>the other</th>"
        "</tr>\n",
        f);
  for (int i = 0; i < c->nstretches; i++) {
    const session_stretch *st = &c->stretches[i];
    char a[32], b[32];
    session_clock(a, sizeof a, st->start_s);
    session_clock(b, sizeof b, st->end_s);
    fprintf(f, "<tr><td>%s</td><td>%s</td><td>%d</td><td>", a, b, st->face);
    esc(f, st->a);
    fputs("</td><td>", f);
    esc(f, st->b);
    fputs("</td></tr>\n", f);
  }
  fputs("</table>\n", f);
}

int session_html_write(FILE *f, const session_page *pg) {
  head(f, pg);
  if (pg->timeline_png) {
    fputs("<img alt=\"timeline\" style=\"max-width:100%\" src=\"data:image/png;base64,", f);
    base64(f, pg->timeline_png, pg->timeline_size);
    fputs("\">\n", f);
  }
  share_table(f, pg->s);
  class_table(f, pg);
  if (pg->cmp) compare_section(f, pg);
  fputs("<p class=\"note\">", f);
  esc(f, session_identity_note(pg->s));
  fputs(" Shares count frames: each row of the CSV is one frame of one face.</p>\n</body></html>\n",
        f);
  return ferror(f) ? -1 : 0;
}
