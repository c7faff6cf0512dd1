import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseStore

/// Where the signing-key secret comes from, shared by `serve` and `signing-keys`: `--signing-key-secret-file`,
/// `GATEHOUSE_SIGNING_KEY_SECRET_FILE`, `GATEHOUSE_SIGNING_KEY_SECRET`, or `signing-key-secret` beside the
/// SQLite file (see `ServerSecret`).
struct SigningKeySecretOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The file holding the signing-key secret (env GATEHOUSE_SIGNING_KEY_SECRET_FILE; default: signing-key-secret beside the SQLite file).",
            valueName: "path"))
    var signingKeySecretFile: String?

    func secret(for database: DatabaseLocation) throws -> SigningKeySecret {
        try SigningKeySecret(text: try ServerSecret.signingKeySecret.text(file: signingKeySecretFile, for: database))
    }
}

/// `gatehouse signing-keys`: the keys access and ID tokens are signed with.
struct SigningKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signing-keys", abstract: "List and rotate the keys tokens are signed with.",
        subcommands: [List.self, Rotate.self, GenerateSecret.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the signing keys, oldest first.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let keys = try await database.withStore { store in try await store.signingKeys() }
                if keys.isEmpty { print("No signing keys yet; the server makes the first when it starts.") }
                for key in keys {
                    let state = key.retiredAt.map { "retired \($0.formatted(.iso8601))" } ?? "signing"
                    print(
                        "\(key.kid)  \(key.algorithm.rawValue)  created \(key.createdAt.formatted(.iso8601))  \(state)")
                }
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a new signing key of each algorithm (ES256, RS256) that signs from now on.",
            discussion: """
                The previous keys stop signing but stay in the JWKS, and keep verifying, until every token they \
                signed has expired. Running servers pick the new keys up within 30 seconds.
                """)
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var secret: SigningKeySecretOptions

        func run() async throws {
            try await reportingFailures {
                let location = try database.location()
                let sealing = try secret.secret(for: location)
                let keys = try await database.withStore { store in
                    try await SigningKeys(store: store, secret: sealing, clock: SystemClock()).rotate()
                }
                for key in keys {
                    print("Added signing key \(key.kid) (\(key.algorithm.rawValue)); it signs new tokens from now on.")
                }
            }
        }
    }

    struct GenerateSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate-secret",
            abstract: "Print a new signing-key secret file, for installations that configure their own.")

        func run() async throws {
            print(SigningKeySecret.generatedText(), terminator: "")
        }
    }
}
