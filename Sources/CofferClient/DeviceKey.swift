public import Crypto
import Foundation

/// This client installation's identity: a client id and a P-256 key pair whose private half never
/// leaves the state folder (`device.key`, mode 0600). Sessions are bound to it, and every request
/// after login is signed with it.
public struct DeviceKey: Sendable {
    public let clientID: String
    public let privateKey: P256.Signing.PrivateKey

    /// Loads the installation's identity from `directory`, creating it on first use.
    public static func loadOrCreate(in directory: String) throws -> DeviceKey {
        let keyPath = directory + "/device.key"
        let idPath = directory + "/device.id"
        if let pem = FileManager.default.contents(atPath: keyPath), let id = FileManager.default.contents(atPath: idPath) {
            var info = stat()
            if stat(keyPath, &info) == 0, info.st_mode & 0o077 != 0 {
                throw ClientError(.configuration, "\(keyPath) holds this installation's private key but others can read it; run `chmod 600 \(keyPath)`")
            }
            guard let key = try? P256.Signing.PrivateKey(pemRepresentation: String(decoding: pem, as: UTF8.self)) else {
                throw ClientError(.configuration, "\(keyPath) is damaged; remove \(directory)/device.* to make a new identity, then log in again")
            }
            return DeviceKey(clientID: String(decoding: id, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), privateKey: key)
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ClientError(.cannotCreate, "cannot create the state folder \(directory): \(error)")
        }
        let device = DeviceKey(clientID: UUID().uuidString.lowercased(), privateKey: P256.Signing.PrivateKey())
        try write(keyPath, device.privateKey.pemRepresentation + "\n", mode: 0o600)
        try write(idPath, device.clientID + "\n", mode: 0o644)
        return device
    }

    /// The public key as the API expects it: base64 X9.63.
    public var publicKeyBase64: String { privateKey.publicKey.x963Representation.base64EncodedString() }

    private static func write(_ path: String, _ text: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard fd >= 0 else { throw ClientError(.cannotCreate, "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Foundation.write(fd, $0.baseAddress, $0.count) }) == bytes.count, fsync(fd) == 0 else {
            throw ClientError(.ioError, "cannot write \(path)")
        }
    }
}
