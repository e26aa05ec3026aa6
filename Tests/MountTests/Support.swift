// Support for the mount tests: real FUSE mounts of the smb3fs binary ($SMB3FS_BIN) against
// the throwaway Samba servers that Scripts/test starts, driven by real Unix tools.
//
// These tests do not link the project's modules: they only run processes.
import Foundation
import XCTest

// MARK: - Environment

/// What Scripts/test exports. Missing variables fail the test: the tests need a server.
struct TestEnv: Sendable {
    let host: String
    let user: String
    let password: String
    let share: String
    /// Server-side directory of `share` on `host` (tests create fixtures here, as root).
    let sharePath: String
    let roShare: String
    let binary: String
    /// Per-run scratch directory for mount points and credentials files.
    let tmp: String
    /// (vers= value, host, server-side path of its rw share)
    let dialectServers: [(vers: String, host: String, sharePath: String)]

    struct Missing: Error, CustomStringConvertible {
        let names: [String]
        var description: String {
            "environment variable(s) \(names.joined(separator: ", ")) not set: run through Scripts/test"
        }
    }

    static func load() throws -> TestEnv {
        let e = ProcessInfo.processInfo.environment
        let required = [
            "SMB3FS_TEST_HOST", "SMB3FS_TEST_USER", "SMB3FS_TEST_PASS", "SMB3FS_TEST_SHARE",
            "SMB3FS_TEST_SHARE_PATH", "SMB3FS_TEST_RO_SHARE", "SMB3FS_BIN", "SMB3FS_DIALECT_SERVERS",
        ]
        let missing = required.filter { (e[$0] ?? "").isEmpty }
        guard missing.isEmpty else { throw Missing(names: missing) }
        let servers = e["SMB3FS_DIALECT_SERVERS"]!.split(separator: ";").compactMap {
            entry -> (String, String, String)? in
            let f = entry.split(separator: ",", maxSplits: 2).map(String.init)
            return f.count == 3 ? (f[0], f[1], f[2]) : nil
        }
        let tmp = e["SMB3FS_TEST_TMP"].flatMap { $0.isEmpty ? nil : $0 } ?? NSTemporaryDirectory()
        return TestEnv(
            host: e["SMB3FS_TEST_HOST"]!, user: e["SMB3FS_TEST_USER"]!, password: e["SMB3FS_TEST_PASS"]!,
            share: e["SMB3FS_TEST_SHARE"]!, sharePath: e["SMB3FS_TEST_SHARE_PATH"]!,
            roShare: e["SMB3FS_TEST_RO_SHARE"]!, binary: e["SMB3FS_BIN"]!, tmp: tmp,
            dialectServers: servers.map { (vers: $0.0, host: $0.1, sharePath: $0.2) })
    }

    var source: String { "//\(host)/\(share)" }
}

struct SetUpFailed: Error, CustomStringConvertible {
    let what: String
    var description: String { "\(what) failed (see the failure above)" }
}

// MARK: - Processes

struct ProcResult {
    var status: Int32
    var stdoutData: Data
    var stderrData: Data
    var timedOut: Bool
    var argv: [String]

    var stdout: String { String(decoding: stdoutData, as: UTF8.self) }
    var stderr: String { String(decoding: stderrData, as: UTF8.self) }
    /// stderr split into lines, without the final empty piece.
    var stderrLines: [String] {
        var lines = stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }
    var summary: String {
        "\(argv.joined(separator: " ")) → status \(status)\(timedOut ? " (TIMED OUT)" : "")\n"
            + "stdout: \(stdout.prefix(2000))\nstderr: \(stderr.prefix(2000))"
    }
}

/// A child started with posix_spawn. (Not Foundation's Process: it learns of the child's
/// exit through a socket the child inherits, so it never sees a daemonizing parent exit
/// while the daemon keeps that socket open.)
struct Child {
    let pid: pid_t
    private(set) var status: Int32? = nil

    /// Reaps the child if it has exited; true while it runs.
    mutating func poll() -> Bool {
        if status != nil { return false }
        var st: Int32 = 0
        let r = waitpid(pid, &st, WNOHANG)
        if r == pid {
            // WIFEXITED / WEXITSTATUS / WTERMSIG, spelled out (the macros are not imported).
            status = (st & 0x7f) == 0 ? (st >> 8) & 0xff : 128 + (st & 0x7f)
            return false
        }
        if r < 0 { status = -1; return false }
        return true
    }

