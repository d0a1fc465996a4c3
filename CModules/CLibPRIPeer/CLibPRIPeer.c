#include "CLibPRIPeer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

struct lpp_peer {
    int fd;
    int drained;  // the last read found no frame waiting
    struct pri *pri;
    int errors;
    char last_error[256];
    // System calls on the descriptor, for the benchmark's per-cycle counts.
    long writes;
    long reads;
    long empty_reads;
};

// libpri reads and writes HDLC frames like a DAHDI D-channel: a read must return a frame with
// its 2 FCS octets, and a write hands over the frame plus 2 octets of room for the FCS that the
// driver would compute. A SOCK_SEQPACKET socket keeps frame boundaries, so both callbacks are
// plain read/write; the Swift side of the pair adds and strips the FCS octets.
static int lpp_read(struct pri *pri, void *buf, int buflen) {
    lpp_peer *peer = pri_get_userdata(pri);
    ssize_t n;
    do {
        n = read(peer->fd, buf, (size_t)buflen);
    } while (n < 0 && errno == EINTR);
    peer->drained = n <= 0;
    peer->reads += 1;
    if (n <= 0) peer->empty_reads += 1;
    return n < 0 ? 0 : (int)n;
}

static int lpp_write(struct pri *pri, void *buf, int buflen) {
    lpp_peer *peer = pri_get_userdata(pri);
    if (peer->fd < 0) return buflen;
    ssize_t n;
    do {
        n = write(peer->fd, buf, (size_t)buflen);
    } while (n < 0 && errno == EINTR);
    peer->writes += 1;
    return n < 0 ? -1 : (int)n;
}

// libpri's error and message hooks are process-wide; route errors to the peer they belong to.
// Informational messages (libpri's debug trace when pri_set_debug is on) go to stderr only when
// LPP_DEBUG is set in the environment, for looking into a failing interop test.
static void lpp_on_error(struct pri *pri, char *text) {
    lpp_peer *peer = pri ? pri_get_userdata(pri) : NULL;
    if (!peer) return;
    peer->errors += 1;
    snprintf(peer->last_error, sizeof peer->last_error, "%s", text);
}

static void lpp_on_message(struct pri *pri, char *text) {
    (void)pri;
    if (getenv("LPP_DEBUG")) fputs(text, stderr);
}

lpp_peer *lpp_new(int fd, int network) {
    pri_set_error(lpp_on_error);
    pri_set_message(lpp_on_message);
    lpp_peer *peer = calloc(1, sizeof *peer);
    if (!peer) return NULL;
    peer->fd = fd;
    peer->pri = pri_new_cb(fd, network ? PRI_NETWORK : PRI_CPE, PRI_SWITCH_EUROISDN_E1, lpp_read, lpp_write, peer);
    if (!peer->pri) {
        free(peer);
        return NULL;
    }
    // Without the fix libpri sends nothing when a call it has not answered is hung up;
    // with it, it rejects with RELEASE COMPLETE as Q.931 §5.3.2 says (Asterisk's hangup_fix).
    pri_hangup_fix_enable(peer->pri, 1);
    return peer;
}

void lpp_close(lpp_peer *peer) {
    peer->fd = -1;
}

struct pri *lpp_pri(lpp_peer *peer) { return peer->pri; }

