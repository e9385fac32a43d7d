import CofferAPI
import CofferAudit
import CofferFiles
import CofferKeys
import CofferServerSupport
import CofferTierLink
import CofferTimestamp
import CofferWebModule
import Crypto
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import UnixSignals

/// The transaction tier: the HTTPS API in front of the database tier.
public struct TransactionTier: Sendable {
    private let configuration: TransactionTierConfiguration
    private let logger: Logger

    public init(configuration: TransactionTierConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// The key backend the configuration names: a PKCS#11 token, or the key files.
    static func keyBackend(_ keys: TransactionTierConfiguration.Keys, logger: Logger) throws -> any KeyBackend {
        if let device = keys.device { return try DeviceKeyBackend.open(device, logger: logger) }
        return try FileKeyBackend.load(keys)
    }

    /// Loads keys, connects to the database tier and serves until SIGTERM or SIGINT, then drains.
    public func run() async throws {
        let configuration = self.configuration
        let keys = try Self.keyBackend(configuration.keys, logger: logger)
        let linkKeys = try TierLinkKeys.load(secretKeyFile: configuration.tierLink.curveSecretKeyFile,
                                             serverPublicKeyFile: configuration.tierLink.databasePublicKeyFile, what: "the CURVE secret key")
        let tlsContexts = try TLSContextBox(try Self.tlsConfiguration(configuration.tls, keys: keys))
        let timestamps: TimestampAuthority
        do {
            let chain = try String(contentsOfFile: configuration.keys.tsaCertificateFile, encoding: .utf8)
            timestamps = try keys.timestampAuthority(certificateChainPEM: chain)
        } catch {
            throw TransactionTierError("cannot use the time-stamping certificate \(configuration.keys.tsaCertificateFile): \(error); it must be issued for the signing key with extendedKeyUsage=critical,timeStamping")
        }
        let identity = try IdentityKeys.load(backend: keys, timestamps: timestamps, settings: configuration.keys)
        if let next = identity.next {
            logger.notice("an identity key rotation is scheduled", metadata: [
                "coffer.identity_key": "\(ServerIdentity.fingerprint(of: identity.current.publicKey))",
                "coffer.identity_key_next": "\(ServerIdentity.fingerprint(of: next.signer.publicKey))", "coffer.from_ms": "\(next.from)",
            ])
        }
        let checkpointSigner = try keys.checkpointSigner(origin: configuration.audit.origin)
        logger.info("keys loaded", metadata: ["coffer.keys": "\(keys.description)", "coffer.kek": "\(keys.keks?.current ?? "in the token")",
                                              "coffer.kek_unwrap_only": "\(keys.keks?.unwrapOnly.joined(separator: ",") ?? "")"])
        let link = try DatabaseLink(configuration: configuration.tierLink.link, keys: linkKeys, logger: logger)
        defer { link.shutdown() }
        let previousVerifiers = try configuration.keys.previousCheckpointVerifierFiles.map { file in
            do {
                return try NoteVerifier(parsing: String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
            } catch {
                throw TransactionTierError("\(file) does not hold a checkpoint verifier key (name+hash+base64): \(error)")
            }
        }
        let checkpointer = Checkpointer(signer: checkpointSigner, previousVerifiers: previousVerifiers, database: link,
                                        policy: configuration.audit.checkpoints, logger: logger)
        try await checkpointer.loadState()
        let signing = Task { await checkpointer.run() }
        let rewrapping = Task { [logger] in await KeyRewrapper(keys: keys, database: link, policy: configuration.rewrap, logger: logger).run() }
        defer { rewrapping.cancel() }
        defer { signing.cancel() }
        let webModule = try Self.webModule(configuration.web, logger: logger)
        let services = try TransactionServices(database: link, keys: keys, identity: identity, checkpointer: checkpointer, settings: configuration,
                                               webModule: webModule, logger: logger)
        let publishing = Task { [logger] in await services.publishWebModule(logger: logger) }
        defer { publishing.cancel() }
        let rateLimitAudit = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: min(configuration.limits.failures.window, .seconds(5)))
                await services.auditRateLimits()
            }
        }
        defer { rateLimitAudit.cancel() }
        let logger = self.logger
        // SIGHUP: the TLS certificate and key are read again and serve every new connection.
        let reloading = Task {
            for await _ in await UnixSignalsSequence(trapping: .sighup) {
                do {
                    try tlsContexts.replace(with: try Self.tlsConfiguration(configuration.tls, keys: keys))
                    logger.notice("reloaded the TLS certificate and key", metadata: ["coffer.file": "\(configuration.tls.certificateFile)"])
                } catch {
                    logger.error("cannot reload the TLS certificate and key; the ones in force stay", metadata: ["coffer.error": "\(error)"])
                }
            }
        }
        defer { reloading.cancel() }
        let connections = ConnectionLimit(maximum: configuration.http.maxConnections)
        let metrics = try configuration.metricsEndpoint.map { endpoint in
            do {
                return try HealthListener(endpoint: endpoint, metrics: ServerMetrics.exposition,
                                          status: { await TransactionStatus.json(services, checkpointer: checkpointer) })
            } catch let error as HealthListenerError {
                throw TransactionTierError("the metrics listener: \(error)")
            }
        }
        defer { metrics?.stop() }
        TransactionMetrics.sample(connections: connections, services: services)
        let openFiles = ConnectionLimit.raiseOpenFileLimit()
        if openFiles > 0 && openFiles < configuration.http.maxConnections + 256 {
            logger.warning("the open-file limit is below max-connections; connections beyond it are refused by the kernel, not answered busy", metadata: [
                "coffer.open_file_limit": "\(openFiles)", "coffer.max_connections": "\(configuration.http.maxConnections)",
            ])
        }
        let app = Application(
            router: APIRoutes.router(services),
            server: .reloadableTLS(Self.httpConfiguration(configuration.http, connections: connections), contexts: tlsContexts),
            configuration: .init(address: .hostname(configuration.http.host, port: configuration.http.port), serverName: "coffer"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.http.port
                let url = "https://\(configuration.http.host):\(port)"
                logger.info("transaction tier ready", metadata: ["coffer.url": "\(url)", "coffer.database": "\(configuration.tierLink.link.endpoints.joined(separator: ","))"])
                SystemdNotify.ready(status: "serving \(url)")
                if let readyFile = configuration.readyFile {
                    do {
                        let scrape = metrics.map { "metrics=\($0.host):\($0.port)\n" } ?? ""
                        try AtomicFile.write(Array((url + "\n" + scrape).utf8), to: readyFile)
                    } catch {
                        logger.error("cannot write the ready file", metadata: ["coffer.file": "\(readyFile)", "coffer.error": "\(error)"])
                    }
                }
            },
            logger: logger
        )
        // SIGTERM or SIGINT: readiness fails at once, the listener closes, requests in flight finish,
        // and the process exits within the drain timeout even if one does not.
        var group = ServiceGroupConfiguration(
            services: [.init(service: app), .init(service: DrainWatcher(services: services, logger: logger), successTerminationBehavior: .ignore)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
        )
        group.maximumGracefulShutdownDuration = configuration.http.drainTimeout
        try await ServiceGroup(configuration: group).run()
        logger.info("transaction tier stopped")
    }

