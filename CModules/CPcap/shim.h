#ifndef CPCAP_SHIM_H
#define CPCAP_SHIM_H
#include <pcap/pcap.h>
// LINKTYPE_LINUX_LAPD is 177; older headers spell only DLT_LINUX_LAPD.
static const int cpcap_linktype_linux_lapd = 177;
#endif
