import Logging
#if canImport(Glibc)
import Glibc
#endif

/// One line per record, with its metadata, to stderr (foreground) or syslog (daemon).
struct LineLogHandler: LogHandler {
    enum Sink { case stderr, syslog }
    let sink: Sink
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level
        let message = event.message
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let meta = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let text = "\(level): \(message)\(meta)"
        switch sink {
        case .stderr:
            let out = "smb3fs: " + text + "\n"
            _ = out.withCString { write(2, $0, strlen($0)) }
        case .syslog:
            let priority: Int32
            switch level {
            case .trace, .debug: priority = LOG_DEBUG
            case .info, .notice: priority = LOG_INFO
            case .warning: priority = LOG_WARNING
            case .error: priority = LOG_ERR
            case .critical: priority = LOG_CRIT
            }
            text.withCString { s in withVaList([s]) { vsyslog(priority, "%s", $0) } }
        }
    }
}

/// Prints the one-line message users see, on stderr.
func printError(_ message: String) {
    let out = "smb3fs: " + message + "\n"
    _ = out.withCString { write(2, $0, strlen($0)) }
}
