import GRDB

/// The store's statements, each prepared once per connection and kept: preparing one (parsing it, and GRDB
/// authorizing it) cost more than running it. Every SQL text given here is one of a small fixed set.
///
/// Rows are read through a cursor and transformed while the statement is on them: a row copied out of the
/// statement finds each column by lowercasing every column name, which for a user cost more than the query.
extension Database {
    func cachedExecute(sql: String, arguments: StatementArguments = []) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }

    /// The first row's `transform`, or nil when there is none.
    func cachedRow<T>(sql: String, arguments: StatementArguments = [], _ transform: (Row) throws -> T) throws -> T? {
        let rows = try Row.fetchCursor(cachedStatement(sql: sql), arguments: arguments)
        guard let row = try rows.next() else { return nil }
        // The cursor resets the statement when it goes, and the row reads from the statement.
        return try withExtendedLifetime(rows) { try transform(row) }
    }

    /// Every row's `transform`.
    func cachedRows<T>(sql: String, arguments: StatementArguments = [], _ transform: (Row) throws -> T) throws -> [T] {
        let rows = try Row.fetchCursor(cachedStatement(sql: sql), arguments: arguments)
        var values: [T] = []
        while let row = try rows.next() { values.append(try transform(row)) }
        return values
    }
}
