#ifndef CSPANDSP_SHIM_H
#define CSPANDSP_SHIM_H
// spandsp's umbrella header pulls in every module (fax, T.38, TIFF); we only take the
// telephony signal-processing parts, which keeps libtiff's headers out of Swift's view.
#include <stdint.h>
#include <inttypes.h>
#include <stdbool.h>
#include <limits.h>
#include <time.h>
#define SPANDSP_EXPOSE_INTERNAL_STRUCTURES 0
#include <spandsp/telephony.h>
#include <spandsp/logging.h>
#include <spandsp/complex.h>
#include <spandsp/dds.h>
#include <spandsp/queue.h>
#include <spandsp/power_meter.h>
#include <spandsp/tone_detect.h>
#include <spandsp/tone_generate.h>
#include <spandsp/super_tone_rx.h>
#include <spandsp/super_tone_tx.h>
#include <spandsp/dtmf.h>
#include <spandsp/async.h>
#include <spandsp/fsk.h>
#include <spandsp/adsi.h>
#include <spandsp/modem_connect_tones.h>

// preset_fsk_specs is an array of unknown size, which Swift does not import: this hands out one
// entry (FSK_BELL202, FSK_V23CH1, ...) for fsk_rx_init and for the nominal transmit level.
static inline const fsk_spec_t *cspandsp_fsk_spec(int index) { return &preset_fsk_specs[index]; }
#endif