    /// Waits up to `timeout` seconds; true if it exited.
    mutating func wait(_ timeout: TimeInterval) -> Bool {
        var copy = self
        let exited = waitUntil(timeout) { !copy.poll() }
        self = copy
        return exited
    }
}

/// Starts argv (argv[0] absolute, or looked up in our PATH) with stdin from `stdinPath`,
/// stdout and stderr to the given files, default signal dispositions and an empty mask.
func spawn(_ argv: [String], environment: [String: String]? = nil, stdinPath: String = "/dev/null",
           stdoutPath: String = "/dev/null", stderrPath: String = "/dev/null") -> Child? {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)

    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var noSignals = sigset_t(), defaults = sigset_t()
    sigemptyset(&noSignals)
    sigemptyset(&defaults)
    for sig in [SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGHUP, SIGCHLD] { sigaddset(&defaults, sig) }
    posix_spawnattr_setsigmask(&attr, &noSignals)
    posix_spawnattr_setsigdefault(&attr, &defaults)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

    let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
    let cArgv = argv.map { strdup($0) } + [nil]
    let cEnv = env.map { strdup($0) } + [nil]
    defer { for p in cArgv + cEnv { free(p) } }
    var pid: pid_t = 0
    let rc = argv[0].hasPrefix("/")
        ? posix_spawn(&pid, argv[0], &actions, &attr, cArgv, cEnv)
        : posix_spawnp(&pid, argv[0], &actions, &attr, cArgv, cEnv)
    return rc == 0 ? Child(pid: pid) : nil
}

/// Runs argv to completion (see `spawn`), stdout and stderr captured through files (a
/// daemon that keeps them open cannot block us). Kills it after `timeout` seconds.
@discardableResult
func runCmd(_ argv: [String], environment: [String: String]? = nil, input: Data? = nil,
            timeout: TimeInterval = 300) -> ProcResult {
    let fm = FileManager.default
    let base = (ProcessInfo.processInfo.environment["SMB3FS_TEST_TMP"].flatMap { $0.isEmpty ? nil : $0 }
        ?? NSTemporaryDirectory()) + "/proc-\(UUID().uuidString)"
    let outPath = base + ".out", errPath = base + ".err", inPath = base + ".in"
    defer { for p in [outPath, errPath, inPath] { try? fm.removeItem(atPath: p) } }
    if let input { _ = fm.createFile(atPath: inPath, contents: input) }
    guard var child = spawn(argv, environment: environment, stdinPath: input == nil ? "/dev/null" : inPath,
                            stdoutPath: outPath, stderrPath: errPath)
    else {
        return ProcResult(status: -1, stdoutData: Data(), stderrData: Data("cannot start \(argv[0])".utf8),
                          timedOut: false, argv: argv)
    }
    var timedOut = false
    if !child.wait(timeout) {
        timedOut = true
        kill(child.pid, SIGKILL)
        _ = child.wait(30)
    }
    return ProcResult(status: child.status ?? -1,
                      stdoutData: fm.contents(atPath: outPath) ?? Data(),
                      stderrData: fm.contents(atPath: errPath) ?? Data(),
                      timedOut: timedOut, argv: argv)
}

/// bash -c SCRIPT, with pipefail; extra arguments become $1, $2, ...
@discardableResult
func sh(_ script: String, _ args: String..., environment: [String: String]? = nil,
        timeout: TimeInterval = 300) -> ProcResult {
    runCmd(["/bin/bash", "-c", "set -o pipefail\n" + script, "bash"] + args,
        environment: environment, timeout: timeout)
}

/// Python 3 script (used for syscalls whose errno we want to see); arguments as sys.argv[1:].
@discardableResult
func python(_ script: String, _ args: String..., timeout: TimeInterval = 300) -> ProcResult {
    runCmd(["python3", "-c", script] + args, timeout: timeout)
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
func waitUntil(_ timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        if condition() { return true }
        if Date() >= deadline { return false }
        usleep(50_000)
    }
}

// MARK: - Mount table and processes

struct MountEntry: Equatable {
    var mountPoint: String
    var fsType: String
    var source: String
    var options: String
    var superOptions: String
}

