// Issue 4: the mount rides through a killed server process and a full server restart, answers
// statfs and cached stat while the server is down, and a soft mount fails instead of waiting.
// These tests run a Samba of their own (OwnServerTestCase), so they can kill and restart it.
import Foundation
import XCTest

final class ReconnectTests: OwnServerTestCase {
    /// kill -KILL of the smbd serving the mount, five times during one 1 GiB write: dd completes
    /// and the file on the server has the source's bytes.
    func testKillingTheServingProcessDuringAWrite() throws {
        guard mountOwn([]) else { return }
        let source = work + "/source.bin"
        XCTAssertEqual(sh(#"head -c 1G /dev/urandom > "$1""#, source, timeout: 120).status, 0)
        guard var dd = spawn(["dd", "if=" + source, "of=" + mnt + "/big.bin", "bs=1M"]) else {
            return XCTFail("cannot start dd")
        }
        let target = sharePath + "/big.bin"
        var killed = 0
        for i in 1...5 {
            // Wait for progress past the next fifth of the file, then kill whoever serves us.
            let mark = i * (1 << 30) / 6
            guard waitUntil(120, { self.serverSize(target) >= mark || !dd.poll() }) else {
                return XCTFail("no progress to \(mark) bytes")
            }
            if !dd.poll() { break }      // finished already
            let pids = servingPids()
            XCTAssertEqual(pids.count, 1, "one smbd serves the mount: \(pids)")
            for p in pids { kill(p, SIGKILL) }
            killed += 1
            // The mount reconnects: a new smbd serves it.
            XCTAssertTrue(waitUntil(60) { let now = self.servingPids(); return !now.isEmpty && now != pids },
                          "no new connection after kill \(i)")
        }
        XCTAssertTrue(dd.wait(300), "dd did not finish")
        XCTAssertEqual(dd.status, 0, "dd exit status")
        XCTAssertGreaterThanOrEqual(killed, 3, "the write ended before enough kills")
        assertSameContent(source, target, "the server's file differs from the source")
    }

    /// A full server restart with 16 open descriptors (8 reading, 8 writing): each one afterwards
    /// continues with the right data or fails with EIO; none reads another file's bytes.
    func testServerRestartWithOpenFiles() throws {
        guard mountOwn([]) else { return }
        XCTAssertEqual(sh(#"cd "$1" && for i in 0 1 2 3 4 5 6 7; do head -c 4M /dev/urandom > r$i; done"#, sharePath).status, 0)
        let go = work + "/go"
        let ready = work + "/ready"
        guard var child = spawn(["python3", "-c", #"""
            import errno, hashlib, os, sys, time
            m, go, ready, src = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
            half = 2 << 20
            readers = [os.open(f"{m}/r{i}", os.O_RDONLY) for i in range(8)]
            writers = [os.open(f"{m}/w{i}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644) for i in range(8)]
            payload = [hashlib.sha256(b"w%d" % i).digest() * (4 << 20 >> 5) for i in range(8)]
            first = [os.pread(fd, half, 0) for fd in readers]
            for i, fd in enumerate(writers): os.pwrite(fd, payload[i][:half], 0)
            open(ready, "w").close()
            while not os.path.exists(go): time.sleep(0.05)
            for i, fd in enumerate(readers):
                try:
                    rest = os.pread(fd, 4 << 20, half)
                    whole = open(f"{src}/r{i}", "rb").read()
                    print(f"r{i}", "ok" if first[i] + rest == whole else "WRONG")
                except OSError as e:
                    print(f"r{i}", errno.errorcode[e.errno])
            for i, fd in enumerate(writers):
                try:
                    os.pwrite(fd, payload[i][half:], half); os.fsync(fd)
                    print(f"w{i}", "ok")
                except OSError as e:
                    print(f"w{i}", errno.errorcode[e.errno])
            for fd in readers + writers:
                try: os.close(fd)
                except OSError: pass
            """#, mnt, go, ready, sharePath], stdoutPath: work + "/client.out", stderrPath: work + "/client.err")
        else { return XCTFail("cannot start the client") }
        XCTAssertTrue(waitUntil(120) { FileManager.default.fileExists(atPath: ready) || !child.poll() }, "client not ready")
        // `status` sees the 16 opens, here and on the server, and no reconnect yet.
        let held = status()
        XCTAssertEqual(held?["openFiles"] as? Int, 16, "\(held ?? [:])")
        XCTAssertEqual((held?["share"] as? [String: Any])?["opens"] as? Int, 16)
        XCTAssertEqual((held?["share"] as? [String: Any])?["reconnects"] as? Int, 0)
        stopServer()
        try startServer()
        XCTAssertTrue(FileManager.default.createFile(atPath: go, contents: nil))
        XCTAssertTrue(child.wait(300), "client did not finish")
        // One reconnect, when, and the error that caused it.
        let after = status()?["share"] as? [String: Any] ?? [:]
        XCTAssertEqual(after["reconnects"] as? Int, 1, "\(after)")
        XCTAssertEqual(after["state"] as? String, "connected")
        XCTAssertNotNil(after["secondsSinceReconnect"] as? Double)
        XCTAssertNotNil(after["lastError"] as? String, "\(after)")
        XCTAssertEqual(child.status, 0, (try? String(contentsOfFile: work + "/client.err", encoding: .utf8)) ?? "")
        let out = try String(contentsOfFile: work + "/client.out", encoding: .utf8)
        let results = out.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(results.count, 16, out)
        for r in results where r.count == 2 {
            XCTAssertTrue(r[1] == "ok" || r[1] == "EIO", "\(r[0]): \(r[1])")
            if r[0].hasPrefix("w") && r[1] == "ok" {
                // A writer that carried on left the whole file on the server.
                let i = r[0].dropFirst()
                let check = python(#"""
                    import hashlib, sys
                    want = hashlib.sha256(b"w" + sys.argv[2].encode()).digest() * (4 << 20 >> 5)
                    print("ok" if open(sys.argv[1], "rb").read() == want else "WRONG")
                    """#, sharePath + "/w" + i, String(i))
                XCTAssertEqual(check.stdout, "ok\n", "server-side w\(i)")
            }
        }
        // After a restart the same files are reclaimed: nothing should have been lost here.
        XCTAssertTrue(results.allSatisfy { $0.last == "ok" }, "reclaimable opens were lost: \(out)")
    }

    /// With the server down, df and stat of a known file answer at once, and the mount works again
    /// when the server is back.
    func testStatfsAndKnownAttributesWhileTheServerIsDown() throws {
        guard mountOwn([]) else { return }
        XCTAssertEqual(sh(#"echo data > "$1/known""#, mnt).status, 0)
        XCTAssertEqual(sh(#"stat -c %s "$1/known" && df "$1" > /dev/null"#, mnt).stdout, "5\n")
        stopServer()
        // A short command timeout: they must not wait for the server.
        let df = runCmd(["df", mnt], timeout: 2)
        XCTAssertFalse(df.timedOut, "df waited for the server")
        XCTAssertEqual(df.status, 0, df.summary)
        let st = runCmd(["stat", "-c", "%s", mnt + "/known"], timeout: 2)
        XCTAssertFalse(st.timedOut, "stat of a known file waited for the server")
        XCTAssertEqual(st.stdout, "5\n", st.summary)
        try startServer()
        // hard: the first ls after the restart waits for the reconnect and succeeds.
        let ls = runCmd(["ls", mnt], timeout: 60)
        XCTAssertEqual(ls.status, 0, "ls after the server came back: \(ls.summary)")
        XCTAssertTrue(ls.stdout.split(separator: "\n").contains("known"), ls.summary)
    }

    /// soft: with the server gone, operations fail with EIO instead of waiting (one redial, a
    /// refused connection at that); once it is back the very first operation succeeds.
    func testSoftMountFailsWhileDownAndRecovers() throws {
        guard mountOwn(["soft", "echo_interval=1"]) else { return }
        stopServer()
        let start = Date()
        let r = python(#"""
            import errno, os, sys
            try:
                open(sys.argv[1] + "/new-while-down", "w").close(); print("OK")
            except OSError as e:
                print(errno.errorcode[e.errno])
            """#, mnt, timeout: 60)
        let took = Date().timeIntervalSince(start)
        XCTAssertFalse(r.timedOut, "a soft mount waited for the server")
        XCTAssertEqual(r.stdout, "EIO\n", r.summary)
        // At most one dial (2 s) and its handshake while the server is down, with room for a slow machine.
        XCTAssertLessThanOrEqual(took, 8, "a soft operation waited \(took) s for a server that is down")
        try startServer()
        let back = sh(#"echo back > "$1/after""#, mnt)
        XCTAssertEqual(back.status, 0, "the first write after the server came back: \(back.summary)")
        XCTAssertEqual(try? String(contentsOfFile: sharePath + "/after", encoding: .utf8), "back\n")
    }

    /// The TCP connection is reset under an open, locked file on a share with durable handles:
    /// the open comes back with DH2C, keeps its byte-range lock against another client, and
    /// goes on writing.
    func testOpenFileKeepsItsLockAcrossADroppedConnection() throws {
        guard mountOwn([], share: "durable") else { return }
        let go = work + "/go", ready = work + "/ready"
        guard var child = spawn(["python3", "-c", #"""
            import fcntl, os, sys, time
            m, go, ready = sys.argv[1], sys.argv[2], sys.argv[3]
            fd = os.open(m + "/locked", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
            os.pwrite(fd, b"one", 0)
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)
            open(ready, "w").close()
            while not os.path.exists(go): time.sleep(0.05)
            os.pwrite(fd, b"two", 3); os.fsync(fd)
            print("written")
            sys.stdout.flush()
            while os.path.exists(go): time.sleep(0.05)   # hold the lock until told
            os.close(fd)
            """#, mnt, go, ready], stdoutPath: work + "/client.out", stderrPath: work + "/client.err")
        else { return XCTFail("cannot start the client") }
        XCTAssertTrue(waitUntil(60) { FileManager.default.fileExists(atPath: ready) || !child.poll() }, "client not ready")
        let before = servingPids()
        XCTAssertEqual(before.count, 1, "one connection: \(before)")
        // Reset the mount's TCP connection (the server keeps durable opens of a lost connection).
        let kill = runCmd(["ss", "-K", "dst", ip!, "and", "dport", "=", ":445"], timeout: 30)
        XCTAssertEqual(kill.status, 0, kill.summary)
        XCTAssertTrue(FileManager.default.createFile(atPath: go, contents: nil))
        XCTAssertTrue(waitUntil(60) {
            (try? String(contentsOfFile: self.work + "/client.out", encoding: .utf8)) == "written\n" || !child.poll()
        }, "the write after the reset did not complete: \((try? String(contentsOfFile: work + "/client.err", encoding: .utf8)) ?? "")")
        let after = servingPids()
        XCTAssertEqual(after.count, 1, "one connection again: \(after)")
        XCTAssertNotEqual(after, before, "the connection was not replaced")
        XCTAssertEqual(try? String(contentsOfFile: smbDir + "/shares/durable/locked", encoding: .utf8), "onetwo")

        // Another client (a second mount) finds the range still locked, and free once closed.
        let other = makeDir("other")
        guard mountOwn([], share: "durable", at: other) else { return }
        let probe = #"""
            import errno, fcntl, os, sys
            fd = os.open(sys.argv[1] + "/locked", os.O_RDWR)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 5); print("locked")
            except OSError as e:
                print(errno.errorcode[e.errno])
            """#
        let busy = python(probe, other, timeout: 60)
        XCTAssertTrue(["EAGAIN\n", "EACCES\n"].contains(busy.stdout), "lock of a held range: \(busy.summary)")
        try? FileManager.default.removeItem(atPath: go)
        XCTAssertTrue(child.wait(60), "client did not finish")
        XCTAssertEqual(child.status, 0)
        XCTAssertEqual(python(probe, other, timeout: 60).stdout, "locked\n", "the lock outlived its file's close")
    }

    /// With multichannel on the server, a mount binds max_channels TCP connections (seen with
    /// `ss`) and reads over all of them; one channel reset during a parallel read is dropped and
    /// replaced without failing a read.
    func testMultichannelConnectionsAndALostChannel() throws {
        stopServer()
        try startServer(["server multi channel support=yes"])
        XCTAssertEqual(sh(#"cd "$1" && for i in 0 1 2 3; do head -c 64M /dev/urandom > f$i; done"#, sharePath, timeout: 120).status, 0)
        guard mountOwn([]) else { return }
        XCTAssertTrue(waitUntil(30) { self.connectionsToServer().count == 4 },
                      "default max_channels=4: \(connectionsToServer())")
        // `status` lists the four channels the sockets show, once each has finished binding
        // its session (a socket is there from the TCP connect, a channel from SESSION_SETUP).
        var channels: [[String: Any]] = []
        XCTAssertTrue(waitUntil(30) {
            channels = (self.status()?["share"] as? [String: Any])?["channels"] as? [[String: Any]] ?? []
            return channels.count == 4
        }, "status: \(channels)")
        XCTAssertEqual(channels.count, connectionsToServer().count, "\(channels)")
        XCTAssertTrue(channels.allSatisfy { $0["state"] as? String == "up" }, "\(channels)")
        let read = #"""
            for i in 0 1 2 3; do sha256sum < "$1/f$i" | cut -c1-64 > "$2/sum$i" & done; wait
            for i in 0 1 2 3; do sha256sum < "$3/f$i" | cut -c1-64 | cmp -s - "$2/sum$i" || echo "f$i differs"; done
            """#
        let sums = makeDir("sums")
        _ = runCmd(["sh", "-c", "echo 3 > /proc/sys/vm/drop_caches"], timeout: 30)
        let start = Date()
        let first = sh(read, mnt, sums, sharePath, timeout: 300)
        let multi = Date().timeIntervalSince(start)
        XCTAssertEqual(first.status, 0, first.summary)
        XCTAssertEqual(first.stdout, "", "parallel read over 4 channels")

        // Reset one connection while four readers run.
        _ = runCmd(["sh", "-c", "echo 3 > /proc/sys/vm/drop_caches"], timeout: 30)
        guard var readers = spawn(["bash", "-c", read, "read", mnt, sums, sharePath],
                                  stdoutPath: work + "/readers.out", stderrPath: work + "/readers.err")
        else { return XCTFail("cannot start the readers") }
        Thread.sleep(forTimeInterval: 0.3)     // let the reads get going, not a wait for an event
        let victim = connectionsToServer().first?.split(separator: " ", omittingEmptySubsequences: true)
            .first { $0.hasPrefix("127.") && !$0.hasSuffix(":445") }
        XCTAssertNotNil(victim, "no connection to reset")
        if let victim, let port = victim.split(separator: ":").last {
            let k = runCmd(["ss", "-K", "dst", ip!, "and", "sport", "=", ":\(port)"], timeout: 30)
            XCTAssertEqual(k.status, 0, k.summary)
        }
        XCTAssertTrue(readers.wait(300), "readers did not finish")
        XCTAssertEqual(readers.status, 0)
        XCTAssertEqual(try? String(contentsOfFile: work + "/readers.out", encoding: .utf8), "", "reads across a lost channel")
        XCTAssertTrue(waitUntil(30) { self.connectionsToServer().count == 4 }, "the lost channel was not replaced")

        // The same read over one connection, for comparison (reported, not asserted).
        let single = makeDir("single")
        guard mountOwn(["nomultichannel"], at: single) else { return }
        _ = runCmd(["sh", "-c", "echo 3 > /proc/sys/vm/drop_caches"], timeout: 30)
        let t1 = Date()
        XCTAssertEqual(sh(read, single, sums, sharePath, timeout: 300).stdout, "")
        let one = Date().timeIntervalSince(t1)
        print(String(format: "ReconnectTests: parallel read of 4 × 64 MiB: %.2f s over 4 channels, %.2f s over 1", multi, one))
    }

    /// An idle mount (3 × echo_interval) is still usable at once; ECHO kept it alive.
    func testIdleMountStaysUsable() throws {
        guard mountOwn(["echo_interval=1"]) else { return }
        XCTAssertEqual(sh(#"echo one > "$1/idle""#, mnt).status, 0)
        let pids = servingPids()
        Thread.sleep(forTimeInterval: 3.5)   // the idle period under test, not a wait for an event
        let r = runCmd(["cat", mnt + "/idle"], timeout: 5)
        XCTAssertEqual(r.stdout, "one\n", r.summary)
        XCTAssertEqual(servingPids(), pids, "the connection was replaced while idle")
    }
}
