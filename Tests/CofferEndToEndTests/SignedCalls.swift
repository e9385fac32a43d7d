import CofferAPI
import CofferClient
import CofferTesting
import Crypto
import Foundation
import Testing

// Raw API calls as a client installation makes them, signed with its device key under its session,
// sent over TLS with curl: for tests that must send what `coffer` would not.

/// A user's client installation: session token, device key, client id.
struct Identity {
    let user: String
    let token: String
    let key: P256.Signing.PrivateKey
    let clientID: String
}

struct Reply {
    let status: Int
    let body: String
}

/// One request: method, path and body.
struct Call {
    let method: String
    let path: String
    let body: [UInt8]
    /// An upload's bytes: the signature covers the path and an empty body, not these bytes.
    var streamed = false
}

func identity(_ deployment: LocalDeployment, _ user: String) throws -> Identity {
    let home = deployment.directory + "/client-" + user
    let pem = try String(contentsOfFile: home + "/device.key", encoding: .utf8)
    let clientID = try String(contentsOfFile: home + "/device.id", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    let sessions = try FileManager.default.contentsOfDirectory(atPath: home + "/sessions").filter { $0.hasPrefix(user + "@") }
    let sessionFile = try #require(sessions.first)
    let data = try #require(FileManager.default.contents(atPath: home + "/sessions/" + sessionFile))
    let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    return Identity(user: user, token: try #require(object["token"] as? String), key: try P256.Signing.PrivateKey(pemRepresentation: pem), clientID: clientID)
}

/// The headers of `call` signed by `signer` under `token`.
func signed(_ call: Call, token: String?, signer: P256.Signing.PrivateKey?) throws -> [(String, String)] {
    var headers: [(String, String)] = []
    if let token { headers.append(("Authorization", "Bearer \(token)")) }
    if let signer {
        let signature = try RequestSignature.sign(method: call.method, path: call.path, body: call.body, key: signer)
        headers += [(RequestSignature.timeHeader, signature.time), (RequestSignature.nonceHeader, signature.nonce),
                    (RequestSignature.signatureHeader, signature.signature)]
    }
    return headers
}

/// Sends `call` with `headers` over TLS (curl), optionally with another body than the signed one.
func send(_ deployment: LocalDeployment, _ call: Call, headers: [(String, String)], body: [UInt8]? = nil) async throws -> Reply {
    let folder = deployment.directory + "/matrix"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let bodyFile = folder + "/body-" + UUID().uuidString
    let outFile = folder + "/out-" + UUID().uuidString
    let payload = body ?? call.body
    try Data(payload).write(to: URL(fileURLWithPath: bodyFile))
    var arguments = ["-sS", "--cacert", deployment.caFile, "-X", call.method, "-o", outFile, "-w", "%{http_code}",
                     "-H", "Content-Type: application/json"]
    for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
    if !payload.isEmpty { arguments += ["--data-binary", "@" + bodyFile] }
    arguments.append(deployment.serverURL + call.path)
    let curl = try TestProcess("/usr/bin/curl", arguments, environment: ["PATH": "/usr/bin:/bin"], logDirectory: folder)
    guard try await curl.wait(timeout: .seconds(30)) == 0 else { throw TestError("curl failed: \(curl.standardError)") }
    let status = Int(curl.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    return Reply(status: status, body: (try? String(contentsOfFile: outFile, encoding: .utf8)) ?? "")
}

func json(_ value: some Encodable) throws -> [UInt8] { Array(try JSONEncoder().encode(value)) }
