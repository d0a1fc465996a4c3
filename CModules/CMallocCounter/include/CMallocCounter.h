// Test-only allocation counter. Linking this target into a test executable replaces malloc and
// friends for the whole process with pass-through versions that count calls made on the
// current thread while counting is on; the allocator itself stays glibc's.
#ifndef CMALLOCCOUNTER_H
#define CMALLOCCOUNTER_H

/// Starts counting allocations made on the calling thread from zero.
void malloc_counter_start(void);
/// Stops counting on the calling thread and returns the allocations counted since the start.
long malloc_counter_stop(void);

#endif
