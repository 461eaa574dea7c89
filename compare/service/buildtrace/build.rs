fn main() {
    buildtrace::build::capture();
}
