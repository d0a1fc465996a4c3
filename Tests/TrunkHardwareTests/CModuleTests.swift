import CAlsa
import CDAHDI
import CPcap
import CSpanDSP
import Testing
@testable import TrunkHardware

@Suite("C modules")
struct CModuleTests {
    /// Linux `_IOC(dir, type, nr, size)`: dir in bits 30–31, size 16–29, type 8–15, nr 0–7.
    func ioc(_ direction: UInt, _ number: UInt, _ size: Int) -> UInt {
        (direction << 30) | (UInt(size) << 16) | (0xDA << 8) | number
    }
    let write: UInt = 1, read: UInt = 2

    @Test("DAHDI request codes come from the real <dahdi/user.h> and match the kernel's encoding")
    func dahdiRequestCodes() {
        #expect(CDAHDI_SPECIFY == ioc(write, 38, MemoryLayout<Int32>.size))
        #expect(CDAHDI_GETEVENT == ioc(read, 8, MemoryLayout<Int32>.size))
        #expect(CDAHDI_SPANSTAT == ioc(read | write, 10, MemoryLayout<dahdi_spaninfo>.size))
        #expect(CDAHDI_GET_PARAMS == ioc(read | write, 5, MemoryLayout<dahdi_params>.size))
        #expect(CDAHDI_HOOK == ioc(write, 7, MemoryLayout<Int32>.size))
        #expect(CDAHDI_SET_BUFINFO == ioc(write, 27, MemoryLayout<dahdi_bufferinfo>.size))
        // Known values on x86-64, as the kernel module and dahdi-tools see them.
        #expect(CDAHDI_SPECIFY == 0x4004_DA26)
        #expect(CDAHDI_GETEVENT == 0x8004_DA08)
        #expect(CDAHDI_SPANSTAT == 0xC13A_DA0A)
        #expect(CDAHDI_SIZEOF_SPANINFO == 314)
        #expect(CDAHDI_ELAST == 500)
    }

    @Test("our event, alarm and hook values equal the header's")
    func dahdiValues() {
        #expect(ChannelEvent.Kind.ringBegin.rawValue == DAHDI_EVENT_RINGBEGIN)
        #expect(ChannelEvent.Kind.writeUnderrun.rawValue == DAHDI_EVENT_WRITE_UNDERRUN)
        #expect(ChannelEvent.Kind.pulseDigit.rawValue == DAHDI_EVENT_PULSEDIGIT)
        #expect(SpanAlarms.red.rawValue == DAHDI_ALARM_RED)
        #expect(SpanAlarms.lmfa.rawValue == DAHDI_ALARM_LMFA)
        #expect(HookOperation.ringOff.rawValue == DAHDI_RINGOFF)
        #expect(ChannelSignalling.fxsKewlStart.dahdiValue == CDAHDI_SIG_FXSKS)
        #expect(ChannelSignalling.fxoKewlStart.dahdiValue == CDAHDI_SIG_FXOKS)
        #expect(ChannelSignalling.bearer.dahdiValue == CDAHDI_SIG_CLEAR)
        #expect(ChannelSignalling.hdlc.dahdiValue == CDAHDI_SIG_HARDHDLC)
        #expect(ChannelEvent(rawValue: DAHDI_EVENT_DTMFDOWN | Int32(UInt8(ascii: "5"))) == ChannelEvent(.dtmfDown, digit: UInt8(ascii: "5")))
    }

    @Test("the system libraries link: spandsp, libasound, libpcap")
    func systemLibraries() throws {
        let dtmf = dtmf_rx_init(nil, nil, nil)
        #expect(dtmf != nil)
        dtmf_rx_free(dtmf)
        #expect(String(cString: snd_asoundlib_version()).hasPrefix("1."))
        #expect(String(cString: pcap_lib_version()).contains("libpcap"))
        let pcap = pcap_open_dead(cpcap_linktype_linux_lapd, 65535)
        #expect(pcap != nil)
        #expect(pcap_datalink(pcap) == 177)
        pcap_close(pcap)
    }
}
