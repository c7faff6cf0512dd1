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
        if let path = keyPepperFile ?? Environment.value("GATEHOUSE_KEY_PEPPER_FILE") {
            return try Self.read(path)
        }
        if let text = Environment.value("GATEHOUSE_KEY_PEPPER") {
            return try KeyPeppers(text: text)
        }
        guard case .sqlite(let databasePath) = database else {
            throw DomainError.invalidInput(
                field: "key_pepper",
                message: "On PostgreSQL every instance needs the same API key pepper: set GATEHOUSE_KEY_PEPPER_FILE "
                    + "(create one with 'gatehouse key-pepper generate > FILE').")
        }
        let path = SecretFile.beside(databasePath, named: "key-pepper")
        try Self.createIfMissing(path)
        return try Self.read(path)
    }

    private static func read(_ path: String) throws -> KeyPeppers {
        try KeyPeppers(text: try SecretFile.read(path, what: "key pepper"))
    }

    private static func createIfMissing(_ path: String) throws {
        try SecretFile.createIfMissing(path, text: KeyPeppers.generatedText(), what: "key pepper")
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
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
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
