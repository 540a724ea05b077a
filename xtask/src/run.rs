//! `cargo xtask run`: the web app built and served with the API on http://127.0.0.1:8080.

use std::env;

use crate::{Result, cargo, exec, root, section, web};

pub fn run() -> Result {
    web(true)?;
    section("serving on http://127.0.0.1:8080 (Ctrl-C stops)");
    let mut cmd = cargo();
    cmd.args([
        "run",
        "--release",
        "-p",
        "api",
        "--bin",
        "home-inventory-backend",
        "--",
        "serve",
    ]);
    if env::var_os("STATIC_DIR").is_none() {
        cmd.env("STATIC_DIR", root().join("web/dist"));
    }
    exec(&mut cmd)
}
