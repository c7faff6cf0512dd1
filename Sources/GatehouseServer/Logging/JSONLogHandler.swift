import Foundation
import GatehouseCore
import Logging
import Synchronization

/// Writes each log line as one JSON object (`--log-format json`), for log collectors: `time` (UTC, to the
/// millisecond), `level`, `label`, `message`, and the metadata as string fields. The request id Hummingbird puts in
/// every request's logger is `request_id`, so every line logged while handling a request carries it.
///
/// What is logged never holds a secret (keys, tokens, passwords, codes are never put in log metadata); this
/// handler writes what it is given and adds nothing.
package struct JSONLogHandler: LogHandler {
    package var metadata: Logger.Metadata = [:]
    package var logLevel: Logger.Level
    let label: String
    let write: @Sendable ([UInt8]) -> Void

    package init(label: String, level: Logger.Level, write: @escaping @Sendable ([UInt8]) -> Void = writeLine) {
        self.label = label
        self.logLevel = level
        self.write = write
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var fields: [String: String] = [:]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            fields[key == "hb.request.id" ? "request_id" : key] = "\(value)"
        }
        fields["time"] = Self.timestamp(Date())
        fields["level"] = "\(event.level)"
        fields["label"] = label
        fields["message"] = "\(event.message)"
        guard var line = try? JSONWriter().encode(fields) else { return }
        line.append(UInt8(ascii: "\n"))
        write(line)
    }

    /// Writes `line` to standard error in one `write`, so lines from several threads never interleave.
    package static let writeLine: @Sendable ([UInt8]) -> Void = { line in
        standardError.withLock { _ in
            line.withUnsafeBufferPointer { buffer in
                guard let start = buffer.baseAddress else { return }
                var offset = 0
                while offset < buffer.count {
                    let written = Foundation.write(2, start + offset, buffer.count - offset)
                    guard written > 0 else { return }
                    offset += written
                }
            }
        }
    }

    private static let standardError = Mutex(())

    /// `2026-12-02T21:40:00.123Z`.
    static func timestamp(_ date: Date) -> String {
        formatter.withLock { $0.string(from: date) }
    }

    private static let formatter: Mutex<ISO8601DateFormatter> = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return Mutex(formatter)
    }()
}
