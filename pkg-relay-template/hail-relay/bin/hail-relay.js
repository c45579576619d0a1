#!/usr/bin/env node
// `hail-relay` from npm: finds the prebuilt relay binary of this platform (an optional dependency,
// `hail-relay-<platform>-<arch>`, that npm installs only where its `os`/`cpu`/`libc` fit) and runs
// it with these arguments and this terminal. It stays in between only to pass on signals and the
// exit status, so `npx hail-relay` behaves like the binary itself (Ctrl+C stops the relay).
"use strict";

const { spawn } = require("node:child_process");
const { existsSync } = require("node:fs");
const { join } = require("node:path");

const manifest = require("../package.json");
// The platform packages are exactly the optional dependencies, so this list cannot drift from
// what npm installs.
const platforms = Object.keys(manifest.optionalDependencies || {});
const wanted = `hail-relay-${process.platform}-${process.arch}`;
const exe = process.platform === "win32" ? "hail-relay.exe" : "hail-relay";

function fail(message) {
  process.stderr.write(`hail-relay: ${message}\n`);
  process.exit(1);
}

/** Fails with `why`, the platforms that have a binary and how to build one elsewhere. */
function unsupported(why) {
  const list = platforms.map((p) => `  ${p.replace(/^hail-relay-/, "")}`).join("\n");
  fail(
    `${why}\n\n` +
      `Prebuilt binaries (npm packages hail-relay-<platform>-<arch>):\n${list}\n\n` +
      `This machine is ${process.platform}-${process.arch}. Build the relay here with Rust (https://rustup.rs),\n` +
      `in a checkout of the Hail source:\n` +
      `  cargo install --locked --path relay            then run: hail-relay --sandbox\n` +
      `  cargo run --release -p hail-relay -- --sandbox  (or without installing)\n` +
      `and set HAIL_RELAY_BINARY to the built binary to run it through this command.`,
  );
}

/** The binary to run: HAIL_RELAY_BINARY when set, else the one of this platform's package. */
function binary() {
  const override = process.env.HAIL_RELAY_BINARY;
  if (override) {
    if (!existsSync(override)) fail(`HAIL_RELAY_BINARY=${override}: no such file.`);
    return override;
  }
  if (!platforms.includes(wanted)) unsupported(`no prebuilt binary for ${process.platform}-${process.arch}.`);
  let dir;
  try {
    dir = join(require.resolve(`${wanted}/package.json`), "..");
  } catch {
    unsupported(
      `the package ${wanted} is not installed. npm skips it when installing with ` +
        `--omit=optional or --no-optional, or when the platform does not match ` +
        `(musl-based Linux such as Alpine is not prebuilt); reinstall without those flags.`,
    );
  }
  const file = join(dir, "bin", exe);
  if (!existsSync(file)) unsupported(`${wanted} is installed but has no bin/${exe}.`);
  return file;
}

const child = spawn(binary(), process.argv.slice(2), { stdio: "inherit" });

// Passed on, not acted upon: the relay drains its open requests on SIGTERM/SIGINT and then exits,
// and this process exits with it. A closed terminal (SIGHUP) stops it the same graceful way.
const forwarded = { SIGINT: "SIGINT", SIGTERM: "SIGTERM", SIGHUP: "SIGTERM" };
const running = () => child.exitCode === null && child.signalCode === null;
for (const [signal, as] of Object.entries(forwarded)) {
  process.on(signal, () => running() && child.kill(as));
}

// `npx hail-relay` runs this through `sh -c`, and a SIGTERM to npx ends that shell without
// reaching here: the parent going away (this process handed to another) stops the relay too, so
// no binary is left running, listening on its port.
const parent = process.ppid;
const orphaned = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(orphaned);
  if (running()) child.kill("SIGTERM");
}, 250);
orphaned.unref();

child.on("error", (e) => {
  fail(`could not start ${child.spawnfile}: ${e.message}`);
});

child.on("exit", (code, signal) => {
  if (signal) {
    // Die of the same signal, so a parent sees what the relay saw.
    for (const s of Object.keys(forwarded)) process.removeAllListeners(s);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
