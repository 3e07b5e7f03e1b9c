import MixLabStore
import Testing

@Suite struct StoreURLTests {
    @Test func parsesBothBackendsAndNeverShowsThePassword() throws {
        let tcp = try StoreURL(parsing: "postgres://mix:s3cret@db.example:6543/lab")
        #expect(tcp.location == .postgresTCP(host: "db.example", port: 6543))
        #expect(tcp.password == "s3cret" && !tcp.description.contains("s3cret"))
        let socket = try StoreURL(parsing: "postgres://mix@/lab?host=/run/pg&port=5433")
        #expect(socket.location == .postgresSocket(path: "/run/pg/.s.PGSQL.5433"))
        #expect(try StoreURL(parsing: "sqlite:///var/lib/mixlab.db").location == .sqlite(path: "/var/lib/mixlab.db"))
        #expect(try StoreURL(parsing: "mixlab.db").location == .sqlite(path: "mixlab.db"))
        #expect(try StoreURL(parsing: "sqlite:mixlab.db").location == .sqlite(path: "mixlab.db"))
        #expect(try StoreURL(parsing: "sqlite:/tmp/x/m.db").location == .sqlite(path: "/tmp/x/m.db"))
    }

    @Test func errorsNameTheFixAndHideThePassword() {
        for bad in ["postgres://:pw@host/db", "mysql://u:pw@h/db", "postgres://u:hunter2@/db"] {
            #expect {
                try StoreURL(parsing: bad)
            } throws: { error in
                guard let error = error as? StoreError else { return false }
                return error.code == .invalidURL && !error.message.contains("hunter2")
            }
        }
    }
}
