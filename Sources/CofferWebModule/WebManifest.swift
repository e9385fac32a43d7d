import CofferAPI
import Foundation

/// The manifest of the served module: every file's path, size and SHA-256, as JSON with sorted keys
/// and files in path order, so that the same files always give the same bytes. The key service signs
/// these bytes with its identity key (``statement(_:)``) and records their hash in the audit log;
/// `coffer web verify` checks what the server serves against them.
public enum WebManifest {
    /// One file as the manifest lists it.
    public struct Entry: Codable, Sendable, Equatable {
        public var path: String
        public var size: Int
        /// Lowercase hex SHA-256.
        public var sha256: String
    }

    /// The manifest document.
    public struct Document: Codable, Sendable {
        public var version: Int
        public var files: [Entry]
    }

    static func encode(_ files: some Sequence<WebModule.File>) -> [UInt8] {
        let entries = files.sorted { $0.path < $1.path }.map { Entry(path: $0.path, size: $0.bytes.count, sha256: Hex.encode($0.sha256)) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(Document(version: 1, files: entries))) ?? Data())
    }

    /// Decodes manifest bytes; `nil` when they are not a manifest.
    public static func decode(_ bytes: [UInt8]) -> Document? {
        guard let document = try? JSONDecoder().decode(Document.self, from: Data(bytes)), document.version == 1 else { return nil }
        return document
    }

    /// The bytes the identity key signs: a domain line, then the manifest.
    public static func statement(_ manifest: [UInt8]) -> [UInt8] {
        Array("coffer web manifest v1\n".utf8) + manifest
    }
}