    /// The browser module to serve: none when switched off; when the folder cannot be read, an error
    /// if the operator named it, else a warning and no module (a checkout where it was not built).
    static func webModule(_ configuration: TransactionTierConfiguration.Web, logger: Logger) throws -> WebModule? {
        guard let directory = configuration.moduleDirectory else { return nil }
        do {
            return try WebModule.load(directory: directory)
        } catch {
            if configuration.required { throw TransactionTierError("cannot serve the browser module: \(error)") }
            logger.warning("not serving the browser module", metadata: ["coffer.error": "\(error)"])
            return nil
        }
    }

    /// Flags the service as draining when a graceful shutdown begins.
    struct DrainWatcher: Service {
        let services: TransactionServices
        let logger: Logger
        func run() async throws {
            try? await gracefulShutdown()
            services.beginDrain()
            SystemdNotify.stopping()
            logger.info("draining: finishing requests in flight")
        }
    }

    /// TLS 1.2 suites offered: forward-secret ECDHE with AES-256-GCM, one suite per certificate key
    /// type. swift-nio-ssl cannot make the server's preference win, so offering a single TLS 1.2 suite
    /// is what keeps a client from steering the choice; TLS 1.3's suites are all AEAD.
    static let cipherSuites = ["ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384"].joined(separator: ":")

    /// HTTP/1.1 limits: a connection that completes no request part for `idleTimeout` is closed (this
    /// also ends a request whose head arrives byte by byte), and request heads are kept small.
    static func httpConfiguration(_ configuration: TransactionTierConfiguration.HTTP, connections: ConnectionLimit) -> HTTP1Channel.Configuration {
        .init(
            additionalChannelHandlers: [connections.handler(), HostHeaderCheck.installer()], idleTimeout: TimeAmount(configuration.idleTimeout),
            httpDecoderConfiguration: .init(maxHeaderFieldSize: 8 * 1024, maxHeaderListSize: 16 * 1024, maxHeaderFieldCount: 64)
        )
    }

    /// The TLS configuration: the certificate chain, and its key from the file or, with `tls-key`
    /// `token`, the key backend's (whose public key the certificate must carry).
    static func tlsConfiguration(_ configuration: TransactionTierConfiguration.TLS, keys: any KeyBackend) throws -> TLSConfiguration {
        do {
            let certificates = try NIOSSLCertificate.fromPEMFile(configuration.certificateFile)
            let chain = certificates.map { NIOSSLCertificateSource.certificate($0) }
            let key: NIOSSLPrivateKey
            if configuration.keyFile == TransactionTierConfiguration.TLS.tokenKey {
                guard let tokenKey = try keys.tlsKey() else {
                    throw TransactionTierError("tls-key token needs pkcs11-module: key files keep no TLS key")
                }
                guard let first = certificates.first, try first.extractPublicKey().toSPKIBytes() == Array(tokenKey.publicKey.derRepresentation) else {
                    throw TransactionTierError("the TLS certificate is not for the token's coffer-tls key (tls.public.pem)")
                }
                key = tokenKey.key
            } else {
                key = try NIOSSLPrivateKey(file: configuration.keyFile, format: .pem)
            }
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            tls.minimumTLSVersion = .tlsv12
            tls.cipherSuites = Self.cipherSuites
            return tls
        } catch {
            throw TransactionTierError("cannot load the TLS certificate \(configuration.certificateFile) and key \(configuration.keyFile): \(error)")
        }
    }
}
