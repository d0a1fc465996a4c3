#include "cdahdi.h"

// Struct sizes on x86-64 as the kernel module expects them; a header change that moves
// them breaks the ioctl encodings, so the build must stop rather than talk a different ABI.
#if defined(__x86_64__)
_Static_assert(sizeof(struct dahdi_params) == 136, "dahdi_params size changed");
_Static_assert(sizeof(struct dahdi_spaninfo) == 314, "dahdi_spaninfo size changed");
_Static_assert(sizeof(struct dahdi_bufferinfo) == 24, "dahdi_bufferinfo size changed");
_Static_assert(sizeof(struct dahdi_confinfo) == 12, "dahdi_confinfo size changed");
_Static_assert(sizeof(struct dahdi_echocanparams) == 8, "dahdi_echocanparams size changed");
#endif

const unsigned long CDAHDI_GET_BLOCKSIZE = DAHDI_GET_BLOCKSIZE;
const unsigned long CDAHDI_SET_BLOCKSIZE = DAHDI_SET_BLOCKSIZE;
const unsigned long CDAHDI_FLUSH = DAHDI_FLUSH;
const unsigned long CDAHDI_SYNC = DAHDI_SYNC;
const unsigned long CDAHDI_GET_PARAMS = DAHDI_GET_PARAMS;
const unsigned long CDAHDI_SET_PARAMS = DAHDI_SET_PARAMS;
const unsigned long CDAHDI_HOOK = DAHDI_HOOK;
const unsigned long CDAHDI_GETEVENT = DAHDI_GETEVENT;
const unsigned long CDAHDI_IOMUX = DAHDI_IOMUX;
const unsigned long CDAHDI_SPANSTAT = DAHDI_SPANSTAT;
const unsigned long CDAHDI_MAINT = DAHDI_MAINT;
const unsigned long CDAHDI_GETCONF = DAHDI_GETCONF;
const unsigned long CDAHDI_SETCONF = DAHDI_SETCONF;
const unsigned long CDAHDI_CONFLINK = DAHDI_CONFLINK;
const unsigned long CDAHDI_CONFDIAG = DAHDI_CONFDIAG;
const unsigned long CDAHDI_GETGAINS = DAHDI_GETGAINS;
const unsigned long CDAHDI_SETGAINS = DAHDI_SETGAINS;
const unsigned long CDAHDI_SPANCONFIG = DAHDI_SPANCONFIG;
const unsigned long CDAHDI_CHANCONFIG = DAHDI_CHANCONFIG;
const unsigned long CDAHDI_SET_BUFINFO = DAHDI_SET_BUFINFO;
const unsigned long CDAHDI_GET_BUFINFO = DAHDI_GET_BUFINFO;
const unsigned long CDAHDI_AUDIOMODE = DAHDI_AUDIOMODE;
const unsigned long CDAHDI_ECHOCANCEL = DAHDI_ECHOCANCEL;
const unsigned long CDAHDI_ECHOCANCEL_PARAMS = DAHDI_ECHOCANCEL_PARAMS;
const unsigned long CDAHDI_ECHOTRAIN = DAHDI_ECHOTRAIN;
const unsigned long CDAHDI_SETTXBITS = DAHDI_SETTXBITS;
const unsigned long CDAHDI_GETRXBITS = DAHDI_GETRXBITS;
const unsigned long CDAHDI_SPECIFY = DAHDI_SPECIFY;
const unsigned long CDAHDI_SETLAW = DAHDI_SETLAW;
const unsigned long CDAHDI_SETLINEAR = DAHDI_SETLINEAR;
const unsigned long CDAHDI_GETCONFMUTE = DAHDI_GETCONFMUTE;
const unsigned long CDAHDI_SETPOLARITY = DAHDI_SETPOLARITY;
const unsigned long CDAHDI_SETCADENCE = DAHDI_SETCADENCE;
const unsigned long CDAHDI_DIAL = DAHDI_DIAL;
#ifdef DAHDI_SPANINFO_BASIC
const unsigned long CDAHDI_SPANINFO_BASIC = DAHDI_SPANINFO_BASIC;
#else
const unsigned long CDAHDI_SPANINFO_BASIC = 0;
#endif
const unsigned long CDAHDI_TIMERCONFIG = DAHDI_TIMERCONFIG;
const unsigned long CDAHDI_TIMERACK = DAHDI_TIMERACK;
const unsigned long CDAHDI_TIMERPING = DAHDI_TIMERPING;
const unsigned long CDAHDI_TIMERPONG = DAHDI_TIMERPONG;
const unsigned long CDAHDI_GETVERSION = DAHDI_GETVERSION;
const unsigned long CDAHDI_LOOPBACK = DAHDI_LOOPBACK;
const unsigned long CDAHDI_GET_DIALPARAMS = DAHDI_GET_DIALPARAMS;
const unsigned long CDAHDI_SET_DIALPARAMS = DAHDI_SET_DIALPARAMS;

const int CDAHDI_SIG_CLEAR = DAHDI_SIG_CLEAR;
const int CDAHDI_SIG_HARDHDLC = DAHDI_SIG_HARDHDLC;
const int CDAHDI_SIG_FXSLS = DAHDI_SIG_FXSLS;
const int CDAHDI_SIG_FXSKS = DAHDI_SIG_FXSKS;
const int CDAHDI_SIG_FXOLS = DAHDI_SIG_FXOLS;
const int CDAHDI_SIG_FXOKS = DAHDI_SIG_FXOKS;

const unsigned long CDAHDI_SIZEOF_PARAMS = sizeof(struct dahdi_params);
const unsigned long CDAHDI_SIZEOF_SPANINFO = sizeof(struct dahdi_spaninfo);
const unsigned long CDAHDI_SIZEOF_BUFFERINFO = sizeof(struct dahdi_bufferinfo);
const unsigned long CDAHDI_SIZEOF_CONFINFO = sizeof(struct dahdi_confinfo);
const unsigned long CDAHDI_SIZEOF_ECHOCANPARAMS = sizeof(struct dahdi_echocanparams);
