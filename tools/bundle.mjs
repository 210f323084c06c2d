// Builds the check-in page's script, static/js/checkin.bundle.js, from its modules in
// static/js/checkin/ with esbuild (`make bundle`, after `npm ci`). One file rather than
// a dozen: on a slow link each request costs a round trip, and a browser opens only six
// connections at a time over HTTP/1.1. The modules stay the source; the bundle is
// committed, so that running the app needs no Node.js, and a test checks it is current.
//
//   node tools/bundle.mjs [outfile]
import { build } from "esbuild";

const outfile = process.argv[2] || "static/js/checkin.bundle.js";

await build({
  entryPoints: ["static/js/checkin/main.js"],
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2020",
  legalComments: "none",
  outfile,
  logLevel: "warning",
});
