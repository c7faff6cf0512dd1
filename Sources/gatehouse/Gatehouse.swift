import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseStore

/// The `gatehouse` command: the server and the admin tasks an operator runs from a shell.
@main
struct Gatehouse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Gatehouse: an OAuth 2.0 authorization server and API-key issuer.",
        subcommands: [
            Serve.self, Migrate.self, WorkspacesCommand.self, UsersCommand.self, DepartmentsCommand.self,
            ClientsCommand.self, KeysCommand.self, ScopesCommand.self, ResourcesCommand.self, RegistrationCommand.self,
            KeyPepperCommand.self,
            SigningKeysCommand.self, MailCommand.self,
        ])
}

/// Runs a command body, printing any failure as one clear line on standard error and exiting non-zero.
func reportingFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as CleanExit {
        throw error
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("gatehouse: error: \(OperatorMessage(error))\n".utf8))
        throw ExitCode.failure
    }
}

/// The one-line explanation of an error for the person at the terminal.
struct OperatorMessage: CustomStringConvertible {
    let description: String

    init(_ error: any Error) {
        switch error {
        case let error as DomainError: description = error.message
        case let error as StoreUnavailable: description = error.description
        case let error as TemplateProblem: description = error.description
        default:
            description = String(describing: error).split(separator: "\n").first.map(String.init) ?? "unknown error"
        }
    }
}
