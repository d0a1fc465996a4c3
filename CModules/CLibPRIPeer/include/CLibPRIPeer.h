// Test- and benchmark-only wrapper that runs libpri (GPL) as the far end of a D-channel.
// Never a dependency of the TrunkISDN library: only the interop tests and trunkbench-pri
// link it. libpri is used through its public API (libpri.h) only.
#ifndef CLIBPRIPEER_H
#define CLIBPRIPEER_H

#include <libpri.h>

/// One libpri D-channel stack over one end of a SOCK_SEQPACKET socket pair.
typedef struct lpp_peer lpp_peer;

/// A libpri event with the fields the tests look at, copied out of libpri's union
/// (libpri reuses its event storage on the next call).
typedef struct lpp_event {
    int type;          // PRI_EVENT_*
    int channel;       // B-channel number, -1 when none or the whole interface
    int cause;         // HANGUP, HANGUP_REQ, HANGUP_ACK
    int cref;          // call reference value
    int complete;      // RING: Sending complete seen
    q931_call *call;   // libpri's call handle, NULL for global events
    char called[64];   // RING / INFO_RECEIVED: called number (digits so far)
    char calling[64];  // RING: calling number
    char digits[64];   // KEYPAD_DIGIT
} lpp_event;

/// Creates a libpri PRI stack (EuroISDN E1) on `fd`; `network` selects PRI_NETWORK, else PRI_CPE.
/// libpri starts its data link at once. Returns NULL on failure.
lpp_peer *lpp_new(int fd, int network);

/// Stops using the peer: libpri has no public destructor, so the stack itself stays allocated
/// (a few kilobytes per test) but no longer touches its descriptor.
void lpp_close(lpp_peer *peer);

struct pri *lpp_pri(lpp_peer *peer);

/// Reads and handles every frame waiting on the descriptor, copying out up to `max` events.
/// Returns the number of events.
int lpp_receive(lpp_peer *peer, lpp_event *events, int max);

/// Runs every libpri timer that is due, copying out up to `max` events. Returns their number.
int lpp_run_timers(lpp_peer *peer, lpp_event *events, int max);

/// Milliseconds until libpri's next timer (0 if due, -1 if none).
int lpp_next_timeout_ms(lpp_peer *peer);

/// Places a call on `channel` (0 = let the network choose). Returns libpri's call or NULL.
q931_call *lpp_place_call(lpp_peer *peer, int channel, int exclusive,
                          const char *called, const char *calling, int sending_complete);

/// Errors libpri reported through pri_set_error for this peer, and the last one's text.
int lpp_error_count(lpp_peer *peer);
// write()/read() calls on the peer's descriptor so far, and the reads that found no frame.
long lpp_writes(lpp_peer *peer);
long lpp_reads(lpp_peer *peer);
long lpp_empty_reads(lpp_peer *peer);
const char *lpp_last_error(lpp_peer *peer);

#endif
