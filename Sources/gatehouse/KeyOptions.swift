import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseStore

#if canImport(Glibc)
    import Glibc
#endif

/// Where the API key pepper and prefix come from, shared by `serve` and the `keys` commands.
///
/// The pepper is read from `--key-pepper-file` / `GATEHOUSE_KEY_PEPPER_FILE`, or from `GATEHOUSE_KEY_PEPPER`
/// (the file's text, for containers). On the embedded SQLite default, with neither set, it lives in
/// `key-pepper` beside the database file and is generated there (mode 0600) on first use. PostgreSQL
/// installations must configure it, since every instance needs the same one.
struct KeyOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The file holding the API key pepper (env GATEHOUSE_KEY_PEPPER_FILE; default: key-pepper beside the SQLite file).",
            valueName: "path"))
    var keyPepperFile: String?

    @Option(help: "The prefix of new API keys (env GATEHOUSE_KEY_PREFIX; default gate).")
    var keyPrefix: String?

    func prefix() throws -> KeyPrefix {
        try (keyPrefix ?? Environment.value("GATEHOUSE_KEY_PREFIX")).map { try KeyPrefix($0) } ?? .standard
    }

    func peppers(for database: DatabaseLocation) throws -> KeyPeppers {
        try KeyPeppers(text: try ServerSecret.keyPepper.text(file: keyPepperFile, for: database))
    }
}

/// A server secret kept outside the database, found the same way for each kind: a file named by a flag or
/// by `<ENV>_FILE`, else the text itself in `<ENV>`, else — on the embedded SQLite default only — a file
/// beside the database, generated (mode 0600) on first use. PostgreSQL installations must configure it,
/// since every instance needs the same one.
struct ServerSecret {
    /// What messages call it, such as "API key pepper".
    let what: String
    let field: String
    /// The environment variable holding the text; `<it>_FILE` names a file instead.
    let environment: String
    /// The file's name beside the SQLite database.
    let fileName: String
    /// The command that prints a new one, for the PostgreSQL message.
    let generateCommand: String
    let generatedText: @Sendable () -> String

    static let keyPepper = ServerSecret(
        what: "API key pepper", field: "key_pepper", environment: "GATEHOUSE_KEY_PEPPER", fileName: "key-pepper",
        generateCommand: "gatehouse key-pepper generate", generatedText: KeyPeppers.generatedText)

    static let signingKeySecret = ServerSecret(
        what: "signing-key secret", field: "signing_key_secret", environment: "GATEHOUSE_SIGNING_KEY_SECRET",
        fileName: "signing-key-secret", generateCommand: "gatehouse signing-keys generate-secret",
        generatedText: SigningKeySecret.generatedText)

    /// The secret's text; `file` is the command-line flag's value, if given.
    func text(file: String?, for database: DatabaseLocation) throws -> String {
        if let path = file ?? Environment.value(environment + "_FILE") {
            return try SecretFile.read(path, what: what)
        }
        if let text = Environment.value(environment) { return text }
        guard case .sqlite(let databasePath) = database else {
            throw DomainError.invalidInput(
                field: field,
                message: "On PostgreSQL every instance needs the same \(what): set \(environment)_FILE "
                    + "(create one with '\(generateCommand) > FILE').")
        }
        let path = SecretFile.beside(databasePath, named: fileName)
        try SecretFile.createIfMissing(path, text: generatedText(), what: what)
        return try SecretFile.read(path, what: what)
    }
}

/// A server secret kept in a file beside the embedded database.
enum SecretFile {
    static func read(_ path: String, what: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DomainError.invalidInput(field: what, message: "cannot read the \(what) file \(path)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The file beside the SQLite database `databasePath`.
    static func beside(_ databasePath: String, named name: String) -> String {
        URL(fileURLWithPath: databasePath).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Creates the file with mode 0600, atomically: if two processes race, one writes it and both read it.
    static func createIfMissing(_ path: String, text: String, what: String) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        try? FileManager.default.createDirectory(
            at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        if descriptor < 0 {
            if errno == EEXIST { return }
            throw DomainError.invalidInput(field: what, message: "cannot create the \(what) file \(path)")
        }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        fsync(descriptor)
        close(descriptor)
        guard written == bytes.count else {
            unlink(path)
            throw DomainError.invalidInput(field: what, message: "cannot write the \(what) file \(path)")
        }
    }
}

/// `gatehouse key-pepper generate`: prints a new pepper file, for installations that configure their own.
struct KeyPepperCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key-pepper", abstract: "Make the server secret API keys are stored under.",
        subcommands: [Generate.self])

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a new pepper file (version 1). To rotate, add a line with the next version.")

        func run() async throws {
            print(KeyPeppers.generatedText(), terminator: "")
        }
    }
}
