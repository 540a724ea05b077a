//! With the `web-app` feature the binary carries `web/dist`: build it again whenever that
//! folder changes (a new web build names its files anew, which the embedding alone would
//! not notice if the folder was empty the first time).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_WEB_APP").is_some() {
        println!("cargo:rerun-if-changed=../web/dist");
    }
}
