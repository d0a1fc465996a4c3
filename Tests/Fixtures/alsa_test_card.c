/*
 * A test-only ALSA PCM plugin that behaves like a sound card with a crystal: its hardware
 * pointer advances with CLOCK_MONOTONIC at the configured rate, so a player that falls behind
 * gets a real underrun (-EPIPE) and a slow reader a real overrun. Capture returns the samples
 * of an input file (S16_LE, the stream's channel count), then silence; playback writes what
 * it is given to an output file if one is named. The test suite builds
 * it with cc and loads it through an ALSA configuration; it is never part of a product.
 */
#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    snd_pcm_ioplug_t io;
    int timer_fd;
    int running;
    long long started_ns;
    snd_pcm_uframes_t started_appl;
    FILE *input;
    FILE *output;
} test_card_t;

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static snd_pcm_uframes_t elapsed_frames(test_card_t *card) {
    return (snd_pcm_uframes_t)((now_ns() - card->started_ns) * (long long)card->io.rate / 1000000000LL);
}

static int card_start(snd_pcm_ioplug_t *io) {
    test_card_t *card = io->private_data;
    card->started_ns = now_ns();
    card->running = 1;
    /* Wake poll() once per period, as a card's interrupt would. */
    long long period_ns = (long long)io->period_size * 1000000000LL / io->rate;
    struct itimerspec spec = { { period_ns / 1000000000LL, period_ns % 1000000000LL },
                               { period_ns / 1000000000LL, period_ns % 1000000000LL } };
    timerfd_settime(card->timer_fd, 0, &spec, NULL);
    return 0;
}

/* The stream begins where the application pointer stands now; queued frames count as played later. */
static int card_prepare(snd_pcm_ioplug_t *io) {
    test_card_t *card = io->private_data;
    card->started_appl = io->appl_ptr;
    card->running = 0;
    return 0;
}

static int card_stop(snd_pcm_ioplug_t *io) {
    test_card_t *card = io->private_data;
    struct itimerspec off = { { 0, 0 }, { 0, 0 } };
    card->running = 0;
    timerfd_settime(card->timer_fd, 0, &off, NULL);
    return 0;
}

static snd_pcm_sframes_t card_pointer(snd_pcm_ioplug_t *io) {
    test_card_t *card = io->private_data;
    if (!card->running) return 0;
    snd_pcm_uframes_t done = elapsed_frames(card);
    if (io->stream == SND_PCM_STREAM_PLAYBACK) {
        /* The card played past what was written: underrun. */
        if (done > io->appl_ptr - card->started_appl) return -EPIPE;
    } else {
        /* The card captured a whole buffer more than was read: overrun. */
        if (done > io->appl_ptr - card->started_appl + io->buffer_size) return -EPIPE;
    }
    return (snd_pcm_sframes_t)(done % io->buffer_size);
}

static snd_pcm_sframes_t card_transfer(snd_pcm_ioplug_t *io, const snd_pcm_channel_area_t *areas,
                                       snd_pcm_uframes_t offset, snd_pcm_uframes_t size) {
    test_card_t *card = io->private_data;
    if (io->stream == SND_PCM_STREAM_CAPTURE) {
        char *base = (char *)areas[0].addr + (areas[0].first + areas[0].step * offset) / 8;
        size_t bytes = size * io->channels * 2;
        size_t got = card->input ? fread(base, 1, bytes, card->input) : 0;
        if (got < bytes) memset(base + got, 0, bytes - got);
    } else if (card->output) {
        const char *base = (const char *)areas[0].addr + (areas[0].first + areas[0].step * offset) / 8;
        fwrite(base, 1, size * io->channels * 2, card->output);
        fflush(card->output);
    }
    return (snd_pcm_sframes_t)size;
}

static int card_poll_revents(snd_pcm_ioplug_t *io, struct pollfd *pfd, unsigned int nfds, unsigned short *revents) {
    test_card_t *card = io->private_data;
    uint64_t expirations;
    if (pfd[0].revents & POLLIN) (void)read(card->timer_fd, &expirations, sizeof expirations);
    *revents = pfd[0].revents ? (io->stream == SND_PCM_STREAM_PLAYBACK ? POLLOUT : POLLIN) : 0;
    return 0;
}

static int card_close(snd_pcm_ioplug_t *io) {
    test_card_t *card = io->private_data;
    close(card->timer_fd);
    if (card->input) fclose(card->input);
    if (card->output) fclose(card->output);
    free(card);
    return 0;
}

static const snd_pcm_ioplug_callback_t callbacks = {
    .start = card_start, .stop = card_stop, .pointer = card_pointer, .transfer = card_transfer,
    .poll_revents = card_poll_revents, .close = card_close, .prepare = card_prepare,
};

SND_PCM_PLUGIN_DEFINE_FUNC(trunkline_test_card) {
    snd_config_iterator_t i, next;
    const char *input_path = NULL;
    const char *output_path = NULL;
    snd_config_for_each(i, next, conf) {
        snd_config_t *node = snd_config_iterator_entry(i);
        const char *id;
        if (snd_config_get_id(node, &id) < 0) continue;
        if (strcmp(id, "comment") == 0 || strcmp(id, "type") == 0 || strcmp(id, "hint") == 0) continue;
        if (strcmp(id, "infile") == 0) { snd_config_get_string(node, &input_path); continue; }
        if (strcmp(id, "outfile") == 0) { snd_config_get_string(node, &output_path); continue; }
        SNDERR("unknown field %s", id);
        return -EINVAL;
    }
    test_card_t *card = calloc(1, sizeof *card);
    if (!card) return -ENOMEM;
    card->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (input_path && stream == SND_PCM_STREAM_CAPTURE) card->input = fopen(input_path, "rb");
    if (output_path && stream == SND_PCM_STREAM_PLAYBACK) card->output = fopen(output_path, "wb");
    card->io.version = SND_PCM_IOPLUG_VERSION;
    card->io.name = "Trunkline test card";
    card->io.callback = &callbacks;
    card->io.private_data = card;
    card->io.poll_fd = card->timer_fd;
    card->io.poll_events = POLLIN;
    card->io.mmap_rw = 0;
    int err = snd_pcm_ioplug_create(&card->io, name, stream, mode);
    if (err < 0) { close(card->timer_fd); free(card); return err; }
    static const unsigned int formats[] = { SND_PCM_FORMAT_S16_LE };
    static const unsigned int accesses[] = { SND_PCM_ACCESS_RW_INTERLEAVED };
    snd_pcm_ioplug_set_param_list(&card->io, SND_PCM_IOPLUG_HW_FORMAT, 1, formats);
    snd_pcm_ioplug_set_param_list(&card->io, SND_PCM_IOPLUG_HW_ACCESS, 1, accesses);
    snd_pcm_ioplug_set_param_minmax(&card->io, SND_PCM_IOPLUG_HW_CHANNELS, 1, 2);
    snd_pcm_ioplug_set_param_minmax(&card->io, SND_PCM_IOPLUG_HW_RATE, 8000, 8000);
    snd_pcm_ioplug_set_param_minmax(&card->io, SND_PCM_IOPLUG_HW_PERIOD_BYTES, 16, 16000);
    snd_pcm_ioplug_set_param_minmax(&card->io, SND_PCM_IOPLUG_HW_PERIODS, 2, 16);
    *pcmp = card->io.pcm;
    return 0;
}
SND_PCM_PLUGIN_SYMBOL(trunkline_test_card);
