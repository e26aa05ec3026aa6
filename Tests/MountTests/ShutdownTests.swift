import Foundation
import XCTest

/// SIGTERM to the daemon while an application writes: every write(2) that succeeded is on
/// the server (writes behind land before the handles close), the file is the source's bytes
/// up to its size, and neither the mount nor the process is left.
final class ShutdownTests: MountTestCase {
    func testSIGTERMDuringALargeWriteLandsWhatWasAcknowledged() throws {
        let src = work + "/src.bin"
        XCTAssertEqual(sh(#"head -c 1073741824 /dev/urandom > "$1""#, src, timeout: 120).status, 0)
        let serverFile = env.sharePath + "/sigterm-write.bin"
        try? FileManager.default.removeItem(atPath: serverFile)
        defer { try? FileManager.default.removeItem(atPath: serverFile) }
        guard let daemon = smb3fsProcesses(for: mnt).first else { return XCTFail("no daemon for \(mnt!)") }
        // A writer that records how many bytes write(2) accepted, whatever ends it.
        let accepted = work + "/accepted"
        let writer = """
        import os, sys
        src = open(sys.argv[1], "rb"); fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC); n = 0
        try:
            while True:
                b = src.read(1 << 20)
                if not b: break
                n += os.write(fd, b)
        finally:
            open(sys.argv[3], "w").write(str(n))
        """
        guard var proc = spawn(["python3", "-c", writer, src, "\(mnt!)/sigterm-write.bin", accepted], stderrPath: work + "/writer.err")
        else { return XCTFail("cannot start the writer") }
        let serverSize = { ((try? FileManager.default.attributesOfItem(atPath: serverFile))?[.size] as? UInt64) ?? 0 }
        XCTAssertTrue(waitUntil(120) { serverSize() >= 128 << 20 || !proc.poll() }, "nothing reached the server")
        XCTAssertEqual(kill(daemon, SIGTERM), 0)
        XCTAssertTrue(proc.wait(120), "the writer still runs after the daemon was told to stop")
        XCTAssertTrue(waitUntil(30) { mountEntry(at: mnt) == nil }, "still mounted after SIGTERM")
        XCTAssertTrue(waitUntil(30) { smb3fsProcesses(for: mnt).isEmpty }, "daemon still runs after SIGTERM")

        guard let count = UInt64((try? String(contentsOfFile: accepted, encoding: .utf8)) ?? "") else {
            return XCTFail("the writer recorded nothing")
        }
        let landed = serverSize()
        XCTAssertGreaterThanOrEqual(landed, count, "acknowledged writes lost: write(2) accepted \(count), the server has \(landed)")
        XCTAssertGreaterThan(landed, 0)
        let same = runCmd(["cmp", "-n", String(landed), src, serverFile], timeout: 120)
        XCTAssertEqual(same.status, 0, "the server's file is not the source's first \(landed) bytes: \(same.summary)")
    }
}
