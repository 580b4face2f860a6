fn main() {
    std::process::exit(mssconf::cli::main());
}
