import Foundation
import XCTest

/// Bytes written through a `-o rw` mount: each change is applied both to the mount's file
/// and to a local reference file, then the server's file, the mount's file and the reference
/// must have the same sha256 and size.
final class WriteContentTests: ReadWriteTestCase {
    static let sizes = [65_535, 65_536, 65_537, 1_048_575, 1_048_576, 1_048_577, 3 * 1_048_576 + 7]

    /// write, overwrite (O_TRUNC), overwrite in place (O_WRONLY, O_RDWR), append (O_APPEND),
    /// shrink (truncate, ftruncate), extend (truncate up, then a write beyond the end), fsync.
    func testWriteOverwriteAppendTruncateExtend() throws {
        let local = makeDir("ref")
        for n in Self.sizes {
            let ref = local + "/f-\(n)", m = mdir + "/f-\(n)", s = sdir + "/f-\(n)"
            let patch = local + "/patch-\(n)", fresh = local + "/fresh-\(n)"
            let gen = sh(#"head -c "$1" /dev/urandom > "$2" && head -c 70001 /dev/urandom > "$3""#,
                         String(n), fresh, patch)
            XCTAssertEqual(gen.status, 0, gen.summary)

            /// Runs the same bash script on the reference file and on the mount's file ($1),
            /// with $2 = the patch file, $3 = the fresh file, $4 = n; then compares.
            func step(_ what: String, _ script: String) {
                for target in [ref, m] {
                    let r = sh(script, target, patch, fresh, String(n))
                    XCTAssertEqual(r.status, 0, "size \(n), \(what) on \(target): \(r.summary)")
                }
                assertSameBytes(mount: m, server: s, expected: ref, "size \(n), after \(what)")
            }
            /// The same for a Python script (sys.argv[1] = the file, sys.argv[2] = n).
            func pyStep(_ what: String, _ script: String) {
                for target in [ref, m] {
                    let r = python(script, target, String(n))
                    XCTAssertEqual(r.status, 0, "size \(n), \(what) on \(target): \(r.summary)")
                }
                assertSameBytes(mount: m, server: s, expected: ref, "size \(n), after \(what)")
            }

            step("create with cp", #"cp -- "$3" "$1""#)
            step("overwrite shorter (O_TRUNC)", #"head -c $(($4 / 2 + 3)) -- "$2" > "$1""#)
            step("overwrite longer (O_TRUNC)", #"cat -- "$3" > "$1""#)
            step("overwrite in place across 64 KiB boundaries (dd conv=notrunc)",
                 #"dd if="$2" of="$1" bs=65536 oflag=seek_bytes seek=$(($4 / 2 - 1000)) conv=notrunc status=none"#)
            pyStep("O_RDWR pread/pwrite and fsync/fdatasync", #"""
                import os, sys
                n = int(sys.argv[2])
                fd = os.open(sys.argv[1], os.O_RDWR)
                head = os.pread(fd, 4096, 10)
                assert len(head) == 4096, len(head)
                assert os.pwrite(fd, head[::-1], 65530) == 4096
                assert os.pwrite(fd, b"tail" * 1000, n - 2000) == 4000
                os.fsync(fd)
                os.fdatasync(fd)
                os.close(fd)
                """#)
            step("append (O_APPEND)", #"head -c 4099 -- "$2" >> "$1" && cat -- "$2" >> "$1""#)
            step("shrink (truncate -s)", #"truncate -s $(($4 / 3 + 1)) -- "$1""#)
            pyStep("shrink (ftruncate) then write at the new end", #"""
                import os, sys
                fd = os.open(sys.argv[1], os.O_WRONLY)
                size = os.fstat(fd).st_size
                os.ftruncate(fd, size - 1001)
                os.pwrite(fd, b"E" * 77, size - 1001)
                os.close(fd)
                """#)
            step("extend (truncate -s up)", #"truncate -s $(($4 + 100000)) -- "$1""#)
            step("write beyond the end (hole between)",
                 #"dd if="$2" of="$1" bs=65536 oflag=seek_bytes seek=$(($4 + 150000)) conv=notrunc status=none"#)
            pyStep("extend (ftruncate up) and O_APPEND write", #"""
                import os, sys
                fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
                os.ftruncate(fd, os.fstat(fd).st_size + 65537)
                os.write(fd, b"appended after the extension\n")
                os.fsync(fd)
                os.close(fd)
                """#)
            step("shrink to zero (truncate -s 0)", #"truncate -s 0 -- "$1""#)
            step("write again after zero", #"head -c "$4" -- "$3" > "$1""#)
        }
    }

    /// A new file (O_CREAT|O_EXCL) of each size, written in odd chunk sizes, read back
    /// through the mount while it is still open for writing (same descriptor, O_RDWR).
    func testReadBackThroughOpenDescriptor() throws {
        let script = #"""
            import hashlib, os, sys
            path, n = sys.argv[1], int(sys.argv[2])
            data = os.urandom(n)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            off, i = 0, 0
            chunks = [1, 4095, 65536, 131073, 1 << 20, 3]
            while off < n:
                off += os.write(fd, data[off:off + chunks[i % len(chunks)]])
                i += 1
            assert off == n, (off, n)
            back = os.pread(fd, n + 10, 0)
            assert back == data, "pread on the writing descriptor differs"
            os.close(fd)
            print(hashlib.sha256(data).hexdigest())
            """#
        for n in Self.sizes {
            let r = python(script, mdir + "/o-\(n)", String(n))
            XCTAssertEqual(r.status, 0, "size \(n): \(r.summary)")
            let want = String(r.stdout.prefix(64))
            XCTAssertEqual(sha(sdir + "/o-\(n)"), want, "size \(n): sha256 on the server")
            XCTAssertEqual(sha(mdir + "/o-\(n)"), want, "size \(n): sha256 through the mount")
            XCTAssertEqual(size(sdir + "/o-\(n)"), String(n), "size \(n): size on the server")
        }
    }

    /// 1 GiB through the mount with dd conv=fsync, then the server's sha256 equals the one
    /// read back through the mount; smbclient's `put` of the same bytes for comparison.
    func testOneGiBWrite() throws {
        let m = mdir + "/big", s = sdir + "/big"
        var t = Date()
        let dd = runCmd(["dd", "if=/dev/urandom", "of=" + m, "bs=1M", "count=1024", "conv=fsync"], timeout: 900)
        let ddSeconds = Date().timeIntervalSince(t)
        XCTAssertEqual(dd.status, 0, dd.summary)
        XCTAssertTrue(dd.stderr.contains("1073741824 bytes"), dd.summary)

        XCTAssertEqual(size(s), "1073741824", "size on the server")
        let server = sha(s, timeout: 900)
        t = Date()
        let mounted = sha(m, timeout: 900)
        let readSeconds = Date().timeIntervalSince(t)
        XCTAssertEqual(mounted, server, "sha256 of the 1 GiB file: through the mount vs on the server")

        // smbclient put of the same bytes (the server's file, read from the local disk).
        t = Date()
        let put = smbclient("put \"\(s)\" \"\(dirName!)/big-put\"", timeout: 900)
        let putSeconds = Date().timeIntervalSince(t)
        XCTAssertEqual(put.status, 0, put.summary)
        XCTAssertEqual(size(sdir + "/big-put"), "1073741824", "smbclient put wrote the whole file")
        let mib = 1024.0
        print(String(format: "MountTests: 1 GiB write: dd bs=1M conv=fsync via smb3fs %.0f MiB/s (%.1f s); "
                     + "read back via smb3fs %.0f MiB/s; smbclient put %.0f MiB/s (%.1f s)",
                     mib / ddSeconds, ddSeconds, mib / readSeconds, mib / putSeconds, putSeconds))
    }

    /// A sparse 5 GiB file: truncate -s 5G, then 1 MiB of random bytes at 5 GiB - 1 MiB. The
    /// middle reads as zeros, the tail as written, and the server's file is 5 GiB.
    func testSparseFiveGiB() throws {
        let m = mdir + "/sparse", s = sdir + "/sparse"
        let tail = makeDir("sparse") + "/tail"
        let fiveG = 5 * 1024 * 1024 * 1024
        XCTAssertEqual(sh(#"head -c 1M /dev/urandom > "$1""#, tail).status, 0)

        let tr = runCmd(["truncate", "-s", "5G", m])
        XCTAssertEqual(tr.status, 0, tr.summary)
        XCTAssertEqual(size(s), String(fiveG), "size on the server after truncate -s 5G")
        let dd = runCmd(["dd", "if=" + tail, "of=" + m, "bs=1M", "seek=5119", "conv=notrunc,fsync"], timeout: 300)
        XCTAssertEqual(dd.status, 0, dd.summary)

        XCTAssertEqual(size(s), String(fiveG), "size on the server")
        XCTAssertEqual(size(m), String(fiveG), "size through the mount")
        let cmpTail = #"dd if="$1" bs=1M skip=5119 count=1 status=none | cmp - "$2""#
        let t1 = sh(cmpTail, m, tail)
        XCTAssertEqual(t1.status, 0, "last MiB through the mount: \(t1.summary)")
        let t2 = sh(cmpTail, s, tail)
        XCTAssertEqual(t2.status, 0, "last MiB on the server: \(t2.summary)")
        // Zeros: the first MiB, one in the middle, one just past 4 GiB, the one before the tail.
        for skip in [0, 2560, 4096, 5118] {
            let z = sh(#"dd if="$1" bs=1M skip="$2" count=1 status=none | cmp - <(head -c 1M /dev/zero)"#,
                       m, String(skip))
            XCTAssertEqual(z.status, 0, "MiB \(skip) through the mount is not zeros: \(z.summary)")
        }
        // Reading across the boundary: 64 KiB of zeros then 64 KiB of the tail.
        let edge = sh(#"""
            dd if="$1" bs=64K skip=$((5119 * 16 - 1)) count=2 status=none |
              cmp - <(head -c 64K /dev/zero; head -c 64K -- "$2")
            """#, m, tail)
        XCTAssertEqual(edge.status, 0, "the 128 KiB around the start of the tail: \(edge.summary)")
        let du = sh(#"du -k -- "$1""#, s)
        print("MountTests: sparse 5 GiB file uses \(du.stdout.split(separator: "\t").first ?? "?") KiB on the server")
    }
}
