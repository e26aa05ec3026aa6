import Foundation
import XCTest

/// uid=, gid=, file_mode=, dir_mode= and their defaults, as stat(1) shows them.
final class OwnershipTests: MountTestCase {
    override var setUpOptions: [String] { ["uid=1234", "gid=2345", "file_mode=0640", "dir_mode=0750"] }

    func testOptionsAreReflectedByStat() throws {
        let dir = try TreeFixture.make(env)
        let st = #"stat -c '%u %g %a %F' -- "$1""#
        XCTAssertEqual(sh(st, mnt + "/mt-tree/d1/e1/f1/file1").stdout, "1234 2345 640 regular file\n")
        XCTAssertEqual(sh(st, mnt + "/mt-tree/d1").stdout, "1234 2345 750 directory\n")
        XCTAssertEqual(sh(st, mnt).stdout, "1234 2345 750 directory\n", "the mount's root")
        // Every entry, as listed by find.
        let modes = #"cd -- "$1" && find . -printf '%U %G %m %y\n' | sort -u"#
        XCTAssertEqual(sh(modes, mnt + "/mt-tree").stdout, "1234 2345 640 f\n1234 2345 750 d\n")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir))
    }

    func testDefaults() throws {
        _ = try TreeFixture.make(env)
        let point = makeDir("defaults")
        guard mountOK(at: point, options: ["credentials=\(credentials!)"]) else { return }
        let modes = #"cd -- "$1" && find . -printf '%m %y\n' | sort -u"#
        XCTAssertEqual(sh(modes, point + "/mt-tree").stdout, "644 f\n755 d\n")
    }
}

/// statfs: df and stat -f work and agree with the server's file system.
final class StatfsTests: MountTestCase {
    func testDf() {
        let r = runCmd(["df", "-P", mnt])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertTrue(r.stdout.hasSuffix(" \(mnt!)\n"), r.summary)
        XCTAssertTrue(r.stdout.contains(env.source), "df shows the source: \(r.stdout)")
    }

    func testStatFAgreesWithServer() {
        let f = runCmd(["stat", "-f", "-c", "%T", mnt])
        XCTAssertEqual(f.status, 0, f.summary)
        // Total and free bytes: the share lives on the server's file system (same machine).
        let sizes = #"""
            import os, sys
            s = os.statvfs(sys.argv[1])
            print(s.f_blocks * s.f_frsize, s.f_bavail * s.f_frsize)
            """#
        let server = python(sizes, env.sharePath), mounted = python(sizes, mnt)
        XCTAssertEqual(mounted.status, 0, mounted.summary)
        let sv = server.stdout.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
        let mv = mounted.stdout.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
        guard sv.count == 2, mv.count == 2 else { return XCTFail("statvfs: \(server.stdout) / \(mounted.stdout)") }
        XCTAssertGreaterThan(mv[0], 0)
        XCTAssertEqual(mv[0], sv[0], accuracy: sv[0] * 0.01, "total bytes")
        XCTAssertEqual(mv[1], sv[1], accuracy: sv[0] * 0.02, "available bytes")
    }
}
