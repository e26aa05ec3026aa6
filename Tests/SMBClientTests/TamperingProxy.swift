import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP relay between the client and the real Samba that alters chosen responses on their way
/// back: what no real server sends on purpose (a tampered or unsigned response), with real
/// traffic around it. Listens on 127.0.0.1 on an ephemeral port; serves each connection made
/// to it (a reconnecting client comes back).
final class TamperingProxy: @unchecked Sendable {
    enum Action {
        case pass, flipLastByte, stripSignature
        /// Sends an unsigned interim STATUS_PENDING response (MS-SMB2 3.3.4.2) before the real one.
        case interimFirst
        /// Replaces the response by an ERROR response (2.2.2) with this status, signed by `sign`
        /// (the test holds the session's key), as a server whose session expired answers.
        case failWith(UInt32, sign: @Sendable (inout [UInt8]) -> Void)
        /// Rewrites the message in place (a field of an unsigned NEGOTIATE response, a flag).
        case patch(@Sendable (inout [UInt8]) -> Void)
        /// Sends this message instead of the genuine one, of any length a Direct TCP frame
        /// holds (at most 2^24 - 1 bytes, MS-SMB2 2.1).
        case replace(@Sendable ([UInt8]) -> [UInt8])
    }

    let port: UInt16
    private let listenFD: Int32
    private let targetHost: String
    private let targetPort: UInt16
    /// Decides per response (command, status) what to do with it.
    private let decide: @Sendable (UInt16, UInt32) -> Action
    private let lock = NSLock()
    private var tampered = 0

    var tamperedCount: Int { lock.lock(); defer { lock.unlock() }; return tampered }

    /// For encrypted responses (TRANSFORM_HEADER frames, whose command the proxy cannot see):
    /// the frame to send instead, or nil to pass it on.
    private let replaceEncrypted: (@Sendable ([UInt8]) -> [UInt8]?)?

    init(targetHost: String, targetPort: UInt16 = 445, decide: @escaping @Sendable (UInt16, UInt32) -> Action,
         replaceEncrypted: (@Sendable ([UInt8]) -> [UInt8]?)? = nil) throws {
        self.targetHost = targetHost
        self.targetPort = targetPort
        self.decide = decide
        self.replaceEncrypted = replaceEncrypted
        (listenFD, port) = try Loopback.listen()
        Thread { [self] in serve() }.start()
    }

    deinit { close(listenFD) }

    /// Stops accepting (shutdown wakes the blocked accept).
    func stop() { shutdown(listenFD, Int32(SHUT_RDWR)) }

    private func serve() {
        while true {
            let client = accept(listenFD, nil, nil)
            guard client >= 0 else { return }
            let server = Loopback.connect(targetHost, port: targetPort)
            guard server >= 0 else { close(client); continue }
            Thread { [self] in pump(from: client, to: server, alter: false) }.start()
            Thread { [self] in pump(from: server, to: client, alter: true) }.start()
        }
    }

    private func readExactly(_ fd: Int32, _ n: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: n)
        var got = 0
        while got < n {
            let r = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, n - got) }
            if r <= 0 { return nil }
            got += r
        }
        return out
    }

    private func writeAll(_ fd: Int32, _ b: [UInt8]) -> Bool {
        var sent = 0
        while sent < b.count {
            let r = b.withUnsafeBytes { write(fd, $0.baseAddress! + sent, b.count - sent) }
            if r <= 0 { return false }
            sent += r
        }
        return true
    }

    private func pump(from: Int32, to: Int32, alter: Bool) {
        defer { shutdown(to, Int32(SHUT_RDWR)); shutdown(from, Int32(SHUT_RDWR)) }
        while let h = readExactly(from, 4) {
            let len = Int(h[1]) << 16 | Int(h[2]) << 8 | Int(h[3])
            guard var frame = readExactly(from, len) else { return }
            if alter && frame.starts(with: [0xFD, 0x53, 0x4D, 0x42]), let replace = replaceEncrypted?(frame) {
                count()
                let n = replace.count
                guard writeAll(to, [0, UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + replace) else { return }
                continue
            }
            if alter && frame.count >= 64 && frame[0] == 0xFE {
                let command = UInt16(frame[12]) | UInt16(frame[13]) << 8
                let status = UInt32(frame[8]) | UInt32(frame[9]) << 8 | UInt32(frame[10]) << 16 | UInt32(frame[11]) << 24
                switch decide(command, status) {
                case .pass: break
                case .replace(let forge):
                    let m = forge(frame)
                    let n = m.count
                    count()
                    guard writeAll(to, [0, UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + m) else { return }
                    continue
                case .patch(let change):
                    change(&frame)
                    count()
                case .flipLastByte:
                    frame[frame.count - 1] ^= 0x01
                    count()
                case .stripSignature:
                    frame[16] &= ~0x08
                    for i in 48..<64 { frame[i] = 0 }
                    count()
                case .interimFirst:
                    var interim = Array(frame[0..<64])
                    interim[8] = 0x03; interim[9] = 0x01; interim[10] = 0; interim[11] = 0   // STATUS_PENDING
                    interim[14] = 0; interim[15] = 0                                        // no credits
                    interim[16] = (interim[16] | 0x02) & ~0x08                              // async, unsigned
                    interim[32] = 0x2A
                    for i in 33..<40 { interim[i] = 0 }                                     // AsyncId 42
                    for i in 48..<64 { interim[i] = 0 }
                    interim += [9, 0, 0, 0, 0, 0, 0, 0, 0]                                  // ERROR body (2.2.2)
                    guard writeAll(to, [0, 0, 0, UInt8(interim.count)] + interim) else { return }
                    count()
                case .failWith(let status, let sign):
                    var error = Array(frame[0..<64])
                    for i in 0..<4 { error[8 + i] = UInt8(truncatingIfNeeded: status >> (8 * UInt32(i))) }
                    for i in 20..<24 { error[i] = 0 }                                       // NextCommand
                    for i in 48..<64 { error[i] = 0 }
                    error += [9, 0, 0, 0, 0, 0, 0, 0, 0]                                    // ERROR body (2.2.2)
                    sign(&error)
                    guard writeAll(to, [0, 0, 0, UInt8(error.count)] + error) else { return }
                    count()
                    continue
                }
            }
            guard writeAll(to, h + frame) else { return }
        }
    }

    private func count() { lock.lock(); tampered += 1; lock.unlock() }
}
