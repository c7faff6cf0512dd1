import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

/// `--log-format json`: one JSON object a line, with the request id on every line logged for a request.
@Suite("Log format")
struct LogFormatTests {
    /// The lines a handler wrote, parsed.
    final class Lines: Sendable {
        private let written = Mutex<[[UInt8]]>([])
        var raw: [String] { written.withLock { $0.map { String(decoding: $0, as: UTF8.self) } } }
        var objects: [[String: Any]] {
            get throws {
                try raw.map { line in
                    try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
                }
            }
        }
        func logger(level: Logger.Level = .info) -> Logger {
            Logger(label: "gatehouse") { label in
                JSONLogHandler(label: label, level: level) { [self] line in written.withLock { $0.append(line) } }
            }
        }
    }

    @Test func aLineIsOneJSONObjectWithItsTimeLevelMessageAndMetadata() throws {
        let lines = Lines()
        var logger = lines.logger()
        logger[metadataKey: "hb.request.id"] = "abc123"
        logger.info("request", metadata: ["http.status": "200", "note": "a \"quoted\"\nline"])
        logger.debug("below the level")
        #expect(lines.raw.count == 1)
        #expect(lines.raw.first?.hasSuffix("}\n") == true)
        #expect(lines.raw.first?.dropLast().contains("\n") == false)
        let line = try #require(try lines.objects.first)
        #expect(line["request_id"] as? String == "abc123")
        #expect(line["hb.request.id"] == nil)
        #expect(line["level"] as? String == "info")
        #expect(line["label"] as? String == "gatehouse")
        #expect(line["message"] as? String == "request")
        #expect(line["http.status"] as? String == "200")
        #expect(line["note"] as? String == "a \"quoted\"\nline")
        let time = try #require(line["time"] as? String)
        #expect(time.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(time)")
    }

    @Test func everyLineOfARequestCarriesItsIDAndNoSecret() async throws {
        let lines = Lines()
        try await withApplication(logger: lines.logger()) { client async throws in
            var ids: [String] = []
            let key = "gate_notarealkey0000000000000000000000000000000000_aaaaaa"
            try await client.execute(
                uri: "/api/v1/me", method: .get, headers: [.authorization: "Bearer \(key)"]
            ) { response async throws in
                #expect(response.status == .unauthorized)
                ids.append(try #require(response.headers[.requestID]))
            }
            try await client.execute(uri: "/healthz?token=secret-in-the-query", method: .get) { response async throws in
                #expect(response.status == .ok)
                ids.append(try #require(response.headers[.requestID]))
            }
            let requests = try lines.objects.filter { $0["message"] as? String == "request" }
            #expect(requests.compactMap { $0["request_id"] as? String } == ids)
            #expect(requests.map { $0["http.path"] as? String } == ["/api/v1/me", "/healthz"])
            for line in lines.raw {
                #expect(!line.contains(key) && !line.contains("secret-in-the-query"), "\(line)")
            }
        }
    }
}
