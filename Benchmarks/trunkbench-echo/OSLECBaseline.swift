#if canImport(Glibc)
import Glibc
#endif
import G168Harness

/// OSLEC (the Linux kernel's/DAHDI's line echo canceller) as a speed baseline.
///
/// Nothing of OSLEC is kept in this package: at run time its C source is
/// extracted from the installed dahdi-source tarball into a temporary
/// directory, compiled as a shared object against a tiny user-space stand-in
/// for the kernel headers it includes, and loaded with dlopen.
final class OSLECBaseline {
    typealias Create = @convention(c) (Int32, Int32) -> OpaquePointer?
    typealias Update = @convention(c) (OpaquePointer?, Int16, Int16) -> Int16
    typealias Free = @convention(c) (OpaquePointer?) -> Void

    static let tarball = "/usr/src/dahdi.tar.bz2"
    static let sourceDirectory = "modules/dahdi/drivers/staging/echo"
    /// ECHO_CAN_USE_ADAPTION | NLP | CLIP | TX_HPF | RX_HPF: DAHDI's setting.
    static let dahdiAdaptionMode: Int32 = 0x01 | 0x02 | 0x08 | 0x10 | 0x20

    let create: Create
    let update: Update
    let free: Free
    private let handle: UnsafeMutableRawPointer

    /// Shim for the three kernel headers echo.c includes: allocation maps to
    /// the C library, module macros vanish, fls() comes from a builtin.
    static let shimHeaders: [(String, String)] = [
        ("linux/kernel.h", "#include <stdint.h>\n#include <stdlib.h>\n#include <string.h>\nstatic inline int fls(int x) { return x ? 32 - __builtin_clz((unsigned)x) : 0; }\n"),
        ("linux/slab.h", "#define GFP_KERNEL 0\n#define kzalloc(size, flags) calloc(1, (size))\n#define kcalloc(n, size, flags) calloc((n), (size))\n#define kfree(p) free(p)\n"),
        ("linux/module.h", "#define EXPORT_SYMBOL_GPL(sym)\n#define MODULE_LICENSE(x)\n#define MODULE_AUTHOR(x)\n#define MODULE_DESCRIPTION(x)\n#define MODULE_VERSION(x)\n"),
    ]

    init?() {
        var template = Array("/tmp/trunkbench-oslec-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template).map({ String(cString: $0) }) else { return nil }
        for (path, text) in Self.shimHeaders {
            _ = mkdir("\(dir)/shim", 0o755)
            _ = mkdir("\(dir)/shim/linux", 0o755)
            guard let f = fopen("\(dir)/shim/\(path)", "w") else { return nil }
            fputs(text, f)
            fclose(f)
        }
        let library = "\(dir)/liboslec.so"
        let command = "cd \(dir) && tar -xjf \(Self.tarball) \(Self.sourceDirectory)/echo.c \(Self.sourceDirectory)/echo.h \(Self.sourceDirectory)/fir.h \(Self.sourceDirectory)/oslec.h"
            + " && cc -O3 -march=native -shared -fPIC -w -Ishim -I\(Self.sourceDirectory) \(Self.sourceDirectory)/echo.c -o \(library)"
        guard system(command) == 0, let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL),
              let c = dlsym(handle, "oslec_create"), let u = dlsym(handle, "oslec_update"),
              let f = dlsym(handle, "oslec_free") else { return nil }
        self.handle = handle
        create = unsafeBitCast(c, to: Create.self)
        update = unsafeBitCast(u, to: Update.self)
        free = unsafeBitCast(f, to: Free.self)
        _ = system("rm -rf \(dir)")
    }

    deinit {
        dlclose(handle)
    }

    /// ns per sample per channel (thread CPU and wall time), medians over
    /// `runs`, same chunking as ours.
    func measure(scenario: EchoScenario, taps: Int, channels: Int, runs: Int) -> RunTime {
        var results: [RunTime] = []
        let count = scenario.reference.count / 8 * 8
        for _ in 0..<runs {
            let states = (0..<channels).map { _ in create(Int32(taps), Self.dahdiAdaptionMode) }
            var sink: Int32 = 0
            let time = RunTime.measure {
                scenario.reference.withUnsafeBufferPointer { r in
                    scenario.nearEnd.withUnsafeBufferPointer { s in
                        var n = 0
                        while n < count {
                            for state in states {
                                for i in n..<n + 8 { sink &+= Int32(update(state, r[i], s[i])) }
                            }
                            n += 8
                        }
                    }
                }
            }
            results.append(RunTime(wall: time.wall / Double(count * channels), cpu: time.cpu / Double(count * channels)))
            for state in states { free(state) }
            if sink == 42 { print("") }  // keeps the work observable
        }
        return RunTime(wall: median(results.map(\.wall)), cpu: median(results.map(\.cpu)))
    }

    /// OSLEC's output over the scenario (one channel), for an ERLE comparison.
    func run(scenario: EchoScenario, taps: Int, adaptionMode: Int32) -> [Int16] {
        let state = create(Int32(taps), adaptionMode)
        defer { free(state) }
        return (0..<scenario.reference.count).map { update(state, scenario.reference[$0], scenario.nearEnd[$0]) }
    }
}
