internal import CZeroMQ
import Foundation

/// A CURVE key pair in Z85 text (40 characters each).
public struct CurveKeyPair: Sendable, Hashable {
    public let publicKey: String
    public let secretKey: String

    /// Generates a fresh key pair.
    public static func generate() throws -> CurveKeyPair {
        var pub = [CChar](repeating: 0, count: 41)
        var sec = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&pub, &sec) == 0 else { throw ZMQError.last("generating a CURVE key pair") }
        return CurveKeyPair(publicKey: Self.string(pub), secretKey: Self.string(sec))
    }

    /// Rebuilds a key pair from its secret key.
    public init(secretKey: String) throws {
        guard Self.isValidKey(secretKey) else {
            throw ZMQError(.invalidKey, "a CURVE secret key must be 40 characters of Z85")
        }
        var pub = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&pub, secretKey) == 0 else {
            throw ZMQError(.invalidKey, "the CURVE secret key is not valid Z85")
        }
        self.init(publicKey: Self.string(pub), secretKey: secretKey)
    }

    private init(publicKey: String, secretKey: String) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// Whether `key` is 40 characters of Z85 that decode to 32 bytes.
    public static func isValidKey(_ key: String) -> Bool {
        guard key.utf8.count == 40 else { return false }
        var out = [UInt8](repeating: 0, count: 32)
        return zmq_z85_decode(&out, key) != nil
    }

    /// The Z85 text of a 32-byte binary key.
    static func z85(_ binary: [UInt8]) -> String? {
        guard binary.count == 32 else { return nil }
        var out = [CChar](repeating: 0, count: 41)
        guard zmq_z85_encode(&out, binary, 32) != nil else { return nil }
        return string(out)
    }

    private static func string(_ chars: [CChar]) -> String {
        String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Reading and writing CURVE keys as files.
///
/// A secret key file holds the Z85 secret key on one line and has mode 0600; a public key file
/// or an allow list holds Z85 public keys, one per line, `#` starting a comment.
public enum CurveKeyFile {
    /// Reads a key pair from a secret key file, refusing one that its group or others can access.
    public static func readKeyPair(at path: String) throws -> CurveKeyPair {
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
            throw ZMQError(.invalidKey, "\(path) holds a secret key but can be read by others; run `chmod 600 \(path)`")
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let line = keyLines(text).first else {
            throw ZMQError(.invalidKey, "\(path) holds no CURVE secret key")
        }
        return try CurveKeyPair(secretKey: line)
    }

    /// Reads the public keys listed in a file.
    public static func readPublicKeys(at path: String) throws -> [String] {
        let keys = keyLines(try String(contentsOfFile: path, encoding: .utf8))
        for key in keys where !CurveKeyPair.isValidKey(key) {
            throw ZMQError(.invalidKey, "\(path) lists a CURVE public key that is not 40 characters of Z85")
        }
        return keys
    }

    /// Reads a file of server keys: a line `KEY` is the key of every endpoint, a line
    /// `ENDPOINT KEY` the key of that endpoint alone (the database tier's new key during a rotation).
    public static func readServerKeys(at path: String) throws -> (every: String?, byEndpoint: [String: String]) {
        var every: String?
        var byEndpoint: [String: String] = [:]
        for line in keyLines(try String(contentsOfFile: path, encoding: .utf8)) {
            let fields = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard let key = fields.last, CurveKeyPair.isValidKey(key), fields.count <= 2 else {
                throw ZMQError(.invalidKey, "\(path): each line is a CURVE public key (40 characters of Z85), or an endpoint and one")
            }
            if fields.count == 2 {
                guard byEndpoint[fields[0]] == nil else { throw ZMQError(.invalidKey, "\(path) names \(fields[0]) twice") }
                byEndpoint[fields[0]] = key
            } else {
                guard every == nil else { throw ZMQError(.invalidKey, "\(path) lists two keys for every endpoint; give the endpoint of each") }
                every = key
            }
        }
        return (every, byEndpoint)
    }

    static func keyLines(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }
}
