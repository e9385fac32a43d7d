import Foundation

/// Where the transaction tier listens: `host:port`, `https://host:port`, or `[v6]:port`.
public struct ServerAddress: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int

    /// Parses `text`; the port defaults to 8443.
    public init(_ text: String) throws {
        var rest = Substring(text)
        if rest.hasPrefix("https://") { rest = rest.dropFirst(8) }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        var host = rest
        var port = 8443
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()) else { throw Self.invalid(text) }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let p = Int(rest[rest.index(after: colon)...]) else { throw Self.invalid(text) }
            port = p
        }
        guard !host.isEmpty, (1...65535).contains(port), !host.contains("/") else { throw Self.invalid(text) }
        self.host = String(host)
        self.port = port
    }

    /// Parses a comma-separated list of addresses of one deployment: the first names it, the others
    /// are tried in order when it cannot be reached.
    public static func list(_ text: String) throws -> [ServerAddress] {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !parts.isEmpty else { throw invalid(text) }
        return try parts.map { try ServerAddress($0) }
    }

    private static func invalid(_ text: String) -> ClientError {
        ClientError(.usage, "'\(text)' is not a server address; use HOST:PORT, for example localhost:8443")
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
