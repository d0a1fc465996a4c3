// The two Linux calls the media loop's thread set-up needs that glibc declares only under
// _GNU_SOURCE, which Swift's Glibc module does not define.
#ifndef CREALTIME_H
#define CREALTIME_H

/// Pins the calling thread to one CPU (sched_setaffinity). Returns 0, or an errno value.
int crt_pin_current_thread(int cpu);

/// The calling thread's kernel id (gettid), for setpriority on this thread alone.
int crt_current_thread_id(void);

#endif
