import TrackerCommands

/// The executable is only this: every command lives in the TrackerCommands library.
@main
struct Entrypoint {
    static func main() {
        Tracker.main()
    }
}
