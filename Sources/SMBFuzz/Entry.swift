#if FUZZING
/// libFuzzer's driver (built with -sanitize=fuzzer -DFUZZING). SwiftPM links an executable's
/// entry as MODULE_main, so that is defined here and hands over to LLVMFuzzerRunDriver; the
/// target is chosen by SMB3FS_FUZZ_TARGET.
import Foundation
import SMBFuzzTargets

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

nonisolated(unsafe) private var selected: FuzzTarget?

@_cdecl("SMBFuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    let name = ProcessInfo.processInfo.environment["SMB3FS_FUZZ_TARGET"] ?? ""
    guard let t = FuzzTarget.named(name) else {
        FileHandle.standardError.write(Data("SMBFuzz: set SMB3FS_FUZZ_TARGET to one of \(FuzzTarget.all.map(\.name).joined(separator: ", "))\n".utf8))
        return 2
    }
    selected = t
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v) { data, size in
        let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
        _ = selected?.run(bytes)
        return 0
    }
}
#else
/// Without libFuzzer: replays inputs through a target, so a corpus or a crash file can be
/// checked with an ordinary (or sanitized) build.
///   SMBFuzz --list
///   SMBFuzz TARGET FILE...
import Foundation
import SMBFuzzTargets

@main
struct Replay {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        if args == ["--list"] {
            for t in FuzzTarget.all {
                print(t.name, t.commands.map { String($0.rawValue) }.joined(separator: ","))
            }
            return
        }
        guard let name = args.first, let target = FuzzTarget.named(name), args.count > 1 else {
            FileHandle.standardError.write(Data("usage: SMBFuzz --list | TARGET FILE...\n".utf8))
            exit(2)
        }
        var accepted = 0
        for path in args.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("SMBFuzz: cannot read \(path)\n".utf8))
                exit(1)
            }
            accepted += target.run([UInt8](data)) > 0 ? 1 : 0
        }
        print("\(name): \(args.count - 1) inputs replayed, \(accepted) decoded")
    }
}
#endif