// A truncating string copy into a 64-octet field. Not snprintf: the benchmark calls this for
// every call, and printf's format machinery would be charged to libpri's side.
static void lpp_copy_n(char *dst, size_t size, const char *src) {
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void lpp_copy(char *dst, const char *src) {
    lpp_copy_n(dst, 64, src);
}

static void lpp_flatten(const pri_event *e, lpp_event *out) {
    memset(out, 0, sizeof *out);
    out->type = e->e;
    out->channel = -1;
    switch (e->e) {
    case PRI_EVENT_RING:
    case PRI_EVENT_INFO_RECEIVED:
        out->channel = e->ring.channel;
        out->cref = e->ring.cref;
        out->complete = e->ring.complete;
        out->call = e->ring.call;
        lpp_copy(out->called, e->ring.callednum);
        lpp_copy(out->calling, e->ring.callingnum);
        break;
    case PRI_EVENT_HANGUP:
    case PRI_EVENT_HANGUP_REQ:
    case PRI_EVENT_HANGUP_ACK:
        out->channel = e->hangup.channel;
        out->cause = e->hangup.cause;
        out->cref = e->hangup.cref;
        out->call = e->hangup.call;
        break;
    case PRI_EVENT_RINGING:
        out->channel = e->ringing.channel;
        out->cref = e->ringing.cref;
        out->call = e->ringing.call;
        break;
    case PRI_EVENT_ANSWER:
        out->channel = e->answer.channel;
        out->cref = e->answer.cref;
        out->call = e->answer.call;
        break;
    case PRI_EVENT_PROCEEDING:
    case PRI_EVENT_PROGRESS:
        out->channel = e->proceeding.channel;
        out->cref = e->proceeding.cref;
        out->cause = e->proceeding.cause;
        out->call = e->proceeding.call;
        break;
    case PRI_EVENT_SETUP_ACK:
        out->channel = e->setup_ack.channel;
        out->call = e->setup_ack.call;
        break;
    case PRI_EVENT_CONNECT_ACK:
        out->channel = e->connect_ack.channel;
        out->call = e->connect_ack.call;
        break;
    case PRI_EVENT_KEYPAD_DIGIT:
        out->channel = e->digit.channel;
        out->call = e->digit.call;
        lpp_copy(out->digits, e->digit.digits);
        break;
    case PRI_EVENT_RESTART:
        out->channel = e->restart.channel;
        break;
    case PRI_EVENT_RESTART_ACK:
        out->channel = e->restartack.channel;
        break;
    default:
        break;
    }
}

int lpp_receive(lpp_peer *peer, lpp_event *events, int max) {
    int count = 0;
    // The descriptor is non-blocking: read until a read finds nothing.
    while (peer->fd >= 0 && count < max) {
        pri_event *e = pri_check_event(peer->pri);
        if (peer->drained) break;
        if (e) lpp_flatten(e, &events[count++]);
    }
    return count;
}

static int lpp_due(lpp_peer *peer) {
    struct timeval *next = pri_schedule_next(peer->pri);
    if (!next) return 0;
    struct timeval now;
    gettimeofday(&now, NULL);
    return timercmp(next, &now, <=);
}

int lpp_run_timers(lpp_peer *peer, lpp_event *events, int max) {
    int count = 0;
    while (count < max && lpp_due(peer)) {
        pri_event *e = pri_schedule_run(peer->pri);
        if (e) lpp_flatten(e, &events[count++]);
    }
    return count;
}

int lpp_next_timeout_ms(lpp_peer *peer) {
    struct timeval *next = pri_schedule_next(peer->pri);
    if (!next) return -1;
    struct timeval now;
    gettimeofday(&now, NULL);
    long long ms = (long long)(next->tv_sec - now.tv_sec) * 1000 + (next->tv_usec - now.tv_usec) / 1000;
    return ms < 0 ? 0 : (int)ms;
}

q931_call *lpp_place_call(lpp_peer *peer, int channel, int exclusive,
                          const char *called, const char *calling, int sending_complete) {
    q931_call *call = pri_new_call(peer->pri);
    if (!call) return NULL;
    struct pri_sr *sr = pri_sr_new();
    if (!sr) return NULL;
    char called_copy[64], calling_copy[64];
    lpp_copy_n(called_copy, sizeof called_copy, called);
    lpp_copy_n(calling_copy, sizeof calling_copy, calling ? calling : "");
    pri_sr_set_channel(sr, channel, exclusive, 0);
    pri_sr_set_bearer(sr, PRI_TRANS_CAP_SPEECH, PRI_LAYER_1_ALAW);
    pri_sr_set_called(sr, called_copy, PRI_UNKNOWN, sending_complete);
    if (calling && calling[0]) {
        pri_sr_set_caller(sr, calling_copy, NULL, PRI_UNKNOWN, PRES_ALLOWED_USER_NUMBER_NOT_SCREENED);
    }
    int res = pri_setup(peer->pri, call, sr);
    pri_sr_free(sr);
    return res ? NULL : call;
}

int lpp_error_count(lpp_peer *peer) { return peer->errors; }
long lpp_writes(lpp_peer *peer) { return peer->writes; }
long lpp_reads(lpp_peer *peer) { return peer->reads; }
long lpp_empty_reads(lpp_peer *peer) { return peer->empty_reads; }
const char *lpp_last_error(lpp_peer *peer) { return peer->last_error; }
