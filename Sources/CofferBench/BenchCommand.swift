import ArgumentParser
import Foundation
import NIOCore
import NIOSSL

/// `coffer-bench`: load for `bench/run`. Prints one JSON object per measurement on standard output.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coffer-bench",
        abstract: "Measure a running Coffer transaction tier (used by bench/run).",
        subcommands: [Load.self, Connections.self]
    )
}

/// Where the service is and how to trust it.
struct ServiceOptions: ParsableArguments {
    @Option(help: "The transaction tier, HOST:PORT; several, comma-separated, share the clients round-robin.")
    var server: String
    @Option(help: "The deployment's CA certificate (PEM).")
    var ca: String

    /// The transaction processes, in order.
    func endpoints() throws -> [Endpoint] {
        try server.split(separator: ",").map { item in
            guard let colon = item.lastIndex(of: ":"), let port = Int(item[item.index(after: colon)...]) else {
                throw ValidationError("--server must be HOST:PORT[,HOST:PORT…]")
            }
            return Endpoint(host: String(item[..<colon]), port: port)
        }
    }

    /// TLS trusting the deployment's CA.
    func sslContext() throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
        return try NIOSSLContext(configuration: tls)
    }

    /// Registers and logs in `count` fresh users.
    func accounts(_ count: Int, at endpoint: Endpoint, ssl: NIOSSLContext) async throws -> [BenchAccount] {
        let prefix = "bench-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let channel = try await KeepAliveConnection.connect(host: endpoint.host, port: endpoint.port, sslContext: ssl)
        return try await channel.executeThenClose { inbound, outbound in
            var connection = KeepAliveConnection(inbound: inbound, outbound: outbound, host: endpoint.description)
            var made: [BenchAccount] = []
            for index in 0..<count {
                made.append(try await BenchAccount.create(user: "\(prefix)-\(index)", password: "bench password \(prefix)", over: &connection))
            }
            return made
        }
    }
}

/// One transaction process's address.
struct Endpoint: Sendable, CustomStringConvertible {
    let host: String
    let port: Int
    var description: String { "\(host):\(port)" }
}

func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
}

struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Complete saves or retrieves back to back from concurrent keep-alive clients; latency percentiles from an HdrHistogram."
    )
    @OptionGroup var service: ServiceOptions
    @Option(help: "save or retrieve.")
    var operation: String = "save"
    @Option(help: "Concurrent clients, one level after another, comma-separated.")
    var clients: String = "1,16,64,256"
    @Option(help: "Seconds measured at each level.")
    var seconds: Double = 10
    @Option(help: "Seconds run before measuring at each level.")
    var warmup: Double = 2
    @Option(help: "How many users the clients are spread over.")
    var users: Int = 4
    @Option(help: "A file to create once the users are registered and logged in, before the load starts.")
    var readyFile: String?

    func run() async throws {
        guard let operation = LoadRun.Operation(rawValue: operation) else { throw ValidationError("--operation must be save or retrieve") }
        let levels = clients.split(separator: ",").compactMap { Int($0) }
        guard !levels.isEmpty, levels.allSatisfy({ $0 > 0 }), seconds > 0, warmup >= 0, users > 0 else {
            throw ValidationError("--clients, --seconds and --users must be positive")
        }
        let endpoints = try service.endpoints()
        let ssl = try service.sslContext()
        let accounts = try await service.accounts(users, at: endpoints[0], ssl: ssl)
        if let readyFile, !FileManager.default.createFile(atPath: readyFile, contents: nil) {
            throw ValidationError("cannot create the ready file \(readyFile)")
        }
        for level in levels {
            let run = LoadRun(
                endpoints: endpoints, sslContext: ssl, accounts: accounts, operation: operation, clients: level,
                warmup: .milliseconds(Int(warmup * 1000)), duration: .milliseconds(Int(seconds * 1000))
            )
            try printJSON(try await run.run())
        }
    }
}

struct Connections: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Hold many idle TLS connections to one transaction process; its memory per connection, and saves meanwhile."
    )
    @OptionGroup var service: ServiceOptions
    @Option(help: "How many connections to hold.")
    var count: Int = 10_000
    @Option(help: "The transaction process's pid, to read its resident memory.")
    var pid: Int32
    @Option(help: "Saves to time while the connections are held.")
    var saves: Int = 20

    func run() async throws {
        let endpoint = try service.endpoints()[0]
        let ssl = try service.sslContext()
        let account = try await service.accounts(1, at: endpoint, ssl: ssl)[0]
        let result = try await IdleConnections(
            host: endpoint.host, port: endpoint.port, sslContext: ssl, account: account, count: count, serverPID: pid, saves: saves
        ).run()
        try printJSON(result)
    }
}
