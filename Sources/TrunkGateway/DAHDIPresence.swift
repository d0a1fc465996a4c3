import Foundation

/// Whether this machine has DAHDI kernel devices, said plainly for status output.
enum DAHDIPresence {
    static func describe(root: String = "/dev/dahdi") -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            return "no DAHDI devices found (\(root) does not exist: the DAHDI kernel modules are not loaded)"
        }
        guard FileManager.default.fileExists(atPath: root + "/ctl") else {
            return "no DAHDI devices found (\(root)/ctl is missing)"
        }
        return "DAHDI devices present at \(root) (not configured for trunkd)"
    }
}
