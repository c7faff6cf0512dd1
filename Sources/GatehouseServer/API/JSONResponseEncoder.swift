import GatehouseCore
import Hummingbird
import NIOCore

/// Every JSON response body, written by the one `JSONWriter`.
package struct JSONResponseEncoder: ResponseEncoder, Sendable {
    package init() {}

    package func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws
        -> Response
    {
        try Response.json(value)
    }
}

extension Response {
    /// A 200 response with `value` as its JSON body; the caller sets another status or more headers.
    package static func json(_ value: some Encodable) throws -> Response {
        let buffer = ByteBuffer(bytes: try JSONWriter().encode(value))
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8", .contentLength: "\(buffer.readableBytes)"],
            body: .init(byteBuffer: buffer))
    }
}
