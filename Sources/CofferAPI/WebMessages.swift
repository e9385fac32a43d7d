import Foundation

/// `GET /v1/web/manifest` answer: the served browser module's manifest, signed by the identity key.
public struct WebManifestResponse: Codable, Sendable {
    /// Base64 of the manifest's JSON bytes (path, size and SHA-256 of every served file).
    public var manifest: String
    /// Base64 DER ECDSA P-256 signature by the identity key over `"coffer web manifest v1\n" ‖ manifest`.
    public var signature: String
    /// Base64 DER SubjectPublicKeyInfo of the identity key.
    public var serverKey: String
    /// Lowercase hex SHA-256 of the manifest bytes, as the audit log's `web_module` entry names it.
    public var sha256: String
    /// The index of that entry in the audit log, once it was written.
    public var auditIndex: Int64?

    public init(manifest: String, signature: String, serverKey: String, sha256: String, auditIndex: Int64?) {
        self.manifest = manifest
        self.signature = signature
        self.serverKey = serverKey
        self.sha256 = sha256
        self.auditIndex = auditIndex
    }
}

/// The manifest of a served browser module: every file's path, size and SHA-256, JSON with sorted
/// keys and files in path order. The key service signs ``statement(_:)`` with its identity key and
/// records the manifest's SHA-256 in the audit log; `coffer web verify` checks what is served against it.
public enum WebManifest {
    /// One file as the manifest lists it.
    public struct Entry: Codable, Sendable, Equatable {
        /// The path below the site's root, without a leading slash.
        public var path: String
        public var size: Int
        /// Lowercase hex SHA-256.
        public var sha256: String
        public init(path: String, size: Int, sha256: String) {
            self.path = path
            self.size = size
            self.sha256 = sha256
        }
    }

    /// The manifest document.
    public struct Document: Codable, Sendable {
        public var version: Int
        public var files: [Entry]
        public init(version: Int = 1, files: [Entry]) {
            self.version = version
            self.files = files
        }
    }

    /// The manifest's bytes for `entries`.
    public static func encode(_ entries: [Entry]) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(Document(files: entries.sorted { $0.path < $1.path }))) ?? Data())
    }

    /// Decodes manifest bytes; `nil` when they are not a version 1 manifest.
    public static func decode(_ bytes: [UInt8]) -> Document? {
        guard let document = try? JSONDecoder().decode(Document.self, from: Data(bytes)), document.version == 1 else { return nil }
        return document
    }

    /// The bytes the identity key signs: a domain line, then the manifest.
    public static func statement(_ manifest: [UInt8]) -> [UInt8] {
        Array("coffer web manifest v1\n".utf8) + manifest
    }

    /// The audit detail of a `web_module` entry for a manifest with this SHA-256 and file count.
    public static func auditDetail(sha256: String, files: Int) -> String {
        "serving the browser module with manifest sha256:\(sha256) (\(files) files)"
    }
}
