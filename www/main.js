// Starts the demo (app.js), or says why it cannot: without the SDK's web build in www/pkg (the
// page served from a checkout without `cargo xtask demo`), or without the sandbox relay behind
// the page, app.js stops at its first line and the page would show empty cards and no error.
const banner = document.querySelector("#load-error");

async function found(path) {
  try {
    return (await fetch(path, { method: "HEAD", cache: "no-store" })).ok;
  } catch {
    return false;
  }
}

try {
  await import("./app.js");
} catch (e) {
  const missing = [];
  for (const path of ["pkg/hail.js", "pkg/hail_bg.wasm"]) if (!(await found(path))) missing.push(`www/${path}`);
  const title = document.createElement("strong");
  const how = document.createElement("p");
  const detail = document.createElement("p");
  const command = Object.assign(document.createElement("code"), { textContent: "cargo xtask demo" });
  if (missing.length) {
    title.textContent = "The Hail SDK did not load.";
    how.append(`This page needs the SDK's web build in www/pkg (missing: ${missing.join(", ")}). Run `, command,
      " in the repository: it builds the SDK, copies it there and starts the sandbox relay that serves this page.");
  } else {
    title.textContent = "The demo could not start.";
    how.append("It expects the sandbox relay to serve this page: run ", command, " in the repository.");
  }
  detail.className = "muted";
  detail.textContent = `Error: ${e?.message ?? e}`;
  banner.replaceChildren(title, how, detail);
  banner.hidden = false;
  document.querySelector("main").hidden = true;
  document.body.dataset.ready = "error";
  console.warn("the demo could not start:", e);
}