/// Parses /proc/self/mountinfo ("... mountpoint opts ... - fstype source superopts").
func mountTable() -> [MountEntry] {
    guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
    return text.split(separator: "\n").compactMap { line in
        let f = line.split(separator: " ").map(String.init)
        guard let dash = f.firstIndex(of: "-"), f.count > dash + 2, f.count > 5 else { return nil }
        return MountEntry(mountPoint: unescapeMountField(f[4]), fsType: f[dash + 1],
                          source: unescapeMountField(f[dash + 2]), options: f[5],
                          superOptions: f.count > dash + 3 ? f[dash + 3] : "")
    }
}

/// The kernel writes space, tab, newline and backslash as \040 \011 \012 \134.
func unescapeMountField(_ s: String) -> String {
    var bytes: [UInt8] = []
    let u = Array(s.utf8)
    var i = 0
    while i < u.count {
        if u[i] == UInt8(ascii: "\\"), i + 3 < u.count,
           u[(i + 1)...(i + 3)].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "7") }) {
            bytes.append(u[(i + 1)...(i + 3)].reduce(0) { $0 &* 8 &+ ($1 - UInt8(ascii: "0")) })
            i += 4
        } else {
            bytes.append(u[i])
            i += 1
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

func mountEntry(at path: String) -> MountEntry? {
    mountTable().last { $0.mountPoint == path }
}

/// PIDs of smb3fs processes whose command line names `mountPoint`.
func smb3fsProcesses(for mountPoint: String) -> [Int32] {
    let fm = FileManager.default
    guard let entries = try? fm.contentsOfDirectory(atPath: "/proc") else { return [] }
    var pids: [Int32] = []
    for e in entries {
        guard let pid = Int32(e), pid != getpid() else { continue }
        guard let data = fm.contents(atPath: "/proc/\(e)/cmdline"), !data.isEmpty else { continue }
        let args = data.split(separator: 0, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        let exe = (try? fm.destinationOfSymbolicLink(atPath: "/proc/\(e)/exe")) ?? ""
        let isSmb3fs = (exe as NSString).lastPathComponent.hasPrefix("smb3fs")
            || (args.first.map { ($0 as NSString).lastPathComponent } == "smb3fs")
        if isSmb3fs && args.contains(where: { $0 == mountPoint || $0 == mountPoint + "/" }) {
            pids.append(pid)
        }
    }
    return pids
}

// MARK: - Base class

/// Mounts `source` at a fresh mount point in setUp (unless `mountsInSetUp` is false) and
/// unmounts everything it mounted in tearDown, checking that each mount and its daemon go.
class MountTestCase: XCTestCase {
    var env: TestEnv!
    /// Fresh per-test directory (mount points, credentials files).
    var work: String!
    /// The mount point of the setUp mount.
    var mnt: String!
    /// Credentials file (mode 0600) for the test user.
    var credentials: String!
    private var mounted: [String] = []

    /// sha256 of a file's bytes (hex), or a description of the failure (never a valid hash).
    func sha(_ path: String, timeout: TimeInterval = 300) -> String {
        let r = sh(#"sha256sum < "$1""#, path, timeout: timeout)
        guard r.status == 0 else { return "sha256sum failed: \(r.summary)" }
        return String(r.stdout.prefix(64))
    }

    /// `smb3fs status --json` of the mount at `point`, parsed; nil (and the reason in a
    /// failure) when it does not answer.
    func status(_ point: String? = nil, file: StaticString = #filePath, line: UInt = #line) -> [String: Any]? {
        let r = runCmd(commandPrefix + [env.binary, "status", point ?? mnt, "--json"], timeout: 30)
        guard r.status == 0, let o = try? JSONSerialization.jsonObject(with: r.stdoutData) as? [String: Any] else {
            XCTFail("smb3fs status: \(r.summary)", file: file, line: line)
            return nil
        }
        return o
    }

    /// Extra `-o` options for the setUp mount.
    var setUpOptions: [String] { [] }
    var mountsInSetUp: Bool { true }
    /// Runs smb3fs under this (e.g. nsenter into a client network namespace).
    var commandPrefix: [String] = []

    override func setUpWithError() throws {
        try super.setUpWithError()
        continueAfterFailure = true
        do {
            env = try TestEnv.load()
        } catch {
            XCTFail("\(error)")
            throw error
        }
        let fm = FileManager.default
        work = env.tmp + "/" + String(describing: type(of: self)) + "-" + UUID().uuidString.prefix(8)
        try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
        mnt = work + "/mnt"
        try fm.createDirectory(atPath: mnt, withIntermediateDirectories: true)
        credentials = try writeCredentials(username: env.user, password: env.password)
        if mountsInSetUp {
            let r = mount(options: ["credentials=\(credentials!)"] + setUpOptions)
            guard r.status == 0, mountEntry(at: mnt) != nil else {
                XCTFail("setUp mount failed: \(r.summary)")
                throw SetUpFailed(what: "mount of \(env.source) at \(mnt!)")
            }
        }
    }

    override func tearDownWithError() throws {
        unmountAll()
        if let work, mountTable().allSatisfy({ !$0.mountPoint.hasPrefix(work + "/") && $0.mountPoint != work }) {
            try? FileManager.default.removeItem(atPath: work)
        }
        try super.tearDownWithError()
    }

    /// Unmounts everything this test mounted.
    func unmountAll() {
        for m in mounted.reversed() { unmount(m) }
        mounted.removeAll()
    }

    /// Writes a mount.cifs-style credentials file with mode 0600 and returns its path.
    func writeCredentials(username: String, password: String, domain: String? = nil,
                          name: String = "cred") throws -> String {
        let path = work + "/" + name
        var text = "username=\(username)\npassword=\(password)\n"
        if let domain { text += "domain=\(domain)\n" }
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8),
                                       attributes: [.posixPermissions: 0o600])
        return path
    }

    /// Has tearDown unmount `point` (for mounts made without `mount(...)`).
    func track(_ point: String) {
        if !mounted.contains(point) { mounted.append(point) }
    }

    /// A fresh directory under /tmp, mode 0755, that other users can reach (the run's scratch
    /// directory is root's alone). The caller removes it.
    func reachableDirectory() throws -> String {
        var template = Array("/tmp/smb3fs-user-XXXXXX".utf8CString)
        guard let d = mkdtemp(&template) else {
            XCTFail("mkdtemp /tmp/smb3fs-user-XXXXXX: errno \(errno)")
            throw SetUpFailed(what: "a directory other users can reach")
        }
        let dir = String(cString: d)
        chmod(dir, 0o755)
        return dir
    }

    /// A fresh empty directory under `work`.
    func makeDir(_ name: String) -> String {
        let path = work + "/" + name
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Environment for smb3fs runs: ours without PASSWD (unless given).
    /// Set for the smb3fs processes this test starts.
    var extraEnvironment: [String: String] = [:]

    func childEnvironment(passwd: String? = nil) -> [String: String] {
        var e = ProcessInfo.processInfo.environment
        e["PASSWD"] = passwd
        e.merge(extraEnvironment) { $1 }
        return e
    }

    /// Runs `smb3fs SOURCE MOUNTPOINT -o a,b,c [extra]` and records a successful mount for
    /// tearDown. Does not assert anything.
    @discardableResult
    func mount(source: String? = nil, at mountPoint: String? = nil, options: [String],
               extraArgs: [String] = [], passwd: String? = nil, timeout: TimeInterval = 60) -> ProcResult {
        let point = mountPoint ?? mnt!
        var argv = commandPrefix + [env.binary, source ?? env.source, point]
        if !options.isEmpty { argv += ["-o", options.joined(separator: ",")] }
        argv += extraArgs
        let r = runCmd(argv, environment: childEnvironment(passwd: passwd), timeout: timeout)
        if mountEntry(at: point) != nil { mounted.append(point) }
        return r
    }

    /// Mounts and asserts success: exit 0, nothing on stderr, mounted as fuse.smb3fs the
    /// moment the parent has exited.
    @discardableResult
    func mountOK(source: String? = nil, at mountPoint: String? = nil, options: [String],
                 extraArgs: [String] = [], passwd: String? = nil,
                 file: StaticString = #filePath, line: UInt = #line) -> Bool {
        let point = mountPoint ?? mnt!
        let r = mount(source: source, at: point, options: options, extraArgs: extraArgs, passwd: passwd)
        XCTAssertEqual(r.status, 0, r.summary, file: file, line: line)
        XCTAssertEqual(r.stderr, "", "a successful mount prints nothing on stderr", file: file, line: line)
        guard let entry = mountEntry(at: point) else {
            XCTFail("not mounted at \(point) after the parent exited: \(r.summary)", file: file, line: line)
            return false
        }
        XCTAssertEqual(entry.fsType, "fuse.smb3fs", file: file, line: line)
        return r.status == 0
    }

    /// `stat -c FORMAT` of each path, one line each.
    func stats(_ format: String, _ paths: [String], file: StaticString = #filePath, line: UInt = #line) -> [String] {
        let r = runCmd(["stat", "-c", format, "--"] + paths, timeout: 60)
        XCTAssertEqual(r.status, 0, r.summary, file: file, line: line)
        return r.stdout.split(separator: "\n").map(String.init)
    }

    /// fusermount3 -u, then waits for the mount and its smb3fs process to go.
    func unmount(_ point: String, file: StaticString = #filePath, line: UInt = #line) {
        guard mountEntry(at: point) != nil else { mounted.removeAll { $0 == point }; return }
        let r = runCmd(["fusermount3", "-u", point], timeout: 60)
        XCTAssertEqual(r.status, 0, "fusermount3 -u: \(r.summary)", file: file, line: line)
        let gone = waitUntil(15) { mountEntry(at: point) == nil }
        XCTAssertTrue(gone, "\(point) still mounted 15 s after fusermount3 -u", file: file, line: line)
        if !gone { _ = runCmd(["umount", "-l", point], timeout: 30) }
        let exited = waitUntil(15) { smb3fsProcesses(for: point).isEmpty }
        XCTAssertTrue(exited, "smb3fs for \(point) still runs 15 s after unmount: "
                      + "\(smb3fsProcesses(for: point))", file: file, line: line)
        if !exited { for p in smb3fsProcesses(for: point) { kill(p, SIGKILL) } }
        mounted.removeAll { $0 == point }
    }

    /// Asserts the contract for every failure: exit status ≠ 0, exactly one stderr line
    /// starting "smb3fs: ", no mount and no smb3fs process left behind.
    func assertCleanFailure(_ r: ProcResult, mountPoint: String? = nil, _ what: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        let point = mountPoint ?? mnt!
        XCTAssertFalse(r.timedOut, "\(what): timed out: \(r.summary)", file: file, line: line)
        XCTAssertNotEqual(r.status, 0, "\(what): \(r.summary)", file: file, line: line)
        XCTAssertEqual(r.stderrLines.count, 1, "\(what): want exactly one stderr line: \(r.summary)",
                       file: file, line: line)
        XCTAssertTrue(r.stderrLines.first?.hasPrefix("smb3fs: ") ?? false,
                      "\(what): stderr must start with 'smb3fs: ': \(r.summary)", file: file, line: line)
        XCTAssertTrue(waitUntil(10) { smb3fsProcesses(for: point).isEmpty },
                      "\(what): an smb3fs process for \(point) is left", file: file, line: line)
        XCTAssertNil(mountEntry(at: point), "\(what): a mount is left at \(point)", file: file, line: line)
        if mountEntry(at: point) != nil { unmount(point) }
    }
}

// MARK: - Server-side fixtures

/// Creates a server-side fixture once per test run: runs `script` (bash, cwd = the new
/// directory `sharePath/name`) unless its marker exists. Files are created by root with
/// umask 022, so the Samba user can read them.
func ensureFixture(_ env: TestEnv, sharePath: String? = nil, _ name: String, script: String,
                   timeout: TimeInterval = 600) throws -> String {
    let root = sharePath ?? env.sharePath
    let dir = root + "/" + name
    let marker = env.tmp + "/fixture-" + root.replacingOccurrences(of: "/", with: "_") + "-" + name + ".done"
    if FileManager.default.fileExists(atPath: marker) { return dir }
    let r = sh("umask 022; rm -rf -- \"$1\"; mkdir -p -- \"$1\" && cd -- \"$1\" && {\n\(script)\n}",
               dir, timeout: timeout)
    guard r.status == 0 else {
        XCTFail("fixture \(name) failed: \(r.summary)")
        throw SetUpFailed(what: "fixture \(name)")
    }
    _ = FileManager.default.createFile(atPath: marker, contents: nil)
    return dir
}

extension Data {
    var lines: [Data] { split(separator: UInt8(ascii: "\n")).map { Data($0) } }
}
