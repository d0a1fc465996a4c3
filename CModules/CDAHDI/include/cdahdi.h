// The DAHDI user ABI as Swift sees it. <dahdi/user.h> defines its ioctl request codes with
// function-like _IO* macros, which Swift cannot import, so each one is exported from
// cdahdi.c as a plain constant computed by the real header.
#ifndef CDAHDI_H
#define CDAHDI_H

#include <sys/ioctl.h>
#include <dahdi/user.h>

// Request codes (the kernel ABI; values come from the header at build time).
extern const unsigned long CDAHDI_GET_BLOCKSIZE;
extern const unsigned long CDAHDI_SET_BLOCKSIZE;
extern const unsigned long CDAHDI_FLUSH;
extern const unsigned long CDAHDI_SYNC;
extern const unsigned long CDAHDI_GET_PARAMS;
extern const unsigned long CDAHDI_SET_PARAMS;
extern const unsigned long CDAHDI_HOOK;
extern const unsigned long CDAHDI_GETEVENT;
extern const unsigned long CDAHDI_IOMUX;
extern const unsigned long CDAHDI_SPANSTAT;
extern const unsigned long CDAHDI_MAINT;
extern const unsigned long CDAHDI_GETCONF;
extern const unsigned long CDAHDI_SETCONF;
extern const unsigned long CDAHDI_CONFLINK;
extern const unsigned long CDAHDI_CONFDIAG;
extern const unsigned long CDAHDI_GETGAINS;
extern const unsigned long CDAHDI_SETGAINS;
extern const unsigned long CDAHDI_SPANCONFIG;
extern const unsigned long CDAHDI_CHANCONFIG;
extern const unsigned long CDAHDI_SET_BUFINFO;
extern const unsigned long CDAHDI_GET_BUFINFO;
extern const unsigned long CDAHDI_AUDIOMODE;
extern const unsigned long CDAHDI_ECHOCANCEL;
extern const unsigned long CDAHDI_ECHOCANCEL_PARAMS;
extern const unsigned long CDAHDI_ECHOTRAIN;
extern const unsigned long CDAHDI_SETTXBITS;
extern const unsigned long CDAHDI_GETRXBITS;
extern const unsigned long CDAHDI_SPECIFY;
extern const unsigned long CDAHDI_SETLAW;
extern const unsigned long CDAHDI_SETLINEAR;
extern const unsigned long CDAHDI_GETCONFMUTE;
extern const unsigned long CDAHDI_SETPOLARITY;
extern const unsigned long CDAHDI_SETCADENCE;
extern const unsigned long CDAHDI_DIAL;
extern const unsigned long CDAHDI_SPANINFO_BASIC; // absent from older headers: 0 when missing
extern const unsigned long CDAHDI_TIMERCONFIG;
extern const unsigned long CDAHDI_TIMERACK;
extern const unsigned long CDAHDI_TIMERPING;
extern const unsigned long CDAHDI_TIMERPONG;
extern const unsigned long CDAHDI_GETVERSION;
extern const unsigned long CDAHDI_LOOPBACK;
extern const unsigned long CDAHDI_GET_DIALPARAMS;
extern const unsigned long CDAHDI_SET_DIALPARAMS;

// Signalling types (composite macros in the header).
extern const int CDAHDI_SIG_CLEAR;
extern const int CDAHDI_SIG_HARDHDLC;
extern const int CDAHDI_SIG_FXSLS;
extern const int CDAHDI_SIG_FXSKS;
extern const int CDAHDI_SIG_FXOLS;
extern const int CDAHDI_SIG_FXOKS;

// Sizes the kernel checks in each ioctl's encoded size field.
extern const unsigned long CDAHDI_SIZEOF_PARAMS;
extern const unsigned long CDAHDI_SIZEOF_SPANINFO;
extern const unsigned long CDAHDI_SIZEOF_BUFFERINFO;
extern const unsigned long CDAHDI_SIZEOF_CONFINFO;
extern const unsigned long CDAHDI_SIZEOF_ECHOCANPARAMS;

// ioctl is variadic in C, which Swift cannot call; this typed wrapper is the one way in.
static inline int cdahdi_ioctl(int fd, unsigned long request, void *argument) {
    return ioctl(fd, request, argument);
}

// ELAST is what read/write return when an event is waiting (the header defines it if libc does not).
static const int CDAHDI_ELAST = ELAST;

#endif
